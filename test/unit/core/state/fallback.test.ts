import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readBackend } from '../../../../src/core/config/tfvars';
import { LifeboatError } from '../../../../src/core/errors';
import { runPlan } from '../../../../src/core/procedure/engine';
import { english } from '../../../../src/core/procedure/message';
import { silentLog } from '../../../../src/core/ports';
import { commentOutS3Backend, fallbackAftermath, importGuide, planFallback, planReturn, returnAftermath } from '../../../../src/core/state/fallback';
import { writeSafetyCopy } from '../../../../src/core/state/safety';
import { body, deps, environment, FakeStore, FakeTerraform, s3Backend, stateDoc, tempDir, vmResource } from './fakes';

const BACKEND = `terraform {
  backend "s3" {
    bucket = "tfstate-prod"
    key    = "terraform.tfstate"
    region = "us-east-1"

    endpoints = {
      s3 = "http://127.20.0.52:9000"
    }
    use_path_style = true
    use_lockfile   = true
  }
}
`;

function setup() {
  const root = tempDir();
  const dir = path.join(root, 'infrastructure/proxmox/environments/prod');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'backend.tf'), BACKEND);
  const store = new FakeStore();
  store.put(body(stateDoc(7, [vmResource('gitea', 121)])));
  const tf = new FakeTerraform();
  return { root, dir, store, tf, d: deps(store, tf, root), env: environment(dir) };
}

const signal = () => new AbortController().signal;

async function localEnv(dir: string) {
  return environment(dir, { backend: await readBackend(readFileSync(path.join(dir, 'backend.tf'), 'utf8')) });
}

describe('state: fallback to a local backend and return', () => {
  it('comments the s3 backend out, keeping its text, so discovery still knows where the state belongs', async () => {
    const text = await commentOutS3Backend(BACKEND, 'Lifeboat fallback\nsecond line');
    assert.ok(text.startsWith('# Lifeboat fallback\n# second line\n# terraform {\n#   backend "s3" {'));
    const b = await readBackend(text);
    assert.equal(b.type, 'local');
    assert.equal(b.type === 'local' && b.commentedOut?.bucket, 'tfstate-prod');
    const withProviders = 'terraform {\n  required_version = ">= 1.6"\n' + BACKEND.split('\n').slice(1).join('\n');
    const partial = await commentOutS3Backend(withProviders, 'x');
    assert.match(partial, /^terraform \{\n {2}required_version/, 'the terraform block stays when it holds more than the backend');
    assert.equal((await readBackend(partial)).type, 'local');
    await assert.rejects(commentOutS3Backend('# nothing\n', 'x'), (e: unknown) => LifeboatError.is(e, 'invalidValue'));
  });

  it('MinIO up: backs up backend.tf, copies the S3 state locally, switches to local, init -migrate-state -force-copy, plan', async () => {
    const { dir, tf, d, env } = setup();
    const { plan, facts } = await planFallback(env, d, signal());
    assert.equal(facts.stateSource, 's3');
    const report = await runPlan(plan, { signal: signal(), log: silentLog, aftermath: (f) => fallbackAftermath(facts, f) });
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((s) => [s.id, s.error?.message])));
    assert.deepEqual(report.steps.map((s) => s.id), ['backup-backend', 'local-state', 'rewrite-backend', 'terraform-init', 'terraform-plan']);
    assert.equal(readFileSync(facts.backendBackup, 'utf8'), BACKEND);
    assert.match(path.basename(facts.backendBackup), /^backend\.tf\.lifeboat-2026-11-23T17-20-05Z\.bak$/);
    assert.equal((JSON.parse(readFileSync(path.join(dir, 'terraform.tfstate'), 'utf8')) as { serial: number }).serial, 7);
    assert.equal((await readBackend(readFileSync(path.join(dir, 'backend.tf'), 'utf8'))).type, 'local');
    assert.deepEqual(tf.calls.map((c) => c.args.join(' ')), ['init -migrate-state -force-copy -input=false', 'plan -detailed-exitcode -input=false -no-color']);
  });

  it('MinIO down: uses the newest verified safety copy and init -reconfigure (the old backend cannot be read)', async () => {
    const { root, dir, store, tf, d, env } = setup();
    await writeSafetyCopy(path.join(root, '.lifeboat/safety/prod-2026-11-22T10-00-00Z-serial6.tfstate'), body(stateDoc(6, [vmResource('gitea', 121)])));
    const damaged = path.join(root, '.lifeboat/safety/prod-2026-11-23T10-00-00Z-serial7.tfstate');
    await writeSafetyCopy(damaged, body(stateDoc(7, [])));
    writeFileSync(damaged, 'tampered');
    store.down = true;
    const { plan, facts } = await planFallback(env, d, signal());
    assert.equal(facts.stateSource, 'safety-copy');
    assert.match(facts.stateSourcePath ?? '', /serial6\.tfstate$/, 'the damaged newer copy is skipped');
    assert.ok(plan.warnings.map(english).some((w) => /anything applied after it was made is not in it/.test(w)));
    const report = await runPlan(plan, { signal: signal(), log: silentLog });
    assert.equal(report.status, 'succeeded');
    assert.equal((JSON.parse(readFileSync(path.join(dir, 'terraform.tfstate'), 'utf8')) as { serial: number }).serial, 6);
    assert.deepEqual(tf.calls[0]!.args, ['init', '-reconfigure', '-input=false']);
  });

  it('neither MinIO nor a local state: says the state is lost, changes nothing', async () => {
    const { dir, store, d, env } = setup();
    store.down = true;
    await assert.rejects(planFallback(env, d, signal()), (e: unknown) => LifeboatError.is(e, 'storeUnreachable') && e.details['stateLost'] === true && /the state is lost/.test(e.message));
    assert.deepEqual(readdirSync(dir), ['backend.tf']);
  });

  it('lists the terraform import commands from tfvars guests and the nodes (bpg ids node/vmid)', () => {
    const g = (name: string, kind: 'vm' | 'container') => ({ name, kind, environment: 'prod', node: 'alpha', ip: undefined, cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid: undefined, range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } } });
    const env = environment('/x', { guests: [g('gitea', 'vm'), g('dns', 'container'), g('ghost', 'vm')] });
    const list = importGuide(env, [{ vmid: 121, name: 'gitea', node: 'alpha', type: 'qemu' }, { vmid: 132, name: 'dns', node: 'alpha', type: 'lxc' }]);
    assert.deepEqual(list.map((i) => i.command), [
      `terraform import 'module.vms["gitea"].proxmox_virtual_environment_vm.this' alpha/121`,
      `terraform import 'module.containers["dns"].proxmox_virtual_environment_container.this' alpha/132`,
      `terraform import 'module.vms["ghost"].proxmox_virtual_environment_vm.this' <node>/<vmid of ghost>`,
    ]);
    assert.match(list[2]!.note ?? '', /no guest named ghost/);
  });

  it('round trip: fallback then return restores backend.tf, migrates back, reads S3 back, plans', async () => {
    const { dir, store, tf, d, env } = setup();
    const fb = await planFallback(env, d, signal());
    await runPlan(fb.plan, { signal: signal(), log: silentLog });
    // terraform init -migrate-state would copy the local state to S3: the fake does it by hand.
    tf.init = { code: 0, stdout: 'ok', stderr: '' };
    const local = await localEnv(dir);
    const later = { ...d, now: () => new Date('2026-11-23T18:00:00Z') };
    const { plan, facts } = await planReturn(local, later, {}, signal());
    const migrating = tf.run.bind(tf);
    tf.run = async (args, o) => {
      if (args.includes('-migrate-state')) store.put(readFileSync(path.join(dir, 'terraform.tfstate')));
      return migrating(args, o);
    };
    const report = await runPlan(plan, { signal: signal(), log: silentLog, aftermath: (f) => returnAftermath(facts, f) });
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((s) => [s.id, s.error?.message])));
    assert.deepEqual(report.steps.map((s) => s.id), ['preflight', 'safety-copy', 'restore-backend', 'terraform-init', 'verify', 'terraform-plan']);
    assert.equal(readFileSync(path.join(dir, 'backend.tf'), 'utf8'), BACKEND);
    assert.ok(!existsSync(path.join(dir, 'terraform.tfstate')), 'the local state is moved aside');
    assert.ok(existsSync(report.facts.localStateAside!));
    assert.ok(tf.calls.some((c) => c.args.join(' ') === 'init -migrate-state -force-copy -input=false'));
  });

  it('refuses to return when the S3 state is newer, unless the operator prefers the local one (then rolls forward)', async () => {
    const { dir, store, d, env } = setup();
    const fb = await planFallback(env, d, signal());
    await runPlan(fb.plan, { signal: signal(), log: silentLog });
    store.put(body(stateDoc(9, [vmResource('gitea', 121)]))); // someone wrote to S3 meanwhile
    const local = await localEnv(dir);
    await assert.rejects(planReturn(local, d, {}, signal()), (e: unknown) => LifeboatError.is(e, 'invalidState') && /serial 9, newer than the local state's 7/.test(e.message));
    const { plan, facts } = await planReturn(local, d, { preferLocal: true }, signal());
    assert.equal(facts.pushedSerial, 10);
    assert.ok(plan.steps.some((s) => s.id === 'bump-serial'));
    assert.ok(plan.warnings.map(english).some((w) => /NEWER than the local one/.test(w)));
  });

  it('refuses to return while MinIO is still down, or to fall back an environment already local', async () => {
    const { dir, store, d, env } = setup();
    await runPlan((await planFallback(env, d, signal())).plan, { signal: signal(), log: silentLog });
    store.down = true;
    const local = await localEnv(dir);
    await assert.rejects(planReturn(local, d, {}, signal()), (e: unknown) => LifeboatError.is(e, 'storeUnreachable') && /still unreachable/.test(e.message));
    await assert.rejects(planFallback(local, d, signal()), (e: unknown) => LifeboatError.is(e, 'invalidValue'));
    await assert.rejects(planReturn(environment(dir, { backend: s3Backend() }), d, {}, signal()), /already uses its s3 backend/);
  });
});
