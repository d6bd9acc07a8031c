/**
 * The ssh2 implementation of the core's NodeShellPool: one connection per node, opened on the
 * first command, reused and multiplexed (several exec channels at once), reopened on the next
 * command after a drop. A command is never re-run automatically: a dropped connection fails the
 * commands that were running on it with `connectionLost`, and the caller (the restore engine)
 * decides what to do: Proxmox tasks survive a dropped connection and the engine re-attaches.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { CancelledError, LifeboatError, throwIfAborted } from '../../core/errors';
import { msg } from '../../core/procedure/message';
import { commandLine } from '../../core/proxmox/shell';
import type { HostKeyPrompt, LogSink, NodeAddress, NodeShell, NodeShellPool, RemoteResult, RemoteRunOptions } from '../../core/ports';
import { authMethods, defaultIdentityFiles } from './auth';
import { handshake, type HandshakeTarget } from './connect';
import {
  appendKnownHost, checkHostKey, fingerprintSha256, hostToken, keyAlgorithm, knownAlgorithms, loadKnownHosts,
} from './knownHosts';
import { resolveSshSettings, type SshSettings } from './sshConfig';

export interface SshPoolOptions {
  /** Read and written instead of the ssh config's UserKnownHostsFile / ~/.ssh/known_hosts. */
  readonly knownHostsPath?: string;
  /** Default ~/.ssh/config. */
  readonly configPath?: string;
  /** Tried before the config's IdentityFile entries. */
  readonly identityFiles?: readonly string[];
  /** ssh-agent socket; default process.env.SSH_AUTH_SOCK; '' for none. */
  readonly agent?: string;
  readonly hostKeyPrompt: HostKeyPrompt;
  readonly log: LogSink;
  /** TCP + handshake + authentication (the host key prompt does not count). Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** SSH keepalives, 3 unanswered ones drop the connection. Default 15 s. */
  readonly keepaliveIntervalMs?: number;
  /** Channels open at once per connection; OpenSSH's MaxSessions defaults to 10. Default 8. */
  readonly maxChannels?: number;
  /** For `~` in paths; default os.homedir() (tests). */
  readonly homeDir?: string;
}

/** `connectionLost` with the output received before the drop (never re-run: the caller decides). */
export class ConnectionLostError extends LifeboatError {
  constructor(
    message: string,
    details: Readonly<Record<string, string | number | boolean | undefined>>,
    /** What the command printed before the connection dropped. */
    readonly partial: { readonly stdout: string; readonly stderr: string },
    options?: { cause?: unknown },
  ) {
    super('connectionLost', message, details, options);
  }
}

interface Running {
  fail(reason: string): void;
}

/** A counting semaphore whose waits can be abandoned (abort) without leaking a slot. */
class Slots {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(public limit: number) {}

  get inUse(): number {
    return this.active;
  }

  acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new CancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  release(): void {
    this.active--;
    this.wake();
  }

  wake(): void {
    while (this.active < this.limit && this.waiters.length > 0) this.waiters.shift()?.();
  }
}

/** Rejects with CancelledError when the signal fires first; the promise itself keeps running. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

class ChannelRefused extends Error {}

/** Serialises host key questions: the operator answers one at a time. */
function serialised(prompt: HostKeyPrompt): HostKeyPrompt {
  let queue: Promise<unknown> = Promise.resolve();
  return (key) => {
    const next = queue.then(() => prompt(key));
    queue = next.catch(() => undefined);
    return next;
  };
}

interface PoolContext {
  readonly options: SshPoolOptions;
  readonly log: LogSink;
  readonly home: string;
  readonly agent: string | undefined;
  readonly prompt: HostKeyPrompt;
  disposed: boolean;
}

class NodeConnection implements NodeShell {
  readonly node: string;
  private client: Client | undefined;
  private jump: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private readonly running = new Set<Running>();
  private readonly slots: Slots;

  constructor(
    private readonly address: NodeAddress,
    private readonly ctx: PoolContext,
  ) {
    this.node = address.name;
    this.slots = new Slots(Math.max(1, ctx.options.maxChannels ?? 8));
  }

  async exec(command: string, options: RemoteRunOptions = {}): Promise<RemoteResult> {
    const { signal } = options;
    throwIfAborted(signal);
    for (;;) {
      const client = await abortable(this.connected(), signal);
      await this.slots.acquire(signal);
      try {
        return await this.run(client, command, options);
      } catch (err) {
        // The server refused one more channel: run with fewer at once, after one finishes.
        if (!(err instanceof ChannelRefused)) throw err;
        if (this.slots.inUse <= 1) {
          throw LifeboatError.saying('remoteCommandFailed', msg('{0} refused to open an SSH session channel: {1}', this.node, err.message), { node: this.node });
        }
        this.slots.limit = Math.max(1, this.slots.inUse - 1);
        this.ctx.log.debug(`[${this.node}] server refused a channel; now at most ${this.slots.limit} at once`);
      } finally {
        this.slots.release();
      }
    }
  }

  dispose(): void {
    this.client?.end();
    this.jump?.end();
    this.failRunning('the SSH pool was disposed');
    this.client = undefined;
    this.jump = undefined;
  }

  private connected(): Promise<Client> {
    if (this.ctx.disposed) return Promise.reject(LifeboatError.saying('connectionLost', msg('the SSH pool was disposed'), { node: this.node }));
    if (this.client) return Promise.resolve(this.client);
    if (!this.connecting) {
      this.connecting = this.open().finally(() => {
        this.connecting = undefined;
      });
      // A caller that was cancelled no longer listens; keep the rejection from being unhandled.
      this.connecting.catch(() => undefined);
    }
    return this.connecting;
  }

  private async open(): Promise<Client> {
    const { options, log } = this.ctx;
    const settings = await resolveSshSettings(this.address, { ...(options.configPath ? { configPath: options.configPath } : {}), homeDir: this.ctx.home });
    for (const d of settings.ignored) log.warn(`[${this.node}] ssh config: ${d} is not supported by Lifeboat and is ignored`);
    let jump: Client | undefined;
    let sock: ClientChannel | undefined;
    if (settings.proxyJump) {
      log.debug(`[${this.node}] connecting through ${settings.proxyJump.user}@${settings.proxyJump.host}:${settings.proxyJump.port}`);
      jump = await this.handshakeWith(settings.proxyJump, undefined);
      try {
        sock = await forward(jump, settings);
      } catch (err) {
        jump.end();
        throw err;
      }
    }
    let client: Client;
    try {
      client = await this.handshakeWith(settings, sock);
    } catch (err) {
      jump?.end();
      throw err;
    }
    if (this.ctx.disposed) {
      client.end();
      jump?.end();
      throw LifeboatError.saying('connectionLost', msg('the SSH pool was disposed'), { node: this.node });
    }
    log.debug(`[${this.node}] connected to ${settings.user}@${settings.host}:${settings.port}`);
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.jump?.end();
      this.jump = undefined;
      if (!this.ctx.disposed) log.warn(`[${this.node}] SSH connection lost (${why}); the next command reconnects`);
      this.failRunning(`SSH connection to ${this.node} lost (${why})`);
    };
    client.on('error', (err: Error) => lost(err.message));
    client.on('end', () => lost('closed by the server'));
    client.on('close', () => lost('closed'));
    jump?.on('close', () => {
      if (this.client === client) client.end();
    });
    jump?.on('error', () => undefined);
    this.client = client;
    this.jump = jump;
    return client;
  }

  private knownHostsFiles(settings: SshSettings): string[] {
    if (this.ctx.options.knownHostsPath) return [this.ctx.options.knownHostsPath];
    if (settings.knownHostsFiles.length > 0) return [...settings.knownHostsFiles];
    return [path.join(this.ctx.home, '.ssh', 'known_hosts'), path.join(this.ctx.home, '.ssh', 'known_hosts2')];
  }

  private async handshakeWith(settings: SshSettings, sock: ClientChannel | undefined): Promise<Client> {
    const { options, log } = this.ctx;
    const files = this.knownHostsFiles(settings);
    const known = await loadKnownHosts(files);
    const agent = settings.identityAgent === undefined || settings.identityAgent === 'SSH_AUTH_SOCK'
      ? this.ctx.agent
      : settings.identityAgent.toLowerCase() === 'none' ? undefined : settings.identityAgent;
    const explicitFiles = [...(options.identityFiles ?? []), ...settings.identityFiles];
    const auth = await authMethods({
      node: settings.name, user: settings.user, agent, explicitFiles, defaultFiles: defaultIdentityFiles(this.ctx.home),
      identitiesOnly: settings.identitiesOnly, log,
    });
    const target: HandshakeTarget = { node: settings.name, host: settings.host, port: settings.port, user: settings.user };
    return handshake({
      target,
      auth,
      hostKeyAlgorithms: knownAlgorithms(known, settings.host, settings.port),
      verifyHostKey: (key, pause) => this.verifyHostKey(target, files, key, pause),
      timeoutMs: options.connectTimeoutMs ?? settings.connectTimeoutMs ?? 15000,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15000,
      ...(sock ? { sock } : {}),
    });
  }

  /** Design rule 9: known → go on; unknown → ask, write only on an explicit yes; changed → refuse. */
  private async verifyHostKey(t: HandshakeTarget, files: readonly string[], key: Buffer, pause: () => () => void): Promise<void> {
    const { log } = this.ctx;
    const entries = await loadKnownHosts(files);
    const check = checkHostKey(entries, t.host, t.port, key);
    const fingerprint = fingerprintSha256(key);
    const algorithm = keyAlgorithm(key) ?? 'unknown';
    const where = hostToken(t.host, t.port);
    const details = { node: t.node, host: t.host, port: t.port, algorithm, fingerprint };
    switch (check.status) {
      case 'match':
        log.debug(`[${t.node}] host key ${algorithm} ${fingerprint} matches ${check.entry.file ?? 'known_hosts'}:${check.entry.line}`);
        return;
      case 'revoked':
        log.warn(`[${t.node}] the host key presented by ${where} (${algorithm} ${fingerprint}) is marked @revoked in ${check.entry.file ?? 'known_hosts'}:${check.entry.line}; refusing to connect`);
        throw LifeboatError.saying('hostKeyRejected', msg('the host key of {0} ({1}) is revoked in known_hosts', t.node, where), { ...details, revoked: true });
      case 'changed': {
        const old = check.known[0];
        const oldFp = check.known.map((e) => fingerprintSha256(e.key)).join(', ');
        const at = old ? `${old.file ?? 'known_hosts'}:${old.line}` : 'known_hosts';
        const removeOldKey = commandLine({ program: 'ssh-keygen', args: ['-R', where, '-f', old?.file ?? path.join(os.homedir(), '.ssh', 'known_hosts')] });
        log.warn(
          `[${t.node}] WARNING: the host key of ${where} has CHANGED. Known ${algorithm} key: ${oldFp} (${at}); presented: ${fingerprint}. ` +
          'Someone could be intercepting the connection, or the node was reinstalled. Refusing to connect. ' +
          `If the change is expected, remove the old line (${removeOldKey}) and try again.`,
        );
        // The whole refusal and its way out, in the operator's words: a step's report keeps only this sentence.
        throw LifeboatError.saying('hostKeyChanged', msg('REFUSED: the SSH host key of {0} ({1}) has CHANGED since it was recorded in known_hosts (known {2}, presented {3}). This can be a reinstalled node or an attack. Check the node; if the change is expected, remove the old key with {4} and try again.', t.node, where, oldFp, fingerprint, removeOldKey), {
          ...details, knownFingerprint: oldFp, knownHostsFile: old?.file, knownHostsLine: old?.line,
        });
      }
      case 'unknown': {
        if (check.otherAlgorithms.length > 0) {
          log.warn(`[${t.node}] ${where} presented a ${algorithm} key, but known_hosts holds only ${check.otherAlgorithms.join(', ')} keys for it`);
        }
        const resume = pause();
        let accepted: boolean;
        try {
          accepted = await this.ctx.prompt({ host: t.host, port: t.port, algorithm, fingerprint });
        } catch (err) {
          throw LifeboatError.saying('hostKeyRejected', msg('the host key of {0} ({1}) was not accepted', t.node, where), details, { cause: err });
        } finally {
          resume();
        }
        if (accepted !== true) {
          log.info(`[${t.node}] host key ${algorithm} ${fingerprint} of ${where} declined; not connecting`);
          throw LifeboatError.saying('hostKeyRejected', msg('the host key of {0} ({1}, {2}) was declined', t.node, where, fingerprint), details);
        }
        const file = files[0] ?? path.join(this.ctx.home, '.ssh', 'known_hosts');
        await appendKnownHost(file, t.host, t.port, key);
        log.info(`[${t.node}] host key ${algorithm} ${fingerprint} of ${where} accepted and added to ${file}`);
        return;
      }
    }
  }

  private failRunning(reason: string): void {
    for (const r of [...this.running]) r.fail(reason);
  }

  private run(client: Client, command: string, options: RemoteRunOptions): Promise<RemoteResult> {
    const { signal, onStdout, onStderr, stdin } = options;
    const log = this.ctx.log;
    // Never the stdin content: it can hold configuration or secrets.
    log.debug(`[${this.node}] $ ${command}${stdin !== undefined ? ' (with stdin)' : ''}`);
    return new Promise<RemoteResult>((resolve, reject) => {
      const out = new StringDecoder('utf8');
      const err = new StringDecoder('utf8');
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      let channel: ClientChannel | undefined;
      let settled = false;
      const running: Running = { fail: () => undefined };

      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        this.running.delete(running);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => {
        finish(() => reject(new CancelledError()));
        if (channel) closeChannel(channel);
      };
      running.fail = (reason: string) => {
        stdout += out.end();
        stderr += err.end();
        finish(() => reject(new ConnectionLostError(reason, { node: this.node, stdoutChars: stdout.length, stderrChars: stderr.length }, { stdout, stderr })));
      };
      this.running.add(running);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) return onAbort();

      const opened = (openErr: Error | undefined, ch: ClientChannel) => {
        if (openErr) {
          const reason = (openErr as Error & { reason?: unknown }).reason;
          // `reason` is set by ssh2 only for a CHANNEL_OPEN_FAILURE answer (the server said no).
          if (typeof reason === 'number') finish(() => reject(new ChannelRefused(openErr.message)));
          else running.fail(openErr.message);
          return;
        }
        channel = ch;
        if (settled) {
          closeChannel(ch); // cancelled while the channel was being opened
          return;
        }
        ch.on('data', (d: Buffer) => {
          const s = out.write(d);
          if (s) {
            stdout += s;
            onStdout?.(s);
          }
        });
        ch.stderr.on('data', (d: Buffer) => {
          const s = err.write(d);
          if (s) {
            stderr += s;
            onStderr?.(s);
          }
        });
        ch.on('exit', (c: number | null) => {
          code = typeof c === 'number' ? c : null;
        });
        ch.on('close', () => {
          // ssh2 reports a dropped connection on the client before closing its channels, so a
          // running command that lost its connection was already failed by then.
          const tailOut = out.end();
          const tailErr = err.end();
          if (tailOut) onStdout?.(tailOut);
          if (tailErr) onStderr?.(tailErr);
          stdout += tailOut;
          stderr += tailErr;
          finish(() => resolve({ code, stdout, stderr }));
        });
        ch.on('error', () => undefined);
        if (stdin !== undefined) ch.end(stdin);
        else ch.end();
      };
      try {
        client.exec(command, opened);
      } catch (e) {
        // ssh2 throws "Not connected" when the socket died before its close event reached us.
        running.fail(e instanceof Error ? e.message : String(e));
      }
    });
  }
}

/**
 * ssh2's `signal()` is a no-op once our side sent EOF (it checks `writable`), and we always send EOF
 * right after the command so that it never waits for stdin. The request is valid after EOF
 * (RFC 4254 §6.9), so send it through ssh2's protocol object when that is there.
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const internal = ch as unknown as {
    _client?: { _protocol?: { signal?: (id: number, signal: string) => void } };
    outgoing?: { id?: number; state?: string };
  };
  const proto = internal._client?._protocol;
  const out = internal.outgoing;
  if (typeof proto?.signal === 'function' && typeof out?.id === 'number' && (out.state === 'open' || out.state === 'eof')) {
    proto.signal(out.id, name);
  } else {
    ch.signal(name);
  }
}

function closeChannel(ch: ClientChannel): void {
  try {
    // Best effort: OpenSSH delivers it to the command's process group, but not in root sessions
    // (sshd: "session signalling requires privilege separation"), which is how Proxmox nodes are
    // reached. Closing the channel then closes the command's pipes, which ends a command at its
    // next write; a silent one keeps running. Long operations are Proxmox tasks that the core
    // stops explicitly.
    sendSignal(ch, 'TERM');
  } catch {
    /* the channel may already be closing */
  }
  try {
    ch.close();
  } catch {
    /* idem */
  }
}

function forward(jump: Client, settings: SshSettings): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, settings.host, settings.port, (err, stream) => {
      if (err) {
        reject(LifeboatError.saying('hostUnreachable', msg('the jump host could not reach {0}: {1}', `${settings.host}:${settings.port}`, err.message), {
          node: settings.name, host: settings.host, port: settings.port,
        }, { cause: err }));
      } else {
        resolve(stream);
      }
    });
  });
}

export function createSshPool(options: SshPoolOptions): NodeShellPool {
  const ctx: PoolContext = {
    options,
    log: options.log,
    home: options.homeDir ?? os.homedir(),
    agent: ('agent' in options ? options.agent : process.env.SSH_AUTH_SOCK) || undefined,
    prompt: serialised(options.hostKeyPrompt),
    disposed: false,
  };
  const connections = new Map<string, NodeConnection>();
  return {
    shell(address: NodeAddress): NodeShell {
      const key = JSON.stringify([address.name, address.host, address.port ?? null, address.user ?? null]);
      let c = connections.get(key);
      if (!c) {
        c = new NodeConnection(address, ctx);
        connections.set(key, c);
      }
      return c;
    },
    dispose(): void {
      ctx.disposed = true;
      for (const c of connections.values()) c.dispose();
      connections.clear();
    },
  };
}
