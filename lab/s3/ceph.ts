/**
 * The lab's S3 server: Debian's Ceph radosgw (a production S3 implementation with real bucket
 * versioning) on one mon + one memstore OSD, as measured in ../shared/reference/test-servers.md.
 * Everything lives under one short directory; nothing in /etc/ceph or /var/lib/ceph is touched.
 *
 * Ports: rgw (beast) 127.0.0.1:19010, mon 19011 (v2) / 19012 (v1), OSD 19060-19079.
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const RGW_PORT = 19010;
export const MON_PORTS = { v2: 19011, v1: 19012 } as const;
export const OSD_PORT_RANGE = { min: 19060, max: 19079 } as const;

export interface CephOptions {
  readonly dir: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly log?: (line: string) => void;
}

export interface CephHandle {
  readonly endpoint: { host: string; port: number };
  readonly accessKey: string;
  readonly secretKey: string;
  readonly pids: { mon: number; osd: number; rgw: number };
  readonly dir: string;
}

export function cephConf(dir: string, fsid: string): string {
  return `[global]
fsid = ${fsid}
mon_host = [v2:127.0.0.1:${MON_PORTS.v2},v1:127.0.0.1:${MON_PORTS.v1}]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_port_min = ${OSD_PORT_RANGE.min}
ms_bind_port_max = ${OSD_PORT_RANGE.max}
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = ${dir}/run
admin_socket = ${dir}/run/$name.asok
log_file = ${dir}/log/$name.log
pid_file = ${dir}/run/$name.pid
crash_dir = ${dir}/crash
keyring = ${dir}/keyring
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
paxos_propose_interval = 0.05

[mon]
mon_data = ${dir}/mon/ceph-$id

[osd]
osd_data = ${dir}/osd/ceph-$id
osd_objectstore = memstore
memstore_device_bytes = 1073741824
osd_memory_target = 536870912
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:${RGW_PORT}
rgw_data = ${dir}/rgw
rgw_thread_pool_size = 32
rgw_dns_name = localhost
ms_mon_client_mode = crc
`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process is gone (or a zombie waiting to be reaped: the sandbox init reaps late). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Starts a daemon in its own session (setsid), output appended to `logFile`; returns its PID. */
function daemon(cmd: string, args: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  return child.pid;
}

function logHas(file: string, text: string): boolean {
  try {
    return readFileSync(file, 'utf8').includes(text);
  } catch {
    return false;
  }
}

async function waitFor(what: string, pid: number, check: () => Promise<boolean>, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`${what} (pid ${pid}) died during start-up; see ${logFile}`);
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms; see ${logFile}`);
}

export function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function httpOk(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let data = '';
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.on('data', (d) => (data += d.toString()));
    s.on('close', () => resolve(/^HTTP\/1\.\d 200/.test(data)));
    s.on('error', () => resolve(false));
  });
}

/**
 * Starts mon, osd and rgw from an empty `dir` (wiped first), creates the S3 user, and returns once
 * radosgw answers HTTP. On failure everything started so far is killed.
 */
export async function startCeph(opts: CephOptions): Promise<CephHandle> {
  const { dir, log = () => undefined } = opts;
  if (Buffer.byteLength(path.join(dir, 'run', 'client.rgw.a.asok')) > 100) throw new Error(`Ceph dir too long for UNIX sockets: ${dir}`);
  if (existsSync(path.join(dir, 'pids'))) stopCeph(dir);
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['run', 'log', 'crash', 'mon', 'osd/ceph-0', 'rgw']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (const port of [RGW_PORT, MON_PORTS.v2, MON_PORTS.v1]) {
    if (await tcpOpen('127.0.0.1', port, 300)) throw new Error(`port 127.0.0.1:${port} is already in use (another lab or Ceph still running?)`);
  }
  const conf = path.join(dir, 'ceph.conf');
  const fsid = randomUUID();
  writeFileSync(conf, cephConf(dir, fsid));
  const pids: { mon: number; osd: number; rgw: number } = { mon: 0, osd: 0, rgw: 0 };
  const savePids = () => writeFileSync(path.join(dir, 'pids'), Object.values(pids).filter((p) => p > 0).join('\n') + '\n');
  const t0 = Date.now();
  try {
    await run('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${MON_PORTS.v2},v1:127.0.0.1:${MON_PORTS.v1}]`, path.join(dir, 'monmap')]);
    await run('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
    const monLog = path.join(dir, 'log', 'mon.stdout');
    pids.mon = daemon('ceph-mon', ['-c', conf, '-i', 'a', '-f'], monLog);
    savePids();
    // Readiness from the daemons' own logs: polling with the `ceph` CLI (a Python process per
    // call) costs seconds of CPU on a busy 2-core machine.
    await waitFor('ceph-mon', pids.mon, async () => logHas(path.join(dir, 'log', 'mon.a.log'), 'is new leader'), 30000, monLog);
    log(`ceph-mon up (${Date.now() - t0} ms)`);
    const osdUuid = randomUUID();
    const id = (await run('timeout', ['10', 'ceph', '-c', conf, 'osd', 'new', osdUuid])).stdout.trim();
    await run('ceph-osd', ['-c', conf, '-i', id, '--mkfs', '--osd-uuid', osdUuid]);
    const osdLog = path.join(dir, 'log', 'osd.stdout');
    pids.osd = daemon('ceph-osd', ['-c', conf, '-i', id, '-f'], osdLog);
    savePids();
    await waitFor('ceph-osd', pids.osd, async () => logHas(path.join(dir, 'log', `osd.${id}.log`), 'state: booting -> active'), 40000, osdLog);
    log(`ceph-osd up (${Date.now() - t0} ms)`);
    await run('timeout', ['30', 'radosgw-admin', '-c', conf, '-n', 'client.rgw.a', 'user', 'create', '--uid=lifeboat', '--display-name=Lifeboat lab',
      `--access-key=${opts.accessKey}`, `--secret=${opts.secretKey}`]);
    const rgwLog = path.join(dir, 'log', 'rgw.stdout');
    pids.rgw = daemon('radosgw', ['-c', conf, '-n', 'client.rgw.a', '-f'], rgwLog);
    savePids();
    await waitFor('radosgw', pids.rgw, () => httpOk('127.0.0.1', RGW_PORT), 30000, rgwLog);
    log(`radosgw listening on 127.0.0.1:${RGW_PORT} (${Date.now() - t0} ms)`);
  } catch (e) {
    stopCeph(dir);
    throw e;
  }
  writeFileSync(path.join(dir, 'env'), `S3_ENDPOINT=http://127.0.0.1:${RGW_PORT}\nS3_ACCESS_KEY=${opts.accessKey}\nS3_SECRET_KEY=${opts.secretKey}\nCEPH_CONF=${conf}\n`, { mode: 0o600 });
  return { endpoint: { host: '127.0.0.1', port: RGW_PORT }, accessKey: opts.accessKey, secretKey: opts.secretKey, pids, dir };
}

/** SIGKILLs the recorded PIDs (the cluster is throw-away; SIGTERM makes the OSD wait 5 s). */
export function stopCeph(dir: string): number[] {
  const file = path.join(dir, 'pids');
  if (!existsSync(file)) return [];
  const pids = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmSync(file, { force: true });
  return pids;
}
