import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { discoverEnvironments, environmentsReport, findRepositoryRoot, homelabNodes } from '../../../../src/core';

const sample = path.resolve(__dirname, '../../../fixtures/homelab');

describe('discovery of the sample homelab repository', () => {
  it('finds prod, lab and monitoring with their nodes alpha, beta, gamma', async () => {
    const d = await discoverEnvironments({ root: sample });
    assert.deepEqual(d.problems, []);
    assert.deepEqual(d.environments.map((e) => e.name), ['lab', 'monitoring', 'prod']);
    assert.deepEqual(homelabNodes(d.environments).map((n) => [n.name, n.host]), [
      ['alpha', '10.20.0.10'], ['beta', '10.20.0.11'], ['gamma', '10.20.0.12'],
    ]);
  });

  it('reads the declared guests by name, with their kind, node, address and line', async () => {
    const d = await discoverEnvironments({ root: sample });
    const prod = d.environments.find((e) => e.name === 'prod');
    assert.ok(prod);
    assert.deepEqual(prod.guests.map((g) => [g.name, g.kind, g.node, g.ip]), [
      ['gitea', 'vm', 'alpha', '10.20.0.21'],
      ['nextcloud', 'vm', 'alpha', '10.20.0.22'],
      ['postgres', 'container', 'alpha', '10.20.0.31'],
      ['dns', 'container', 'alpha', '10.20.0.32'],
    ]);
    const text = await fs.readFile(prod.tfvarsPath, 'utf8');
    const giteaLine = text.split('\n').findIndex((l) => l.includes('"gitea" = {'));
    assert.equal(prod.guests[0]?.range.start.line, giteaLine);
    assert.equal(prod.guests[0]?.memoryMiB, 4096);
    assert.deepEqual(prod.guests[0]?.tags, ['git', 'critical']);
  });

  it('reads backup settings, including the disabled lab backups', async () => {
    const d = await discoverEnvironments({ root: sample });
    const lab = d.environments.find((e) => e.name === 'lab');
    assert.equal(lab?.backup?.enabled, false);
    assert.equal(lab?.backup?.compress, 'lzo');
    const prod = d.environments.find((e) => e.name === 'prod');
    assert.deepEqual(prod?.backup?.retention, { keep_daily: 7, keep_weekly: 4, keep_monthly: 2 });
    assert.equal(prod?.backup?.storage, 'backups');
  });

  it('reads MinIO and monitoring from the monitoring environment, with every node of the homelab', async () => {
    const d = await discoverEnvironments({ root: sample, env: { MINIO_ROOT_PASSWORD: 's3cr3t-value' } });
    const mon = d.environments.find((e) => e.name === 'monitoring');
    assert.equal(mon?.minio?.ip, '10.20.0.52');
    assert.equal(mon?.minio?.port, 9000);
    assert.deepEqual(mon?.minio?.buckets, ['tfstate-prod', 'tfstate-lab', 'tfstate-monitoring']);
    assert.deepEqual(mon?.monitoring?.nodes.map((n) => n.name), ['alpha', 'beta', 'gamma']);
    assert.equal(mon?.monitoring?.vmIp, '10.20.0.51');
    assert.deepEqual(mon?.modules, ['minio', 'monitoring_stack']);
    // The placeholder names its variable and resolves from the environment given...
    assert.deepEqual(mon?.minio?.rootPassword?.source, { kind: 'environment', variable: 'MINIO_ROOT_PASSWORD', required: true });
    assert.equal(mon?.minio?.rootPassword?.reveal(), 's3cr3t-value');
    // ...and is unavailable without it.
    const bare = await discoverEnvironments({ root: sample, env: {} });
    assert.equal(bare.environments.find((e) => e.name === 'monitoring')?.minio?.rootPassword?.available, false);
  });

  it('reads S3 backends, and a commented-out backend as local', async () => {
    const d = await discoverEnvironments({ root: sample });
    const byName = Object.fromEntries(d.environments.map((e) => [e.name, e.backend]));
    assert.deepEqual(byName.prod, {
      type: 's3', bucket: 'tfstate-prod', key: 'terraform.tfstate', region: 'us-east-1', endpoint: 'http://10.20.0.52:9000',
      usePathStyle: true, useLockfile: true, range: (byName.prod as { range: unknown }).range,
    });
    assert.equal(byName.lab?.type === 's3' && byName.lab.useLockfile, false);
    assert.equal(byName.monitoring?.type, 'local');
    assert.equal(byName.monitoring?.type === 'local' && byName.monitoring.commentedOut?.bucket, 'tfstate-monitoring');
  });

  it('never puts a secret value in the JSON report', async () => {
    const d = await discoverEnvironments({ root: sample, env: { MINIO_ROOT_PASSWORD: 'do-not-print-me', GRAFANA_ADMIN_PASSWORD: 'nor-me' } });
    const json = JSON.stringify(environmentsReport(d));
    assert.ok(!json.includes('do-not-print-me'));
    assert.ok(!json.includes('nor-me'));
    assert.ok(!json.includes('00000000-0000-0000-0000-000000000000'), 'the literal API token must not appear');
    assert.ok(json.includes('"redacted":true'));
    assert.ok(json.includes('http://10.20.0.52:9000'));
  });

  it('finds the repository root from a sub-folder', async () => {
    const root = await findRepositoryRoot(path.join(sample, 'infrastructure/proxmox/environments/prod'));
    assert.equal(root, sample);
  });
});

describe('discovery with broken and missing files', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-disc-'));
    await fs.cp(sample, root, { recursive: true });
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('reports a malformed tfvars with file and line, and still loads the others', async () => {
    const file = path.join(root, 'infrastructure/proxmox/environments/lab/terraform.tfvars');
    const text = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, text.replace('cores = 1, memory = 1024', 'cores = 1 memory = = 1024'));
    const d = await discoverEnvironments({ root });
    assert.deepEqual(d.environments.map((e) => e.name), ['monitoring', 'prod']);
    assert.equal(d.problems.length, 1);
    assert.equal(d.problems[0]?.file, file);
    assert.equal(d.problems[0]?.reason, 'syntax');
    const expectedLine = text.split('\n').findIndex((l) => l.includes('"sandbox"')) + 1;
    assert.equal(d.problems[0]?.line, expectedLine);
  });

  it('loads an environment without backend.tf as local and one without blocks as empty', async () => {
    const dir = path.join(root, 'infrastructure/proxmox/environments/edge');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'terraform.tfvars'), 'proxmox_endpoint = "https://192.168.1.100:8006"\ndefault_node = "pve"\n');
    const d = await discoverEnvironments({ root });
    const edge = d.environments.find((e) => e.name === 'edge');
    assert.ok(edge);
    assert.deepEqual(edge.backend, { type: 'local', commentedOut: undefined });
    assert.deepEqual(edge.guests, []);
    assert.equal(edge.backup, undefined);
    assert.deepEqual(edge.nodes, [{ name: 'pve', host: '192.168.1.100', source: 'default_node' }]);
  });

  it('honours another environments glob', async () => {
    const d = await discoverEnvironments({ root, glob: 'infrastructure/proxmox/environments/p*/terraform.tfvars' });
    assert.deepEqual(d.environments.map((e) => e.name), ['prod']);
  });

  it('finds nothing (and no problem) in a folder that is not a homelab repository', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-empty-'));
    const d = await discoverEnvironments({ root: empty });
    assert.deepEqual([d.environments.length, d.problems.length], [0, 0]);
    await fs.rm(empty, { recursive: true });
  });
});
