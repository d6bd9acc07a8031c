/**
 * `lifeboat restore-vm` against the simulated homelab over Debian's OpenSSH: the "Done
 * when" and every failure path it lists. Each test runs the built CLI (dist/cli.js) inside the lab's
 * workspace with `.lab/env`, exactly as an operator would, and then checks the nodes themselves.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import path from 'node:path';
import { ensureLab, fault, type LabContext } from '../../lab/lab';

interface Run { code: number | null; stdout: string; stderr: string }
interface JsonReport {
  status: string;
  facts: Record<string, string>;
  steps: { id: string; status: string; error?: { reason: string; message: string } }[];
  summary: { label: string; value: string }[];
  aftermath: string[];
  changed: boolean;
  error?: { reason: string; message: string };
  previousBackup?: { volid: string; command?: string };
}

describe('lifeboat restore-vm against the lab (OpenSSH)', function () {
  this.timeout(300_000);
  let lab: LabContext;
  const cli = path.resolve(__dirname, '../../dist/cli.js');

  const lifeboat = (args: string[], env: NodeJS.ProcessEnv = {}): Run => {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: lab.paths.workspace, env: { ...lab.processEnv, LIFEBOAT_POLL_MS: '200', ...env }, encoding: 'utf8', timeout: 240_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = (r: Run): JsonReport => {
    try {
      return JSON.parse(r.stdout) as JsonReport;
    } catch {
      throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
    }
  };
  const ssh = (node: string, command: string): Run => {
    const r = spawnSync('ssh', ['-F', lab.env.LIFEBOAT_SSH_CONFIG!, '-o', 'BatchMode=yes', node, command], { encoding: 'utf8', env: lab.processEnv, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const pveJson = <T>(node: string, command: string): T => {
    const r = ssh(node, `${command} --output-format json`);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const guest = (vmid: number) => pveJson<{ vmid: number; status: string; node: string; name: string }[]>('alpha', 'pvesh get /cluster/resources --type vm').find((g) => g.vmid === vmid);
  const backupsOf = (vmid: number) => pveJson<{ volid: string }[]>('alpha', `pvesh get /nodes/alpha/storage/backups/content --content backup --vmid ${vmid}`).map((b) => b.volid)
    .concat(pveJson<{ volid: string }[]>('alpha', `pvesh get /nodes/alpha/storage/local/content --content backup --vmid ${vmid}`).map((b) => b.volid));
  const answers = (host: string, port: number) => new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port, timeout: 3000 });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });

  before(async () => {
    lab = await ensureLab();
    spawnSync(process.execPath, ['esbuild.mjs'], { cwd: path.resolve(__dirname, '../..'), stdio: 'ignore' });
  });
  afterEach(async () => {
    await fault('clear', lab.paths);
  });

  it('restore-vm abc exits 2 with a usage line, and a bad date too', () => {
    const r = lifeboat(['restore-vm', 'abc']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: lifeboat restore-vm/);
    assert.equal(lifeboat(['restore-vm', '121', '--date', '21/11/2026']).code, 2);
    assert.equal(lifeboat(['restore-vm', '121', '--target-id', '12x']).code, 2);
  });

  it('--dry-run prints the plan with the exact commands and changes nothing', () => {
    const before = backupsOf(121).length;
    const r = lifeboat(['restore-vm', '121', '--node', 'alpha', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /qmrestore backups:backup\/vzdump-qemu-121-\S+\.vma\.zst 121 --force 1/);
    assert.match(r.stdout, /vzdump 121 --storage \S+ --mode snapshot --compress zstd --remove 0 --protected 1 /);
    assert.match(r.stdout, /Dry run: nothing was changed\./);
    assert.equal(backupsOf(121).length, before);
    assert.equal(guest(121)?.status, 'running');
  });

  it('restores 121 in place: report names the backup and a safety point that exists, guest running and answering', async () => {
    const r = lifeboat(['restore-vm', '121', '--node', 'alpha', '--force', '--json']);
    const report = json(r);
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
    assert.equal(report.status, 'succeeded');
    assert.match(report.summary.find((s) => s.label === 'Backup')?.value ?? '', /^backups:backup\/vzdump-qemu-121-/);
    const safety = report.facts.safetyPoint;
    assert.match(safety ?? '', /^(backups|local):backup\/vzdump-qemu-121-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$/);
    assert.ok(backupsOf(121).includes(safety!), `${safety} is listed on the node`);
    assert.deepEqual(report.steps.map((s) => [s.id, s.status]), [
      ['recheck', 'done'], ['check-archive', 'done'], ['stop', 'done'], ['safety-point', 'done'], ['lift-protection', 'done'], ['restore', 'done'], ['protect-again', 'done'], ['start', 'done'], ['reachability', 'done'],
    ]);
    assert.equal(guest(121)?.status, 'running');
    assert.equal(report.facts.address, '127.20.0.21');
    assert.ok(await answers('127.20.0.21', 22), 'gitea answers on 127.20.0.21:22');
    const config = pveJson<Record<string, unknown>>('alpha', 'pvesh get /nodes/alpha/qemu/121/config');
    assert.equal(config.protection, 1, 'protection set again');
  });

  it('the safety point prunes nothing on a storage with retention and is protected; the backup chosen by --date is still there', () => {
    // The lab's `backups` storage prunes by keep-daily/weekly/monthly: a vzdump there without
    // `--remove 0` would delete some of gitea's 14 nightly backups right before the restore.
    assert.match(String(pveJson<Record<string, unknown>>('alpha', 'pvesh get /storage/backups')['prune-backups']), /keep-daily=7/);
    type Row = { volid: string; ctime: number; protected?: number; notes?: string };
    const rows = pveJson<Row[]>('alpha', 'pvesh get /nodes/alpha/storage/backups/content --content backup --vmid 121');
    const nightly = rows.filter((b) => !b.protected && !(b.notes ?? '').startsWith('Lifeboat')).sort((a, b) => a.ctime - b.ctime);
    const chosen = nightly[1]!;
    const day = /-(\d{4})_(\d\d)_(\d\d)-/.exec(chosen.volid)!.slice(1).join('-');
    const before = backupsOf(121);
    const r = lifeboat(['restore-vm', '121', '--date', day, '--force', '--json']);
    const report = json(r);
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
    assert.ok((report.summary.find((x) => x.label === 'Backup')?.value ?? '').startsWith(`${chosen.volid} `), JSON.stringify(report.summary));
    const after = backupsOf(121);
    assert.deepEqual(before.filter((v) => !after.includes(v)), [], 'no backup of 121 was removed');
    assert.ok(after.includes(chosen.volid));
    const safety = pveJson<Row[]>('alpha', 'pvesh get /nodes/alpha/storage/backups/content --content backup --vmid 121').find((b) => b.volid === report.facts.safetyPoint);
    assert.equal(safety?.protected, 1, `the safety point ${report.facts.safetyPoint} is protected`);
  });

  it('restores to a new VMID 921 and leaves 121 untouched; the copy\'s link stays down without being asked (--force)', () => {
    const before = pveJson<Record<string, unknown>>('alpha', 'pvesh get /nodes/alpha/qemu/121/config');
    const r = lifeboat(['restore-vm', '121', '--target-id', '921', '--force', '--json']);
    const report = json(r);
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
    assert.ok(!report.steps.some((s) => s.id === 'stop' || s.id === 'safety-point'));
    assert.equal(report.facts.linkDown, 'true');
    assert.deepEqual(pveJson<Record<string, unknown>>('alpha', 'pvesh get /nodes/alpha/qemu/121/config'), before);
    assert.equal(guest(121)?.status, 'running');
    assert.equal(guest(921)?.status, 'running');
    const copy = pveJson<Record<string, string>>('alpha', 'pvesh get /nodes/alpha/qemu/921/config');
    assert.match(copy.net0 ?? '', /link_down=1/);
  });

  // Was a bug (fixed): the copy was started with its link up and "answered" at 121's address, where 121 did.
  it('--link-up: the copy starts connected, and the report never claims it answers at the original\'s address', () => {
    try {
      const r = lifeboat(['restore-vm', '121', '--target-id', '922', '--link-up', '--force', '--json']);
      const report = json(r);
      assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
      assert.ok(!report.steps.some((x) => x.id === 'link-down'));
      assert.match(r.stderr, /starts with its link up: the two will clash on the network\. Leave the link down instead \(--link-down in the CLI\)/);
      assert.equal(report.facts.address, undefined);
      assert.equal(report.facts.reachability, "not checked: the copy has the original's address 10.20.0.21");
      assert.doesNotMatch(pveJson<Record<string, string>>('alpha', 'pvesh get /nodes/alpha/qemu/922/config').net0 ?? '', /link_down=1/);
    } finally {
      // A copy of the protected gitea is protected too.
      ssh('alpha', 'qm stop 922; qm set 922 --protection 0; qm destroy 922');
    }
    assert.equal(guest(922), undefined, 'the copy is gone');
    assert.equal(guest(121)?.status, 'running');
  });

  it('--link-up and --link-down together are a usage error', () => {
    const r = lifeboat(['restore-vm', '121', '--target-id', '923', '--link-up', '--link-down']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot be used with/);
  });

  it('a guest no node has any more (postgres destroyed): restored from its newest backup, matched to its tfvars entry, answering', async () => {
    // Without --purge: the guest stays in its backup job, as after a node's disk died (later suites count on it).
    const destroyed = ssh('alpha', 'pct stop 131 >/dev/null 2>&1; pct destroy 131');
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.equal(guest(131), undefined);
    const r = lifeboat(['restore-vm', '131', '--force', '--json']);
    const report = json(r) as JsonReport & { nextSteps: string[] };
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
    assert.match(report.summary.find((x) => x.label === 'Guest')?.value ?? '', /^131 \(postgres\) on alpha/);
    assert.ok(!report.steps.some((s) => s.id === 'safety-point'), 'nothing was there to make a safety point of');
    assert.equal(guest(131)?.status, 'running');
    assert.equal(report.facts.address, '127.20.0.31');
    assert.ok(await answers('127.20.0.31', 22), 'postgres answers on its address');
    assert.ok(report.nextSteps.some((x) => /terraform plan in environments\/prod/.test(x)), JSON.stringify(report.nextSteps));
  });

  it('a guest that was never backed up: clear error, exit 1, nothing changed', () => {
    const statusBefore = pveJson<{ vmid: number; status: string }[]>('beta', 'pvesh get /cluster/resources --type vm').find((g) => g.vmid === 202)?.status;
    const r = lifeboat(['restore-vm', '202', '--force', '--json']);
    assert.equal(r.code, 1);
    const report = json(r);
    assert.equal(report.error?.reason, 'noBackup');
    assert.match(r.stderr, /No backup of 202/);
    assert.match(r.stderr, /Nothing was changed/);
    assert.equal(pveJson<{ vmid: number; status: string }[]>('beta', 'pvesh get /cluster/resources --type vm').find((g) => g.vmid === 202)?.status, statusBefore);
  });

  it('a corrupt newest backup fails the integrity check before anything changes', () => {
    const before = backupsOf(122).length;
    const r = lifeboat(['restore-vm', '122', '--force', '--json']);
    assert.equal(r.code, 1);
    const report = json(r);
    assert.equal(report.status, 'failed');
    assert.deepEqual(report.steps[1], { ...report.steps[1], id: 'check-archive', status: 'failed' });
    assert.equal(report.steps[1]?.error?.reason, 'backupCorrupt');
    assert.equal(report.changed, false);
    assert.deepEqual(report.aftermath, ['Nothing was changed.']);
    assert.equal(guest(122)?.status, 'running');
    assert.equal(backupsOf(122).length, before, 'no safety point was made');
    // The way forward: the previous backup, and the exact command that restores it.
    assert.ok(backupsOf(122).includes(report.previousBackup?.volid ?? ''), JSON.stringify(report.previousBackup));
    assert.match(report.previousBackup?.command ?? '', /^lifeboat restore-vm 122 --node alpha --date \d{4}-\d\d-\d\d$/);
    assert.match(report.steps[1]?.error?.message ?? '', /; the previous backup is \S+ \(.*\): restore it with --date \d{4}-\d\d-\d\d$/);
  });

  it('no backup storage has room for the safety point: refused before any change', async () => {
    for (const storage of ['local', 'backups']) await fault(JSON.stringify({ kind: 'fill-storage', node: 'alpha', storage, leaveBytes: 1024 }), lab.paths);
    const r = lifeboat(['restore-vm', '131', '--force', '--json']);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(json(r).error?.reason, 'storageFull');
    assert.match(r.stderr, /safety backup/);
    assert.equal(guest(131)?.status, 'running');
  });

  it('re-attaches to the restore task after the connection drops mid-restore', async () => {
    // Drop the SSH connection while Lifeboat follows the restore task's log (a regex between slashes).
    // The drop comes 50 ms after that command starts, so it really cuts a command in flight.
    await fault(JSON.stringify({ kind: 'drop-connection', node: 'alpha', when: { afterCommandMatching: '/vzrestore:132:.*\\/log/', delayMs: 50 } }), lab.paths);
    const r = lifeboat(['restore-vm', '132', '--force', '--json']);
    const report = json(r);
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
    assert.ok(Number(report.facts.reattached) >= 1, `re-attached: ${JSON.stringify(report.facts)}`);
    assert.equal(guest(132)?.status, 'running');
  });

  // Was a bug (fixed): a drop while looking for the launched task's UPID failed the step before the
  // task was recorded, and the report said the guest was "stopped and not overwritten" while pct
  // restore ran on the node.
  it('rides out a connection dropped right after the restore was launched, while its task is looked for', async () => {
    // Armed by the launched `pct restore 132`, the drop cuts the next task-list read for 132 before it
    // answers (holdAnswer): the read that would have found the task.
    await fault(JSON.stringify({ kind: 'drop-connection', node: 'alpha', when: { afterCommandMatching: '/^pvesh get \\/nodes\\/alpha\\/tasks --source all --vmid 132 /', armedBy: '/pct restore 132 /', delayMs: 30, holdAnswer: true } }), lab.paths);
    const r = lifeboat(['restore-vm', '132', '--force', '--json']);
    const report = json(r);
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(report.steps, null, 1)}`);
    assert.match(r.stderr, /lost the connection to alpha while looking for the task of pct \(1\/\d+\)/);
    assert.match(report.facts.restoreTask ?? '', /^UPID:alpha:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzrestore:132:/);
    assert.match(report.facts.restoreLaunched ?? '', /^\/tmp\/lifeboat-restore-132-\w+\.log$/);
    assert.equal(guest(132)?.status, 'running');
  });

  it('Ctrl-C during the safety point: cancelled, the guest is not started again while its backup may run, and the report says how to start it', async () => {
    // Every tool on the nodes answers 1.5 s late, so the run is still on its safety point when the
    // vzdump task shows up here (the simulated backup itself takes a fraction of a second).
    await fault(JSON.stringify({ kind: 'slow', delayMs: 1500 }), lab.paths);
    const since = Math.floor(Date.now() / 1000) - 2;
    const child = spawn(process.execPath, [cli, 'restore-vm', '131', '--force', '--json'], { cwd: lab.paths.workspace, env: { ...lab.processEnv, LIFEBOAT_POLL_MS: '200' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && !pveJson<{ type: string; starttime: number }[]>('alpha', 'pvesh get /nodes/alpha/tasks --source all --vmid 131').some((t) => t.type === 'vzdump' && t.starttime >= since)) {
        await new Promise((res) => setTimeout(res, 100));
      }
      child.kill('SIGINT');
      const code = await exited;
      const report = json({ code, stdout, stderr });
      assert.equal(code, 1, stderr);
      assert.equal(report.status, 'cancelled', JSON.stringify(report.steps, null, 1));
      assert.deepEqual(report.steps.find((x) => x.id === 'safety-point'), { ...report.steps.find((x) => x.id === 'safety-point'), status: 'cancelled', error: { reason: 'cancelled', message: 'cancelled by the operator' } });
      assert.equal(report.steps.find((x) => x.id === 'restore')?.status, 'not-run');
      assert.ok(report.aftermath.some((m) => m.endsWith('start it again with: pct start 131')), report.aftermath.join('\n'));
      assert.equal(guest(131)?.status, 'stopped', 'not started again by Lifeboat');
    } finally {
      child.kill('SIGKILL');
      await fault('clear', lab.paths);
      // Its backup ends on its own; then it can start.
      for (let i = 0; i < 150 && guest(131)?.status !== 'running'; i++) {
        ssh('alpha', 'pct start 131');
        await new Promise((res) => setTimeout(res, 200));
      }
    }
    assert.equal(guest(131)?.status, 'running');
  });

  it('refuses a changed host key, and changes nothing', async () => {
    const knownHosts = lab.env.LIFEBOAT_KNOWN_HOSTS!;
    const saved = `${knownHosts}.test-backup`;
    copyFileSync(knownHosts, saved);
    try {
      // Replace alpha's recorded key by another node's key: alpha now presents a key that differs.
      const lines = readFileSync(knownHosts, 'utf8').split('\n');
      const beta = lines.find((l) => l.startsWith('[127.20.0.11]'))!.split(' ').slice(1).join(' ');
      writeFileSync(knownHosts, lines.map((l) => (l.startsWith('[127.20.0.10]') ? `[127.20.0.10]:19022 ${beta}` : l)).join('\n'));
      const r = lifeboat(['restore-vm', '121', '--node', 'alpha', '--force']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CHANGED/);
      assert.match(r.stderr, /ssh-keygen -R '\[127\.20\.0\.10\]:19022' -f /, 'the way out, in the report too');
    } finally {
      copyFileSync(saved, knownHosts);
    }
    assert.equal(guest(121)?.status, 'running');
  });

  it('refuses a second restore of the same VMID while one runs on the node (started elsewhere, e.g. the web UI)', async () => {
    const volid = pveJson<{ volid: string; ctime: number }[]>('alpha', 'pvesh get /nodes/alpha/storage/backups/content --content backup --vmid 131').sort((x, y) => y.ctime - x.ctime)[0]!.volid;
    // A slow restore (time scale 1: ~10 s) detached on the node, as another operator would start it.
    ssh('alpha', `pct stop 131; PVE_SIM_TIME_SCALE=1 setsid nohup pct restore 131 ${volid} --force 1 --storage local-lvm > /tmp/other-restore.log 2>&1 < /dev/null &`);
    try {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !pveJson<{ type: string; id: string }[]>('alpha', 'pvesh get /nodes/alpha/tasks --source active').some((t) => t.type === 'vzrestore' && t.id === '131')) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const second = lifeboat(['restore-vm', '131', '--force', '--json']);
      assert.equal(second.code, 1, second.stdout);
      // The node says so either way: the guest carries the restore's lock, or its task is running.
      assert.match(json(second).error?.reason ?? '', /^(restoreInProgress|guestLocked)$/, second.stdout);
      assert.match(second.stderr, /Nothing was changed/);
    } finally {
      for (let i = 0; i < 150 && pveJson<{ type: string; id: string }[]>('alpha', 'pvesh get /nodes/alpha/tasks --source active').some((t) => t.id === '131'); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      ssh('alpha', 'pct start 131');
    }
    assert.equal(guest(131)?.status, 'running');
  });
});
