/**
 * Terraform state recovery against the lab: radosgw behind the minio container's proxy, the
 * Terraform stand-in, the simulated cluster. Every test that writes works on its own bucket (a copy
 * of tfstate-prod's history) and its own copy of the lab workspace, so tfstate-prod and
 * .lab/workspace stay as seeded for the other suites. "S3 down" is a private TCP proxy in front of
 * the lab's S3 endpoint that the test stops and starts: the same refused connections as a stopped
 * minio container (lab fault s3-down), without taking S3 away from suites running beside this one.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type * as Minio from 'minio';
import { ensureLab, type LabContext } from '../../lab/lab';
import { ensureVersionedBucket, listVersions, readObject, s3Client } from '../../lab/s3/buckets';
import { writeStateVersions } from '../../lab/seed/states';
import {
  discoverEnvironments, english, LifeboatError, listStateVersions, parseState, planFallback, planReturn, planStateRestore,
  runPlan, s3Credentials, Secret, stateLocation, stateRestoreAftermath, writeSafetyCopy, silentLog, type EnvironmentConfig, type StateDeps,
} from '../../src/core';
import { createMinioStateStore } from '../../src/adapters/s3/minioStore';
import { createTerraformRunner } from '../../src/adapters/terraform/execaRunner';

const LAB_S3 = { host: '127.20.0.52', port: 9000 };

/** A TCP proxy to the lab's S3 that can be stopped (connections refused) and started again on the same port. */
class S3Switch {
  #server: net.Server | undefined;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(LAB_S3.port, LAB_S3.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Synchronous: from now on connections are refused and open ones are cut. */
  stop(): void {
    this.#server?.close();
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }
}

describe('state recovery against the lab (radosgw + Terraform stand-in)', function () {
  this.timeout(240000);
  let lab: LabContext;
  let s3: Minio.Client;
  const proxy = new S3Switch();
  const created: string[] = [];

  before(async () => {
    lab = await ensureLab();
    s3 = s3Client({ ...LAB_S3, accessKey: lab.env['AWS_ACCESS_KEY_ID']!, secretKey: lab.env['AWS_SECRET_ACCESS_KEY']! });
    await proxy.start();
  });

  after(async () => {
    proxy.stop();
    // The scratch buckets go (radosgw's memstore keeps everything in RAM); best effort.
    for (const bucket of created) {
      try {
        const all: { name: string; versionId: string }[] = [];
        for await (const o of s3.listObjects(bucket, '', true, { IncludeVersion: true }) as AsyncIterable<{ name: string; versionId?: string }>) all.push({ name: o.name, versionId: o.versionId ?? 'null' });
        for (let i = 0; i < all.length; i += 500) await s3.removeObjects(bucket, all.slice(i, i + 500));
        await s3.removeBucket(bucket);
      } catch {
        // left behind: the lab is throw-away
      }
    }
  });

  /** A new versioned bucket holding a copy of tfstate-prod's history (same contents, new version ids). */
  async function scratchBucket(tag: string): Promise<string> {
    const bucket = `lbs-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    await ensureVersionedBucket(s3, bucket);
    for (const v of (await listVersions(s3, 'tfstate-prod', 'terraform.tfstate')).reverse()) {
      const body = await readObject(s3, 'tfstate-prod', 'terraform.tfstate', v.versionId);
      await s3.putObject(bucket, 'terraform.tfstate', Buffer.from(body), Buffer.byteLength(body), { 'Content-Type': 'application/json' });
    }
    created.push(bucket);
    return bucket;
  }

  /** A copy of the lab workspace whose prod backend points at `bucket` (through `endpoint`). */
  function scratchRepo(bucket: string, endpoint = `http://${LAB_S3.host}:${LAB_S3.port}`): string {
    const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-state-repo-'));
    cpSync(lab.paths.workspace, root, { recursive: true, filter: (src) => !src.includes(`${path.sep}.terraform`) && !src.includes(`${path.sep}.lifeboat`) });
    const backend = path.join(root, 'infrastructure/proxmox/environments/prod/backend.tf');
    writeFileSync(backend, readFileSync(backend, 'utf8').replace('"tfstate-prod"', `"${bucket}"`).replace(`http://${LAB_S3.host}:${LAB_S3.port}`, endpoint));
    return root;
  }

  async function prodEnv(root: string): Promise<EnvironmentConfig> {
    const d = await discoverEnvironments({ root, env: lab.processEnv });
    const env = d.environments.find((e) => e.name === 'prod');
    assert.ok(env, 'prod discovered');
    return env;
  }

  async function depsFor(root: string, env: EnvironmentConfig, location = stateLocation(env)): Promise<StateDeps> {
    const credentials = s3Credentials((await discoverEnvironments({ root, env: lab.processEnv })).environments, lab.processEnv);
    assert.ok(credentials);
    return {
      store: createMinioStateStore({ location, credentials, labOnly: true, timeoutMs: 8000 }),
      terraform: createTerraformRunner(),
      log: silentLog,
      root,
      processEnv: lab.processEnv,
      credentials,
    };
  }

  const signal = () => new AbortController().signal;

  /** backend.tf as operators often write it: the backend in a terraform block that also pins versions. */
  function pinVersions(root: string): string {
    const file = path.join(root, 'infrastructure/proxmox/environments/prod/backend.tf');
    const text = readFileSync(file, 'utf8');
    const pinned = text.replace(/^terraform \{\n/, 'terraform {\n  required_version = ">= 1.6"\n  required_providers {\n    proxmox = {\n      source  = "bpg/proxmox"\n      version = "~> 0.66"\n    }\n  }\n\n');
    assert.notEqual(pinned, text);
    writeFileSync(file, pinned);
    return pinned;
  }

  it('credentials MinIO refuses are authFailed (not "unreachable"): health says so and no fallback is built on them', async () => {
    const bucket = await scratchBucket('auth');
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const good = await depsFor(root, env);
    await writeSafetyCopy(path.join(root, '.lifeboat/safety/prod-2026-11-22T10-00-00Z-serial1.tfstate'), await good.store.read(undefined));
    const backendBefore = readFileSync(env.backendPath!, 'utf8');
    for (const credentials of [
      { accessKey: good.credentials!.accessKey, secretKey: Secret.literal('not-the-secret-key'), source: 'a test (wrong secret)' },
      { accessKey: 'nobody-has-this-key', secretKey: Secret.literal('whatever-secret'), source: 'a test (unknown key)' },
    ]) {
      const store = createMinioStateStore({ location: stateLocation(env), credentials, labOnly: true, timeoutMs: 8000 });
      await assert.rejects(store.read(undefined), (e: unknown) => LifeboatError.is(e, 'authFailed') && /answers but refuses the S3 credentials from a test/.test(e.message) && /MinIO is up/.test(e.message), credentials.source);
      await assert.rejects(store.listVersions(), (e: unknown) => LifeboatError.is(e, 'authFailed'));
      await assert.rejects(store.health(), (e: unknown) => LifeboatError.is(e, 'authFailed'), 'health must not say "down"');
      await assert.rejects(planFallback(env, { ...good, store, credentials }, signal()), (e: unknown) => LifeboatError.is(e, 'authFailed'));
    }
    assert.equal(readFileSync(env.backendPath!, 'utf8'), backendBefore, 'backend.tf untouched');
    assert.ok(!existsSync(path.join(env.dir, 'terraform.tfstate')));
  });

  it('fallback of a terraform block that also holds required_version and required_providers: the environment keeps its S3 history, and returns', async () => {
    const bucket = await scratchBucket('pinned');
    const root = scratchRepo(bucket);
    const pinned = pinVersions(root);
    const dir = path.join(root, 'infrastructure/proxmox/environments/prod');
    let env = await prodEnv(root);
    const deps = await depsFor(root, env);
    assert.equal((await createTerraformRunner().run(['init', '-input=false'], { cwd: dir, env: lab.processEnv })).code, 0);
    const fb = await planFallback(env, deps, signal());
    const r1 = await runPlan(fb.plan, { signal: signal(), log: silentLog });
    assert.equal(r1.status, 'succeeded', JSON.stringify(r1.steps.map((s) => [s.id, s.status, s.error?.message])));
    assert.match(readFileSync(path.join(dir, 'backend.tf'), 'utf8'), /^terraform \{\n {2}required_version/, 'the terraform block stays');
    env = await prodEnv(root);
    assert.equal(env.backend.type, 'local');
    assert.ok(env.backend.type === 'local' && env.backend.commentedOut?.bucket === bucket && env.backend.lifeboatFallback === true, JSON.stringify(env.backend));
    // The history is still reachable from the local environment.
    const location = stateLocation(env);
    assert.equal(location.localNow, true);
    assert.ok((await listStateVersions(deps.store)).length >= 5);
    const back = await planReturn(env, await depsFor(root, env), {}, signal());
    const r2 = await runPlan(back.plan, { signal: signal(), log: silentLog });
    assert.equal(r2.status, 'succeeded', JSON.stringify(r2.steps.map((s) => [s.id, s.status, s.error?.message])));
    assert.equal(readFileSync(path.join(dir, 'backend.tf'), 'utf8'), pinned);
    assert.equal(r2.facts.planResult, 'no-changes');
  });

  it('lists more than 1,000 versions across pages, delete markers included, newest first', async () => {
    const bucket = `lbs-paging-${Date.now().toString(36)}`;
    await ensureVersionedBucket(s3, bucket);
    created.push(bucket);
    await writeStateVersions(s3, bucket, 'terraform.tfstate', 1003, { concurrency: 16 });
    await s3.removeObject(bucket, 'terraform.tfstate'); // a delete marker
    // One after the other, as Terraform writes: with two concurrent PUTs, the one S3 makes current and
    // the one with the later date need not be the same (seen once on CI), and the test is about paging.
    await writeStateVersions(s3, bucket, 'terraform.tfstate', 2, { firstSerial: 2000, concurrency: 1 });
    await s3.putObject(bucket, 'terraform.tfstate.tflock', Buffer.from('{}'), 2); // shares the prefix: not a version of the state
    await s3.removeObject(bucket, 'terraform.tfstate.tflock');
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const { store } = await depsFor(root, env);
    const versions = await listStateVersions(store, { withMeta: 3 });
    assert.equal(versions.length, 1006);
    assert.equal(new Set(versions.map((v) => v.versionId)).size, 1006);
    assert.equal(versions.filter((v) => v.isDeleteMarker).length, 1);
    assert.equal(versions.filter((v) => v.isLatest).length, 1);
    assert.equal(versions[0]!.isLatest, true);
    for (let i = 1; i < versions.length; i++) assert.ok(versions[i - 1]!.lastModified >= versions[i]!.lastModified, `sorted at ${i}`);
    assert.equal(versions[0]!.meta?.valid, true);
    assert.equal(versions[0]!.meta!.serial, 2001);
    const marker = versions.findIndex((v) => v.isDeleteMarker);
    assert.ok(marker >= 2, `the delete marker comes after the two newer versions (at ${marker})`);
  });

  it('restores the second newest version: serial bumped, lineage kept, content as chosen, previous version still listed, plan says No changes', async () => {
    const bucket = await scratchBucket('restore');
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    const before = await listStateVersions(deps.store, { withMeta: 2 });
    const [current, second] = before;
    const { plan, facts } = await planStateRestore({ version: second!.versionId }, env, deps, signal());
    const report = await runPlan(plan, { signal: signal(), log: silentLog, aftermath: (f) => stateRestoreAftermath(facts, f) });
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((s) => [s.id, s.status, s.error?.message])));
    const after = await listStateVersions(deps.store, { withMeta: 1 });
    assert.equal(after.length, before.length + 1);
    assert.ok(after.some((v) => v.versionId === current!.versionId), 'the previous current version is still listed');
    assert.equal(after[0]!.versionId, report.facts.newVersionId);
    const now = parseState(await deps.store.read(undefined));
    const chosen = parseState(await deps.store.read(second!.versionId));
    assert.ok(now.ok && chosen.ok);
    assert.equal(now.state.serial, current!.meta!.serial! + 1);
    assert.equal(now.state.lineage, chosen.state.lineage);
    assert.deepEqual(now.state.resources, chosen.state.resources);
    assert.deepEqual({ ...now.state, serial: 0 }, { ...chosen.state, serial: 0 });
    const copy = report.facts.safetyPoint!;
    assert.ok(existsSync(copy) && existsSync(`${copy}.sha256`));
    assert.deepEqual(readFileSync(copy), await deps.store.read(current!.versionId));
    assert.equal(report.facts.planResult, 'no-changes', report.steps.map((s) => s.detail && english(s.detail)).join(' | '));
  });

  it('a version that lost a resource restores with a plan that creates it back, without applying', async () => {
    const bucket = await scratchBucket('lost');
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    const versions = await listStateVersions(deps.store, { withMeta: Infinity });
    const lost = versions.find((v) => v.meta?.valid && v.meta.resourceCount < versions[0]!.meta!.resourceCount)!;
    const { plan, facts } = await planStateRestore({ version: lost.versionId }, env, deps, signal());
    assert.equal(facts.diff?.removed.length, 1);
    const report = await runPlan(plan, { signal: signal(), log: silentLog });
    assert.equal(report.status, 'succeeded');
    assert.equal(report.facts.planResult, 'changes');
    assert.match(report.facts.planSummary!, /^Plan: \d+ to add, \d+ to change, 0 to destroy\.$/);
    assert.equal((await listStateVersions(deps.store)).length, versions.length + 1, 'one write only: terraform plan wrote nothing');
  });

  it('refuses while the .tflock object exists, saying who and since when', async () => {
    const bucket = await scratchBucket('lock');
    const lock = JSON.stringify({ ID: 'b7e1c0de-0000-4000-8000-000000000001', Operation: 'OperationTypeApply', Who: 'operator@laptop', Version: '1.9.8', Created: '2026-11-23T16:59:00Z', Path: `${bucket}/terraform.tfstate` });
    await s3.putObject(bucket, 'terraform.tfstate.tflock', Buffer.from(lock), Buffer.byteLength(lock));
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    const count = (await listStateVersions(deps.store)).length;
    await assert.rejects(planStateRestore({ version: 'current~1' }, env, deps, signal()), (e: unknown) => LifeboatError.is(e, 'stateLocked') && /locked by operator@laptop since 2026-11-23T16:59:00Z/.test(e.message));
    assert.equal((await listStateVersions(deps.store)).length, count);
  });

  it('refuses when versioning is Suspended (or was never enabled), saying rollback is impossible and how to enable it', async () => {
    const bucket = await scratchBucket('suspended');
    await s3.setBucketVersioning(bucket, { Status: 'Suspended' });
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    await assert.rejects(planStateRestore({ version: 'current~1' }, env, deps, signal()), (e: unknown) => LifeboatError.is(e, 'versioningDisabled') && /Suspended.*ROLLBACK IS IMPOSSIBLE.*mc version enable <alias>\//s.test(e.message));
    const plain = `lbs-plain-${Date.now().toString(36)}`;
    await s3.makeBucket(plain, 'us-east-1');
    created.push(plain);
    await s3.putObject(plain, 'terraform.tfstate', Buffer.from('{}'), 2);
    const root2 = scratchRepo(plain);
    const env2 = await prodEnv(root2);
    const deps2 = await depsFor(root2, env2);
    assert.equal(await deps2.store.versioning(), 'Off');
    await assert.rejects(planStateRestore({ version: 'current' }, env2, deps2, signal()), (e: unknown) => LifeboatError.is(e, 'versioningDisabled') && /not enabled/.test(e.message));
  });

  it('refuses the invalid (truncated) version and an unknown version id', async () => {
    const bucket = await scratchBucket('invalid');
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    const versions = await listStateVersions(deps.store, { withMeta: Infinity });
    const invalid = versions.find((v) => v.meta && !v.meta.valid)!;
    assert.ok(invalid, 'the seeded history has an interrupted write');
    await assert.rejects(planStateRestore({ version: invalid.versionId }, env, deps, signal()), (e: unknown) => LifeboatError.is(e, 'invalidState') && /not valid JSON/.test(e.message));
    await assert.rejects(planStateRestore({ version: 'NoSuchVersionAtAll123' }, env, deps, signal()), (e: unknown) => LifeboatError.is(e, 'versionNotFound'));
    await assert.rejects(deps.store.read('NoSuchVersionAtAll123'), (e: unknown) => LifeboatError.is(e, 'versionNotFound'));
  });

  it('warns when the lineage of the chosen version differs', async () => {
    const bucket = await scratchBucket('lineage');
    const current = JSON.parse(await readObject(s3, bucket, 'terraform.tfstate')) as Record<string, unknown>;
    const foreign = JSON.stringify({ ...current, lineage: '00000000-1111-4222-8333-444444444444' }, null, 2);
    await s3.putObject(bucket, 'terraform.tfstate', Buffer.from(foreign), Buffer.byteLength(foreign));
    await s3.putObject(bucket, 'terraform.tfstate', Buffer.from(JSON.stringify(current)), Buffer.byteLength(JSON.stringify(current)));
    const root = scratchRepo(bucket);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    const { plan, facts } = await planStateRestore({ version: 'current~1' }, env, deps, signal());
    assert.equal(facts.lineageDiffers, true);
    assert.ok(plan.warnings.map(english).some((w) => /lineage .*00000000-1111-4222-8333-444444444444.* differs from the current state/.test(w)));
  });

  it('S3 stopped in the middle of a restore (after the safety copy): nothing written, the report says the current state is intact', async () => {
    const bucket = await scratchBucket('midway');
    const root = scratchRepo(bucket, proxy.endpoint);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    const before = await listVersions(s3, bucket, 'terraform.tfstate');
    const { plan, facts } = await planStateRestore({ version: 'current~1' }, env, deps, signal());
    let report;
    try {
      report = await runPlan(plan, {
        signal: signal(), log: silentLog, aftermath: (f) => stateRestoreAftermath(facts, f),
        onStep: (o) => { if (o.id === 'safety-copy' && o.status === 'done') proxy.stop(); },
      });
    } finally {
      proxy.stop();
      await proxy.start();
    }
    assert.equal(report.status, 'failed');
    const write = report.steps.find((s) => s.id === 'write')!;
    assert.equal(write.status, 'failed');
    assert.equal(write.error?.reason, 'storeUnreachable');
    assert.equal(report.facts.stateAfterFailure, 'not-sent');
    assert.match(english(report.aftermath[0]!), new RegExp(`current state is intact.*still version ${before[0]!.versionId} \\(serial \\d+\\)`));
    assert.match(english(report.aftermath[1]!), /saved in .*\.lifeboat\/safety\/prod-.*\.tfstate/);
    const after = await listVersions(s3, bucket, 'terraform.tfstate');
    assert.deepEqual(after.map((v) => v.versionId), before.map((v) => v.versionId), 'S3 holds exactly what it held');
  });

  it('S3 stopped right after the write: the report says exactly what changed and how to undo', async () => {
    const bucket = await scratchBucket('afterwrite');
    const root = scratchRepo(bucket, proxy.endpoint);
    const env = await prodEnv(root);
    const deps = await depsFor(root, env);
    const before = await listVersions(s3, bucket, 'terraform.tfstate');
    const { plan, facts } = await planStateRestore({ version: 'current~1' }, env, deps, signal());
    let report;
    try {
      report = await runPlan(plan, {
        signal: signal(), log: silentLog, aftermath: (f) => stateRestoreAftermath(facts, f),
        onStep: (o) => { if (o.id === 'write' && o.status === 'done') proxy.stop(); },
      });
    } finally {
      proxy.stop();
      await proxy.start();
    }
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((s) => s.id === 'verify')?.status, 'failed');
    const text = report.aftermath.map(english).join('\n');
    assert.match(text, new RegExp(`WAS written as the new current state \\(version ${report.facts.newVersionId}, serial ${facts.newSerial}\\)`));
    assert.match(text, new RegExp(`restore-tfstate --env prod --restore ${before[0]!.versionId}`));
    const after = await listVersions(s3, bucket, 'terraform.tfstate');
    assert.equal(after.length, before.length + 1);
    assert.equal(after[0]!.versionId, report.facts.newVersionId);
  });

  it('fallback with MinIO down (from the last safety copy), then return when it is back: ends with No changes', async () => {
    const bucket = await scratchBucket('fallback');
    const root = scratchRepo(bucket, proxy.endpoint);
    const dir = path.join(root, 'infrastructure/proxmox/environments/prod');
    const originalBackend = readFileSync(path.join(dir, 'backend.tf'), 'utf8');
    let env = await prodEnv(root);
    let deps = await depsFor(root, env);
    // The working folder is initialised on S3, as the operator's would be.
    // Not spawnSync: the S3 proxy runs in this process and must keep forwarding.
    const init = await createTerraformRunner().run(['init', '-input=false'], { cwd: dir, env: lab.processEnv });
    assert.equal(init.code, 0, init.stderr);
    // Lifeboat left a safety copy of the current state earlier (any restore does).
    const current = await deps.store.read(undefined);
    await writeSafetyCopy(path.join(root, '.lifeboat/safety/prod-2026-11-23T00-00-00Z-serial0.tfstate'), current);

    proxy.stop();
    try {
      const fb = await planFallback(env, deps, signal());
      assert.equal(fb.facts.s3Reachable, false);
      assert.equal(fb.facts.stateSource, 'safety-copy');
      const r1 = await runPlan(fb.plan, { signal: signal(), log: silentLog });
      assert.equal(r1.status, 'succeeded', JSON.stringify(r1.steps.map((s) => [s.id, s.status, s.error?.message])));
      assert.equal(r1.facts.planResult, 'no-changes', 'terraform works on the local state while MinIO is down');
      assert.equal(readFileSync(fb.facts.backendBackup, 'utf8'), originalBackend);
      env = await prodEnv(root);
      assert.equal(env.backend.type, 'local');
      assert.equal(env.backend.type === 'local' && env.backend.commentedOut?.bucket, bucket, 'the s3 block is kept in comments');
      await assert.rejects(planReturn(env, deps, {}, signal()), (e: unknown) => LifeboatError.is(e, 'storeUnreachable'));
    } finally {
      await proxy.start();
    }

    deps = await depsFor(root, env, { ...stateLocation(env) });
    const back = await planReturn(env, deps, {}, signal());
    const r2 = await runPlan(back.plan, { signal: signal(), log: silentLog });
    assert.equal(r2.status, 'succeeded', JSON.stringify(r2.steps.map((s) => [s.id, s.status, s.error?.message])));
    assert.equal(r2.facts.planResult, 'no-changes');
    assert.equal(readFileSync(path.join(dir, 'backend.tf'), 'utf8'), originalBackend);
    assert.ok(!existsSync(path.join(dir, 'terraform.tfstate')), 'the local state was moved aside');
    const s3Now = parseState(await deps.store.read(undefined));
    const local = parseState(current);
    assert.ok(s3Now.ok && local.ok);
    assert.equal(s3Now.state.serial, local.state.serial);
    assert.equal(s3Now.state.lineage, local.state.lineage);
  });

  it('refuses to return when S3 got a newer state after the fallback, unless the local one is preferred explicitly', async () => {
    const bucket = await scratchBucket('newer');
    const root = scratchRepo(bucket);
    const dir = path.join(root, 'infrastructure/proxmox/environments/prod');
    let env = await prodEnv(root);
    const deps = await depsFor(root, env);
    assert.equal(spawnSync('terraform', ['init', '-input=false'], { cwd: dir, env: lab.processEnv }).status, 0);
    const fb = await planFallback(env, deps, signal());
    assert.equal(fb.facts.stateSource, 's3');
    assert.ok(fb.facts.initArgs.includes('-migrate-state'));
    assert.equal((await runPlan(fb.plan, { signal: signal(), log: silentLog })).status, 'succeeded');
    const s3State = JSON.parse(await readObject(s3, bucket, 'terraform.tfstate')) as { serial: number };
    const newer = JSON.stringify({ ...s3State, serial: s3State.serial + 3 });
    await s3.putObject(bucket, 'terraform.tfstate', Buffer.from(newer), Buffer.byteLength(newer));
    env = await prodEnv(root);
    await assert.rejects(planReturn(env, deps, {}, signal()), (e: unknown) => LifeboatError.is(e, 'invalidState') && /newer than the local state's/.test(e.message));
    const { plan, facts } = await planReturn(env, deps, { preferLocal: true }, signal());
    assert.equal(facts.pushedSerial, s3State.serial + 4);
    const r = await runPlan(plan, { signal: signal(), log: silentLog });
    assert.equal(r.status, 'succeeded', JSON.stringify(r.steps.map((s) => [s.id, s.status, s.error?.message])));
    assert.equal((JSON.parse(await readObject(s3, bucket, 'terraform.tfstate')) as { serial: number }).serial, s3State.serial + 4);
    assert.equal(r.facts.planResult, 'no-changes');
  });

  describe('the CLI (dist/cli.js)', () => {
    const cli = (args: string[], cwd: string, input?: string) => {
      const r = spawnSync(process.execPath, [path.join(lab.paths.repo, 'dist/cli.js'), ...args], { cwd, env: { ...lab.processEnv, LANG: 'C' }, encoding: 'utf8', input: input ?? '', timeout: 120000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    before(function () {
      if (!existsSync(path.join(lab.paths.repo, 'dist/cli.js'))) this.skip();
    });

    it('--list --json in the lab workspace lists at least 5 versions with serial and resource counts', () => {
      const r = cli(['restore-tfstate', '--env', 'prod', '--list', '--json'], lab.paths.workspace);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { versioning: string; versions: { versionId: string; serial?: number; resources?: number; isLatest: boolean; valid?: boolean }[] };
      assert.equal(j.versioning, 'Enabled');
      assert.ok(j.versions.length >= 5);
      assert.ok(j.versions.filter((v) => v.valid).every((v) => typeof v.serial === 'number' && typeof v.resources === 'number'));
      assert.equal(j.versions[0]!.isLatest, true);
    });

    it('usage errors exit 2, a refusal without a terminal exits 1', () => {
      assert.equal(cli(['restore-tfstate', '--env', 'prod'], lab.paths.workspace).code, 2);
      assert.equal(cli(['restore-tfstate', '--env', 'prod', '--list', '--fallback'], lab.paths.workspace).code, 2);
      assert.equal(cli(['restore-tfstate', '--list'], lab.paths.workspace).code, 2);
      assert.equal(cli(['restore-tfstate', '--env', 'no/such', '--list'], lab.paths.workspace).code, 2);
      assert.equal(cli(['restore-tfstate', '--env', 'nosuch', '--list'], lab.paths.workspace).code, 2);
      assert.equal(cli(['restore-tfstate', '--env', 'prod', '--restore', 'has space'], lab.paths.workspace).code, 2);
      assert.equal(cli(['restore-tfstate', '--env', 'prod', '--diff', 'a', 'b', 'c'], lab.paths.workspace).code, 2);
      const r = cli(['restore-tfstate', '--env', 'prod', '--restore', 'current~1'], lab.paths.workspace);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Not confirmed \(no terminal to ask on\): nothing was changed/);
    });

    /** The lab's environment without any S3 credential (nor the minio block's password variable). */
    const withoutCredentials = () => Object.fromEntries(Object.entries(lab.processEnv).filter(([k]) => !['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'MINIO_ROOT_PASSWORD', 'MINIO_ROOT_USER'].includes(k)));

    it('--fallback without S3 credentials goes on from the newest safety copy and says MinIO was not consulted; after it, --list still reads the history (pinned terraform block)', async () => {
      const bucket = await scratchBucket('nocreds');
      const root = scratchRepo(bucket);
      pinVersions(root);
      const dir = path.join(root, 'infrastructure/proxmox/environments/prod');
      await writeSafetyCopy(path.join(root, '.lifeboat/safety/prod-2026-11-22T10-00-00Z-serial1.tfstate'), Buffer.from(await readObject(s3, bucket, 'terraform.tfstate')));
      const r = spawnSync(process.execPath, [path.join(lab.paths.repo, 'dist/cli.js'), 'restore-tfstate', '--env', 'prod', '--fallback', '--force', '--json'], { cwd: root, env: { ...withoutCredentials(), LANG: 'C' }, encoding: 'utf8', timeout: 120000 });
      assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
      assert.match(r.stderr, /MinIO: http:\/\/\S+ not consulted: no S3 credentials/);
      assert.match(r.stderr, /MinIO was not consulted \(no S3 credentials\)/);
      const j = JSON.parse(r.stdout) as { status: string; plan: { result: string } };
      assert.equal(j.status, 'succeeded');
      assert.equal(j.plan.result, 'no-changes');
      assert.ok(existsSync(path.join(dir, 'terraform.tfstate')));
      // On the local fallback, with credentials again: the history is listed, shown and diffed.
      const list = cli(['restore-tfstate', '--env', 'prod', '--list', '--json'], root);
      assert.equal(list.code, 0, list.stderr);
      assert.ok((JSON.parse(list.stdout) as { versions: unknown[] }).versions.length >= 5);
      assert.equal(cli(['restore-tfstate', '--env', 'prod', '--show', 'current', '--json'], root).code, 0);
      assert.equal(cli(['restore-tfstate', '--env', 'prod', '--diff', 'current~1', '--json'], root).code, 0);
    });

    it('--list --nodes compares each version with the guests the nodes run; --show counts resources as --list does', async () => {
      const bucket = await scratchBucket('nodes');
      // A version whose one resource block holds two instances (count/for_each): 2 resources, not 1.
      const current = JSON.parse(await readObject(s3, bucket, 'terraform.tfstate')) as { serial: number; resources: { instances: unknown[] }[] };
      const multi = { ...current, serial: current.serial + 1, resources: [...current.resources.slice(1), { ...current.resources[0]!, instances: [...current.resources[0]!.instances, { ...(current.resources[0]!.instances[0] as object), index_key: 'copy' }] }] };
      await s3.putObject(bucket, 'terraform.tfstate', Buffer.from(JSON.stringify(multi)), Buffer.byteLength(JSON.stringify(multi)));
      const root = scratchRepo(bucket);
      const r = cli(['restore-tfstate', '--env', 'prod', '--list', '--nodes', '--json'], root);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { nodesCompared: boolean; versions: { versionId: string; resources?: number; valid?: boolean; nodes?: { notOnNodes: { vmid: number }[]; notInState: { vmid: number; name?: string }[] } }[] };
      assert.equal(j.nodesCompared, true);
      assert.ok(j.versions.filter((v) => v.valid).every((v) => v.nodes !== undefined), 'every valid version is compared');
      // The seeded history has a version that lost a guest: the nodes run it, the version does not know it.
      assert.ok(j.versions.some((v) => (v.nodes?.notInState.length ?? 0) > 0), JSON.stringify(j.versions.map((v) => v.nodes)));
      const human = cli(['restore-tfstate', '--env', 'prod', '--list', '--nodes'], root);
      assert.match(human.stdout, /VS NODES/);
      const show = cli(['restore-tfstate', '--env', 'prod', '--show', 'current'], root);
      const listed = j.versions[0]!.resources;
      assert.equal(listed, current.resources.reduce((n, x) => n + x.instances.length, 0) + 1);
      assert.match(show.stderr, new RegExp(`serial \\d+, ${listed} resources`), show.stderr);
      assert.equal(cli(['restore-tfstate', '--env', 'prod', '--show', 'current', '--nodes'], root).code, 2, '--nodes goes with --list');
    });

    it('--fallback with MinIO unreachable and no local copy: the state is lost, nothing changes, the terraform import list is printed', async () => {
      const closed = net.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
      const port = (closed.address() as net.AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const root = scratchRepo('tfstate-prod', `http://127.0.0.1:${port}`);
      const dir = path.join(root, 'infrastructure/proxmox/environments/prod');
      const before = readFileSync(path.join(dir, 'backend.tf'), 'utf8');
      const r = cli(['restore-tfstate', '--env', 'prod', '--fallback', '--force'], root);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /state of prod is lost/);
      assert.match(r.stdout, /terraform import 'module\.vms\["gitea"\]\.proxmox_virtual_environment_vm\.this' alpha\/121/);
      assert.match(r.stdout, /terraform import 'module\.containers\["dns"\]\.proxmox_virtual_environment_container\.this' alpha\/132/);
      assert.equal(readFileSync(path.join(dir, 'backend.tf'), 'utf8'), before);
      assert.ok(!existsSync(path.join(dir, 'terraform.tfstate')));
    });

    it('Done when (on a copy of tfstate-prod): --restore of the second newest with --force --json exits 0, reports the safety copy and the plan, and the new current version has the old content with a higher serial', async () => {
      const bucket = await scratchBucket('done');
      const root = scratchRepo(bucket);
      const list = JSON.parse(cli(['restore-tfstate', '--env', 'prod', '--list', '--json'], root).stdout) as { versions: { versionId: string; serial: number }[] };
      const second = list.versions[1]!;
      const r = cli(['restore-tfstate', '--env', 'prod', '--restore', second.versionId, '--force', '--json'], path.join(root, 'infrastructure/proxmox/environments/prod'));
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { status: string; safetyCopy: string; plan: { result: string; summary: string }; reportFile: string };
      assert.equal(j.status, 'succeeded');
      assert.ok(existsSync(j.safetyCopy) && j.safetyCopy.startsWith(path.join(root, '.lifeboat', 'safety')));
      assert.equal(j.plan.result, 'no-changes');
      assert.ok(existsSync(j.reportFile));
      const now = JSON.parse(await readObject(s3, bucket, 'terraform.tfstate')) as Record<string, unknown>;
      const old = JSON.parse(await readObject(s3, bucket, 'terraform.tfstate', second.versionId)) as Record<string, unknown>;
      assert.equal(now['serial'], list.versions[0]!.serial + 1);
      assert.deepEqual({ ...now, serial: 0 }, { ...old, serial: 0 });
      const diff = cli(['restore-tfstate', '--env', 'prod', '--diff', list.versions[0]!.versionId, '--json'], root);
      assert.equal(diff.code, 0, diff.stderr);
      assert.deepEqual((JSON.parse(diff.stdout) as { added: string[]; removed: string[] }).removed, []);
      const show = cli(['restore-tfstate', '--env', 'prod', '--show', 'current'], root);
      assert.equal(show.code, 0, show.stderr);
      assert.equal((JSON.parse(show.stdout) as { serial: number }).serial, list.versions[0]!.serial + 1);
    });
  });
});
