/**
 * `seedCluster`: turns a ClusterSpec into a simulator state directory.
 *
 * Layout (all under `stateDir`):
 * - `cluster.json` — the model (nodes, storages, guests with configs/status/locks, jobs, logical
 *   archive sizes); written by atomic rename under `cluster.json.lock` (see store.ts).
 * - `faults.json` — injected faults (control.ts).
 * - `storage/<node>/<storage>/dump/` — a node-local storage's archives and side files;
 *   `storage/shared/<storage>/dump/` — a shared storage (same directory for every node).
 * - `tasks/<node>/<hex>/<UPID>` — task logs (like /var/log/pve/tasks); `tasks/jobs/` — worker hand-off.
 * - `home/<node>/` — HOME for SSH sessions.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClusterSpec, GuestSpec, BackupSpec } from './spec';
import { type ClusterState, type NodeState, addGuest, serializeState, defaultDataFraction, disksOf, guestName, GiB } from './model';
import { type RawArchive, buildRawArchive, writeCorruptArchive, dumpDir, logNameOf, relToState } from './archive';
import { compressFilesInPlace } from './compress';
import { formatUpid, taskLogFile } from './tasks';
import { writeFileAtomic } from './store';
import { humanIec, localDateTime, vzdumpSize } from './format';

/** Parses a node-local (UTC) `YYYY-MM-DDTHH:MM:SS`. */
function parseLocal(time: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(time);
  if (!m) throw new Error(`bad backup time '${time}' (want YYYY-MM-DDTHH:MM:SS)`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/**
 * Creates (or re-creates) the state directory for `spec`: the model, the storage directories and
 * every backup of every guest as a real archive with its side files. Entries of a previous seed
 * in the same directory are removed first. `now` is the lab's "now" (node uptimes, guest start
 * times); backup times come from the spec.
 */
export async function seedCluster(stateDir: string, spec: ClusterSpec, now: Date = new Date()): Promise<void> {
  const dir = path.resolve(stateDir);
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of ['cluster.json', 'cluster.json.lock', 'faults.json', 'faults.json.lock', 'storage', 'tasks', 'home']) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  const nowMs = now.getTime();
  const nodes: NodeState[] = spec.nodes.map((n, i) => ({
    name: n.name,
    address: n.address,
    labAddress: n.labAddress,
    bootedAt: nowMs - (12 + i * 5) * 86400_000,
    storages: n.storages.map((s) => ({ ...s, path: path.join(dir, 'storage', s.shared ? 'shared' : n.name, s.id) })),
  }));
  for (const n of nodes) {
    fs.mkdirSync(path.join(dir, 'home', n.name), { recursive: true });
    fs.mkdirSync(path.join(dir, 'tasks', n.name), { recursive: true });
    for (const s of n.storages) {
      fs.mkdirSync(s.path, { recursive: true });
      if (s.content.includes('backup')) fs.mkdirSync(dumpDir(s), { recursive: true });
      if (s.content.includes('images') || s.content.includes('rootdir')) fs.mkdirSync(path.join(s.path, 'images'), { recursive: true });
    }
  }
  const state: ClusterState = { version: 1, clusterName: spec.clusterName, createdAt: nowMs, nodes, guests: {}, jobs: [...spec.jobs], archives: {}, identities: {}, dataFraction: {} };
  for (const g of spec.guests) {
    if (!nodes.some((n) => n.name === g.node)) throw new Error(`guest ${g.vmid}: no node '${g.node}'`);
    if (state.guests[String(g.vmid)]) throw new Error(`duplicate VMID ${g.vmid}`);
    // Running guests booted a while ago (uptime), stable per guest.
    addGuest(state, g, nowMs - (3600 + (g.vmid % 17) * 7200) * 1000);
  }
  // Build every archive uncompressed, then compress them in batches with the real tools.
  const work = spec.guests.flatMap((g) => g.backups.map((b) => prepareSeedBackup(dir, state, g, b)));
  for (const c of ['zstd', 'gzip', 'lzo'] as const) {
    const batch = work.filter((w) => w.b.compress === c && !w.b.corrupt);
    // Two tool processes in parallel (the lab machines have 2 cores).
    const half = Math.ceil(batch.length / 2);
    await Promise.all([batch.slice(0, half), batch.slice(half)].map((part) => compressFilesInPlace(part.map((w) => w.rawPath), c)));
  }
  const logs = new Map<SeedWork, string[]>();
  for (const w of work) logs.set(w, finishSeedBackup(dir, state, w));
  writeSeedTasks(dir, work, logs);
  writeFileAtomic(path.join(dir, 'cluster.json'), serializeState(state, dir));
}

interface SeedWork {
  readonly g: GuestSpec;
  readonly b: BackupSpec;
  readonly file: string;
  readonly rawPath: string;
  readonly dump: string;
  readonly built: RawArchive;
  readonly disks: string[];
  readonly name: string;
  readonly timeMs: number;
}

function prepareSeedBackup(dir: string, state: ClusterState, g: GuestSpec, b: BackupSpec): SeedWork {
  const node = state.nodes.find((n) => n.name === g.node)!;
  const st = node.storages.find((s) => s.id === b.storage);
  if (!st) throw new Error(`guest ${g.vmid}: backup storage '${b.storage}' does not exist on node '${g.node}'`);
  if (!st.content.includes('backup')) throw new Error(`guest ${g.vmid}: storage '${b.storage}' does not hold backups`);
  const guest = state.guests[String(g.vmid)]!;
  const timeMs = parseLocal(b.time);
  const disks = disksOf(guest.config);
  const dataFraction = state.dataFraction[String(g.vmid)] ?? defaultDataFraction(g.vmid);
  const built = buildRawArchive({ type: g.type, vmid: g.vmid, config: guest.config, timeMs, compression: b.compress, dataFraction, storageType: (id) => node.storages.find((s) => s.id === id)?.type, disks });
  const dump = dumpDir(st);
  const file = path.join(dump, built.filename);
  const rawPath = file.replace(/\.(zst|gz|lzo)$/, '');
  if (b.corrupt) writeCorruptArchive(file, built.raw, b.compress);
  else fs.writeFileSync(rawPath, built.raw);
  return { g, b, file, rawPath, dump, built, disks: disks.map((d) => `${d.key}:${d.storage}:${d.volname}:${Math.round(d.sizeBytes / GiB)}G`), name: guestName(guest), timeMs };
}

function finishSeedBackup(dir: string, state: ClusterState, w: SeedWork): string[] {
  const { g, b, file, built, timeMs } = w;
  state.archives[relToState(dir, file)] = { size: built.logicalSize };
  if (b.notes !== undefined) fs.writeFileSync(`${file}.notes`, b.notes);
  if (b.protected) fs.writeFileSync(`${file}.protected`, '');
  const durSec = Math.max(4, Math.round(3 + built.diskBytes / (3 * GiB)));
  const lines = seedLogLines(g, w.name, file, built, w.disks, durSec, !!b.protected, b.notes !== undefined);
  const logText = lines.map((l, i) => `${localDateTime(timeMs + Math.round((i * durSec * 1000) / lines.length))} INFO: ${l}`).join('\n') + '\n';
  const logFile = path.join(w.dump, logNameOf(built.filename));
  fs.writeFileSync(logFile, logText);
  // mtimes as if written at the end of the backup (pve recomputes ctime from the name anyway).
  const end = new Date(timeMs + durSec * 1000);
  for (const f of [file, `${file}.notes`, logFile]) if (fs.existsSync(f)) fs.utimesSync(f, end, end);
  return logText.trimEnd().split('\n');
}

/**
 * The task history of the seeded backups: one `vzdump` task per node and job run (backups of a
 * node starting within the same hour), with the per-guest lines and `TASK OK`, so
 * `/nodes/<node>/tasks` shows the nightly jobs like on a real node.
 */
function writeSeedTasks(dir: string, work: readonly SeedWork[], logs: Map<SeedWork, string[]>): void {
  const runs = new Map<string, SeedWork[]>();
  for (const w of work) {
    const key = `${w.g.node}|${Math.floor(w.timeMs / 3600_000)}|${w.b.storage}`;
    runs.set(key, [...(runs.get(key) ?? []), w]);
  }
  for (const ws of runs.values()) {
    ws.sort((a, b) => a.timeMs - b.timeMs);
    const first = ws[0]!;
    const startMs = first.timeMs - 2000;
    const seed = Math.floor(startMs / 1000) ^ first.g.vmid;
    const upid = formatUpid({ node: first.g.node, pid: 10000 + (seed % 900000), pstart: 1000000 + (seed % 5000000), starttime: Math.floor(startMs / 1000), type: 'vzdump', id: ws.length === 1 ? String(first.g.vmid) : '', user: 'root@pam' });
    const compress = first.b.compress === 'none' ? '0' : first.b.compress;
    const lines = [`INFO: starting new backup job: vzdump ${ws.map((w) => w.g.vmid).join(' ')} --mode snapshot --storage ${first.b.storage} --compress ${compress} --quiet 1`];
    for (const w of ws) for (const l of logs.get(w) ?? []) lines.push(l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /, ''));
    lines.push(`INFO: Backup job finished successfully`, 'TASK OK');
    const file = taskLogFile(dir, upid);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const last = ws[ws.length - 1]!;
    const end = new Date(last.timeMs + Math.max(4, Math.round(3 + last.built.diskBytes / (3 * GiB))) * 1000);
    fs.utimesSync(file, end, end);
  }
}

function seedLogLines(g: GuestSpec, name: string, file: string, built: { logicalSize: number; diskBytes: number }, disks: string[], durSec: number, prot: boolean, notes: boolean): string[] {
  const l: string[] = [`Starting Backup of VM ${g.vmid} (${g.type})`, `status = ${g.status}`];
  if (g.type === 'qemu') {
    l.push(`VM Name: ${name}`);
    for (const d of disks) {
      const [key, storage, volname, size] = d.split(':');
      l.push(`include disk '${key}' '${storage}:${volname}' ${size}`);
    }
  } else {
    l.push(`CT Name: ${name}`, "including mount point rootfs ('/') in backup");
  }
  l.push(`backup mode: ${g.status === 'running' ? 'snapshot' : 'stop'}`, 'ionice priority: 7', `creating vzdump archive '${file}'`);
  if (g.type === 'qemu') {
    l.push(`100% (${humanIec(built.diskBytes)} of ${humanIec(built.diskBytes)}) in ${durSec}s, read: ${humanIec(built.diskBytes / durSec)}/s, write: ${humanIec(built.logicalSize / durSec)}/s`);
    l.push(`transferred ${humanIec(built.diskBytes)} in ${durSec} seconds (${humanIec(built.diskBytes / durSec)}/s)`);
  } else {
    l.push(`Total bytes written: ${Math.round(built.logicalSize / 0.45)} (${Math.round(built.logicalSize / 0.45 / 1048576)}MiB, ${Math.round(built.logicalSize / 0.45 / 1048576 / durSec)}MiB/s)`);
  }
  l.push(`archive file size: ${vzdumpSize(built.logicalSize)}`);
  if (notes) l.push('adding notes to backup');
  if (prot) l.push('marking backup as protected');
  const hms = `00:${String(Math.floor(durSec / 60)).padStart(2, '0')}:${String(durSec % 60).padStart(2, '0')}`;
  l.push(`Finished Backup of VM ${g.vmid} (${hms})`);
  return l;
}
