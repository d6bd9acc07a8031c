import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readBackend } from '../../../../src/core/config/tfvars';
import { LifeboatError } from '../../../../src/core/errors';
import { runPlan } from '../../../../src/core/procedure/engine';
import { english } from '../../../../src/core/procedure/message';
import { silentLog } from '../../../../src/core/ports';
import { commentOutS3Backend, fallbackAftermath, importGuide, planFallback, planReturn, readTerraformLayout, returnAftermath } from '../../../../src/core/state/fallback';
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

  it('after a fallback of a terraform block that also holds required_version and required_providers, the s3 backend is still known', async () => {
    const full = `terraform {
  required_version = ">= 1.6"
  required_providers {
    proxmox = {
      source  = "bpg/proxmox"
      version = "~> 0.66"
    }
  }

${BACKEND.split('\n').slice(1, -2).join('\n')}
}

# Prose after the block, { with braces } and "quotes": not HCL.
`;
    assert.equal((await readBackend(full)).type, 's3');
    const text = await commentOutS3Backend(full, 'Lifeboat fallback 2026-11-23T17:20:05.123Z: the s3 backend below is commented out\nsecond line');
    assert.match(text, /^terraform \{\n {2}required_version/);
    const b = await readBackend(text);
    assert.equal(b.type, 'local');
    assert.ok(b.type === 'local');
    assert.deepEqual({ ...b.commentedOut }, { type: 's3', bucket: 'tfstate-prod', key: 'terraform.tfstate', region: 'us-east-1', endpoint: 'http://127.20.0.52:9000', usePathStyle: true, useLockfile: true, range: undefined });
    assert.equal(b.lifeboatFallback, true, 'the fallback note marks the environment as in fallback mode');
    // The monitoring environment's bootstrap comment is local but no Lifeboat fallback.
    const bootstrap = await readBackend(`# kept local until MinIO exists\n${BACKEND.split('\n').map((l) => `# ${l}`).join('\n')}`);
    assert.ok(bootstrap.type === 'local' && bootstrap.commentedOut?.bucket === 'tfstate-prod' && bootstrap.lifeboatFallback === undefined);
  });

  it('a backend.tf that no longer names the s3 backend even in comments: the newest backup of it does', async () => {
    const { dir } = setup();
    writeFileSync(path.join(dir, 'backend.tf.lifeboat-2026-11-20T10-00-00Z.bak'), BACKEND.replace('tfstate-prod', 'tfstate-older'));
    writeFileSync(path.join(dir, 'backend.tf.lifeboat-2026-11-22T10-00-00Z.bak'), BACKEND);
    writeFileSync(path.join(dir, 'backend.tf.lifeboat-local-2026-11-23T10-00-00Z.bak'), 'terraform {}\n');
    const bare = 'terraform {\n  required_version = ">= 1.6"\n}\n';
    assert.deepEqual(await readBackend(bare), { type: 'local', commentedOut: undefined }, 'without the folder, nothing to go on');
    const b = await readBackend(bare, { dir });
    assert.ok(b.type === 'local' && b.commentedOut?.bucket === 'tfstate-prod' && b.lifeboatFallback === true, JSON.stringify(b));
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

  it('no S3 credentials: MinIO is "not usable", the fallback goes on from the local copy and says so', async () => {
    const { root, dir, tf, d, env } = setup();
    await writeSafetyCopy(path.join(root, '.lifeboat/safety/prod-2026-11-22T10-00-00Z-serial6.tfstate'), body(stateDoc(6, [vmResource('gitea', 121)])));
    const { plan, facts } = await planFallback(env, { ...d, store: undefined, credentials: undefined }, signal());
    assert.equal(facts.s3Consulted, false);
    assert.equal(facts.stateSource, 'safety-copy');
    assert.match(plan.summary.find((x) => english(x.label) === 'MinIO')?.value ?? '', /not consulted: no S3 credentials/);
    assert.ok(plan.warnings.map(english).some((w) => /MinIO was not consulted \(no S3 credentials\)/.test(w)));
    const report = await runPlan(plan, { signal: signal(), log: silentLog });
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((s) => [s.id, s.error?.message])));
    assert.deepEqual(tf.calls[0]!.args, ['init', '-reconfigure', '-input=false']);
    assert.equal((await readBackend(readFileSync(path.join(dir, 'backend.tf'), 'utf8'))).type, 'local');
  });

  it('no S3 credentials and no local copy: refuses, changes nothing, and does not claim MinIO is down', async () => {
    const { dir, d, env } = setup();
    await assert.rejects(planFallback(env, { ...d, store: undefined }, signal()), (e: unknown) => LifeboatError.is(e, 'storeUnreachable') && e.details['noCredentials'] === true && /not consulted: there are no S3 credentials/.test(e.message) && !/is unreachable/.test(e.message));
    assert.deepEqual(readdirSync(dir), ['backend.tf']);
  });

  it('credentials MinIO refuses are not "MinIO is down": no fallback on them', async () => {
    const { root, dir, store, d, env } = setup();
    await writeSafetyCopy(path.join(root, '.lifeboat/safety/prod-2026-11-22T10-00-00Z-serial6.tfstate'), body(stateDoc(6, [vmResource('gitea', 121)])));
    store.health = async () => { throw new LifeboatError('authFailed', 'http://127.20.0.52:9000 answers but refuses the S3 credentials', {}); };
    await assert.rejects(planFallback(env, d, signal()), (e: unknown) => LifeboatError.is(e, 'authFailed'));
    assert.deepEqual(readdirSync(dir), ['backend.tf']);
  });

  it('MinIO still answers and the state is locked: refuses the fallback (a Terraform run may be writing it)', async () => {
    const { dir, store, d, env } = setup();
    store.lock = JSON.stringify({ ID: 'x', Who: 'ops@laptop', Created: '2026-11-23T16:59:00Z', Operation: 'OperationTypeApply' });
    await assert.rejects(planFallback(env, d, signal()), (e: unknown) => LifeboatError.is(e, 'stateLocked') && /ops@laptop/.test(e.message));
    assert.deepEqual(readdirSync(dir), ['backend.tf']);
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
    assert.ok(list.every((i) => /no module or resource iterating over (vms|containers)/.test(i.assumed ?? '')), 'without module blocks every address is marked assumed');
  });

  it('takes the import addresses from the environment\'s module blocks (for_each) and the modules\' code when it can read it', async () => {
    const root = tempDir();
    const envDir = path.join(root, 'environments/prod');
    mkdirSync(envDir, { recursive: true });
    mkdirSync(path.join(root, 'modules/vm'), { recursive: true });
    writeFileSync(path.join(envDir, 'main.tf'), `module "guests" {\n  source   = "../../modules/vm"\n  for_each = var.vms\n  name     = each.key\n}\n\nmodule "cts" {\n  source   = "git::https://example.org/lxc.git"\n  for_each = var.containers\n}\n\nmodule "minio" {\n  source = "../../modules/missing"\n}\n`);
    writeFileSync(path.join(root, 'modules/vm/main.tf'), 'resource "proxmox_virtual_environment_vm" "guest" {\n  name = var.name\n}\n');
    const layout = await readTerraformLayout(envDir);
    assert.deepEqual(layout.modules.map((m) => [m.name, m.forEach, m.resources?.map((r) => `${r.type}.${r.name}`)]), [['guests', 'var.vms', ['proxmox_virtual_environment_vm.guest']], ['cts', 'var.containers', undefined], ['minio', undefined, undefined]]);
    const g = (name: string, kind: 'vm' | 'container') => ({ name, kind, environment: 'prod', node: 'alpha', ip: undefined, cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid: undefined, range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } } });
    const env = environment(envDir, { guests: [g('gitea', 'vm'), g('dns', 'container')], modules: ['guests', 'cts', 'minio'], minio: { ip: '127.20.0.52', port: 9000, consolePort: undefined, rootUser: 'admin', rootPassword: undefined, buckets: [], range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } } } });
    const list = importGuide(env, [{ vmid: 121, name: 'gitea', node: 'alpha', type: 'qemu' }], layout);
    assert.deepEqual(list.map((i) => [i.address, i.assumed === undefined]), [
      ['module.guests["gitea"].proxmox_virtual_environment_vm.guest', true],
      ['module.cts["dns"].proxmox_virtual_environment_container.this', false],
      ['module.minio.proxmox_virtual_environment_container.minio', false],
    ]);
    assert.equal(list[0]!.command, `terraform import 'module.guests["gitea"].proxmox_virtual_environment_vm.guest' alpha/121`);
    assert.match(list[1]!.assumed ?? '', /module\.cts's code \(git::https:\/\/example\.org\/lxc\.git\) could not be read/);
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
    await assert.rejects(planReturn(local, d, {}, signal()), (e: unknown) => LifeboatError.is(e, 'invalidState') && e.details['s3Conflict'] === 'newer' && /serial 9, newer than the local state's 7/.test(e.message));
    const { plan, facts } = await planReturn(local, d, { preferLocal: true }, signal());
    assert.equal(facts.pushedSerial, 10);
    assert.ok(plan.steps.some((s) => s.id === 'bump-serial'));
    assert.ok(plan.warnings.map(english).some((w) => /NEWER than the local one/.test(w)));
  });

  it('the same serial in S3 and locally with other contents is a divergence: refused unless chosen, then warned and rolled forward', async () => {
    const { dir, store, d, env } = setup();
    await runPlan((await planFallback(env, d, signal())).plan, { signal: signal(), log: silentLog });
    // Both sides wrote once after the fallback: locally serial 8 with dns, in S3 serial 8 with nextcloud.
    writeFileSync(path.join(dir, 'terraform.tfstate'), body(stateDoc(8, [vmResource('gitea', 121), vmResource('dns', 132)])));
    store.put(body(stateDoc(8, [vmResource('gitea', 121), vmResource('nextcloud', 122)])));
    const local = await localEnv(dir);
    await assert.rejects(planReturn(local, d, {}, signal()), (e: unknown) => LifeboatError.is(e, 'invalidState') && e.details['s3Conflict'] === 'diverged' && /both have serial 8 but different contents/.test(e.message));
    const { plan, facts } = await planReturn(local, d, { preferLocal: true }, signal());
    assert.equal(facts.pushedSerial, 9);
    assert.ok(plan.warnings.map(english).some((w) => /same serial \(8\) as the local one but other contents/.test(w)));
    // The same content in both (a plain round trip) goes back without a question.
    store.put(readFileSync(path.join(dir, 'terraform.tfstate')));
    assert.equal((await planReturn(local, d, {}, signal())).facts.pushedSerial, 8);
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
