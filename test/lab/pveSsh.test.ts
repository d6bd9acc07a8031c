/**
 * The simulated node over a real SSH connection (ssh2 client → in-process ssh2 server with key
 * auth → shims → tools), a connection drop in the middle of a restore, and guest services that
 * really answer on the guest's loopback address while it runs.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'ssh2';
import { ed25519KeyPair } from '../support/sshKeys';
import { buildPveBundle, runToolInProcess, seededStateDir } from '../../lab/pve/testing';
import { writeNodeTools } from '../../lab/pve/tools';
import { startInProcessSsh } from '../../lab/pve/inprocessSsh';
import { startGuestServices, SSH_BANNER } from '../../lab/pve/services';
import { injectFault } from '../../lab/pve/control';
import { createGuest, loadCluster } from '../../lab/pve/model';
import * as http from 'node:http';

process.env.PVE_SIM_TIME_SCALE = '0.02';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function connect(port: number, privateKey: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => resolve(c)).on('error', reject);
    c.connect({ host: '127.0.0.1', port, username: 'root', privateKey, readyTimeout: 10000 });
  });
}

function exec(c: Client, command: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    c.exec(command, (e, ch) => {
      if (e) return reject(e);
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      ch.on('data', (b: Buffer) => (stdout += b.toString()));
      ch.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      ch.on('exit', (c2: number | null) => (code = c2));
      ch.on('close', () => resolve({ code, stdout, stderr }));
    });
  });
}

describe('pve simulator: SSH and guest services', function () {
  this.timeout(40000);
  let dir: string;
  let port: number;
  let stopSsh: (() => Promise<void>) | undefined;
  const clientKey = ed25519KeyPair();
  const hostKey = ed25519KeyPair();

  beforeEach(async () => {
    dir = await seededStateDir();
    const binDir = path.join(dir, 'bin', 'alpha');
    await writeNodeTools(binDir, { node: 'alpha', stateDir: dir, nodeExecutable: process.execPath, pveScript: await buildPveBundle() });
    port = await freePort();
    const srv = await startInProcessSsh({ node: 'alpha', host: '127.0.0.1', port, hostKeyPem: hostKey.private, authorizedPublicKey: clientKey.public, binDir, stateDir: dir });
    stopSsh = () => srv.stop();
  });
  afterEach(async () => {
    await stopSsh?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs pvesh over a real ssh2 connection with key auth, and answers unknown commands like bash', async () => {
    const c = await connect(port, clientKey.private);
    try {
      const r = await exec(c, 'pvesh get /cluster/resources --type vm --output-format json');
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout) as { id: string; node: string }[];
      assert.deepEqual(list.map((x) => x.id), ['qemu/121', 'lxc/131', 'qemu/201']);
      const st = await exec(c, 'qm status 999');
      assert.deepEqual([st.code, st.stdout, st.stderr], [2, '', "Configuration file 'nodes/alpha/qemu-server/999.conf' does not exist\n"]);
      const nf = await exec(c, 'frobnicate --now');
      assert.equal(nf.code, 127);
      assert.match(nf.stderr, /frobnicate: command not found/);
    } finally {
      c.end();
    }
  });

  it('rejects any other client key', async () => {
    const other = ed25519KeyPair();
    await assert.rejects(connect(port, other.private), /authentication methods failed/);
  });

  it('a dropped connection mid-restore leaves the task running to completion', async () => {
    await injectFault(dir, { kind: 'drop-connection', node: 'alpha', when: { afterCommandMatching: 'qmrestore', delayMs: 800 } });
        const c = await connect(port, clientKey.private);
    let closed = false;
    c.on('close', () => (closed = true));
    c.on('error', () => undefined);
    // A slower restore (~3 s) so the drop (0.8 s after the command starts) hits it mid-way.
    const r = await exec(c, 'PVE_SIM_TIME_SCALE=0.2 qmrestore local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst 190');
    assert.equal(r.code, null, 'no exit status: the connection went away');
    assert.ok(!/progress 100%/.test(r.stdout), 'dropped before the end');
    for (let i = 0; i < 50 && !closed; i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(closed, 'connection closed');
    // Reconnect and follow the task, as Lifeboat does.
    const c2 = await connect(port, clientKey.private);
    try {
      const tasks = JSON.parse((await exec(c2, 'pvesh get /nodes/localhost/tasks --vmid 190 --source all --output-format json')).stdout) as { upid: string }[];
      assert.equal(tasks.length, 1);
      let status = { status: 'running', exitstatus: undefined as string | undefined };
      for (let i = 0; i < 60 && status.status === 'running'; i++) {
        status = JSON.parse((await exec(c2, `pvesh get /nodes/alpha/tasks/${tasks[0]!.upid}/status --output-format json`)).stdout) as typeof status;
        if (status.status === 'running') await new Promise((res) => setTimeout(res, 250));
      }
      assert.deepEqual([status.status, status.exitstatus], ['stopped', 'OK']);
      assert.equal((await exec(c2, 'qm status 190')).stdout, 'status: stopped\n');
    } finally {
      c2.end();
    }
  });

  it('a drop with holdAnswer cuts a fast command before its answer arrives', async () => {
    await injectFault(dir, { kind: 'drop-connection', node: 'alpha', when: { afterCommandMatching: '/^pvesh get \\/cluster\\/resources/', delayMs: 1500, holdAnswer: true } });
    const c = await connect(port, clientKey.private);
    c.on('error', () => undefined);
    const r = await exec(c, 'pvesh get /cluster/resources --type vm --output-format json');
    assert.deepEqual([r.code, r.stdout], [null, ''], 'no answer, no exit status: the connection went away first');
  });

  it('opens a running guest\'s services on its labAddress and closes them on link_down or stop', async () => {
    const services = await startGuestServices(dir);
    const bannerOf = (): Promise<string | undefined> =>
      new Promise((resolve) => {
        const s = net.connect(22, '127.77.0.21');
        s.once('data', (b: Buffer) => (resolve(b.toString()), s.destroy()));
        s.once('error', () => resolve(undefined));
      });
    const waitFor = async (want: 'up' | 'down'): Promise<boolean> => {
      for (let i = 0; i < 40; i++) {
        const b = await bannerOf();
        if ((b !== undefined) === (want === 'up')) return true;
        await new Promise((res) => setTimeout(res, 100));
      }
      return false;
    };
    try {
      assert.equal(await bannerOf(), SSH_BANNER);
      const net0 = loadCluster(dir).guests.find((g) => g.vmid === 121)!.config.net0!;
      const set = await runToolInProcess(dir, 'alpha', 'qm', ['set', '121', '--net0', `${net0},link_down=1`]);
      assert.equal(set.code, 0, set.stderr);
      assert.ok(await waitFor('down'), 'no answer with the link down');
      await runToolInProcess(dir, 'alpha', 'qm', ['set', '121', '--net0', net0]);
      assert.ok(await waitFor('up'), 'answers again with the link up');
      const stop = await runToolInProcess(dir, 'alpha', 'qm', ['stop', '121']);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(loadCluster(dir).guests.find((g) => g.vmid === 121)!.status, 'stopped');
      assert.ok(await waitFor('down'), 'the banner stops answering after qm stop');
    } finally {
      await services.stop();
    }
  });

  it('serves http routes and proxies tcp for running guests', async () => {
    const backend = net.createServer((sock) => sock.end('hello from s3\n'));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const backendPort = (backend.address() as net.AddressInfo).port;
    await createGuest(dir, {
      vmid: 301, name: 'monitoring', type: 'qemu', node: 'beta', status: 'running', cores: 2, memoryMiB: 4096,
      disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 30 }], address: '10.20.0.51', labAddress: '127.77.0.51', backups: [],
      services: [
        { kind: 'http', port: 9090, name: 'prometheus', routes: { '/-/healthy': { status: 200, body: 'Prometheus Server is Healthy.\n' } } },
        { kind: 'tcp-proxy', port: 9000, target: { host: '127.0.0.1', port: backendPort } },
      ],
    });
    process.env.PVE_SIM_TIME_SCALE = '0';
    const services = await startGuestServices(dir);
    try {
      const get = (p: string): Promise<[number, string]> =>
        new Promise((resolve, reject) => {
          http.get({ host: '127.77.0.51', port: 9090, path: p }, (res) => {
            let body = '';
            res.on('data', (b: Buffer) => (body += b.toString()));
            res.on('end', () => resolve([res.statusCode ?? 0, body]));
          }).on('error', reject);
        });
      assert.deepEqual(await get('/-/healthy'), [200, 'Prometheus Server is Healthy.\n']);
      assert.equal((await get('/nope'))[0], 404);
      const proxied = await new Promise<string>((resolve, reject) => {
        let data = '';
        const s = net.connect(9000, '127.77.0.51');
        s.on('data', (b: Buffer) => (data += b.toString()));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      assert.equal(proxied, 'hello from s3\n');
    } finally {
      process.env.PVE_SIM_TIME_SCALE = '0.02';
      await services.stop();
      backend.close();
    }
  });
});
