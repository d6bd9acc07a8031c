import * as assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { EnvironmentConfig } from '../../../../src/core/model/environment';
import type { BucketVersioning, StateStore, StoredVersion, TerraformRunner } from '../../../../src/core/ports';
import type { Inventory } from '../../../../src/core/inventory/model';
import { english, msg, type Message } from '../../../../src/core/procedure/message';
import { runPlan } from '../../../../src/core/procedure/engine';
import { minioAftermath, minioHostNode, planMinioRebuild, planMonitoringRebuild, uploadOffer, type BucketAdmin, type MinioRebuildDeps, type UploadOffer } from '../../../../src/core/rebuild';
import { safetyCopyPath, writeSafetyCopy } from '../../../../src/core/state/safety';
import { reportJson } from '../../../../src/shared/reportData';
import { reportLines, reportMarkdown } from '../../../../src/shared/reportText';
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
    read: async () => written.at(-1) ?? Buffer.from(goodState),
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
    assert.deepEqual(facts.uploadOffers.map((o) => [o.environment, o.chosen.serial, o.chosen.source]), [['lab', 7, 'terraform.tfstate']]);
    assert.ok(plan.warnings.some((w) => /monitoring uses a local backend/.test(english(w))));
  });

  it('creates the missing bucket, re-enables suspended versioning, reads it back, uploads only into the empty bucket (when accepted), inits each environment', async () => {
    const { deps, admin, stores, terraform } = setup();
    const asked: UploadOffer[] = [];
    const { plan } = await planMinioRebuild({ ...deps, offerUpload: async (o) => { asked.push(o); return true; } });
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
    assert.deepEqual(asked.map((o) => o.environment), ['lab'], 'asked only for the empty bucket');
    assert.match(english(asked[0]!.question), /^Bucket tfstate-lab holds no state for lab\. Upload .*lab\/terraform\.tfstate \(serial 7, lineage l, modified \d{4}-\d\d-\d\d \d\d:\d\d UTC\) as its first version\?$/);
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

  it('an S3 server that is not MinIO (404 with an S3 XML error on the health path, as radosgw answers) counts as up, and is said so', async () => {
    const { deps, probe } = setup();
    probe.httpAnswers.set('http://10.0.0.52:9000/minio/health/live', { status: 404, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message></Message><BucketName>minio</BucketName></Error>' });
    const report = await run((await planMinioRebuild(deps)).plan);
    assert.match(english(report.steps.find((s) => s.id === 'health')!.detail!), /not MinIO, but S3 is up/);
  });

  it('another server answering (a web server\'s 404, a 200 web page) is not S3: the wait goes on, then fails saying so', async () => {
    for (const answer of [{ status: 404, body: '404 page not found\n' }, { status: 200, body: '<!DOCTYPE html><html><body>Welcome to nginx</body></html>' }, { status: 403, body: 'Forbidden' }]) {
      const { deps, probe } = setup();
      probe.httpAnswers.set('http://10.0.0.52:9000/minio/health/live', answer);
      const report = await run((await planMinioRebuild(deps)).plan);
      const health = report.steps.find((s) => s.id === 'health')!;
      assert.equal(health.status, 'failed', JSON.stringify(answer));
      assert.match(health.error!.message, new RegExp(`Something answers at http://10\\.0\\.0\\.52:9000/minio/health/live, but not as S3 \\(last answer HTTP ${answer.status}, not an S3 reply, after 4 attempts\\)`));
      assert.equal(probe.probes.length, 4, 'it kept waiting');
    }
  });

  it('one failed terraform init is reported with the others, and fails the run', async () => {
    const { deps, terraform } = setup();
    terraform.fail['init@prod'] = { code: 1, stderr: 'Error: Failed to get existing workspaces\n' };
    const { plan, facts } = await planMinioRebuild(deps);
    const report = await runPlan(plan, { signal: new AbortController().signal, log: new RecordingLogSink(), aftermath: (f) => minioAftermath(facts, f) });
    assert.equal(report.status, 'failed');
    assert.match(report.facts.init!, /prod: FAILED .*Failed to get existing workspaces.*; lab: ok/);
    const init = report.steps.find((s) => s.id === 'init')!;
    assert.deepEqual(init.error!.text && { text: init.error!.text.text, env: init.error!.text.args.slice(0, 2) }, { text: 'terraform init -reconfigure FAILED in {0} (it succeeded in {1}): {2}', env: ['prod', 'lab'] });
    assert.ok(report.aftermath.some((m) => english(m) === 'terraform init -reconfigure FAILED in prod: run it there again once the cause is fixed'));
  });

  it('pre-checks: no minio block, no module "minio", terraform missing, node unreachable', async () => {
    await assert.rejects(planMinioRebuild({ ...setup().deps, environments: [prod] }), /no environment declares a minio block/);
    await assert.rejects(planMinioRebuild({ ...setup().deps, environments: [{ ...monitoring, modules: [] }] }), /no module "minio"/);
    const t = setup();
    t.terraform.fail.version = { code: 127, stderr: 'terraform: not found' };
    await assert.rejects(planMinioRebuild(t.deps), /terraform is not available here/);
    await assert.rejects(planMinioRebuild({ ...setup().deps, hostNode: { checked: true, node: 'gamma', reachable: false, error: 'ECONNREFUSED' } }), /Node gamma, which hosts MinIO, could not be reached \(ECONNREFUSED\)/);
  });

  it('a node that could not be checked is said in the plan ("Node (NOT CHECKED)" and why), never skipped silently', async () => {
    const why = msg('The node that hosts MinIO was not checked: the nodes could not be read ({0}). If it is down, terraform apply will fail', 'ECONNREFUSED');
    const { plan } = await planMinioRebuild({ ...setup().deps, hostNode: minioHostNode([monitoring, prod, lab], undefined, why) });
    assert.deepEqual(plan.summary.map((x) => english(x.label)).filter((l) => l.startsWith('Node')), ['Node (NOT CHECKED)']);
    assert.ok(plan.warnings.some((w) => /was not checked: the nodes could not be read \(ECONNREFUSED\)/.test(english(w))));
    const inv = (nodes: { node: string; reachable: boolean }[], guests: { name: string; node: string }[] = []) => ({
      loadedAt: new Date(), jobs: [], backups: [],
      nodes: nodes.map((n) => ({ ...n, error: n.reachable ? undefined : new Error('ECONNREFUSED'), storages: [], unreadableStorages: [] })),
      guests: guests.map((g, i) => ({ vmid: 300 + i, type: 'lxc' as const, name: g.name, node: g.node, status: 'running', lock: undefined, template: false, maxdiskBytes: 1, tags: [] })),
    }) as unknown as Inventory;
    assert.deepEqual(minioHostNode([monitoring], inv([{ node: 'gamma', reachable: true }])), { checked: true, node: 'gamma', reachable: true, error: undefined });
    assert.deepEqual(minioHostNode([monitoring], inv([{ node: 'gamma', reachable: true }, { node: 'beta', reachable: false }], [{ name: 'minio', node: 'beta' }])), { checked: true, node: 'beta', reachable: false, error: 'ECONNREFUSED' });
    const unknown = minioHostNode([monitoring], inv([{ node: 'alpha', reachable: true }]));
    assert.equal(unknown.checked, false);
    assert.match(english((unknown as { why: Message }).why), /gamma is not among the nodes Lifeboat reads/);
    const { plan: checked } = await planMinioRebuild({ ...setup().deps, hostNode: minioHostNode([monitoring], inv([{ node: 'gamma', reachable: true }])) });
    assert.deepEqual(checked.summary.filter((x) => english(x.label) === 'Node').map((x) => x.value), ['gamma']);
  });

  it('the upload is its own question: rebuild accepted, upload declined (the default) uploads nothing and says so', async () => {
    const { deps, stores } = setup();
    const { plan } = await planMinioRebuild(deps);
    assert.ok(plan.warnings.some((w) => /you will be asked whether to upload .*lab\/terraform\.tfstate \(serial 7, lineage l\)/.test(english(w))));
    const report = await run(plan);
    assert.equal(report.status, 'succeeded');
    assert.equal(stores.lab.written.length, 0);
    assert.match(english(report.steps.find((s) => s.id === 'states')!.detail!), /uploaded: —; existing versions kept: prod \(12\); empty, upload declined: lab;/);
    const no = await run((await planMinioRebuild({ ...deps, offerUpload: async () => false })).plan);
    assert.equal(no.status, 'succeeded');
    assert.equal(stores.lab.written.length, 0);
  });

  it('chooses the highest serial of the lineage that was in the bucket between terraform.tfstate and the newest safety copy, and says why', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lifeboat-offer-'));
    const state = (serial: number, lineage: string) => Buffer.from(JSON.stringify({ version: 4, terraform_version: '1.9.8', serial, lineage, outputs: {}, resources: [] }));
    const backend = { environment: 'prod', dir, bucket: 'tfstate-prod', key: 'terraform.tfstate' };
    writeFileSync(path.join(dir, 'terraform.tfstate'), state(40, 'L1'));
    await writeSafetyCopy(safetyCopyPath(dir, 'prod', new Date('2026-11-20T10:00:00Z'), 41), state(41, 'L1'));
    const higherCopy = (await uploadOffer(backend, dir))!;
    assert.equal(higherCopy.chosen.source, 'safety copy');
    assert.equal(higherCopy.chosen.serial, 41);
    assert.match(english(higherCopy.why), /is offered: the highest serial \(41\) of lineage L1; .*terraform\.tfstate has serial 40/);
    writeFileSync(path.join(dir, 'terraform.tfstate'), state(42, 'L1'));
    assert.equal((await uploadOffer(backend, dir))!.chosen.source, 'terraform.tfstate');
    // Another lineage with a higher serial is another state: the copy taken from the bucket wins.
    writeFileSync(path.join(dir, 'terraform.tfstate'), state(99, 'OTHER'));
    const other = (await uploadOffer(backend, dir))!;
    assert.equal(other.chosen.serial, 41);
    assert.match(english(other.why), /has another lineage \(OTHER, not L1\)/);
    assert.equal(await uploadOffer({ ...backend, environment: 'lab', dir: path.join(dir, 'none') }, dir), undefined);
  });

  it('S3 backends on this MinIO under another name (its bucket is in minio.buckets, https default port) are re-initialised; every other S3 backend is named in a warning', async () => {
    const { deps, terraform } = setup();
    const viaDns = env('dns', dirs.prod!, { backend: { ...prod.backend, bucket: 'tfstate-prod', endpoint: 'https://minio.home.lan' } as EnvironmentConfig['backend'] });
    const elsewhere = env('cloud', dirs.lab!, { backend: { ...prod.backend, bucket: 'tfstate-cloud', endpoint: 'https://s3.eu-west-3.amazonaws.com' } as EnvironmentConfig['backend'] });
    const https = { ...monitoring, minio: { ...monitoring.minio!, ip: '10.0.0.52', port: 443 } };
    const httpsBackend = env('secure', dirs.lab!, { backend: { ...prod.backend, bucket: 'tfstate-secure', endpoint: 'https://10.0.0.52/' } as EnvironmentConfig['backend'] });
    const { facts, plan } = await planMinioRebuild({ ...deps, environments: [https, viaDns, elsewhere, httpsBackend] });
    assert.deepEqual(facts.backends.map((b) => b.environment), ['dns', 'secure']);
    assert.deepEqual(facts.otherBackends.map((b) => b.environment), ['cloud']);
    assert.ok(plan.warnings.some((w) => english(w).startsWith('cloud has its S3 backend elsewhere (https://s3.eu-west-3.amazonaws.com, bucket tfstate-cloud): it is not re-initialised')));
    assert.ok(plan.steps.find((s) => s.id === 'init')!.commands.length === 2);
    void terraform;
  });

  it('step errors are sentences the surfaces translate (the French report says it in French)', async () => {
    const { deps, admin } = setup();
    admin.stuck.add('tfstate-lab');
    const report = await run((await planMinioRebuild(deps)).plan);
    const fr = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
    const t = (m: string, ...a: (string | number | boolean)[]) => english({ text: fr[m] ?? m, args: a.map((x) => (typeof x === 'boolean' ? String(x) : x)) });
    const lines = reportLines(report, t).join('\n');
    assert.match(lines, /LE VERSIONNAGE N'EST PAS ACTIVÉ sur tfstate-lab \(Suspended\)/);
    assert.doesNotMatch(lines, /VERSIONING IS NOT ENABLED/);
    assert.match(reportMarkdown(report, t), /versioningDisabled: LE VERSIONNAGE N'EST PAS ACTIVÉ/);
    // JSON keeps the English message.
    assert.match(reportJson(report).steps.find((s) => s.id === 'read-back')!.error!.message, /^VERSIONING IS NOT ENABLED on tfstate-lab/);
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
    assert.match(failed.steps[1]!.error!.message, /^Not healthy after 3 tries: alertmanager \(ECONNREFUSED/);
    assert.equal(failed.steps[1]!.error!.text?.text, 'Not healthy after {0} tries: {1}. The VM is there; check these services on it (systemctl status, their logs), then Check Monitoring Health again');
    assert.equal(sleep.calls.length, 2, 'retried while the services start');
    probe.httpAnswers.set('http://10.0.0.51:9093/-/healthy', { status: 200, body: 'OK' });
    const ok = await run((await planMonitoringRebuild('rebuild', { environments: deps.environments, terraform, terraformEnv: {}, probe, sleep, log: new RecordingLogSink(), health: { attempts: 3, delayMs: 10 } })).plan);
    assert.equal(ok.status, 'succeeded');
    assert.match(ok.facts['health.grafana']!, /^healthy: HTTP 200/);
    assert.match(english(ok.steps[1]!.detail!), /targets: 2\/2 up/);
  });
});
