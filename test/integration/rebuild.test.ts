/**
 * `lifeboat rebuild-minio` and `lifeboat rebuild-monitoring` against the simulated homelab: the
 * issue's "Done when" (every bucket versioned; the three monitoring services healthy after a
 * restore), a bucket with versioning suspended, a local state uploaded into an empty bucket, a
 * failing terraform apply, MinIO that never comes up, and a monitoring service that answers
 * unhealthy. The lab is shared: every test leaves MinIO 302 and monitoring 301 running, the faults
 * cleared and the workspace as it was.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
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
  /** The same without blocking this process: needed when the test itself serves something the CLI asks. */
  const lifeboatAsync = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> => new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: lab.paths.workspace, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
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
    assert.match(r.stdout, /^ {2}Node: gamma$/m, 'the node that hosts MinIO was read and answers');
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
    // radosgw answers MinIO's health path with an S3 error: that counts as S3 up, and is said so.
    assert.match(report.steps.find((s) => s.id === 'health')!.detail ?? '', /^The S3 server answers \(HTTP 404 on the MinIO health path: not MinIO, but S3 is up\)/);
  });

  it('a local terraform.tfstate is uploaded into an empty bucket when the operator says yes (--force), read back; verify-backups goes from "no current state" to a valid state', async () => {
    const dir = path.join(lab.paths.workspace, 'infrastructure/proxmox/environments/staging');
    const bucket = 'tfstate-staging';
    const state = JSON.stringify({ version: 4, terraform_version: '1.9.8', serial: 5, lineage: 'lifeboat-test-staging', outputs: {}, resources: [] }, null, 2) + '\n';
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'terraform.tfvars'), 'proxmox_endpoint = "https://127.20.0.11:8006"\ndefault_node     = "beta"\nenvironment      = "staging"\nvms              = {}\ncontainers       = {}\n');
    writeFileSync(path.join(dir, 'backend.tf'), `terraform {\n  backend "s3" {\n    bucket = "${bucket}"\n    key    = "terraform.tfstate"\n    region = "us-east-1"\n    endpoints = { s3 = "http://127.20.0.52:9000" }\n    use_path_style = true\n  }\n}\n`);
    writeFileSync(path.join(dir, 'terraform.tfstate'), state);
    const versionsOf = async () => {
      const out: { name: string; versionId: string; isDeleteMarker: boolean }[] = [];
      const stream = s3().listObjects(bucket, '', true, { IncludeVersion: true });
      for await (const o of stream as AsyncIterable<{ name: string; versionId: string; isDeleteMarker: boolean }>) out.push(o);
      return out;
    };
    try {
      await retry(() => s3().makeBucket(bucket, 'us-east-1'));
      await s3().setBucketVersioning(bucket, { Status: 'Enabled' });
      const before = lifeboat(['verify-backups', '--env', 'staging', '--json']);
      assert.equal(before.code, 2, before.stdout + before.stderr);
      assert.ok(JSON.parse(before.stdout).findings.some((f: { code: string }) => f.code === 'state-no-current'), before.stdout);

      const dry = lifeboat(['rebuild-minio', '--dry-run']);
      assert.match(dry.stdout, /If bucket tfstate-staging holds no state at all, you will be asked whether to upload .*staging\/terraform\.tfstate \(serial 5, lineage lifeboat-test-staging\) as its first version/);
      const r = lifeboat(['rebuild-minio', '--force', '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const report = json(r);
      assert.match(report.facts['uploaded.staging'] ?? '', /staging\/terraform\.tfstate → tfstate-staging\/terraform\.tfstate/);
      assert.match(report.steps.find((s) => s.id === 'states')!.detail ?? '', /uploaded: staging;/);
      assert.match(report.facts.init ?? '', /staging: ok/);
      assert.match(r.stderr, /Bucket tfstate-staging holds no state for staging\. Upload .*\(serial 5, lineage lifeboat-test-staging, modified \d{4}-\d\d-\d\d \d\d:\d\d UTC\) as its first version\?/);
      assert.match(r.stderr, /Uploading: --force answers yes\./);
      const versions = await versionsOf();
      assert.equal(versions.length, 1, JSON.stringify(versions));
      const body = await new Promise<string>((resolve, reject) => {
        void s3().getObject(bucket, 'terraform.tfstate').then((stream) => {
          let text = '';
          stream.on('data', (d: Buffer) => (text += d.toString()));
          stream.on('end', () => resolve(text));
          stream.on('error', reject);
        }, reject);
      });
      assert.equal(body, state);
      // A second run finds the version and never writes over it.
      const again = json(lifeboat(['rebuild-minio', '--force', '--json']));
      assert.match(again.facts.states ?? '', /staging: 1 version\(s\) kept/);
      assert.equal((await versionsOf()).length, 1);
      const after = lifeboat(['verify-backups', '--env', 'staging', '--json']);
      assert.equal(after.code, 0, after.stdout);
      assert.ok(JSON.parse(after.stdout).findings.some((f: { code: string }) => f.code === 'state-ok'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      for (const v of await versionsOf().catch(() => [])) await s3().removeObject(bucket, v.name, { versionId: v.versionId });
      await s3().removeBucket(bucket).catch(() => undefined);
    }
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
  it('a monitoring service that answers unhealthy fails the rebuild with the service, its answer and what to check (Alertmanager 503)', async () => {
    const answersHttp = async (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    const stop = spawnSync('ssh', ['-F', lab.env.LIFEBOAT_SSH_CONFIG!, '-o', 'BatchMode=yes', 'gamma', 'qm stop 301'], { encoding: 'utf8', env: lab.processEnv, timeout: 60_000 });
    assert.equal(stop.status, 0, stop.stderr);
    for (let i = 0; i < 100 && (await answers('127.20.0.51', 9093)); i++) await new Promise((r) => setTimeout(r, 100));
    // In Alertmanager's place, a server that says it is not healthy.
    const impostor = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('Alertmanager is not ready\n');
    });
    await new Promise<void>((resolve, reject) => impostor.once('error', reject).listen(9093, '127.20.0.51', resolve));
    try {
      const r = await lifeboatAsync(['rebuild-monitoring', '--mode', 'rebuild', '--force', '--json']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const report = json(r);
      assert.equal(report.status, 'failed');
      const health = report.steps.find((s) => s.id === 'health')!;
      assert.equal(health.status, 'failed');
      assert.match(health.error!.message, /^Not healthy after \d+ tries: alertmanager \(HTTP 503 at http:\/\/127\.20\.0\.51:9093\/-\/healthy\)\. The VM is there; check these services/);
      assert.doesNotMatch(health.error!.message, /prometheus|grafana/, 'the healthy ones are not blamed');
      assert.match(report.facts['health.alertmanager'] ?? '', /^NOT healthy: HTTP 503/);
      for (const svc of ['prometheus', 'grafana']) assert.match(report.facts[`health.${svc}`] ?? '', /^healthy: HTTP 200/, svc);
      assert.ok(report.aftermath.some((a) => /^alertmanager is NOT healthy: HTTP 503/.test(a)), JSON.stringify(report.aftermath));
      assert.ok(report.aftermath.some((a) => /terraform apply ran/.test(a)));
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
      // The real Alertmanager of 301 (started by the apply) takes the port back.
      for (let i = 0; i < 100 && (await answersHttp('http://127.20.0.51:9093/-/healthy')) !== 200; i++) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await answersHttp('http://127.20.0.51:9093/-/healthy'), 200, 'monitoring 301 is healthy again');
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
