/** `npm run lab -- up|down`: timing, what is written, and that down leaves no process behind. */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { down, ensureLab, labIsUp, labPaths, labProcesses, labStartedHere, stopLabOnExit, up, type ReadyInfo, type UpOptions } from '../../lab/lab';
import { tcpOpen } from '../../lab/s3/ceph';

function psLines(): string[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() && !/^\s*\d+\s+Z/.test(l));
}

describe('lab: up and down', function () {
  this.timeout(180000);

  // One lab per machine. When a lab started by another process is running (the test runner's,
  // a developer's), it is taken down for this test and brought back with the same options, and left
  // running; a lab this process started is stopped when the process exits.
  let restore: UpOptions | undefined;
  before(() => {
    const p = labPaths();
    if (labIsUp(p) && !labStartedHere()) {
      const info = JSON.parse(readFileSync(p.ready, 'utf8')) as ReadyInfo;
      restore = { mode: info.mode, ...(info.timeScale !== undefined ? { timeScale: info.timeScale } : {}), ...(info.scale ? { scale: info.scale } : {}) };
    }
  });

  it('down stops exactly what up started and leaves no lab process (ps); a second down is harmless', async () => {
    const lab = await ensureLab();
    const pids = labProcesses(lab.paths);
    const expected = lab.info.mode === 'openssh' ? 7 : 4; // supervisor + mon/osd/rgw (+ 3 sshd)
    assert.ok(pids.length >= expected, `expected at least ${expected} lab processes, got ${pids.length}`);
    assert.equal(await tcpOpen('127.20.0.10', 19022), true);
    const r = await down(lab.paths);
    assert.deepEqual(r.remaining, []);
    const alive = psLines().filter((l) => pids.includes(Number(l.trim().split(/\s+/)[0])) || l.includes(lab.paths.lab + '/') || l.includes(lab.paths.ceph + '/'));
    assert.deepEqual(alive, [], 'no lab process in ps');
    for (const [h, port] of [['127.0.0.1', 19010], ['127.20.0.10', 19022], ['127.20.0.12', 19022], ['127.20.0.52', 9000], ['127.20.0.21', 22]] as const) {
      assert.equal(await tcpOpen(h, port, 500), false, `${h}:${port} closed`);
    }
    const again = await down(lab.paths);
    assert.deepEqual([again.stopped, again.remaining], [[], []]);
  });

  it('up (OpenSSH unless restoring a lab found running) is ready well under 20 s and writes the workspace, env and shims', async () => {
    const p = labPaths();
    const t0 = Date.now();
    const options: UpOptions = restore ?? { mode: 'openssh', timeScale: 0.02 };
    const info = await up(options, p);
    const ms = Date.now() - t0;
    if (!restore) stopLabOnExit(p);
    assert.ok(ms < (options.scale ? 90000 : 20000), `up took ${ms} ms`);
    assert.equal(info.mode, options.mode);
    assert.ok(info.nodes.length >= 3);
    if (!options.scale) assert.equal(info.guests, 8);
    const env = readFileSync(p.env, 'utf8');
    for (const k of ['LIFEBOAT_SSH_CONFIG', 'LIFEBOAT_KNOWN_HOSTS', 'LIFEBOAT_SSH_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'MINIO_ROOT_PASSWORD', 'LIFEBOAT_LAB']) assert.match(env, new RegExp(`^export ${k}=`, 'm'));
    assert.match(env, new RegExp(`^export PATH='${p.bin}':"\\$PATH"$`, 'm'));
    for (const shim of ['terraform', 'lifeboat']) assert.ok(existsSync(path.join(p.bin, shim)));
    const backend = readFileSync(path.join(p.workspace, 'infrastructure/proxmox/environments/prod/backend.tf'), 'utf8');
    assert.match(backend, /s3 = "http:\/\/127\.20\.0\.52:9000"/);
    // Sourcing the env file in a shell gives the stand-in and the lab's ssh.
    const out = execFileSync('bash', ['-c', `. '${p.env}' && command -v terraform && ssh -F "$LIFEBOAT_SSH_CONFIG" -o BatchMode=yes gamma 'pct status 302'`], { encoding: 'utf8', env: { ...process.env, PATH: process.env['PATH'] ?? '' } });
    assert.match(out, new RegExp(`^${path.join(p.bin, 'terraform')}$`, 'm'));
    assert.match(out, /status: running/);
    // Idempotent: up again while running stops the first lab first.
    const first = labProcesses(p);
    await up(options, p);
    const second = labProcesses(p);
    assert.equal(first.filter((pid) => second.includes(pid)).length, 0, 'no process of the first lab survives');
  });
});
