/**
 * A fast, root-free SSH "node": an ssh2 Server that accepts only the lab's operator key and runs
 * each `exec` request as `bash -c <command>` (root's shell on Proxmox VE; `/bin/sh` if bash is
 * missing) with the node's bin dir first on PATH — the same
 * environment the OpenSSH variant sets with `SetEnv` — streaming stdout/stderr and the exit code.
 *
 * Each command runs in its own process group; when its channel (or the whole connection) closes,
 * that group is SIGKILLed, like a session torn down under sshd. Task workers are in their own
 * session (tasks.ts), so they survive. A matching `drop-connection` fault destroys the TCP socket
 * without an SSH disconnect, which is what a network drop looks like to the client.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Server, utils, type Connection, type ServerChannel } from 'ssh2';
import { claimDropFault } from './faults';

export interface InProcessSshOptions {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly hostKeyPem: string | Buffer;
  /** OpenSSH public key line (`ssh-ed25519 AAAA... comment`) of the only accepted client key. */
  readonly authorizedPublicKey: string;
  readonly binDir: string;
  readonly stateDir: string;
}

/** Proxmox VE's root shell is bash: `foo` answers `bash: line 1: foo: command not found`, 127. */
const SHELL = fs.existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh';

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

export async function startInProcessSsh(opts: InProcessSshOptions): Promise<{ stop(): Promise<void> }> {
  const parsed = utils.parseKey(opts.authorizedPublicKey);
  if (parsed instanceof Error) throw parsed;
  const allowed = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!allowed) throw new Error('no authorized public key');
  const home = path.join(path.resolve(opts.stateDir), 'home', opts.node);
  fs.mkdirSync(home, { recursive: true });
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: `${path.resolve(opts.binDir)}:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: home,
    USER: 'root',
    LOGNAME: 'root',
    SHELL: SHELL,
    LANG: 'C.UTF-8',
    PVE_SIM_STATE: path.resolve(opts.stateDir),
    PVE_SIM_NODE: opts.node,
    PVE_SIM_INPROCESS: '1',
    ...(process.env.PVE_SIM_TIME_SCALE !== undefined ? { PVE_SIM_TIME_SCALE: process.env.PVE_SIM_TIME_SCALE } : {}),
  };
  const sockets = new Set<net.Socket>();
  const ssh = new Server({ hostKeys: [opts.hostKeyPem] });

  ssh.on('connection', (client: Connection, info) => {
    const children = new Set<ChildProcess>();
    const sock = (client as unknown as { _sock?: net.Socket })._sock;
    const drop = (): void => {
      for (const c of children) killGroup(c);
      sock?.destroy();
    };
    client.on('error', () => undefined);
    client.on('close', () => {
      for (const c of children) killGroup(c);
    });
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.username !== 'root') return ctx.reject(['publickey']);
      if (ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH())) return ctx.reject(['publickey']);
      if (ctx.signature && ctx.blob) {
        if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) return ctx.reject(['publickey']);
      }
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        const env: NodeJS.ProcessEnv = { ...baseEnv, SSH_CONNECTION: `${info.ip} ${info.port} ${opts.host} ${opts.port}`, SSH_CLIENT: `${info.ip} ${info.port} ${opts.port}` };
        session.on('env', (accept, _reject, e) => {
          if (/^(LANG|LC_[A-Z]+)$/.test(e.key)) env[e.key] = e.val;
          accept?.();
        });
        session.on('pty', (accept) => accept?.());
        session.on('window-change', (accept) => accept?.());
        const run = (channel: ServerChannel, args: string[], command: string): void => {
          const child = spawn(SHELL, args, { cwd: home, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
          children.add(child);
          const fault = claimDropFault(opts.stateDir, opts.node, command);
          if (fault !== undefined) setTimeout(drop, fault.delayMs);
          // Held back: nothing of the command's answer reaches the client before the drop.
          const held = fault?.holdAnswer === true;
          child.stdout!.on('data', (b: Buffer) => { if (!held) channel.write(b); });
          child.stderr!.on('data', (b: Buffer) => { if (!held) channel.stderr.write(b); });
          channel.on('data', (b: Buffer) => child.stdin!.write(b));
          channel.on('end', () => child.stdin!.end());
          child.stdin!.on('error', () => undefined);
          channel.on('close', () => killGroup(child));
          child.on('error', (e) => {
            channel.stderr.write(`${e.message}\n`);
            channel.exit(127);
            channel.end();
          });
          child.on('close', (code, signal) => {
            children.delete(child);
            if (held) return;
            try {
              if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
              else channel.exit(code ?? 255);
              channel.end();
            } catch {
              /* channel already closed */
            }
          });
        };
        session.on('exec', (accept, _reject, e) => {
          const channel = accept();
          if (channel) run(channel, ['-c', e.command], e.command);
        });
        session.on('shell', (accept) => {
          const channel = accept();
          if (channel) run(channel, ['-i'], 'sh');
        });
        session.on('subsystem', (_accept, reject) => reject?.());
      });
    });
  });

  const tcp = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    ssh.injectSocket(s);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, opts.host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  return {
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
