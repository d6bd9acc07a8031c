/**
 * Backup archives as real files: vzdump names, the VMA (qemu) or tar (lxc) inside, real
 * compression, side files (`.log`, `.notes`, `.protected`), and the storage listing that scans
 * a storage's `dump/` directory the way pve-storage does (reference §1, §2).
 *
 * What is real: the file names, the container structure (VMA header with the guest config and
 * `#qmdump#map:` lines, extents with MD5 checksums; a GNU-readable tar with
 * `./etc/vzdump/pct.conf` first), the compression streams and the side files.
 * What is scaled down: the disk images inside. A VMA device holds 1/65536 of the disk's size
 * (32 GiB → 512 KiB, mostly sparse); the *logical* size a real archive would have is recorded in
 * the model and reported by the listings and the storage accounting.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ClusterState, DiskRef, StorageState } from './model';
import type { Compression, GuestType } from './spec';
import { COMPRESSION_EXT, compress, compressSync, compressionOfFile, decompressFile } from './compress';
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

/** Device size inside the VMA: 1/65536 of the disk, whole 64 KiB clusters, 64 KiB .. 2 MiB. */
export function scaledDeviceSize(diskBytes: number): number {
  const c = 65536;
  return Math.min(2 * 1024 * 1024, Math.max(c, Math.ceil(diskBytes / 65536 / c) * c));
}

function hash32(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const templateCache = new Map<string, Buffer[]>();

/**
 * A 4 KiB block of plausible file-system content. Eight templates per seed are generated once and
 * stamped with the block number: cheap to make (seeding writes thousands of archives) and
 * compressible like real data.
 */
function dataBlock(seed: string, n: number): Buffer {
  let templates = templateCache.get(seed);
  if (!templates) {
    templates = Array.from({ length: 8 }, (_, t) => {
      const b = Buffer.alloc(4096);
      let h = hash32(`${seed}:${t}`);
      let off = 0;
      while (off < 4096) {
        h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
        off += b.write(`${seed} inode ${t} offset ${off} ${h.toString(36)} ${(h % 9973).toString(16)}\n`, off);
      }
      return b;
    });
    if (templateCache.size > 512) templateCache.clear();
    templateCache.set(seed, templates);
  }
  const b = Buffer.from(templates[n % 8]!);
  b.write(`block ${n} `, 0);
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

export interface RawArchive {
  /** Final file name (with the compression extension). */
  readonly filename: string;
  /** The uncompressed container (VMA or tar). */
  readonly raw: Buffer;
  readonly logicalSize: number;
  readonly diskBytes: number;
}

/** Builds a new archive and compresses it with the real tool. */
export async function buildArchive(input: BuildArchiveInput): Promise<BuiltArchive> {
  const r = buildRawArchive(input);
  return { filename: r.filename, data: await compress(r.raw, input.compression), diskBytes: r.diskBytes, logicalSize: r.logicalSize };
}

/** Builds the uncompressed container of a new archive (seeding compresses in batches). */
export function buildRawArchive(input: BuildArchiveInput): RawArchive {
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
    const filler = Buffer.concat(Array.from({ length: 2 + Math.round(input.dataFraction * 16) }, (_, i) => dataBlock(`ct-${input.vmid}-syslog`, i)));
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
  return { filename, raw, diskBytes, logicalSize: logicalArchiveSize(diskBytes, input.dataFraction, input.compression, input.timeMs, input.vmid) };
}

/**
 * Writes a really damaged archive: a truncated compressed stream, so `zstd -t`/`gzip -t`/
 * `lzop -t`/`tar -tf`/`vma verify` fail — but, as with a real archive cut short, the beginning is
 * still readable (config extraction works, a restore fails part-way). The beginning is compressed
 * as its own frame/member so that the decompressor can emit it before hitting the cut.
 */
export function writeCorruptArchive(file: string, raw: Buffer, c: Compression): void {
  if (c === 'none') {
    fs.writeFileSync(file, raw.subarray(0, Math.floor(raw.length * 0.6)));
    return;
  }
  const split = Math.min(Math.floor(raw.length / 2), 32768);
  const head = compressSync(raw.subarray(0, split), c);
  const tail = compressSync(raw.subarray(split), c);
  fs.writeFileSync(file, Buffer.concat([head, tail.subarray(0, Math.max(1, Math.floor(tail.length * 0.5)))]));
}

/** Damages an existing archive in place (the `corrupt-archive` fault). */
export function corruptFile(file: string): void {
  const d = decompressFile(file);
  if (d.code === 0 && d.data.length > 0) {
    writeCorruptArchive(file, d.data, compressionOfFile(file));
    return;
  }
  const size = fs.statSync(file).size; // already unreadable: cut it further
  fs.truncateSync(file, Math.max(0, Math.floor(size * 0.6)));
}

export function isCompressed(file: string): boolean {
  return compressionOfFile(file) !== 'none';
}
