/**
 * `lifeboat verify-backups` against the simulated homelab over Debian's OpenSSH: the "Done
 * when" (exit 2 naming the corrupt archive and the never-backed-up guest), stale backups, the
 * disabled job, the manifest's second run, and a changed archive caught by the manifest. The built
 * CLI runs inside the lab's workspace with `.lab/env`, as an operator would. The archive damaged by
 * the test is put back byte for byte afterwards (the lab is shared).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureLab, fault, type LabContext } from '../../lab/lab';

interface Run { code: number | null; stdout: string; stderr: string }
interface Finding { severity: string; code: string; message: string; environment?: string; guest?: string; vmid?: number; volid?: string; file?: string; line?: number }
interface Archive { volid: string; vmid: number; verdict: string; checksum: string; sha256?: string; format: string; commands: string[] }
interface VerifyJson { status: string; exitCode: number; findings: Finding[]; archives: Archive[]; states: { environment: string; valid: boolean }[]; manifest: string; reportFile: string }

describe('lifeboat verify-backups against the lab (OpenSSH)', function () {
  this.timeout(600_000);
  let lab: LabContext;
  const cli = path.resolve(__dirname, '../../dist/cli.js');

  const lifeboat = (args: string[], env: NodeJS.ProcessEnv = lab.processEnv): Run => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: lab.paths.workspace, env, encoding: 'utf8', timeout: 400_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = (r: Run): VerifyJson => {
    try {
      return JSON.parse(r.stdout) as VerifyJson;
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
  };
  const ssh = (node: string, command: string): Run => {
    const r = spawnSync('ssh', ['-F', lab.env.LIFEBOAT_SSH_CONFIG!, '-o', 'BatchMode=yes', node, command], { encoding: 'utf8', env: lab.processEnv, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const volids = (node: string, storage: string, vmid: number): string[] => {
    const r = ssh(node, `pvesh get /nodes/${node}/storage/${storage}/content --content backup --vmid ${vmid} --output-format json`);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { volid: string; ctime: number }[]).sort((a, b) => b.ctime - a.ctime).map((b) => b.volid);
  };
  let first: VerifyJson;

  before(async () => {
    lab = await ensureLab();
    spawnSync(process.execPath, ['esbuild.mjs'], { cwd: path.resolve(__dirname, '../..'), stdio: 'ignore' });
    rmSync(path.join(lab.paths.workspace, '.lifeboat', 'verify-manifest.json'), { force: true });
  });
  after(async () => {
    await fault('clear', lab.paths);
  });

  it('exits 2 naming the corrupt archive of nextcloud 122 and the never-backed-up sandbox 202, with stale backups and the disabled job', () => {
    const r = lifeboat(['verify-backups', '--json']);
    assert.equal(r.code, 2, r.stderr);
    first = json(r);
    assert.equal(first.status, 'errors');
    const newest122 = volids('alpha', 'backups', 122)[0]!;
    const corrupt = first.findings.find((f) => f.code === 'archive-corrupt');
    assert.ok(corrupt, JSON.stringify(first.findings, null, 1));
    assert.equal(corrupt.volid, newest122);
    assert.equal(corrupt.severity, 'error');
    assert.equal(corrupt.guest, 'nextcloud');
    assert.match(corrupt.file ?? '', /environments\/prod\/terraform\.tfvars$/);
    assert.ok((corrupt.line ?? 0) > 0);
    const never = first.findings.find((f) => f.code === 'never-backed-up');
    assert.ok(never);
    assert.equal(never.vmid, 202);
    assert.equal(never.guest, 'sandbox');
    // The tfvars line really is sandbox's entry.
    const line = readFileSync(never.file!, 'utf8').split('\n')[never.line! - 1] ?? '';
    assert.match(line, /sandbox/);
    // k3s-test 201 has only ~30-day-old lzo backups (unless another test just made a safety point of it).
    const newestOf = new Map<number, Archive & { ageHours: number; notes?: string }>();
    for (const a of first.archives as (Archive & { ageHours: number; notes?: string })[]) {
      const seen = newestOf.get(a.vmid);
      if (!seen || a.ageHours < seen.ageHours) newestOf.set(a.vmid, a);
    }
    assert.ok((first.archives as (Archive & { ageHours: number })[]).some((a) => a.vmid === 201 && a.ageHours > 600 && /\.vma\.lzo$/.test(a.volid)));
    const declaredVmids = new Set(first.findings.map((f) => f.vmid).filter((v) => v !== undefined));
    for (const [vmid, a] of newestOf) {
      if (a.ageHours <= 26 || !declaredVmids.has(vmid) || /Lifeboat safety point/.test(a.notes ?? '')) continue;
      const stale = first.findings.find((f) => f.code === 'stale' && f.vmid === vmid);
      assert.ok(stale, `${vmid}: newest backup ${a.ageHours} h old is reported stale`);
      assert.equal(stale.severity, 'warning');
    }
    const k3s = newestOf.get(201)!;
    assert.ok(k3s, 'k3s-test has archives');
    assert.ok(first.findings.some((f) => f.code === 'stale' && f.vmid === 201), 'k3s-test is stale even if a safety point of it was just made');
    assert.ok(first.findings.some((f) => f.code === 'job-disabled' && /backup-lab/.test(f.message)));
    // The corrupt newest archive of nextcloud does not make it recent: the age is the last good one's.
    const lastGood = first.findings.find((f) => (f.code === 'stale' || f.code === 'newest-failed') && f.vmid === 122);
    assert.ok(lastGood, 'nextcloud: its newest backup failed');
    assert.match(lastGood.message, /^The newest backup of nextcloud failed its check; the last good backup is \d+ h old/);
    assert.equal(lastGood.volid, volids('alpha', 'backups', 122)[1]);
    // Quick mode reads the structure of every new archive: vma verify for VMs, tar -t for containers.
    const vm = first.archives.find((a) => a.vmid === 121)!;
    assert.ok(vm.commands.some((c) => /^zstd -q -t \S+ && zstd -q -d -c \S+ \| vma verify -$/.test(c)), vm.commands.join('\n'));
    const ct = first.archives.find((a) => a.vmid === 131)!;
    assert.ok(ct.commands.some((c) => /^zstd -q -t \S+ && zstd -q -d -c \S+ \| tar -tf - > \/dev\/null$/.test(c)), ct.commands.join('\n'));
    // Every other archive passed; nothing else is corrupt.
    assert.equal(first.archives.filter((a) => a.verdict === 'corrupt').length, 1);
    assert.ok(first.archives.filter((a) => a.verdict === 'ok').length >= 80);
    assert.ok(first.archives.every((a) => a.verdict === 'corrupt' || /^[0-9a-f]{64}$/.test(a.sha256 ?? '')));
    // The interrupted state write in the history is flagged, the current states are valid.
    assert.ok(first.findings.some((f) => f.code === 'state-invalid' && f.environment === 'prod'));
    assert.ok(!first.findings.some((f) => f.code === 'state-current-invalid'));
    assert.ok(existsSync(first.manifest));
    assert.ok(existsSync(first.reportFile));
  });

  it('a second run re-uses the manifest: unchanged archives are hashed, not decompressed again', () => {
    const r = lifeboat(['verify-backups', '--json']);
    assert.equal(r.code, 2, r.stderr);
    const second = json(r);
    const unchanged = second.archives.filter((a) => a.verdict === 'unchanged');
    assert.ok(unchanged.length >= 80, `unchanged: ${unchanged.length}`);
    assert.ok(second.archives.some((a) => a.verdict === 'corrupt'), 'the corrupt one is tested again');
    assert.ok(second.findings.some((f) => f.code === 'archive-corrupt'));
  });

  it('a changed archive is caught by the manifest (corrupt-archive fault), and put back afterwards', async () => {
    const target = volids('alpha', 'backups', 131).at(-1)!; // postgres' oldest: no other test uses it
    const where = ssh('alpha', `pvesm path ${target}`).stdout.trim();
    assert.ok(where.startsWith('/'), where);
    const original = readFileSync(where);
    const times = statSync(where);
    const manifestFile = path.join(lab.paths.workspace, '.lifeboat', 'verify-manifest.json');
    const manifestBefore = readFileSync(manifestFile);
    try {
      await fault(JSON.stringify({ kind: 'corrupt-archive', volid: target, node: 'alpha' }), lab.paths);
      const r = lifeboat(['verify-backups', '--json', '--vmid', '131']);
      assert.equal(r.code, 2, r.stderr);
      const out = json(r);
      const changed = out.findings.find((f) => f.code === 'archive-changed');
      assert.ok(changed, JSON.stringify(out.findings, null, 1));
      assert.equal(changed.volid, target);
      assert.equal(changed.severity, 'error');
      assert.ok(out.findings.some((f) => f.code === 'archive-corrupt' && f.volid === target));
      assert.equal(out.archives.find((a) => a.volid === target)?.checksum, 'changed');
      assert.match(changed.message, /--reread --vmid 131/);
      // Still reported on the next run: the manifest keeps the first verified checksum.
      const next = json(lifeboat(['verify-backups', '--json', '--vmid', '131']));
      assert.ok(next.findings.some((f) => f.code === 'archive-changed' && f.volid === target && f.severity === 'error'), JSON.stringify(next.findings, null, 1));
    } finally {
      writeFileSync(where, original);
      utimesSync(where, times.atime, times.mtime);
      writeFileSync(manifestFile, manifestBefore);
    }
    // Back as it was: the same checksum as the manifest's first record, so 131 verifies clean again.
    const again = lifeboat(['verify-backups', '--json', '--vmid', '131']);
    assert.equal(again.code, 0, again.stdout);
    assert.equal(json(again).archives.find((a) => a.volid === target)?.verdict, 'unchanged');
  });

  it('without S3 credentials the state versions are reported as not verified (a warning that says how), never "all good"', () => {
    const env = { ...lab.processEnv };
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'MINIO_ROOT_PASSWORD']) delete env[k];
    const r = lifeboat(['verify-backups', '--json', '--env', 'prod'], env);
    const out = json(r);
    const w = out.findings.find((f) => f.code === 'state-not-verified');
    assert.ok(w, JSON.stringify(out.findings.map((f) => f.code)));
    assert.equal(w.severity, 'warning');
    assert.match(w.message, /state versions of prod were not verified: no S3 credentials\. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    assert.ok(r.code! >= 1);
    assert.equal(out.states.length, 0);
  });

  it('--json prints JSON on stdout even when nothing could be verified: unknown --env, no node in the repository', () => {
    const unknown = lifeboat(['verify-backups', '--json', '--env', 'nowhere']);
    assert.equal(unknown.code, 2);
    const u = JSON.parse(unknown.stdout) as { status: string; exitCode: number; error: { reason: string; message: string } };
    assert.equal(u.status, 'failed');
    assert.equal(u.error.reason, 'invalidValue');
    assert.match(u.error.message, /no environment nowhere/);
    const repo = mkdtempSync(path.join(tmpdir(), 'lifeboat-no-nodes-'));
    try {
      mkdirSync(path.join(repo, 'infrastructure/proxmox/environments/solo'), { recursive: true });
      writeFileSync(path.join(repo, 'infrastructure/proxmox/environments/solo/terraform.tfvars'), 'environment = "solo"\n');
      const none = lifeboat(['verify-backups', '--json', '--root', repo]);
      assert.equal(none.code, 2, none.stdout + none.stderr);
      const n = JSON.parse(none.stdout) as { status: string; error: { reason: string; message: string } };
      assert.equal(n.status, 'failed');
      assert.match(n.error.message, /no Proxmox node found/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('--vmid of a healthy guest exits 0; a bad --vmid is a usage error', () => {
    const ok = lifeboat(['verify-backups', '--vmid', '121']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /all good/);
    assert.match(ok.stdout, /gitea/);
    const bad = lifeboat(['verify-backups', '--vmid', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Usage: lifeboat verify-backups/);
  });
});
