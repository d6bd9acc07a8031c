/**
 * One SSH handshake: TCP (or a forwarded stream through a jump host), host key verification,
 * authentication. Resolves with a ready ssh2 Client or rejects with a LifeboatError whose reason
 * the surfaces can explain (hostUnreachable, hostKeyChanged, hostKeyRejected, authFailed).
 *
 * The timeout is ours, not ssh2's `readyTimeout`: ssh2's clock keeps running while the operator
 * reads a host key prompt, so a careful operator would be punished with a timeout. Ours pauses
 * during the prompt.
 */
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { LifeboatError } from '../../core/errors';
import { msg } from '../../core/procedure/message';
import type { Method } from './auth';

export interface HandshakeTarget {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

export interface HandshakeOptions {
  readonly target: HandshakeTarget;
  readonly auth: readonly Method[];
  /** Preferred host key algorithms first (the types known_hosts holds for this host). */
  readonly hostKeyAlgorithms: readonly string[];
  /**
   * Decides on the presented key blob. Resolve to accept; reject (with a LifeboatError) to refuse.
   * `pauseTimeout` stops the connect clock while the operator is asked.
   */
  readonly verifyHostKey: (key: Buffer, pauseTimeout: () => () => void) => Promise<void>;
  readonly timeoutMs: number;
  readonly keepaliveIntervalMs: number;
  /** A stream to the target through a jump host; undefined for a direct TCP connection. */
  readonly sock?: Duplex;
}

/** ssh2's default host key algorithms (lib/protocol/constants.js), strongest first. */
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

/** Key types as known_hosts names them → the signature algorithms that use that key type. */
export function hostKeyAlgorithmOrder(knownTypes: readonly string[]): string[] {
  const preferred = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  const supported = preferred.filter((a) => DEFAULT_HOST_KEY_ALGORITHMS.includes(a));
  return [...new Set([...supported, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EADDRNOTAVAIL', 'EPIPE']);

function describe(t: HandshakeTarget): string {
  return `${t.user}@${t.host}:${t.port} (${t.node})`;
}

export function mapConnectError(err: unknown, t: HandshakeTarget): LifeboatError {
  if (err instanceof LifeboatError) return err;
  const e = err as Error & { level?: string; code?: string };
  const details = { node: t.node, host: t.host, port: t.port, user: t.user };
  if (e.level === 'client-authentication') {
    return LifeboatError.saying('authFailed', msg('SSH authentication refused for {0}: no offered key was accepted', describe(t)), details, { cause: err });
  }
  if (e.code && UNREACHABLE_CODES.has(e.code)) {
    return LifeboatError.saying('hostUnreachable', msg('cannot reach {0}: {1}', describe(t), e.code), { ...details, code: e.code }, { cause: err });
  }
  return LifeboatError.saying('hostUnreachable', msg('SSH handshake with {0} failed: {1}', describe(t), e.message ?? String(err)), details, { cause: err });
}

export function handshake(o: HandshakeOptions): Promise<Client> {
  const t = o.target;
  return new Promise<Client>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    let verdict: LifeboatError | undefined;
    let timer: NodeJS.Timeout | undefined;

    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Destroy, not end(): a half-closed socket to a server that stopped answering stays open.
      client.destroy();
      reject(verdict ?? mapConnectError(err, t));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        fail(LifeboatError.saying('hostUnreachable', msg('no SSH answer from {0} within {1} ms', describe(t), o.timeoutMs), { node: t.node, host: t.host, port: t.port, timeoutMs: o.timeoutMs }));
      }, o.timeoutMs);
    };
    const pauseTimeout = () => {
      clearTimeout(timer);
      return () => {
        if (!settled) arm();
      };
    };

    // Errors after `ready` belong to the connection's owner (pool.ts), which adds its own listener.
    client.on('error', (err) => fail(err));
    client.on('close', () => fail(new Error('connection closed during the SSH handshake')));
    client.once('ready', () => {
      if (settled) {
        client.end();
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve(client);
    });

    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void) => {
      o.verifyHostKey(key, pauseTimeout).then(
        () => verify(!settled),
        (err: unknown) => {
          verdict = err instanceof LifeboatError ? err : mapConnectError(err, t);
          verify(false);
        },
      );
    };

    if (o.auth.length === 0) {
      settled = true;
      reject(LifeboatError.saying('authFailed', msg('no SSH agent and no usable private key for {0}', describe(t)), { node: t.node, host: t.host, port: t.port, user: t.user }));
      return;
    }

    const config: ConnectConfig = {
      host: t.host,
      port: t.port,
      username: t.user,
      readyTimeout: 0,
      keepaliveInterval: o.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier,
      authHandler: [...o.auth],
      algorithms: { serverHostKey: hostKeyAlgorithmOrder(o.hostKeyAlgorithms) as ServerHostKeyAlgorithm[] },
      ...(o.sock ? { sock: o.sock } : {}),
    };
    arm();
    try {
      client.connect(config);
    } catch (err) {
      fail(err);
    }
  });
}
