import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { EnvironmentConfig } from '../../../../src/core/model/environment';
import type { BucketVersioning, StateStore, StoredVersion, TerraformRunner } from '../../../../src/core/ports';
import { english } from '../../../../src/core/procedure/message';
import { runPlan } from '../../../../src/core/procedure/engine';
import { minioAftermath, planMinioRebuild, planMonitoringRebuild, type BucketAdmin, type MinioRebuildDeps } from '../../../../src/core/rebuild';
import { FakeProbe, RecordingLogSink, instantSleep } from '../../../fakes/fakeNodeShell';

const range = { start: { line: 3, column: 0 }, end: { line: 3, column: 5 } };
const goodState = JSON.stringify({ version: 4, terraform_version: '1.9.8', serial: 7, lineage: 'l', outputs: {}, resources: [] });

function env(name: string, dir: string, extra: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    name, dir, tfvarsPath: path.join(dir, 'terraform.tfvars'), backendPath: undefined, endpoint: undefined, defaultNode: 'gamma', apiToken: undefined, nodes: [], guests: [],
    backup: undefined, minio: undefined, monitoring: undefined,
    backend: { type: 's3', bucket: `tfstate-${name}`, key: 'terraform.tfstate', region: 'us-east-1', endpoint: 'http://10.0.0.52:9000', usePathStyle: true, useLockfile: true, range: undefined },
    modules: [], blocks: {}, ...extra,
  };
}

class FakeTerraform implements TerraformRunner {
  readonly calls: { args: string[]; cwd: string }[] = [];
  fail: Record<string, { code: number; stderr: string }> = {};
  async run(args: readonly string[], o: { cwd: string }) {
    this.calls.push({ args: [...args], cwd: o.cwd });
    const key = `${args[0]}@${path.basename(o.cwd)}`;
    const f = this.fail[key] ?? this.fail[args[0]!];
    if (f) return { code: f.code, stdout: '', stderr: f.stderr };
    if (args[0] === 'version') return { code: 0, stdout: 'Terraform v1.9.8\n', stderr: '' };
    if (args[0] === 'apply') return { code: 0, stdout: 'Apply complete! Resources: 1 added, 0 changed, 0 destroyed.\n', stderr: '' };
    return { code: 0, stdout: 'Terraform has been successfully initialized!\n', stderr: '' };
  }
}

class FakeAdmin implements BucketAdmin {
  readonly endpoint = 'http://10.0.0.52:9000';
  readonly buckets = new Map<string, BucketVersioning>();
  /** Buckets whose versioning cannot be enabled (a server without versioning). */
  readonly stuck = new Set<string>();
  async exists(b: string) { return this.buckets.has(b); }
  async create(b: string) { this.buckets.set(b, 'Off'); }
  async versioning(b: string) { return this.buckets.get(b) ?? 'Off'; }
  async enableVersioning(b: string) { if (!this.stuck.has(b)) this.buckets.set(b, 'Enabled'); }
}

function store(bucket: string, versions: number): StateStore & { written: Buffer[] } {
  const written: Buffer[] = [];
  return {
    endpoint: 'http://10.0.0.52:9000', bucket, key: 'terraform.tfstate', written,
    versioning: async () => 'Enabled',
    listVersions: async () => Array.from({ length: versions + written.length }, (_, i): StoredVersion => ({ versionId: `v${i}`, lastModified: new Date(), size: 1, isLatest: i === 0, isDeleteMarker: false })),
    read: async () => Buffer.from(goodState),
    write: async (body) => { written.push(body); return 'new-version'; },
    readLock: async () => undefined,
    health: async () => ({ ok: true }),
  };
}

describe('rebuild/minio (core, fakes)', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-rebuild-'));
  const dirs = Object.fromEntries(['monitoring', 'prod', 'lab'].map((n) => {
    const d = path.join(root, n);
    mkdirSync(d, { recursive: true });
    return [n, d];
  }));
  writeFileSync(path.join(dirs.lab!, 'terraform.tfstate'), goodState);
  const monitoring = env('monitoring', dirs.monitoring!, {
    backend: { type: 'local', commentedOut: undefined },
    minio: { ip: '10.0.0.52', port: 9000, consolePort: 9001, rootUser: 'admin', rootPassword: undefined, buckets: ['tfstate-prod', 'tfstate-lab', 'tfstate-monitoring'], range },
    modules: ['minio', 'monitoring_stack'],
    monitoring: { vmIp: '10.0.0.51', nodes: [], retentionDays: 30, grafanaAdminPassword: undefined, range },
  });
  const prod = env('prod', dirs.prod!);
  const lab = env('lab', dirs.lab!);

  const setup = (over: Partial<MinioRebuildDeps> = {}) => {
    const terraform = new FakeTerraform();
    const admin = new FakeAdmin();
    admin.buckets.set('tfstate-prod', 'Enabled');
    admin.buckets.set('tfstate-lab', 'Suspended');
    const stores = { prod: store('tfstate-prod', 12), lab: store('tfstate-lab', 0) };
    const probe = new FakeProbe();
    probe.httpAnswers.set('http://10.0.0.52:9000/minio/health/live', { status: 200, body: '' });
    const sleep = instantSleep();
    const deps: MinioRebuildDeps = {
      environments: [monitoring, prod, lab], root, terraform, terraformEnv: {}, probe, sleep, log: new RecordingLogSink(), admin,
      store: (e) => stores[e.name as 'prod' | 'lab'], timing: { attempts: 4, firstDelayMs: 100, maxDelayMs: 300 }, ...over,
    };
    return { deps, terraform, admin, stores, probe, sleep };
  };
  const run = (plan: Parameters<typeof runPlan>[0]) => runPlan(plan, { signal: new AbortController().signal, log: new RecordingLogSink() });

  it('plans apply -target=module.minio in the monitoring environment, buckets, read-back, states, init for each S3 backend', async () => {
    const { deps } = setup();
    const { plan, facts } = await planMinioRebuild(deps);
    assert.deepEqual(plan.steps.map((s) => s.id), ['apply', 'health', 'buckets', 'read-back', 'states', 'init']);
    assert.equal(plan.steps[0]!.commands[0], `cd ${dirs.monitoring} && terraform apply -target=module.minio -auto-approve -input=false`);
    assert.deepEqual(facts.buckets, ['tfstate-prod', 'tfstate-lab', 'tfstate-monitoring']);
    assert.deepEqual(facts.backends.map((b) => b.environment), ['prod', 'lab']);
    assert.deepEqual(facts.localStates.map((l) => [l.environment, l.serial, l.source]), [['lab', 7, 'terraform.tfstate']]);
    assert.ok(plan.warnings.some((w) => /monitoring uses a local backend/.test(english(w))));
  });

  it('creates the missing bucket, re-enables suspended versioning, reads it back, uploads only into the empty bucket, inits each environment', async () => {
    const { deps, admin, stores, terraform } = setup();
    const { plan } = await planMinioRebuild(deps);
    const report = await run(plan);
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps));
    assert.equal(admin.buckets.get('tfstate-monitoring'), 'Enabled');
    assert.equal(admin.buckets.get('tfstate-lab'), 'Enabled');
    assert.equal(report.facts.bucketsCreated, 'tfstate-monitoring');
    assert.equal(report.facts.versioningEnabled, 'tfstate-lab, tfstate-monitoring');
    assert.match(report.facts.versioning!, /tfstate-lab=Enabled/);
    assert.equal(stores.prod.written.length, 0, 'existing versions are never overwritten');
    assert.equal(stores.lab.written.length, 1);
    assert.equal(stores.lab.written[0]!.toString(), goodState);
    assert.deepEqual(terraform.calls.filter((c) => c.args[0] === 'init').map((c) => path.basename(c.cwd)), ['prod', 'lab']);
    assert.deepEqual(terraform.calls.find((c) => c.args[0] === 'init')!.args, ['init', '-reconfigure', '-input=false']);
  });

  it('fails loudly when versioning does not read back Enabled', async () => {
    const { deps, admin } = setup();
    admin.stuck.add('tfstate-lab');
    const report = await run((await planMinioRebuild(deps)).plan);
    assert.equal(report.status, 'failed');
    const failed = report.steps.find((s) => s.status === 'failed')!;
    assert.equal(failed.id, 'read-back');
    assert.equal(failed.error?.reason, 'versioningDisabled');
    assert.match(failed.error!.message, /VERSIONING IS NOT ENABLED on tfstate-lab \(Suspended\)/);
  });

  it('health never comes up: retries with backoff, then fails with a clear report and says what changed', async () => {
    const { deps, probe, sleep } = setup();
    probe.httpAnswers.clear();
    const { plan, facts } = await planMinioRebuild(deps);
    const report = await runPlan(plan, { signal: new AbortController().signal, log: new RecordingLogSink(), aftermath: (f) => minioAftermath(facts, f) });
    assert.equal(report.status, 'failed');
    const health = report.steps.find((s) => s.id === 'health')!;
    assert.equal(health.status, 'failed');
    assert.match(health.error!.message, /MinIO did not come up at http:\/\/10\.0\.0\.52:9000\/minio\/health\/live: last answer ECONNREFUSED after 4 attempts/);
    assert.deepEqual(sleep.calls, [100, 200, 300]);
    assert.equal(probe.probes.length, 4);
    assert.ok(report.steps.slice(2).every((s) => s.status === 'not-run'));
    assert.match(english(report.aftermath[0]!), /terraform apply ran/);
  });

  it('an S3 server that is not MinIO (404 on the health path) counts as up, and is said so', async () => {
    const { deps, probe } = setup();
    probe.httpAnswers.set('http://10.0.0.52:9000/minio/health/live', { status: 404, body: '<Error><Code>NoSuchBucket</Code></Error>' });
    const report = await run((await planMinioRebuild(deps)).plan);
    assert.match(english(report.steps.find((s) => s.id === 'health')!.detail!), /not MinIO, but S3 is up/);
  });

  it('one failed terraform init is reported with the others, and fails the run', async () => {
    const { deps, terraform } = setup();
    terraform.fail['init@prod'] = { code: 1, stderr: 'Error: Failed to get existing workspaces\n' };
    const report = await run((await planMinioRebuild(deps)).plan);
    assert.equal(report.status, 'failed');
    assert.match(report.facts.init!, /prod: FAILED .*Failed to get existing workspaces.*; lab: ok/);
  });

  it('pre-checks: no minio block, no module "minio", terraform missing, node unreachable', async () => {
    await assert.rejects(planMinioRebuild({ ...setup().deps, environments: [prod] }), /no environment declares a minio block/);
    await assert.rejects(planMinioRebuild({ ...setup().deps, environments: [{ ...monitoring, modules: [] }] }), /no module "minio"/);
    const t = setup();
    t.terraform.fail.version = { code: 127, stderr: 'terraform: not found' };
    await assert.rejects(planMinioRebuild(t.deps), /terraform is not available here/);
    await assert.rejects(planMinioRebuild({ ...setup().deps, nodeReachable: { node: 'gamma', reachable: false, error: 'ECONNREFUSED' } }), /node gamma, which hosts MinIO, could not be reached/);
  });

  it('rebuild-monitoring --mode rebuild: says the metrics history is lost, applies module.monitoring_stack, checks the three services', async () => {
    const { deps } = setup();
    const probe = new FakeProbe();
    probe.httpAnswers.set('http://10.0.0.51:9090/-/ready', { status: 200, body: 'Prometheus Server is Ready.' });
    probe.httpAnswers.set('http://10.0.0.51:9090/api/v1/targets', { status: 200, body: JSON.stringify({ data: { activeTargets: [{ health: 'up' }, { health: 'up' }] } }) });
    probe.httpAnswers.set('http://10.0.0.51:3000/api/health', { status: 200, body: '{"database": "ok"}' });
    const terraform = new FakeTerraform();
    const sleep = instantSleep();
    const { plan } = await planMonitoringRebuild('rebuild', { environments: deps.environments, terraform, terraformEnv: {}, probe, sleep, log: new RecordingLogSink(), health: { attempts: 3, delayMs: 10 } });
    assert.ok(plan.warnings.some((w) => /METRICS HISTORY WILL BE LOST/.test(english(w))));
    assert.equal(plan.steps[0]!.commands[0], `cd ${dirs.monitoring} && terraform apply -target=module.monitoring_stack -auto-approve -input=false`);
    assert.ok(plan.nextSteps.some((n) => /NEW SSH key pair/.test(english(n))));
    const failed = await run(plan);
    assert.equal(failed.status, 'failed', 'Alertmanager does not answer');
    assert.match(failed.steps[1]!.error!.message, /alertmanager \(ECONNREFUSED/);
    assert.equal(sleep.calls.length, 2, 'retried while the services start');
    probe.httpAnswers.set('http://10.0.0.51:9093/-/healthy', { status: 200, body: 'OK' });
    const ok = await run((await planMonitoringRebuild('rebuild', { environments: deps.environments, terraform, terraformEnv: {}, probe, sleep, log: new RecordingLogSink(), health: { attempts: 3, delayMs: 10 } })).plan);
    assert.equal(ok.status, 'succeeded');
    assert.match(ok.facts['health.grafana']!, /^healthy: HTTP 200/);
    assert.match(english(ok.steps[1]!.detail!), /targets: 2\/2 up/);
  });
});
