/**
 * Makes running guests really answer on the network: for every running guest with a lab identity,
 * its services (GuestSpec.services) listen on its `labAddress` (127.x.y.z; root may bind port 22
 * there) — an SSH banner, an HTTP server with fixed routes, or a TCP proxy (e.g. the MinIO CT to
 * the lab's S3 server). The model is polled (~200 ms); services open after a short boot delay
 * (scaled) and close when the guest stops or disappears.
 */
import * as net from 'node:net';
import * as http from 'node:http';
import { readState } from './model';
import type { GuestServiceSpec } from './spec';
import { timeScale } from './cli';

/** How long after `start` a guest's services come up (OS boot), before the time scale. */
export const BOOT_DELAY_MS = { qemu: 8000, lxc: 2500 } as const;

export const SSH_BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';

interface Listener {
  close(): Promise<void>;
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

function tracked(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  return sockets;
}

async function open(host: string, svc: GuestServiceSpec): Promise<Listener> {
  let server: net.Server;
  if (svc.kind === 'ssh-banner') {
    server = net.createServer((sock) => {
      sock.write(SSH_BANNER);
      // Like sshd, wait for the client's identification; close after a grace period.
      sock.setTimeout(10000, () => sock.destroy());
      sock.on('data', () => undefined);
    });
  } else if (svc.kind === 'http') {
    server = http.createServer((req, res) => {
      const route = svc.routes[(req.url ?? '/').split('?')[0] ?? '/'];
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain', server: svc.name });
        res.end('404 page not found\n');
        return;
      }
      res.writeHead(route.status, { 'content-type': route.contentType ?? 'text/plain; charset=utf-8', server: svc.name });
      res.end(route.body);
    });
  } else {
    server = net.createServer((sock) => {
      const up = net.connect(svc.target.port, svc.target.host);
      sock.pipe(up).pipe(sock);
      up.on('error', () => sock.destroy());
      sock.on('error', () => up.destroy());
    });
  }
  const sockets = tracked(server);
  await listen(server, host, svc.port);
  return { close: () => closeServer(server, sockets) };
}

/**
 * Starts the watcher. `stop()` closes every listener. Bind failures (address in use — e.g. two
 * guests restored with the same IP, like a real IP conflict) are logged and retried.
 */
export async function startGuestServices(stateDir: string, opts: { log?: (line: string) => void } = {}): Promise<{ stop(): Promise<void> }> {
  const log = opts.log ?? (() => undefined);
  const active = new Map<string, Listener>();
  const pending = new Set<string>();
  const failedAt = new Map<string, number>();
  const warned = new Set<string>();
  let stopped = false;

  const tick = async (): Promise<void> => {
    let want: Map<string, { host: string; svc: GuestServiceSpec; vmid: number }>;
    try {
      const state = readState(stateDir);
      want = new Map();
      for (const g of Object.values(state.guests)) {
        if (g.status !== 'running' || !g.identity) continue;
        // A NIC set `link_down=1` (e.g. a restored copy kept off the network) answers nothing.
        if (/(^|,)link_down=1/.test(g.config.net0 ?? '')) continue;
        if (Date.now() - (g.startedAt ?? 0) < BOOT_DELAY_MS[g.type] * timeScale()) continue;
        for (const svc of g.identity.services) want.set(`${g.vmid}|${g.identity.labAddress}|${svc.kind}|${svc.port}`, { host: g.identity.labAddress, svc, vmid: g.vmid });
      }
    } catch (e) {
      log(`guest services: cannot read the model: ${(e as Error).message}`);
      return;
    }
    for (const [key, l] of active) {
      if (want.has(key)) continue;
      active.delete(key);
      await l.close();
      log(`guest services: closed ${key}`);
    }
    for (const [key, w] of want) {
      if (active.has(key) || pending.has(key) || Date.now() - (failedAt.get(key) ?? 0) < 2000) continue;
      pending.add(key);
      try {
        const l = await open(w.host, w.svc);
        if (stopped) await l.close();
        else {
          active.set(key, l);
          log(`guest services: VM ${w.vmid} ${w.svc.kind} on ${w.host}:${w.svc.port}`);
        }
      } catch (e) {
        failedAt.set(key, Date.now());
        // Logged once per listener and reason: a lasting IP conflict would otherwise flood the log.
        const why = `${key}|${(e as Error).message}`;
        if (!warned.has(why)) log(`guest services: VM ${w.vmid} cannot listen on ${w.host}:${w.svc.port}: ${(e as Error).message} (retrying)`);
        warned.add(why);
      } finally {
        pending.delete(key);
      }
    }
  };

  let running: Promise<void> = tick();
  const timer = setInterval(() => {
    running = running.then(tick);
  }, 200);
  await running;
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await Promise.all([...active.values()].map((l) => l.close()));
      active.clear();
    },
  };
}
