/**
 * The ssh2 NodeShellPool against an in-process ssh2 Server on 127.0.0.1 (no lab needed): output and
 * exit codes, multiplexing, host key rules (unknown/declined/accepted/changed), auth and network
 * failures, a connection dropped mid-command and the reconnect, cancellation, byte-exact commands
 * and one ProxyJump hop.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Server, utils, type Connection, type ServerChannel } from 'ssh2';
import { ed25519KeyPair } from '../support/sshKeys';
import { CancelledError, LifeboatError } from '../../src/core/errors';
import type { HostKeyPrompt, LogSink, NodeShellPool, UnknownHostKey } from '../../src/core/ports';
import { ConnectionLostError, createSshPool, type SshPoolOptions } from '../../src/adapters/ssh/pool';

type Handler = (command: string, stream: ServerChannel, conn: Connection) => void;

interface TestServer {
  readonly port: number;
  readonly hostBlob: Buffer;
  readonly commands: string[];
  connections: number;
  /** Sessions refused beyond this many open at once (simulates OpenSSH MaxSessions). */
  maxSessions: number;
  openSessions: number;
  closedChannels: string[];
  handler: Handler;
  close(): Promise<void>;
}

function publicBlob(pub: string): Buffer {
  const parsed = utils.parseKey(pub);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new Error('no key');
  return key.getPublicSSH();
}

async function startServer(clientPub: string): Promise<TestServer> {
  const host = ed25519KeyPair();
  const allowed = utils.parseKey(clientPub);
  if (allowed instanceof Error || Array.isArray(allowed)) throw new Error('bad client key');
  const state = {
    commands: [] as string[],
    closedChannels: [] as string[],
    connections: 0,
    maxSessions: 100,
    openSessions: 0,
    handler: defaultHandler as Handler,
  };
  const server = new Server({ hostKeys: [host.private] }, (conn) => {
    state.connections++;
    conn.on('error', () => undefined);
    conn.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH())) {
        if (!ctx.signature || (ctx.blob && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true)) return ctx.accept();
      }
      ctx.reject(['publickey']);
    });
    conn.on('ready', () => {
      conn.on('session', (accept, reject) => {
        if (state.openSessions >= state.maxSessions) return reject();
        state.openSessions++;
        const session = accept();
        let closed = false;
        const onClose = () => {
          if (!closed) {
            closed = true;
            state.openSessions--;
          }
        };
        session.on('close', onClose);
        session.on('exec', (acceptExec, _reject, info) => {
          state.commands.push(info.command);
          const stream = acceptExec();
          stream.on('close', () => {
            onClose();
            state.closedChannels.push(info.command);
          });
          state.handler(info.command, stream, conn);
        });
      });
      // direct-tcpip, for the ProxyJump test: the jump host forwards to 127.0.0.1:<port>.
      conn.on('tcpip', (accept, reject, info) => {
        const sock = net.connect(info.destPort, info.destIP);
        sock.once('error', () => reject());
        sock.once('connect', () => {
          const ch = accept();
          ch.pipe(sock).pipe(ch);
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const result: TestServer = {
    port,
    hostBlob: publicBlob(host.public),
    get commands() { return state.commands; },
    get closedChannels() { return state.closedChannels; },
    set closedChannels(v) { state.closedChannels = v; },
    get connections() { return state.connections; },
    set connections(v) { state.connections = v; },
    get maxSessions() { return state.maxSessions; },
    set maxSessions(v) { state.maxSessions = v; },
    get openSessions() { return state.openSessions; },
    set openSessions(v) { state.openSessions = v; },
    get handler() { return state.handler; },
    set handler(h) { state.handler = h; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return result;
}

/** Echoes the command on stdout, `err` on stderr, and exits with the number after `exit:` if any. */
function defaultHandler(command: string, stream: ServerChannel): void {
  stream.write(command);
  stream.stderr.write('err');
  const m = /exit:(\d+)/.exec(command);
  stream.exit(m ? Number(m[1]) : 0);
  stream.end();
}

interface Recorded extends LogSink {
  readonly lines: Array<{ level: string; message: string }>;
}

function recordingLog(): Recorded {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (message: string | Error) => { lines.push({ level, message: String(message) }); };
  return { lines, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function fingerprintBySshKeygen(dir: string, blob: Buffer): string {
  const file = path.join(dir, 'presented.pub');
  writeFileSync(file, `ssh-ed25519 ${blob.toString('base64')}\n`);
  return execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' }).split(/\s+/)[1] ?? '';
}

describe('ssh adapter: NodeShellPool over ssh2 (in-process server)', function () {
  this.timeout(10000);
  let dir: string;
  let server: TestServer;
  let clientKey: string;
  let knownHosts: string;
  let pools: NodeShellPool[];
  let log: Recorded;

  const knownLine = () => `[127.0.0.1]:${server.port} ssh-ed25519 ${server.hostBlob.toString('base64')}\n`;
  const node = () => ({ name: 'alpha', host: '127.0.0.1', port: server.port });
  const pool = (overrides: Partial<SshPoolOptions> = {}): NodeShellPool => {
    const p = createSshPool({
      knownHostsPath: knownHosts,
      configPath: path.join(dir, 'no-config'),
      identityFiles: [clientKey],
      agent: '',
      homeDir: dir,
      hostKeyPrompt: () => Promise.reject(new Error('unexpected host key prompt')),
      log,
      connectTimeoutMs: 3000,
      ...overrides,
    });
    pools.push(p);
    return p;
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-sshpool-'));
    const client = ed25519KeyPair();
    clientKey = path.join(dir, 'id_ed25519');
    writeFileSync(clientKey, client.private, { mode: 0o600 });
    server = await startServer(client.public);
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    knownHosts = path.join(dir, `known_hosts.${Math.random().toString(36).slice(2)}`);
    writeFileSync(knownHosts, knownLine());
    pools = [];
    log = recordingLog();
    server.handler = defaultHandler;
    server.connections = 0;
    server.maxSessions = 100;
    server.closedChannels = [];
    server.commands.length = 0;
  });
  afterEach(() => {
    for (const p of pools) p.dispose();
  });

  it('runs a command and returns its output and exit code, logging it at debug with the node name', async () => {
    const shell = pool().shell(node());
    const chunks: string[] = [];
    const r = await shell.exec('pvesh get /nodes exit:3', { onStdout: (c) => chunks.push(c) });
    assert.deepEqual(r, { code: 3, stdout: 'pvesh get /nodes exit:3', stderr: 'err' });
    assert.equal(chunks.join(''), r.stdout);
    assert.ok(log.lines.some((l) => l.level === 'debug' && l.message.includes('alpha') && l.message.includes('pvesh get /nodes')));
    assert.equal((await shell.exec('true')).code, 0);
    assert.equal(server.connections, 1, 'the connection is reused');
  });

  it('sends stdin without logging it and decodes UTF-8 split across chunks', async () => {
    server.handler = (command, stream) => {
      if (command === 'utf8') {
        const bytes = Buffer.from('é€😀', 'utf8');
        for (let i = 0; i < bytes.length; i++) stream.write(bytes.subarray(i, i + 1));
        stream.exit(0);
        stream.end();
        return;
      }
      let input = '';
      stream.on('data', (d: Buffer) => { input += d.toString(); });
      stream.on('end', () => {
        stream.write(`got:${input}`);
        stream.exit(0);
        stream.end();
      });
    };
    const shell = pool().shell(node());
    const chunks: string[] = [];
    const r = await shell.exec('utf8', { onStdout: (c) => chunks.push(c) });
    assert.equal(r.stdout, 'é€😀');
    assert.ok(chunks.every((c) => !c.includes('\ufffd')), 'no replacement characters from split sequences');
    const withStdin = await shell.exec('cat', { stdin: 'secret-token-123' });
    assert.equal(withStdin.stdout, 'got:secret-token-123');
    assert.ok(!log.lines.some((l) => l.message.includes('secret-token-123')), 'stdin never logged');
  });

  it('multiplexes concurrent commands on one connection and queues when the server refuses channels', async () => {
    const waiting: Array<() => void> = [];
    server.handler = (command, stream) => {
      const reply = () => { stream.write(command); stream.exit(0); stream.end(); };
      if (command.startsWith('barrier')) {
        waiting.push(reply);
        // Both answer only once both are running at the same time on the server.
        if (waiting.length === 2) for (const w of waiting.splice(0)) w();
      } else setTimeout(reply, 30);
    };
    const shell = pool().shell(node());
    const [a, b] = await Promise.all([shell.exec('barrier A'), shell.exec('barrier B')]);
    assert.equal(a.stdout, 'barrier A');
    assert.equal(b.stdout, 'barrier B');
    assert.equal(server.connections, 1);
    server.maxSessions = 2;
    const many = await Promise.all(Array.from({ length: 6 }, (_, i) => shell.exec(`job ${i}`)));
    assert.deepEqual(many.map((r) => r.stdout), Array.from({ length: 6 }, (_, i) => `job ${i}`));
    assert.equal(server.connections, 1);
  });

  it('asks about an unknown host key with its SHA256 fingerprint; declining fails and writes nothing', async () => {
    rmSync(knownHosts);
    const asked: UnknownHostKey[] = [];
    const shell = pool({ hostKeyPrompt: async (k) => { asked.push(k); return false; } }).shell(node());
    await assert.rejects(shell.exec('true'), (e: unknown) => LifeboatError.is(e, 'hostKeyRejected'));
    assert.deepEqual(asked, [{ host: '127.0.0.1', port: server.port, algorithm: 'ssh-ed25519', fingerprint: fingerprintBySshKeygen(dir, server.hostBlob) }]);
    assert.equal(existsSync(knownHosts), false);
    assert.deepEqual(server.commands.filter((c) => c === 'true'), [], 'nothing ran');
  });

  it('accepting writes known_hosts; a second pool then connects without asking', async () => {
    rmSync(knownHosts);
    let asked = 0;
    const accept: HostKeyPrompt = async () => { asked++; return true; };
    assert.equal((await pool({ hostKeyPrompt: accept }).shell(node()).exec('first')).stdout, 'first');
    assert.equal(asked, 1);
    assert.equal(readFileSync(knownHosts, 'utf8'), knownLine());
    const never: HostKeyPrompt = () => { throw new Error('must not ask'); };
    assert.equal((await pool({ hostKeyPrompt: never }).shell(node()).exec('second')).stdout, 'second');
  });

  it('does not count the time the operator spends on the host key question against the connect timeout', async () => {
    rmSync(knownHosts);
    const slowYes: HostKeyPrompt = () => new Promise((resolve) => setTimeout(() => resolve(true), 700));
    const r = await pool({ hostKeyPrompt: slowYes, connectTimeoutMs: 400 }).shell(node()).exec('patient');
    assert.equal(r.stdout, 'patient');
  });

  it('returns code null when the command ends by a signal or without an exit status', async () => {
    server.handler = (command, stream) => {
      stream.write('partial');
      if (command === 'killed') stream.exit('KILL', false, 'killed');
      stream.end();
    };
    const shell = pool().shell(node());
    assert.deepEqual(await shell.exec('killed'), { code: null, stdout: 'partial', stderr: '' });
    assert.deepEqual(await shell.exec('no status'), { code: null, stdout: 'partial', stderr: '' });
  });

  it('refuses a changed host key without asking, warning with both fingerprints', async () => {
    const other = publicBlob(ed25519KeyPair().public);
    writeFileSync(knownHosts, `[127.0.0.1]:${server.port} ssh-ed25519 ${other.toString('base64')}\n`);
    let asked = 0;
    const shell = pool({ hostKeyPrompt: async () => { asked++; return true; } }).shell(node());
    await assert.rejects(shell.exec('true'), (e: unknown) => LifeboatError.is(e, 'hostKeyChanged')
      // The error itself says how to get out (a step's report keeps only the error's sentence).
      && e.message.includes(`ssh-keygen -R '[127.0.0.1]:${server.port}' -f ${knownHosts}`));
    assert.equal(asked, 0);
    const warning = log.lines.find((l) => l.level === 'warn' && /CHANGED/.test(l.message));
    assert.ok(warning, 'a warning is logged');
    const fp = (b: Buffer) => 'SHA256:' + createHash('sha256').update(b).digest('base64').replace(/=+$/, '');
    assert.ok(warning.message.includes(fp(other)) && warning.message.includes(fp(server.hostBlob)));
    assert.equal(readFileSync(knownHosts, 'utf8'), `[127.0.0.1]:${server.port} ssh-ed25519 ${other.toString('base64')}\n`, 'known_hosts untouched');
  });

  it('maps a wrong client key to authFailed and skips an encrypted key with a log line', async () => {
    const wrong = path.join(dir, 'wrong_key');
    writeFileSync(wrong, ed25519KeyPair().private, { mode: 0o600 });
    const encrypted = path.join(dir, 'encrypted_key');
    writeFileSync(encrypted, ed25519KeyPair({ passphrase: 'pw', cipher: 'aes256-ctr', rounds: 2 }).private, { mode: 0o600 });
    await assert.rejects(pool({ identityFiles: [encrypted, wrong] }).shell(node()).exec('true'), (e: unknown) => LifeboatError.is(e, 'authFailed'));
    assert.ok(log.lines.some((l) => l.message.includes(encrypted) && /passphrase/.test(l.message)));
    // The right key after the encrypted one still works.
    assert.equal((await pool({ identityFiles: [encrypted, clientKey] }).shell(node()).exec('ok')).stdout, 'ok');
  });

  it('authenticates with ssh-agent when a socket is given (no key files)', async () => {
    const sock = path.join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      await waitFor(() => existsSync(sock));
      execFileSync('ssh-add', ['-q', clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const r = await pool({ agent: sock, identityFiles: [] }).shell(node()).exec('via agent');
      assert.equal(r.stdout, 'via agent');
      await assert.rejects(pool({ agent: '', identityFiles: [] }).shell(node()).exec('x'), (e: unknown) => LifeboatError.is(e, 'authFailed'));
    } finally {
      if (agent.pid !== undefined) process.kill(agent.pid, 'SIGTERM');
    }
  });

  it('maps a closed port and a silent server to hostUnreachable', async () => {
    const free = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await assert.rejects(pool().shell({ name: 'gone', host: '127.0.0.1', port: free }).exec('true'), (e: unknown) => LifeboatError.is(e, 'hostUnreachable') && e.details.code === 'ECONNREFUSED');
    const accepted: net.Socket[] = [];
    const silent = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const started = Date.now();
      await assert.rejects(pool({ connectTimeoutMs: 300 }).shell({ name: 'mute', host: '127.0.0.1', port }).exec('true'), (e: unknown) => LifeboatError.is(e, 'hostUnreachable'));
      assert.ok(Date.now() - started < 2000);
    } finally {
      for (const s of accepted) s.destroy();
      silent.close();
    }
  });

  it('fails a command with connectionLost when the server drops the connection, then reconnects', async () => {
    server.handler = (command, stream, conn) => {
      if (command === 'restore') {
        stream.write('progress 42%\n');
        setTimeout(() => conn.end(), 50);
      } else defaultHandler(command, stream);
    };
    const shell = pool().shell(node());
    await assert.rejects(shell.exec('restore'), (e: unknown) => {
      assert.ok(e instanceof ConnectionLostError && LifeboatError.is(e, 'connectionLost'));
      assert.equal(e.partial.stdout, 'progress 42%\n');
      return true;
    });
    assert.equal(server.commands.filter((c) => c === 'restore').length, 1, 'never re-run');
    assert.equal((await shell.exec('after')).stdout, 'after');
    assert.equal(server.connections, 2, 'a fresh connection');
  });

  it('cancels a running command: CancelledError, and the remote channel is closed', async () => {
    server.handler = (_command, stream) => stream.resume(); // never answers (resume: ssh2 emits close after end)
    const shell = pool().shell(node());
    const ac = new AbortController();
    const running = shell.exec('sleep 600', { signal: ac.signal });
    await waitFor(() => server.commands.includes('sleep 600'));
    ac.abort();
    await assert.rejects(running, (e: unknown) => CancelledError.is(e));
    await waitFor(() => server.closedChannels.includes('sleep 600'));
    // The TERM sent before closing is checked against OpenSSH in sshOpenssh.test.ts: ssh2's Server
    // drops signal requests once a command runs.
    await assert.rejects(shell.exec('x', { signal: ac.signal }), (e: unknown) => CancelledError.is(e), 'an aborted signal refuses at once');
    server.handler = defaultHandler;
    assert.equal((await shell.exec('still usable')).stdout, 'still usable');
  });

  it('passes a hostile command string through byte for byte', async () => {
    const hostile = `qmrestore '/var/lib/vz/dump/x'"'"'; rm -rf / #.vma' 121 $(reboot) \`id\` && echo "$HOME" \\ \n next; é\t|>&<*?[]{}~!`;
    const r = await pool().shell(node()).exec(hostile);
    assert.equal(server.commands.at(-1), hostile);
    assert.equal(r.stdout, hostile);
  });

  it('connects through one ProxyJump hop from the ssh config', async () => {
    const config = path.join(dir, 'ssh_config');
    writeFileSync(config, [
      'Host alpha',
      '  HostName 127.0.0.1',
      `  Port ${server.port}`,
      '  ProxyJump jumpbox',
      'Host jumpbox',
      '  HostName 127.0.0.1',
      `  Port ${server.port}`,
      '',
    ].join('\n'));
    const r = await pool({ configPath: config }).shell({ name: 'alpha', host: '10.20.0.10' }).exec('via jump');
    assert.equal(r.stdout, 'via jump');
    assert.equal(server.connections, 2, 'one to the jump host, one tunnelled to the node');
  });

  it('dispose ends the connections; later commands fail', async () => {
    const p = pool();
    const shell = p.shell(node());
    await shell.exec('x');
    p.dispose();
    await assert.rejects(shell.exec('y'), (e: unknown) => LifeboatError.is(e, 'connectionLost'));
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
