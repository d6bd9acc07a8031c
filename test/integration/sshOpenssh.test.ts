/**
 * The ssh2 NodeShellPool against Debian's real OpenSSH sshd (what the lab and real Proxmox nodes
 * run), for the behaviours ssh2's own Server cannot show: OpenSSH's MaxSessions refusals, the
 * TERM signal that stops a cancelled command on the node, hashed known_hosts written by
 * `ssh-keygen -H`, and a known_hosts line we write being accepted by OpenSSH's own client.
 * Skipped when /usr/sbin/sshd is not installed.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CancelledError } from '../../src/core/errors';
import { silentLog, type NodeShellPool, type UnknownHostKey } from '../../src/core/ports';
import { createSshPool, type SshPoolOptions } from '../../src/adapters/ssh/pool';

const SSHD = '/usr/sbin/sshd';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function bannerUp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(500, () => { s.destroy(); resolve(false); });
    s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('SSH-2.0')); });
    s.once('error', () => resolve(false));
  });
}

function processRunning(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('ssh adapter: NodeShellPool against OpenSSH sshd', function () {
  this.timeout(15000);
  let dir: string;
  let port: number;
  let sshd: ChildProcess | undefined;
  const sshdLog = () => (existsSync(path.join(dir, 'sshd.log')) ? readFileSync(path.join(dir, 'sshd.log'), 'utf8') : '');
  let hostPub: string;
  let clientKey: string;
  let pools: NodeShellPool[] = [];
  const user = os.userInfo().username;

  const pool = (o: Partial<SshPoolOptions>): NodeShellPool => {
    const p = createSshPool({
      configPath: path.join(dir, 'no-config'),
      identityFiles: [clientKey],
      agent: '',
      homeDir: dir,
      hostKeyPrompt: () => Promise.reject(new Error('unexpected prompt')),
      log: silentLog,
      ...o,
    });
    pools.push(p);
    return p;
  };
  const node = () => ({ name: 'pve-test', host: '127.0.0.1', port, user });

  before(async function () {
    if (!existsSync(SSHD)) this.skip();
    dir = mkdtempSync('/tmp/lb-sshd-');
    port = await freePort();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', path.join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'client', '-f', path.join(dir, 'id_ed25519')]);
    hostPub = readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim();
    clientKey = path.join(dir, 'id_ed25519');
    writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
    mkdirSync(path.join(dir, 'home'));
    writeFileSync(path.join(dir, 'sshd_config'), [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${dir}/host_key`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      'MaxSessions 2',
      'LogLevel DEBUG1',
      // A throw-away HOME: root's ~/.bashrc on this image is slow and noisy (test-servers.md §B).
      `SetEnv HOME=${dir}/home PATH=/usr/bin:/bin`,
      '',
    ].join('\n'));
    mkdirSync('/run/sshd', { recursive: true });
    // -E: log to a file (with -e, debug lines would also reach the sessions' stderr).
    sshd = spawn(SSHD, ['-D', '-E', path.join(dir, 'sshd.log'), '-f', path.join(dir, 'sshd_config')], { stdio: 'ignore' });
    const end = Date.now() + 5000;
    while (!(await bannerUp(port))) {
      if (sshd.exitCode !== null || Date.now() > end) throw new Error(`sshd did not start: ${sshdLog()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(() => {
    if (sshd?.pid !== undefined && sshd.exitCode === null) process.kill(sshd.pid, 'SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const p of pools) p.dispose();
    pools = [];
  });

  it('writes an accepted key that OpenSSH\'s own client then trusts', async () => {
    const knownHosts = path.join(dir, 'kh-accepted');
    const asked: UnknownHostKey[] = [];
    const r = await pool({ knownHostsPath: knownHosts, hostKeyPrompt: async (k) => { asked.push(k); return true; } })
      .shell(node()).exec('echo "$HOME"; exit 7');
    assert.deepEqual(r, { code: 7, stdout: `${dir}/home\n`, stderr: '' });
    const printed = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'host_key.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
    assert.equal(asked[0]?.fingerprint, printed);
    const out = execFileSync('ssh', [
      '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'IdentitiesOnly=yes',
      '-F', '/dev/null', '-i', clientKey, '-p', String(port), `${user}@127.0.0.1`, 'echo trusted',
    ], { encoding: 'utf8' });
    assert.equal(out, 'trusted\n');
  });

  it('trusts a hashed known_hosts entry made by ssh-keygen -H', async () => {
    const knownHosts = path.join(dir, 'kh-hashed');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', knownHosts], { stdio: 'ignore' });
    assert.match(readFileSync(knownHosts, 'utf8'), /^\|1\|/);
    const r = await pool({ knownHostsPath: knownHosts }).shell(node()).exec('printf ok');
    assert.equal(r.stdout, 'ok');
  });

  it('queues commands beyond OpenSSH\'s MaxSessions on one connection', async () => {
    const knownHosts = path.join(dir, 'kh-max');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`);
    const debug: string[] = [];
    const log = { ...silentLog, debug: (m: string) => { debug.push(m); } };
    const shell = pool({ knownHostsPath: knownHosts, log }).shell(node());
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => shell.exec(`sleep 0.2; echo ${i}`)));
    assert.deepEqual(results.map((r) => r.stdout), ['0\n', '1\n', '2\n', '3\n', '4\n']);
    assert.ok(debug.some((m) => /refused a channel; now at most 2/.test(m)), 'the refusal path ran');
  });

  it('closes a cancelled command\'s channel so the command stops, after asking sshd for TERM', async () => {
    const knownHosts = path.join(dir, 'kh-cancel');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`);
    const marker = `lifeboat-cancel-${Math.floor(Math.random() * 1e9)}`; // a loop nobody else runs
    const ac = new AbortController();
    const shell = pool({ knownHostsPath: knownHosts }).shell(node());
    const running = shell.exec(`while :; do echo ${marker}; sleep 0.1; done`, { signal: ac.signal });
    await waitFor(() => processRunning(marker));
    const requestsBefore = (sshdLog().match(/req signal/g) ?? []).length;
    ac.abort();
    await assert.rejects(running, (e: unknown) => CancelledError.is(e));
    // Closing the channel closes the command's pipes: its next write ends it.
    await waitFor(() => !processRunning(marker));
    await waitFor(() => (sshdLog().match(/req signal/g) ?? []).length > requestsBefore);
    // sshd refuses to deliver signals in root sessions ("session signalling requires privilege
    // separation"), which is what Proxmox logins are: the signal is best effort, the close is not.
    assert.equal((await shell.exec('printf still-usable')).stdout, 'still-usable');
  });
});
