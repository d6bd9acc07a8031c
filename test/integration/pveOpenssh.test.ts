/**
 * The simulated node behind Debian's OpenSSH (what the integration suite and operators use):
 * sshd with the node's shims first on PATH (`SetEnv`), key auth from ssh2, the reference outputs,
 * the real `zstd -t` on a corrupt archive over SSH, and a `drop-connection` fault that kills the
 * sshd session mid-restore while the task completes. Skipped without root or /usr/sbin/sshd.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from 'ssh2';
import { ed25519KeyPair } from '../support/sshKeys';
import { buildPveBundle, seededStateDir } from '../../lab/pve/testing';
import { writeNodeTools } from '../../lab/pve/tools';
import { injectFault } from '../../lab/pve/control';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function exec(c: Client, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (e, ch) => {
      if (e) return reject(e);
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      ch.on('data', (b: Buffer) => (stdout += b.toString()));
      ch.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      ch.on('exit', (x: number | null) => (code = x));
      ch.on('close', () => resolve({ code, stdout, stderr }));
    });
  });
}

describe('pve simulator behind OpenSSH (integration)', function () {
  this.timeout(60000);
  let dir: string;
  let sshd: ChildProcess | undefined;
  let port: number;
  const client = ed25519KeyPair();
  const connect = (): Promise<Client> =>
    new Promise((resolve, reject) => {
      const c = new Client();
      c.on('ready', () => resolve(c)).on('error', reject);
      c.connect({ host: '127.0.0.1', port, username: 'root', privateKey: client.private, readyTimeout: 15000 });
    });

  before(async function () {
    if (process.getuid?.() !== 0 || !fs.existsSync('/usr/sbin/sshd')) return this.skip();
    dir = await seededStateDir();
    const bin = path.join(dir, 'bin');
    await writeNodeTools(bin, { node: 'alpha', stateDir: dir, nodeExecutable: process.execPath, pveScript: await buildPveBundle() });
    const host = ed25519KeyPair();
    fs.writeFileSync(path.join(dir, 'hostkey'), host.private, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'authorized_keys'), `${client.public}\n`);
    port = await freePort();
    fs.writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${dir}/hostkey`,
        `PidFile ${dir}/sshd.pid`,
        `AuthorizedKeysFile ${dir}/authorized_keys`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'UseDNS no',
        `SetEnv PATH=${bin}:/usr/sbin:/usr/bin:/sbin:/bin HOME=${dir}/home/alpha PVE_SIM_TIME_SCALE=0.2`,
        '',
      ].join('\n'),
    );
    fs.mkdirSync('/run/sshd', { recursive: true });
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: 'ignore', detached: true });
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((r) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), r(true)));
        s.once('error', () => r(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('sshd did not start');
  });

  after(() => {
    if (sshd?.pid) process.kill(sshd.pid, 'SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers pvesh, qm status and the real zstd over OpenSSH', async () => {
    const c = await connect();
    try {
      const r = await exec(c, 'pvesh get /cluster/resources --type vm --output-format json');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { id: string }[]).map((x) => x.id), ['qemu/121', 'lxc/131', 'qemu/201']);
      const st = await exec(c, 'qm status 999');
      assert.deepEqual([st.code, st.stderr], [2, "Configuration file 'nodes/alpha/qemu-server/999.conf' does not exist\n"]);
      const restore = await exec(c, 'qmrestore local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst 121');
      assert.deepEqual([restore.code, restore.stderr], [255, "unable to restore VM 121 - VM 121 already exists on node 'alpha'\n"]);
      const corrupt = await exec(c, 'zstd -q -t "$(pvesm path local:backup/vzdump-qemu-121-2026_01_03-02_00_05.vma.zst)"');
      assert.equal(corrupt.code, 1);
      const nf = await exec(c, 'frobnicate');
      assert.deepEqual([nf.code, nf.stderr.trim()], [127, 'bash: line 1: frobnicate: command not found']);
    } finally {
      c.end();
    }
  });

  it('a drop-connection fault kills the sshd session mid-restore; the task completes', async () => {
    await injectFault(dir, { kind: 'drop-connection', node: 'alpha', when: { afterCommandMatching: 'qmrestore', delayMs: 1000 } });
    const c = await connect();
    let closed = false;
    c.on('close', () => (closed = true));
    c.on('error', () => undefined);
    const r = await exec(c, 'qmrestore local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst 250');
    assert.equal(r.code, null, 'no exit status: the session was killed');
    for (let i = 0; i < 50 && !closed; i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(closed);
    const c2 = await connect();
    try {
      const [task] = JSON.parse((await exec(c2, 'pvesh get /nodes/localhost/tasks --vmid 250 --source all --output-format json')).stdout) as { upid: string }[];
      assert.ok(task);
      let status = { status: 'running', exitstatus: '' };
      for (let i = 0; i < 80 && status.status === 'running'; i++) {
        await new Promise((res) => setTimeout(res, 250));
        status = JSON.parse((await exec(c2, `pvesh get /nodes/alpha/tasks/${task.upid}/status --output-format json`)).stdout) as typeof status;
      }
      assert.deepEqual([status.status, status.exitstatus], ['stopped', 'OK']);
    } finally {
      c2.end();
    }
  });
});
