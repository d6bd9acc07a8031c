/**
 * Reachability probes from the operator's machine: a TCP connect (what "the guest answers" means
 * for an SSH service) and an ICMP ping through the system's `ping` when it can run here.
 *
 * Every wait here that the caller can abort ends with the core's CancelledError when it does (never
 * the signal's DOMException), so a cancel reads as "cancelled" and not as a failure.
 */
import * as net from 'node:net';
import { CancelledError, type NetworkProbe } from '../../core';

export interface ProbeOptions {
  /**
   * Only these addresses may be probed (the simulated lab passes loopback only, so a test can never
   * send traffic to a real private network by mistake). Undefined: any address.
   */
  readonly allow?: (host: string) => boolean;
}

export function createNetworkProbe(options: ProbeOptions = {}): NetworkProbe {
  const allowed = (host: string) => options.allow?.(host) ?? true;
  return {
    tcp(host, port, timeoutMs, signal) {
      if (signal?.aborted) return Promise.reject(new CancelledError());
      if (!allowed(host)) return Promise.resolve(false);
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean | CancelledError) => {
          socket.destroy();
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (ok instanceof CancelledError) reject(ok);
          else resolve(ok);
        };
        const onAbort = () => done(new CancelledError());
        const timer = setTimeout(() => done(false), timeoutMs);
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async http(url, timeoutMs, signal) {
      let host: string;
      try {
        host = new URL(url).hostname;
      } catch {
        return { error: 'EINVALIDURL' };
      }
      if (!allowed(host)) return { error: 'ENOTALLOWED' };
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
        const body = (await response.text()).slice(0, 65536);
        return { status: response.status, body };
      } catch (err) {
        if (signal?.aborted) throw new CancelledError();
        const cause = (err as { cause?: { code?: string } }).cause;
        return { error: cause?.code ?? (timeout.aborted ? 'ETIMEDOUT' : (err as Error).name) };
      }
    },
    async ping(host, timeoutMs, signal) {
      if (signal?.aborted) throw new CancelledError();
      if (!allowed(host)) return 'unavailable';
      let answer: 'ok' | 'failed' | 'unavailable';
      try {
        // execa is ESM-only: a dynamic import keeps this module loadable from CommonJS (tests under tsx).
        const { execa } = await import('execa');
        const r = await execa('ping', pingArgs(host, timeoutMs), { reject: false, timeout: timeoutMs + 1000, cancelSignal: signal, stdin: 'ignore' });
        answer = pingAnswer(r.exitCode, `${r.stdout}`, `${r.stderr}${r.message ?? ''}`);
      } catch {
        answer = 'unavailable';
      }
      if (signal?.aborted) throw new CancelledError();
      return answer;
    },
  };
}

/** The lab's rule: loopback (127.0.0.0/8) only. */
export function loopbackOnly(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === 'localhost' || host === '::1';
}

/**
 * `ping` sends one echo request and waits about `timeoutMs`; each system spells that differently:
 * Linux (iputils, busybox) `-c 1 -W <seconds>`; macOS and the BSDs `-c 1 -t <seconds>` (their `-W`
 * is in milliseconds on macOS); Windows `-n 1 -w <milliseconds>` (it rejects `-c`).
 */
export function pingArgs(host: string, timeoutMs: number, platform: NodeJS.Platform = process.platform): string[] {
  const seconds = String(Math.max(1, Math.round(timeoutMs / 1000)));
  switch (platform) {
    case 'win32':
      return ['-n', '1', '-w', String(Math.max(1, Math.round(timeoutMs))), host];
    case 'darwin':
    case 'freebsd':
    case 'openbsd':
    case 'netbsd':
      return ['-c', '1', '-t', seconds, host];
    default:
      return ['-c', '1', '-W', seconds, host];
  }
}

/**
 * What a ping's exit says. Windows' ping exits 0 on "Destination host unreachable" replies too, so
 * there an answer must carry a TTL.
 */
export function pingAnswer(exitCode: number | undefined, stdout: string, errors: string, platform: NodeJS.Platform = process.platform): 'ok' | 'failed' | 'unavailable' {
  if (exitCode === 0) return platform !== 'win32' || /TTL=/i.test(stdout) ? 'ok' : 'failed';
  // No ping binary, or not allowed to open raw sockets here.
  if (exitCode === undefined || /not found|Operation not permitted|ENOENT|not recognized/i.test(errors)) return 'unavailable';
  return 'failed';
}

/** Abortable wait: rejects with CancelledError when the signal fires (now or later). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
