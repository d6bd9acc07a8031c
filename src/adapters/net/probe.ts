/**
 * Reachability probes from the operator's machine: a TCP connect (what "the guest answers" means
 * for an SSH service) and an ICMP ping through the system's `ping` when it can run here.
 */
import * as net from 'node:net';
import { execa } from 'execa';
import type { NetworkProbe } from '../../core';

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
      if (!allowed(host)) return Promise.resolve(false);
      return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean) => {
          socket.destroy();
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(ok);
        };
        const onAbort = () => done(false);
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
        const cause = (err as { cause?: { code?: string } }).cause;
        return { error: cause?.code ?? (timeout.aborted ? 'ETIMEDOUT' : (err as Error).name) };
      }
    },
    async ping(host, timeoutMs, signal) {
      if (!allowed(host)) return 'unavailable';
      try {
        const r = await execa('ping', ['-c', '1', '-W', String(Math.max(1, Math.round(timeoutMs / 1000))), host], { reject: false, timeout: timeoutMs + 1000, cancelSignal: signal, stdin: 'ignore' });
        if (r.exitCode === 0) return 'ok';
        // No ping binary, or not allowed to open raw sockets here.
        if (r.exitCode === undefined || /not found|Operation not permitted|ENOENT/i.test(`${r.stderr}${r.message}`)) return 'unavailable';
        return 'failed';
      } catch {
        return 'unavailable';
      }
    },
  };
}

/** The lab's rule: loopback (127.0.0.0/8) only. */
export function loopbackOnly(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === 'localhost' || host === '::1';
}

/** Abortable wait. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
