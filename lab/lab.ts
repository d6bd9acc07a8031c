/**
 * `npm run lab -- up [--scale N,M,K] [--openssh|--inprocess] [--time-scale F]`, `down`, `status`,
 * `fault <json>`: the simulated homelab's life cycle. Everything lives under the git-ignored `.lab/`
 * of the repository. `up` starts a background supervisor (own session, pid file, `.lab/lab.log`)
 * that seeds the cluster, starts S3 (Ceph radosgw), the SSH servers and the guests' services, and
 * keeps them running; `up` returns once the supervisor reports ready. `down` stops exactly what was
 * recorded and verifies that nothing of the lab is left.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultHomelab, LAB_SSH_PORT, S3_BACKEND, type HomelabScale } from './homelab';
import { isAlive, startCeph, stopCeph, tcpOpen } from './s3/ceph';
import { ensureVersionedBucket, s3Client, STATE_BUCKETS, STATE_KEY } from './s3/buckets';
import { buildStateHistory, seedStateHistories } from './seed/states';
import { readPidFile, startSshd, writeSshMaterial, type SshNode } from './openssh/sshd';
import { writeWorkspace } from './workspace';
import type { ClusterSpec } from './pve/spec';
import { seedCluster } from './pve/seed';
import { writeNodeTools } from './pve/tools';
import { startGuestServices } from './pve/services';
import { startInProcessSsh } from './pve/inprocessSsh';
import { clearFaults, injectFault } from './pve/control';
import { setGuestStatus } from './pve/model';

// ---------------------------------------------------------------------------------------------
// Paths

export interface LabPaths {
  readonly repo: string;
  readonly lab: string;
  readonly state: string;
  readonly bin: string;
  readonly nodes: string;
  readonly ssh: string;
  readonly ceph: string;
  readonly workspace: string;
  readonly env: string;
  readonly log: string;
  readonly supervisorPid: string;
  readonly pids: string;
  readonly ready: string;
  readonly failed: string;
  readonly states: string;
  readonly tfFaults: string;
}

/** The repository root: the folder holding package.json above this bundle (out/lab) or source (lab/). */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'lab'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export function labPaths(repo = repoRoot()): LabPaths {
  const lab = path.join(repo, '.lab');
  // Ceph admin sockets must fit a UNIX socket path: fall back to a short /tmp folder.
  const cephDir = Buffer.byteLength(path.join(lab, 'ceph', 'run', 'client.rgw.a.asok')) < 100 ? path.join(lab, 'ceph') : `/tmp/lifeboat-ceph-${Buffer.from(lab).toString('hex').slice(-12)}`;
  return {
    repo, lab,
    state: path.join(lab, 'pve'),
    bin: path.join(lab, 'bin'),
    nodes: path.join(lab, 'nodes'),
    ssh: path.join(lab, 'ssh'),
    ceph: cephDir,
    workspace: path.join(lab, 'workspace'),
    env: path.join(lab, 'env'),
    log: path.join(lab, 'lab.log'),
    supervisorPid: path.join(lab, 'supervisor.pid'),
    pids: path.join(lab, 'pids.json'),
    ready: path.join(lab, 'ready.json'),
    failed: path.join(lab, 'failed'),
    states: path.join(lab, 'states.json'),
    tfFaults: path.join(lab, 'terraform-faults.json'),
  };
}

/** Where the lab's "MinIO" answers: the minio container guest's tcp-proxy. */
export const S3_LAB_ENDPOINT = { host: '127.20.0.52', port: 9000 } as const;

export interface UpOptions {
  readonly scale?: HomelabScale;
  readonly mode: 'openssh' | 'inprocess';
  readonly timeScale?: number;
}

export interface ReadyInfo {
  readonly mode: 'openssh' | 'inprocess';
  readonly timeScale?: number;
  readonly scale?: HomelabScale;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly nodes: readonly { name: string; address: string; labAddress: string; port: number }[];
  readonly guests: number;
  readonly backups: number;
  readonly s3: { endpoint: string; backend: string; accessKey: string; buckets: readonly string[] };
  readonly workspace: string;
  readonly env: string;
}

interface PidsDoc {
  supervisor?: number;
  ceph: number[];
  sshd: Record<string, number>;
}

const log = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readPids(p: LabPaths): PidsDoc {
  try {
    return JSON.parse(readFileSync(p.pids, 'utf8')) as PidsDoc;
  } catch {
    return { ceph: [], sshd: {} };
  }
}

function writePids(p: LabPaths, doc: PidsDoc): void {
  writeFileSync(p.pids, JSON.stringify(doc, null, 2) + '\n');
}

function parseUpArgs(argv: readonly string[]): UpOptions {
  let scale: HomelabScale | undefined;
  let mode: 'openssh' | 'inprocess' = 'openssh';
  let timeScale: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--openssh') mode = 'openssh';
    else if (a === '--inprocess') mode = 'inprocess';
    else if (a.startsWith('--scale')) {
      const [n, m, k] = value().split(',').map(Number);
      if (!n || !m || !k) throw new Error('--scale takes N,M,K (nodes, guests, backups per guest), e.g. 3,100,30');
      scale = { nodes: n, guests: m, backups: k };
    } else if (a.startsWith('--time-scale')) {
      timeScale = Number(value());
      if (!(timeScale > 0)) throw new Error('--time-scale takes a positive factor, e.g. 0.05');
    } else throw new Error(`unknown option ${a}`);
  }
  return { ...(scale ? { scale } : {}), mode, ...(timeScale !== undefined ? { timeScale } : {}) };
}

function upArgs(o: UpOptions): string[] {
  return [
    o.mode === 'inprocess' ? '--inprocess' : '--openssh',
    ...(o.scale ? ['--scale', `${o.scale.nodes},${o.scale.guests},${o.scale.backups}`] : []),
    ...(o.timeScale !== undefined ? ['--time-scale', String(o.timeScale)] : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// up: spawn the supervisor and wait for it

function supervisorAlive(p: LabPaths): number | undefined {
  const pid = readPidFile(p.supervisorPid);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

export async function up(options: UpOptions, p = labPaths()): Promise<ReadyInfo> {
  const t0 = Date.now();
  if (supervisorAlive(p) !== undefined || existsSync(p.pids)) {
    console.log('A lab is running (or was not stopped cleanly): stopping it first.');
    await down(p, { quiet: true });
  }
  for (const f of [path.join(p.repo, 'out', 'lab', 'lab.cjs'), path.join(p.repo, 'out', 'lab', 'pve.cjs'), path.join(p.repo, 'out', 'lab', 'terraform.cjs')]) {
    if (!existsSync(f)) throw new Error(`${path.relative(p.repo, f)} is missing: build first (node esbuild.mjs, or use npm run lab -- up)`);
  }
  mkdirSync(p.lab, { recursive: true });
  for (const f of [p.ready, p.failed]) rmSync(f, { force: true });
  writeFileSync(p.log, '');
  const fd = openSync(p.log, 'a');
  const child = spawn(process.execPath, [path.join(p.repo, 'out', 'lab', 'lab.cjs'), 'supervise', ...upArgs(options)], {
    cwd: p.repo, detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, LIFEBOAT_LAB_SUPERVISOR: p.lab },
  });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the lab supervisor');
  writeFileSync(p.supervisorPid, String(child.pid) + '\n');
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    if (existsSync(p.ready)) {
      const info = JSON.parse(readFileSync(p.ready, 'utf8')) as ReadyInfo;
      printSummary(info, Date.now() - t0, p);
      return info;
    }
    if (existsSync(p.failed) || !isAlive(child.pid)) {
      const why = existsSync(p.failed) ? readFileSync(p.failed, 'utf8') : 'the supervisor exited';
      await down(p, { quiet: true });
      throw new Error(`lab up failed: ${why.trim()}\n--- last lines of ${p.log}:\n${tail(p.log, 15)}`);
    }
    await sleep(100);
  }
  await down(p, { quiet: true });
  throw new Error(`lab up timed out; see ${p.log}`);
}

function tail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

function printSummary(info: ReadyInfo, ms: number, p: LabPaths): void {
  const rel = (f: string) => path.relative(process.cwd(), f) || '.';
  console.log(`\nLifeboat lab is up (${(ms / 1000).toFixed(1)} s, ${info.mode === 'openssh' ? 'Debian OpenSSH' : 'in-process SSH'}).`);
  console.log(`  Nodes:     ${info.nodes.map((n) => `${n.name} ${n.address} -> ssh ${n.labAddress}:${n.port}`).join('\n             ')}`);
  console.log(`  Guests:    ${info.guests} (${info.backups} backup archives)`);
  console.log(`  S3:        ${info.s3.endpoint} (the minio container 302's proxy to radosgw ${info.s3.backend}); buckets ${info.s3.buckets.join(', ')}`);
  console.log(`  Workspace: ${rel(info.workspace)}`);
  console.log(`  Log:       ${rel(p.log)}`);
  console.log(`\n  source ${rel(info.env)}   # ssh -F $LIFEBOAT_SSH_CONFIG alpha, terraform, lifeboat`);
  console.log(`  npm run lab -- down     # stops everything\n`);
}

// ---------------------------------------------------------------------------------------------
// The supervisor: builds and runs the lab, stops it on SIGTERM/SIGINT.

async function supervise(options: UpOptions, p = labPaths()): Promise<void> {
  const t0 = Date.now();
  const pids: PidsDoc = { supervisor: process.pid, ceph: [], sshd: {} };
  const closers: (() => Promise<void> | void)[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('supervisor: stopping');
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (e) {
        log(`supervisor: stop step failed: ${(e as Error).message}`);
      }
    }
    stopCeph(p.ceph);
    for (const pid of Object.values(pids.sshd)) killQuietly(pid, 'SIGTERM');
    log('supervisor: stopped');
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  try {
    // A fresh lab: wipe everything but the log and the supervisor's pid file.
    for (const e of existsSync(p.lab) ? readdirSync(p.lab) : []) {
      if (!['lab.log', 'supervisor.pid'].includes(e)) rmSync(path.join(p.lab, e), { recursive: true, force: true });
    }
    rmSync(p.ceph, { recursive: true, force: true });
    for (const d of [p.state, p.bin, p.nodes, p.ssh]) mkdirSync(d, { recursive: true });
    writePids(p, pids);
    const now = new Date();
    const spec = defaultHomelab({ ...(options.scale ? { scale: options.scale } : {}), now });
    const accessKey = 'admin'; // the sample's minio.root_user
    const secretKey = randomBytes(15).toString('base64url');
    log(`supervisor: ${spec.nodes.length} nodes, ${spec.guests.length} guests, mode ${options.mode}`);

    // Two parallel tracks: S3 (Ceph start, buckets, state history) and the cluster (seed, SSH
    // servers, guest services). Ceph is the longest part of start-up.
    const s3Track = (async () => {
      const ceph = await startCeph({ dir: p.ceph, accessKey, secretKey, log });
      pids.ceph = [ceph.pids.mon, ceph.pids.osd, ceph.pids.rgw];
      writePids(p, pids);
      closers.push(() => void stopCeph(p.ceph));
      const s3 = s3Client({ host: ceph.endpoint.host, port: ceph.endpoint.port, accessKey, secretKey });
      await Promise.all(STATE_BUCKETS.map((b) => ensureVersionedBucket(s3, b)));
      const histories = await seedStateHistories(s3, spec);
      writeFileSync(p.states, JSON.stringify(histories, null, 2) + '\n');
      log(`state history written (${histories.map((h) => `${h.bucket}: ${h.versions.length}`).join(', ')})`);
    })();
    const sshNodes: SshNode[] = spec.nodes.map((n) => ({ name: n.name, address: n.address, labAddress: n.labAddress, port: LAB_SSH_PORT }));
    const clusterTrack = (async () => {
      const t = Date.now();
      await seedCluster(p.state, spec, now);
      log(`cluster seeded (${Date.now() - t} ms)`);
      // SSH: keys, known_hosts, client config; node tools; one server per node.
      const keys = writeSshMaterial(p.ssh, sshNodes);
      const pveScript = path.join(p.repo, 'out', 'lab', 'pve.cjs');
      const extraEnv: Record<string, string> = options.timeScale !== undefined ? { PVE_SIM_TIME_SCALE: String(options.timeScale) } : {};
      if (options.timeScale !== undefined) process.env['PVE_SIM_TIME_SCALE'] = String(options.timeScale);
      for (const n of sshNodes) {
        const binDir = path.join(p.nodes, n.name, 'bin');
        mkdirSync(binDir, { recursive: true });
        await writeNodeTools(binDir, { node: n.name, stateDir: p.state, nodeExecutable: process.execPath, pveScript });
      }
      if (options.mode === 'openssh') {
        await Promise.all(sshNodes.map(async (n) => {
          const dir = path.join(p.nodes, n.name);
          const pid = await startSshd({ node: n, dir, binDir: path.join(dir, 'bin'), stateDir: p.state, hostKeyFile: keys.hostKeys[n.name]?.keyFile as string, authorizedKeys: keys.authorizedKeys, extraEnv });
          pids.sshd[n.name] = pid;
          writePids(p, pids);
        }));
        log(`OpenSSH: ${sshNodes.length} sshd on port ${LAB_SSH_PORT}`);
      } else {
        for (const n of sshNodes) {
          const server = await startInProcessSsh({
            node: n.name, host: n.labAddress, port: n.port,
            hostKeyPem: readFileSync(keys.hostKeys[n.name]?.keyFile as string, 'utf8'),
            authorizedPublicKey: keys.clientPub,
            binDir: path.join(p.nodes, n.name, 'bin'), stateDir: p.state,
          });
          closers.push(() => closeQuietly(server));
        }
        log(`in-process SSH: ${sshNodes.length} servers on port ${LAB_SSH_PORT}`);
      }
      // The guests' network services (ssh banners, monitoring http, the minio container's S3 proxy).
      const services = await startGuestServices(p.state, { log });
      closers.push(() => closeQuietly(services));
      return keys;
    })();
    const [, keys] = await Promise.all([s3Track, clusterTrack]);
    await waitUntil(() => tcpOpen(S3_LAB_ENDPOINT.host, S3_LAB_ENDPOINT.port, 500), 15000, `the minio container's proxy ${S3_LAB_ENDPOINT.host}:${S3_LAB_ENDPOINT.port}`);

    // The operator's workspace, the env file, the shims.
    writeWorkspace(samplePath(p), p.workspace, spec);
    writeMonitoringLocalState(p, spec);
    writeShims(p);
    writeEnvFile(p, keys, accessKey, secretKey);

    const info: ReadyInfo = {
      mode: options.mode,
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
      ...(options.scale ? { scale: options.scale } : {}),
      startedAt: new Date(t0).toISOString(),
      durationMs: Date.now() - t0,
      nodes: sshNodes.map((n) => ({ name: n.name, address: n.address, labAddress: n.labAddress, port: n.port })),
      guests: spec.guests.length,
      backups: spec.guests.reduce((s, g) => s + g.backups.length, 0),
      s3: { endpoint: `http://${S3_LAB_ENDPOINT.host}:${S3_LAB_ENDPOINT.port}`, backend: `http://${S3_BACKEND.host}:${S3_BACKEND.port}`, accessKey, buckets: [...STATE_BUCKETS] },
      workspace: p.workspace,
      env: p.env,
    };
    writeFileSync(p.ready, JSON.stringify(info, null, 2) + '\n');
    log(`lab ready in ${Date.now() - t0} ms`);
  } catch (e) {
    log(`supervisor: start failed: ${(e as Error).stack ?? String(e)}`);
    writeFileSync(p.failed, (e as Error).message + '\n');
    await stop(1);
  }
  // Keep the event loop alive (the guest services and in-process SSH servers live here).
  setInterval(() => undefined, 1 << 30);
}

async function waitUntil(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

async function closeQuietly(x: unknown): Promise<void> {
  const o = x as { close?: () => unknown; stop?: () => unknown } | undefined;
  try {
    if (typeof o?.close === 'function') await o.close();
    else if (typeof o?.stop === 'function') await o.stop();
  } catch {
    /* closing anyway */
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

export function samplePath(p: LabPaths): string {
  return path.resolve(p.repo, '..', 'shared', 'examples', 'homelab');
}

/** The monitoring environment's backend is commented out: its state is the local terraform.tfstate. */
function writeMonitoringLocalState(p: LabPaths, spec: ClusterSpec): void {
  const dir = path.join(p.workspace, 'infrastructure', 'proxmox', 'environments', 'monitoring');
  if (!existsSync(dir)) return;
  const history = buildStateHistory(spec, 'monitoring');
  const current = history[history.length - 1];
  if (current) writeFileSync(path.join(dir, 'terraform.tfstate'), current.body);
}

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function writeShims(p: LabPaths): void {
  mkdirSync(p.bin, { recursive: true });
  const node = process.execPath;
  writeFileSync(path.join(p.bin, 'terraform'), `#!/bin/sh\n# The lab's Terraform stand-in (docs/lab.md).\nLIFEBOAT_LAB_DIR=${sh(p.lab)}\nexport LIFEBOAT_LAB_DIR\nexec ${sh(node)} ${sh(path.join(p.repo, 'out', 'lab', 'terraform.cjs'))} "$@"\n`, { mode: 0o755 });
  writeFileSync(path.join(p.bin, 'lifeboat'), `#!/bin/sh\nexec ${sh(node)} ${sh(path.join(p.repo, 'dist', 'cli.js'))} "$@"\n`, { mode: 0o755 });
}

function writeEnvFile(p: LabPaths, keys: { clientKey: string; knownHosts: string; config: string }, accessKey: string, secretKey: string): void {
  const vars: [string, string][] = [
    ['LIFEBOAT_LAB', '1'],
    ['LIFEBOAT_LAB_DIR', p.lab],
    ['LIFEBOAT_SSH_CONFIG', keys.config],
    ['LIFEBOAT_KNOWN_HOSTS', keys.knownHosts],
    ['LIFEBOAT_SSH_KEY', keys.clientKey],
    ['AWS_ACCESS_KEY_ID', accessKey],
    ['AWS_SECRET_ACCESS_KEY', secretKey],
    ['MINIO_ROOT_USER', accessKey],
    ['MINIO_ROOT_PASSWORD', secretKey],
    ['GRAFANA_ADMIN_PASSWORD', 'lab-grafana-admin'],
  ];
  const lines = ['# Written by `npm run lab -- up`: source it to reach the simulated homelab.', ...vars.map(([k, v]) => `export ${k}=${sh(v)}`), `export PATH=${sh(p.bin)}:"$PATH"`, ''];
  writeFileSync(p.env, lines.join('\n'), { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------
// down

/** Processes of this lab that are still alive: recorded PIDs, and any process whose command line
 *  or environment names this lab's directory (sshd sessions, task workers, tools). */
export function labProcesses(p = labPaths()): number[] {
  const found = new Set<number>();
  const recorded = readPids(p);
  const sup = readPidFile(p.supervisorPid);
  for (const pid of [...(sup ? [sup] : []), ...recorded.ceph, ...Object.values(recorded.sshd)]) if (isAlive(pid)) found.add(pid);
  const markers = [p.lab, p.ceph];
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === process.pid || pid === process.ppid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let environ = '';
      try {
        environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        /* not readable */
      }
      const env = environ.split('\0');
      // Only the lab's own programs that name this lab (not, say, an editor opened on .lab/workspace).
      const labProgram = /^(\/usr\/sbin\/sshd|sshd:|\S*ceph-(mon|osd)|\S*radosgw)\b/.test(cmd) || cmd.includes(path.join(p.repo, 'out', 'lab') + '/');
      const ours = (labProgram && markers.some((m) => cmd.includes(m + '/'))) || env.includes(`PVE_SIM_STATE=${p.state}`) || env.includes(`LIFEBOAT_LAB_SUPERVISOR=${p.lab}`);
      if (ours && isAlive(pid)) found.add(pid);
    } catch {
      /* exited */
    }
  }
  return [...found];
}

export async function down(p = labPaths(), opts: { quiet?: boolean } = {}): Promise<{ stopped: number[]; remaining: number[]; ms: number }> {
  const t0 = Date.now();
  const say = (s: string) => {
    if (!opts.quiet) console.log(s);
  };
  const recorded = readPids(p);
  const sup = readPidFile(p.supervisorPid);
  const stopped: number[] = [];
  // 1. Ask the supervisor to stop what it runs (it SIGKILLs Ceph, SIGTERMs sshd).
  if (sup !== undefined && isAlive(sup)) {
    killQuietly(sup, 'SIGTERM');
    stopped.push(sup);
    for (let i = 0; i < 30 && isAlive(sup); i++) await sleep(100);
  }
  // 2. Whatever is recorded, directly (the supervisor may have died).
  stopCeph(p.ceph);
  for (const pid of recorded.ceph) killQuietly(pid, 'SIGKILL');
  for (const pid of Object.values(recorded.sshd)) killQuietly(pid, 'SIGTERM');
  for (const pid of [...(sup ? [sup] : []), ...recorded.ceph, ...Object.values(recorded.sshd)]) {
    // Each was started in its own session: its group holds its children.
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* no such group */
    }
    if (!stopped.includes(pid)) stopped.push(pid);
  }
  // 3. Verify; kill stragglers of this lab (sshd sessions, tool processes).
  let remaining: number[] = [];
  for (let i = 0; i < 30; i++) {
    remaining = labProcesses(p);
    if (remaining.length === 0) break;
    for (const pid of remaining) killQuietly(pid, 'SIGKILL');
    await sleep(100);
  }
  for (const f of [p.pids, p.supervisorPid, p.ready]) rmSync(f, { force: true });
  const ms = Date.now() - t0;
  if (remaining.length > 0) say(`lab down: processes still alive: ${remaining.join(' ')}`);
  else say(stopped.length > 0 ? `Lab stopped (${stopped.length} processes, ${(ms / 1000).toFixed(1)} s); nothing of it is left running.` : 'No lab was running.');
  return { stopped, remaining, ms };
}

// ---------------------------------------------------------------------------------------------
// status, fault

async function status(p = labPaths()): Promise<number> {
  const sup = supervisorAlive(p);
  if (!sup || !existsSync(p.ready)) {
    console.log(sup ? `Lab starting (supervisor ${sup}); see ${p.log}` : 'Lab is down.');
    return sup ? 0 : 3;
  }
  const info = JSON.parse(readFileSync(p.ready, 'utf8')) as ReadyInfo;
  const pids = readPids(p);
  console.log(`Lab is up since ${info.startedAt} (${info.mode}), supervisor pid ${sup}.`);
  for (const n of info.nodes) {
    const open = await tcpOpen(n.labAddress, n.port, 500);
    console.log(`  node ${n.name.padEnd(8)} ${n.labAddress}:${n.port} ${open ? 'ssh up' : 'ssh DOWN'}${pids.sshd[n.name] ? ` (sshd ${pids.sshd[n.name]})` : ''}`);
  }
  const s3up = await tcpOpen(S3_LAB_ENDPOINT.host, S3_LAB_ENDPOINT.port, 500);
  const rgw = await tcpOpen(S3_BACKEND.host, S3_BACKEND.port, 500);
  console.log(`  S3 ${info.s3.endpoint} ${s3up ? 'up' : 'DOWN (minio container stopped?)'}; radosgw ${rgw ? 'up' : 'DOWN'} (pids ${pids.ceph.join(' ')})`);
  console.log(`  source ${p.env}`);
  return 0;
}

/**
 * `fault <json>`: the simulator's faults (see lab/pve/faults.ts) plus the lab's own:
 * `{"kind":"s3-down"}` / `{"kind":"s3-up"}` (stop/start the minio container 302),
 * `{"kind":"state-lock","env":"prod"}` (a held `.tflock`), `{"kind":"terraform","apply":"message"}`
 * (Terraform stand-in faults), `{"kind":"change-host-key","node":"alpha"}` (OpenSSH mode), `"clear"`.
 */
export async function fault(json: string, p = labPaths()): Promise<string> {
  const f = (json.trim() === 'clear' ? { kind: 'clear' } : JSON.parse(json)) as { kind: string; [k: string]: unknown };
  switch (f.kind) {
    case 'clear': {
      await clearFaults(p.state);
      rmSync(p.tfFaults, { force: true });
      return 'faults cleared';
    }
    case 's3-down':
    case 's3-up':
      await setGuestStatus(p.state, 302, f.kind === 's3-down' ? 'stopped' : 'running');
      return `minio container 302 ${f.kind === 's3-down' ? 'stopped' : 'started'}`;
    case 'terraform': {
      const { kind: _kind, ...rest } = f;
      const current = existsSync(p.tfFaults) ? (JSON.parse(readFileSync(p.tfFaults, 'utf8')) as Record<string, unknown>) : {};
      writeFileSync(p.tfFaults, JSON.stringify({ ...current, ...rest }, null, 2) + '\n');
      return `terraform faults: ${JSON.stringify({ ...current, ...rest })}`;
    }
    case 'state-lock': {
      const env = String(f['env'] ?? 'prod');
      const keys = readEnvFile(p);
      const s3 = s3Client({ host: S3_BACKEND.host, port: S3_BACKEND.port, accessKey: keys['AWS_ACCESS_KEY_ID'] ?? '', secretKey: keys['AWS_SECRET_ACCESS_KEY'] ?? '' });
      const lock = JSON.stringify({ ID: 'a1b2c3d4-0000-4000-8000-00000000lock', Operation: 'OperationTypeApply', Info: '', Who: 'operator@laptop', Version: '1.9.8', Created: new Date().toISOString(), Path: `tfstate-${env}/${STATE_KEY}` });
      await s3.putObject(`tfstate-${env}`, `${STATE_KEY}.tflock`, Buffer.from(lock), Buffer.byteLength(lock));
      return `state lock held on tfstate-${env}/${STATE_KEY}.tflock`;
    }
    case 'change-host-key': {
      const node = String(f['node']);
      const pids = readPids(p);
      const pid = pids.sshd[node];
      if (!pid) throw new Error(`change-host-key needs the OpenSSH mode and a known node (got ${node})`);
      const keyFile = path.join(p.ssh, `ssh_host_ed25519_key.${node}`);
      rmSync(keyFile, { force: true });
      rmSync(`${keyFile}.pub`, { force: true });
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${node}-reinstalled`, '-f', keyFile], { stdio: 'ignore' });
      killQuietly(pid, 'SIGTERM');
      for (let i = 0; i < 20 && isAlive(pid); i++) await sleep(50);
      const info = JSON.parse(readFileSync(p.ready, 'utf8')) as ReadyInfo;
      const n = info.nodes.find((x) => x.name === node);
      if (!n) throw new Error(`no node ${node}`);
      const dir = path.join(p.nodes, node);
      // The restarted node keeps the lab's time scale, or its tasks would run at full length.
      const extraEnv: Record<string, string> = info.timeScale !== undefined ? { PVE_SIM_TIME_SCALE: String(info.timeScale) } : {};
      const newPid = await startSshd({ node: n, dir, binDir: path.join(dir, 'bin'), stateDir: p.state, hostKeyFile: keyFile, authorizedKeys: path.join(p.ssh, 'authorized_keys'), extraEnv });
      pids.sshd[node] = newPid;
      writePids(p, pids);
      return `host key of ${node} changed (known_hosts not updated)`;
    }
    default: {
      const id = await injectFault(p.state, f as never);
      return `fault injected: ${JSON.stringify(f)}${id ? ` (id ${String(id)})` : ''}`;
    }
  }
}

export function readEnvFile(p = labPaths()): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(p.env)) return out;
  for (const line of readFileSync(p.env, 'utf8').split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)='(.*)'$/.exec(line);
    if (m) out[m[1] as string] = (m[2] as string).replace(/'\\''/g, "'");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// For tests: reuse a running lab or start one (built first), stopped when the process exits.

export interface LabContext {
  readonly paths: LabPaths;
  readonly info: ReadyInfo;
  readonly env: Record<string, string>;
  /** process.env plus the lab's .lab/env (PATH with the stand-in first). */
  readonly processEnv: NodeJS.ProcessEnv;
  readonly startedHere: boolean;
}

let exitHookInstalled = false;
let startedByThisProcess = false;

/** A lab is up (supervisor alive and ready). */
export function labIsUp(p = labPaths()): boolean {
  return supervisorAlive(p) !== undefined && existsSync(p.ready);
}

/** Whether the running lab was started by this process (ensureLab / up in tests). */
export function labStartedHere(): boolean {
  return startedByThisProcess;
}

/** Stops the lab when this process exits (tests that started it). */
export function stopLabOnExit(p = labPaths()): void {
  startedByThisProcess = true;
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    try {
      execFileSync(process.execPath, [path.join(p.repo, 'out', 'lab', 'lab.cjs'), 'down'], { stdio: 'ignore', timeout: 30000 });
    } catch {
      /* best effort */
    }
  });
}

export async function ensureLab(options: Partial<UpOptions> = {}, p = labPaths()): Promise<LabContext> {
  let startedHere = false;
  if (!(supervisorAlive(p) !== undefined && existsSync(p.ready))) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: p.repo, stdio: 'pipe' });
    await up({ mode: options.mode ?? 'openssh', timeScale: options.timeScale ?? 0.02, ...(options.scale ? { scale: options.scale } : {}) }, p);
    startedHere = true;
    startedByThisProcess = true;
    stopLabOnExit(p);
  }
  const info = JSON.parse(readFileSync(p.ready, 'utf8')) as ReadyInfo;
  const env = readEnvFile(p);
  const processEnv = { ...process.env, ...env, PATH: `${p.bin}:${process.env['PATH'] ?? ''}` };
  return { paths: p, info, env, processEnv, startedHere };
}

// ---------------------------------------------------------------------------------------------

const USAGE = `Usage: npm run lab -- <command>
  up [--scale N,M,K] [--openssh|--inprocess] [--time-scale F]   start the simulated homelab (default: OpenSSH)
  down                                                            stop everything the lab started
  status                                                          what is running
  fault '<json>' | clear                                          inject a fault (see docs/lab.md)`;

export async function main(argv: readonly string[]): Promise<number> {
  // `npm run lab -- status | head -1` must not end in an EPIPE stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up':
      await up(parseUpArgs(rest));
      return 0;
    case 'supervise':
      await supervise(parseUpArgs(rest));
      return -1;
    case 'down': {
      const r = await down();
      return r.remaining.length > 0 ? 1 : 0;
    }
    case 'status':
      return status();
    case 'fault':
      if (!rest[0]) throw new Error("fault needs a JSON argument, e.g. fault '{\"kind\":\"s3-down\"}'");
      console.log(await fault(rest.join(' ')));
      return 0;
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    },
  );
}
