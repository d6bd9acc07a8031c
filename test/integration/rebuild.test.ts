/**
 * `lifeboat rebuild-minio` and `lifeboat rebuild-monitoring` against the simulated homelab: the
 * issue's "Done when" (every bucket versioned; the three monitoring services healthy after a
 * restore), a bucket with versioning suspended, a failing terraform apply, and MinIO that never
 * comes up. The lab is shared: every test leaves MinIO 302 running and the faults cleared.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import path from 'node:path';
import * as Minio from 'minio';
import { ensureLab, fault, type LabContext } from '../../lab/lab';

interface Run { code: number | null; stdout: string; stderr: string }
interface Report {
  status: string;
  facts: Record<string, string>;
  steps: { id: string; status: string; detail?: string; error?: { reason: string; message: string } }[];
  aftermath: string[];
  error?: { reason: string; message: string };
}

describe('lifeboat rebuild-minio / rebuild-monitoring against the lab (OpenSSH)', function () {
  this.timeout(600_000);
  let lab: LabContext;
  const cli = path.resolve(__dirname, '../../dist/cli.js');
  const buckets = ['tfstate-prod', 'tfstate-lab', 'tfstate-monitoring'];

  const env = (extra: NodeJS.ProcessEnv = {}) => ({ ...lab.processEnv, LIFEBOAT_POLL_MS: '200', ...extra });
  const lifeboat = (args: string[], extra: NodeJS.ProcessEnv = {}): Run => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: lab.paths.workspace, env: env(extra), encoding: 'utf8', timeout: 400_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = (r: Run): Report => {
    try {
      return JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
  };
  const s3 = () => new Minio.Client({ endPoint: '127.20.0.52', port: 9000, useSSL: false, accessKey: lab.env.AWS_ACCESS_KEY_ID!, secretKey: lab.env.AWS_SECRET_ACCESS_KEY!, pathStyle: true, region: 'us-east-1' });
  /** Test set-up through S3 right after another suite restarted the lab: ride out one dropped connection. */
  const retry = async <T>(work: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (attempt >= 3 || !/socket hang up|ECONNRESET|ECONNREFUSED/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const versioning = async (bucket: string) => ((await s3().getBucketVersioning(bucket)) as { Status?: string } | undefined)?.Status ?? 'Off';
  const answers = (host: string, port: number) => new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
  const minioBack = async () => {
    await fault('{"kind":"s3-up"}', lab.paths);
    for (let i = 0; i < 100 && !(await answers('127.20.0.52', 9000)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await answers('127.20.0.52', 9000), 'MinIO 302 is running again');
  };

  before(async () => {
    lab = await ensureLab();
    spawnSync(process.execPath, ['esbuild.mjs'], { cwd: path.resolve(__dirname, '../..'), stdio: 'ignore' });
  });
  afterEach(async () => {
    await fault('clear', lab.paths);
    await minioBack();
  });

  it('--dry-run shows terraform apply -target=module.minio and every step, and changes nothing', () => {
    const r = lifeboat(['rebuild-minio', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /terraform apply -target=module\.minio -auto-approve/);
    assert.match(r.stdout, /terraform init -reconfigure -input=false/);
    assert.match(r.stdout, /Dry run: nothing was changed\./);
  });

  it('rebuild-minio --force --json exits 0 with every bucket versioned; a bucket with versioning suspended is re-enabled and read back', async () => {
    await retry(() => s3().setBucketVersioning('tfstate-lab', { Status: 'Suspended' }));
    assert.equal(await versioning('tfstate-lab'), 'Suspended');
    const r = lifeboat(['rebuild-minio', '--force', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = json(r);
    assert.equal(report.status, 'succeeded');
    assert.match(report.facts.versioningEnabled ?? '', /tfstate-lab/);
    assert.equal(report.facts.versioning, buckets.map((b) => `${b}=Enabled`).join(', '));
    for (const b of buckets) assert.equal(await versioning(b), 'Enabled', b);
    assert.match(report.facts.states ?? '', /prod: \d+ version\(s\) kept/);
    assert.match(report.facts.init ?? '', /prod: ok/);
    assert.match(report.facts.init ?? '', /lab: ok/);
  });

  it('a failing terraform apply stops the rebuild with a clear report', async () => {
    // MinIO's container is down, so the apply has something to do — and fails doing it.
    await fault('{"kind":"s3-down"}', lab.paths);
    await fault(JSON.stringify({ kind: 'terraform', apply: 'Error: creating container 302: storage local-lvm is full' }), lab.paths);
    const r = lifeboat(['rebuild-minio', '--force', '--json']);
    assert.equal(r.code, 1, r.stdout);
    const report = json(r);
    const apply = report.steps.find((s) => s.id === 'apply')!;
    assert.equal(apply.status, 'failed');
    assert.match(apply.error!.message, /terraform apply -target=module\.minio .*failed.*storage local-lvm is full/);
    assert.ok(report.steps.filter((s) => s.id !== 'apply').every((s) => s.status === 'not-run'));
  });

  it('MinIO that never comes up (container kept stopped): the health wait gives up and says so, then 302 is started again', async () => {
    const child = spawn(process.execPath, [cli, 'rebuild-minio', '--force', '--json'], { cwd: lab.paths.workspace, env: env({ LIFEBOAT_HEALTH_ATTEMPTS: '4' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let running = true;
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => { running = false; resolve(code); }));
    // Whatever terraform apply starts, the container goes down again at once (a container that dies on start).
    const keepDown = (async () => {
      while (running) {
        await fault('{"kind":"s3-down"}', lab.paths);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const code = await done;
    await keepDown;
    assert.equal(code, 1, stdout + stderr);
    const report = json({ code, stdout, stderr });
    const health = report.steps.find((s) => s.id === 'health')!;
    assert.equal(health.status, 'failed', JSON.stringify(report.steps));
    assert.match(health.error!.message, /MinIO did not come up at http:\/\/127\.20\.0\.52:9000\/minio\/health\/live: last answer ECONNREFUSED after 4 attempts/);
    assert.ok(report.aftermath.some((a) => /terraform apply ran/.test(a)));
  });

  it('rebuild-monitoring --mode restore --force exits 0 with Prometheus, Grafana and Alertmanager healthy', () => {
    const r = lifeboat(['rebuild-monitoring', '--mode', 'restore', '--force', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = json(r);
    assert.equal(report.status, 'succeeded');
    for (const s of ['prometheus', 'grafana', 'alertmanager']) assert.match(report.facts[`health.${s}`] ?? '', /^healthy: HTTP 200/, s);
    assert.match(report.facts.safetyPoint ?? '', /^backups:backup\/vzdump-qemu-301-/);
    assert.equal(report.steps.at(-1)!.id, 'health');
    const usage = lifeboat(['rebuild-monitoring', '--mode', 'sideways']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Usage: lifeboat rebuild-monitoring/);
  });
  it('rebuild-monitoring --mode rebuild warns that the metrics history is lost, applies module.monitoring_stack, checks the services', () => {
    const dry = lifeboat(['rebuild-monitoring', '--mode', 'rebuild', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /METRICS HISTORY WILL BE LOST/);
    assert.match(dry.stdout, /terraform apply -target=module\.monitoring_stack -auto-approve/);
    const r = lifeboat(['rebuild-monitoring', '--mode', 'rebuild', '--force', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = json(r);
    assert.match(report.facts.apply ?? '', /^Apply complete!/);
    for (const s of ['prometheus', 'grafana', 'alertmanager']) assert.match(report.facts[`health.${s}`] ?? '', /^healthy: HTTP 200/, s);
  });
});
