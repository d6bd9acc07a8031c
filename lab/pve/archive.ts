/**
 * Backup archives as real files: vzdump names, the VMA (qemu) or tar (lxc) inside, real
 * compression, side files (`.log`, `.notes`, `.protected`), and the storage listing that scans
 * a storage's `dump/` directory the way pve-storage does (reference §1, §2).
 *
 * What is real: the file names, the container structure (VMA header with the guest config and
 * `#qmdump#map:` lines, extents with MD5 checksums; a GNU-readable tar with
 * `./etc/vzdump/pct.conf` first), the compression streams and the side files.
 * What is scaled down: the disk images inside. A VMA device holds 1/8192 of the disk's size
 * (32 GiB → 4 MiB, mostly sparse); the *logical* size a real archive would have is recorded in
 * the model and reported by the listings and the storage accounting.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ClusterState, DiskRef, StorageState } from './model';
import type { Compression, GuestType } from './spec';
import { COMPRESSION_EXT, compress, compressionOfFile } from './compress';
import { writeVma } from './vma';
import { writeTar } from './tar';

export const BACKUP_FILE_RE = /^(vzdump-(lxc|openvz|qemu)-.+\.(tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?))$/;
const STD_NAME_RE = /^vzdump-(lxc|openvz|qemu)-([1-9][0-9]{2,8})-(\d{4})_(\d{2})_(\d{2})-(\d{2})_(\d{2})_(\d{2})\.(tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$/;
const VMID_RE = /-([1-9][0-9]{2,8})-[^/]+\.(?:tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$/;

export interface BackupFile {
  readonly volid: string;
  /** Absolute path of the real file. */
  readonly path: string;
  readonly filename: string;
  readonly format: string;
  readonly subtype: 'qemu' | 'lxc' | 'openvz' | 'unknown';
  readonly vmid?: number;
  readonly ctime: number;
  /** Logical size (recorded when the simulator wrote it, else the real size). */
  readonly size: number;
  readonly realSize: number;
  readonly notes?: string;
  readonly protected: boolean;
  /** Real bytes of the side files (counted in storage usage). */
  readonly sideBytes: number;
}

export function dumpDir(storage: StorageState): string {
  return path.join(storage.path, 'dump');
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `vzdump-qemu-100-2026_01_02-03_04_05.vma.zst` for a node-local (UTC) time. */
export function archiveName(type: GuestType, vmid: number, timeMs: number, compression: Compression): string {
  const d = new Date(timeMs);
  const stamp = `${d.getUTCFullYear()}_${pad2(d.getUTCMonth() + 1)}_${pad2(d.getUTCDate())}-${pad2(d.getUTCHours())}_${pad2(d.getUTCMinutes())}_${pad2(d.getUTCSeconds())}`;
  return `vzdump-${type}-${vmid}-${stamp}.${type === 'qemu' ? 'vma' : 'tar'}${COMPRESSION_EXT[compression]}`;
}

/** `<basename>.log`: the archive name without its `.vma[.ext]` / `.tar[.ext]` / `.tgz` suffix. */
export function logNameOf(archive: string): string {
  return archive.replace(/\.(tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)$/, '') + '.log';
}

export function relToState(stateDir: string, file: string): string {
  return path.relative(stateDir, file);
}

/** Parses a backup file name like pve-storage's `archive_info`. */
export function archiveInfo(filename: string): Pick<BackupFile, 'format' | 'subtype' | 'vmid'> & { stdCtime?: number } {
  const m = BACKUP_FILE_RE.exec(filename);
  const format = m?.[3] ?? filename.split('.').slice(1).join('.');
  const subtype = (m?.[2] as BackupFile['subtype'] | undefined) ?? 'unknown';
  const vm = VMID_RE.exec(filename);
  const std = STD_NAME_RE.exec(filename);
  const stdCtime = std ? Date.UTC(+std[3]!, +std[4]! - 1, +std[5]!, +std[6]!, +std[7]!, +std[8]!) / 1000 : undefined;
  return { format, subtype, ...(vm ? { vmid: Number(vm[1]) } : {}), ...(stdCtime !== undefined ? { stdCtime } : {}) };
}

function fileSize(f: string): number {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
}

/** Lists the backup archives of a storage, sorted by lower-cased volid (pve-storage order). */
export function backupsOf(stateDir: string, state: ClusterState, storage: StorageState): BackupFile[] {
  if (!storage.content.includes('backup') || storage.type === 'pbs') return [];
  const dir = dumpDir(storage);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: BackupFile[] = [];
  for (const filename of names) {
    if (!BACKUP_FILE_RE.test(filename)) continue;
    const file = path.join(dir, filename);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const info = archiveInfo(filename);
    let notes: string | undefined;
    try {
      notes = fs.readFileSync(`${file}.notes`, 'utf8').split('\n')[0];
    } catch {
      /* no notes */
    }
    const prot = fs.existsSync(`${file}.protected`);
    const sideBytes = fileSize(`${file}.notes`) + fileSize(path.join(dir, logNameOf(filename)));
    out.push({
      volid: `${storage.id}:backup/${filename}`,
      path: file,
      filename,
      format: info.format,
      subtype: info.subtype,
      ...(info.vmid !== undefined ? { vmid: info.vmid } : {}),
      ctime: info.stdCtime ?? Math.floor(st.mtimeMs / 1000),
      size: state.archives[relToState(stateDir, file)]?.size ?? st.size,
      realSize: st.size,
      ...(notes !== undefined ? { notes } : {}),
      protected: prot,
      sideBytes,
    });
  }
  return out.sort((a, b) => (a.volid.toLowerCase() < b.volid.toLowerCase() ? -1 : a.volid.toLowerCase() > b.volid.toLowerCase() ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Config text as stored in a backup: sorted `key: value`, without `lock`/`parent`. */
export function configText(config: Record<string, string>): string {
  const lines: string[] = [];
  if (config.description) for (const l of config.description.split('\n')) lines.push(`#${encodeURIComponent(l).replace(/%20/g, ' ')}`);
  for (const key of Object.keys(config).sort()) {
    if (key === 'lock' || key === 'parent' || key === 'description' || key === 'digest') continue;
    lines.push(`${key}: ${config[key]}`);
  }
  return lines.join('\n') + '\n';
}

/** `#qmdump#map:<virtdev>:<drive-name>:<storeid>:<format>:` per disk. */
export function qmdumpMapLines(disks: readonly DiskRef[], storageType: (id: string) => string | undefined): string {
  return disks
    .filter((d) => !d.key.startsWith('unused'))
    .map((d) => `#qmdump#map:${d.key}:drive-${d.key}:${d.storage}:${storageType(d.storage) === 'dir' || storageType(d.storage) === 'nfs' ? 'qcow2' : 'raw'}:\n`)
    .join('');
}

/** Device size inside the VMA: 1/8192 of the disk, whole 64 KiB clusters, 64 KiB .. 8 MiB. */
export function scaledDeviceSize(diskBytes: number): number {
  const c = 65536;
  return Math.min(8 * 1024 * 1024, Math.max(c, Math.ceil(diskBytes / 8192 / c) * c));
}

function hash32(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A 4 KiB block of plausible file-system content (compresses like real data, roughly 3:1). */
function dataBlock(seed: string, n: number): Buffer {
  const b = Buffer.alloc(4096);
  let h = hash32(`${seed}:${n}`);
  let off = 0;
  while (off < 4096) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
    const line = `${seed} inode ${n} offset ${off} ${(h >>> 0).toString(36)} ${(h % 9973).toString(16)}\n`;
    off += b.write(line, off);
  }
  return b;
}

export interface BuildArchiveInput {
  readonly type: GuestType;
  readonly vmid: number;
  /** The guest config at backup time. */
  readonly config: Record<string, string>;
  readonly timeMs: number;
  readonly compression: Compression;
  readonly dataFraction: number;
  /** Storage type by id (for `#qmdump#map:` formats). */
  readonly storageType: (id: string) => string | undefined;
  readonly disks: readonly DiskRef[];
}

export interface BuiltArchive {
  readonly filename: string;
  readonly data: Buffer;
  /** What a real archive of this guest would weigh. */
  readonly logicalSize: number;
  /** Bytes a real vzdump would have read (all disks). */
  readonly diskBytes: number;
}

const RATIO: Record<Compression, number> = { zstd: 0.45, gzip: 0.5, lzo: 0.62, none: 1 };

export function logicalArchiveSize(diskBytes: number, dataFraction: number, compression: Compression, timeMs: number, vmid: number): number {
  // Guests grow a little from night to night; a deterministic ±3 % wobble keeps sizes plausible.
  const wobble = 1 + ((hash32(`${vmid}:${timeMs}`) % 600) - 300) / 10000;
  return Math.max(4096, Math.round(diskBytes * dataFraction * RATIO[compression] * wobble));
}

/** Builds the bytes of a new archive (compressed with the real tool). */
export async function buildArchive(input: BuildArchiveInput): Promise<BuiltArchive> {
  const filename = archiveName(input.type, input.vmid, input.timeMs, input.compression);
  const diskBytes = input.disks.reduce((s, d) => s + d.sizeBytes, 0);
  const conf = configText(input.config);
  let raw: Buffer;
  if (input.type === 'qemu') {
    const cfg = conf + qmdumpMapLines(input.disks, input.storageType);
    raw = writeVma({
      uuid: randomBytes(16),
      ctimeSec: Math.floor(input.timeMs / 1000) + 1,
      configs: [{ name: 'qemu-server.conf', data: Buffer.from(cfg) }],
      devices: input.disks
        .filter((d) => !d.key.startsWith('unused'))
        .map((d) => ({
          name: `drive-${d.key}`,
          size: scaledDeviceSize(d.sizeBytes),
          cluster: (c: number) => {
            // Cluster 0 holds a "partition table"; others carry data with probability dataFraction.
            const h = hash32(`${input.vmid}:${d.key}:${c}`);
            if (c !== 0 && (h % 1000) / 1000 >= input.dataFraction) return [];
            const blocks: (Buffer | undefined)[] = [];
            for (let b = 0; b < 16; b++) blocks.push((h >>> b) & 1 || b === 0 ? dataBlock(`vm-${input.vmid}-${d.key}`, c * 16 + b) : undefined);
            return blocks;
          },
        })),
    });
  } else {
    const mtime = Math.floor(input.timeMs / 1000);
    const hostname = input.config.hostname ?? `CT${input.vmid}`;
    const filler = Buffer.concat(Array.from({ length: 4 + Math.round(input.dataFraction * 40) }, (_, i) => dataBlock(`ct-${input.vmid}-syslog`, i)));
    raw = writeTar([
      { name: './etc/vzdump/pct.conf', type: 'file', data: Buffer.from(conf), mtime },
      { name: './', type: 'dir', mtime },
      { name: './etc/', type: 'dir', mtime },
      { name: './etc/hostname', type: 'file', data: Buffer.from(`${hostname}\n`), mtime },
      { name: './etc/hosts', type: 'file', data: Buffer.from(`127.0.0.1 localhost\n127.0.1.1 ${hostname}\n`), mtime },
      { name: './etc/debian_version', type: 'file', data: Buffer.from('12.8\n'), mtime },
      { name: './etc/os-release', type: 'file', data: Buffer.from('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'), mtime },
      { name: './etc/vzdump/', type: 'dir', mtime },
      { name: './root/', type: 'dir', mode: 0o700, mtime },
      { name: './var/', type: 'dir', mtime },
      { name: './var/log/', type: 'dir', mtime },
      { name: './var/log/syslog', type: 'file', data: filler, mode: 0o640, mtime },
    ]);
  }
  const data = await compress(raw, input.compression);
  return { filename, data, diskBytes, logicalSize: logicalArchiveSize(diskBytes, input.dataFraction, input.compression, input.timeMs, input.vmid) };
}

/** Really damages an archive: the compressed stream is cut (60 % kept), so `zstd -t` & co fail. */
export function corruptFile(file: string): void {
  const size = fs.statSync(file).size;
  const keep = Math.max(0, Math.min(size - 64, Math.floor(size * 0.6)));
  fs.truncateSync(file, keep);
}

export function isCompressed(file: string): boolean {
  return compressionOfFile(file) !== 'none';
}
