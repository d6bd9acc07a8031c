/**
 * The VMA container (pve-qemu `vma.h`/`vma-writer.c`/`vma-reader.c`), written for real and read
 * back by the emulated `vma` tool and the restore worker.
 *
 * Layout (all integers big-endian):
 * - header: `VMA\0`, version 1, uuid[16], ctime int64, md5[16] (over the whole header with the
 *   md5 field zeroed), blob_buffer_offset, blob_buffer_size, header_size, reserved[1984],
 *   config_names[256], config_data[256] (offsets into the blob buffer), reserved, dev_info[256]
 *   (`devname_ptr u32, reserved u32, size u64, reserved u64 x2`) = 12288 bytes, then the blob
 *   buffer (entries: u16 little-endian length + bytes; offset 0 = none), padded to 512.
 * - extents: 512-byte header `VMAE`, reserved u16, block_count u16, uuid[16], md5[16] (of the
 *   extent header with md5 zeroed), blockinfo[59] u64 = mask(16) << 48 | dev_id(8) << 32 |
 *   cluster number; followed by one 4 KiB block per set mask bit. A 64 KiB cluster that is all
 *   zeros appears with mask 0 and no data. Every cluster of every device must appear once.
 */
import { createHash } from 'node:crypto';

export const VMA_MAGIC = Buffer.from('VMA\0', 'binary');
export const VMA_EXTENT_MAGIC = Buffer.from('VMAE', 'binary');
const BLOCK = 4096;
const CLUSTER = 65536;
const BLOCKS_PER_CLUSTER = 16;
const BLOCKS_PER_EXTENT = 59;
const EXTENT_HEADER = 512;
const FIXED_HEADER = 12288;
const MAX_CONFIGS = 256;
const OFF = { uuid: 8, ctime: 24, md5: 32, blobOffset: 48, blobSize: 52, headerSize: 56, configNames: 2044, configData: 2044 + 1024, devInfo: 4096 } as const;

export interface VmaDevice {
  readonly name: string;
  readonly size: number;
  /** Returns the 4 KiB blocks of a cluster (16 entries, `undefined` = zero block). */
  readonly cluster: (index: number) => readonly (Buffer | undefined)[];
}

export interface VmaWriteInput {
  readonly uuid: Buffer;
  readonly ctimeSec: number;
  readonly configs: readonly { name: string; data: Buffer }[];
  readonly devices: readonly VmaDevice[];
}

function md5(b: Buffer): Buffer {
  return createHash('md5').update(b).digest();
}

export function writeVma(input: VmaWriteInput): Buffer {
  // Blob buffer: byte 0 unused so that offset 0 means "none".
  const blobs: Buffer[] = [Buffer.alloc(1)];
  let blobLen = 1;
  const addBlob = (data: Buffer): number => {
    const off = blobLen;
    const len = Buffer.alloc(2);
    len.writeUInt16LE(data.length);
    blobs.push(len, data);
    blobLen += 2 + data.length;
    return off;
  };
  const head = Buffer.alloc(FIXED_HEADER);
  VMA_MAGIC.copy(head, 0);
  head.writeUInt32BE(1, 4);
  input.uuid.copy(head, OFF.uuid);
  head.writeBigInt64BE(BigInt(input.ctimeSec), OFF.ctime);
  input.configs.slice(0, MAX_CONFIGS).forEach((c, i) => {
    head.writeUInt32BE(addBlob(Buffer.from(c.name + '\0')), OFF.configNames + i * 4);
    head.writeUInt32BE(addBlob(c.data), OFF.configData + i * 4);
  });
  input.devices.forEach((d, i) => {
    const base = OFF.devInfo + (i + 1) * 32; // dev_id 0 is reserved
    head.writeUInt32BE(addBlob(Buffer.from(d.name + '\0')), base);
    head.writeBigUInt64BE(BigInt(d.size), base + 8);
  });
  const blob = Buffer.concat(blobs);
  const headerSize = Math.ceil((FIXED_HEADER + blob.length) / 512) * 512;
  head.writeUInt32BE(FIXED_HEADER, OFF.blobOffset);
  head.writeUInt32BE(blob.length, OFF.blobSize);
  head.writeUInt32BE(headerSize, OFF.headerSize);
  const header = Buffer.alloc(headerSize);
  head.copy(header, 0);
  blob.copy(header, FIXED_HEADER);
  md5(header).copy(header, OFF.md5);

  const parts: Buffer[] = [header];
  // Clusters of all devices, in order, packed 59 per extent.
  const pending: { info: bigint; blocks: Buffer[] }[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const eh = Buffer.alloc(EXTENT_HEADER);
    VMA_EXTENT_MAGIC.copy(eh, 0);
    const blocks = pending.flatMap((p) => p.blocks);
    eh.writeUInt16BE(blocks.length, 6);
    input.uuid.copy(eh, 8);
    pending.forEach((p, i) => eh.writeBigUInt64BE(p.info, 40 + i * 8));
    md5(eh).copy(eh, 24);
    parts.push(eh, ...blocks);
    pending.length = 0;
  };
  input.devices.forEach((d, i) => {
    const devId = BigInt(i + 1);
    const clusters = Math.ceil(d.size / CLUSTER);
    for (let c = 0; c < clusters; c++) {
      const blocks = d.cluster(c);
      let mask = 0;
      const data: Buffer[] = [];
      for (let b = 0; b < BLOCKS_PER_CLUSTER; b++) {
        const blk = blocks[b];
        if (blk && blk.some((x) => x !== 0)) {
          mask |= 1 << b;
          data.push(blk.length === BLOCK ? blk : Buffer.concat([blk, Buffer.alloc(BLOCK - blk.length)]).subarray(0, BLOCK));
        }
      }
      pending.push({ info: (BigInt(mask) << 48n) | (devId << 32n) | BigInt(c), blocks: data });
      if (pending.length === BLOCKS_PER_EXTENT) flush();
    }
  });
  flush();
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface VmaHeaderInfo {
  readonly uuid: Buffer;
  readonly ctimeSec: number;
  readonly configs: { name: string; data: Buffer }[];
  readonly devices: { id: number; name: string; size: number }[];
  readonly headerSize: number;
}

export class VmaError extends Error {}

function blobAt(blob: Buffer, off: number): Buffer {
  if (off <= 0 || off + 2 > blob.length) throw new VmaError('wrong blob offset');
  const len = blob.readUInt16LE(off);
  if (off + 2 + len > blob.length) throw new VmaError('wrong blob size');
  return blob.subarray(off + 2, off + 2 + len);
}

const cstr = (b: Buffer): string => b.toString('utf8').replace(/\0.*$/s, '');

/** Parses and checks the header (errors carry vma-reader's wording). */
export function readVmaHeader(buf: Buffer): VmaHeaderInfo {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(VMA_MAGIC)) throw new VmaError('not a vma file - wrong magic number');
  if (buf.length < FIXED_HEADER) throw new VmaError(`read short header (${buf.length} bytes)`);
  if (buf.readUInt32BE(4) !== 1) throw new VmaError('not a vma file - wrong version number');
  const headerSize = buf.readUInt32BE(OFF.headerSize);
  if (headerSize < FIXED_HEADER || buf.length < headerSize) throw new VmaError(`read short header (${buf.length} bytes)`);
  const header = Buffer.from(buf.subarray(0, headerSize));
  const sum = Buffer.from(header.subarray(OFF.md5, OFF.md5 + 16));
  header.fill(0, OFF.md5, OFF.md5 + 16);
  if (!md5(header).equals(sum)) throw new VmaError('wrong vma header chechsum');
  const blobOff = buf.readUInt32BE(OFF.blobOffset);
  const blob = buf.subarray(blobOff, blobOff + buf.readUInt32BE(OFF.blobSize));
  const configs: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < MAX_CONFIGS; i++) {
    const n = buf.readUInt32BE(OFF.configNames + i * 4);
    const d = buf.readUInt32BE(OFF.configData + i * 4);
    if (!n || !d) continue;
    configs.push({ name: cstr(blobAt(blob, n)), data: blobAt(blob, d) });
  }
  const devices: { id: number; name: string; size: number }[] = [];
  for (let id = 1; id < 256; id++) {
    const base = OFF.devInfo + id * 32;
    const p = buf.readUInt32BE(base);
    if (!p) continue;
    devices.push({ id, name: cstr(blobAt(blob, p)), size: Number(buf.readBigUInt64BE(base + 8)) });
  }
  return { uuid: Buffer.from(buf.subarray(OFF.uuid, OFF.uuid + 16)), ctimeSec: Number(buf.readBigInt64BE(OFF.ctime)), configs, devices, headerSize };
}

export interface VerifyProgress {
  (percent: number, bytesRead: number): void;
}

export interface VerifyResult {
  readonly header: VmaHeaderInfo;
  readonly totalBytes: number;
  readonly sparseBytes: number;
  readonly zeroBlockBytes: number;
}

/**
 * Walks every extent like `vma verify`: magic, header checksum, data length, device ids, and at
 * the end that no cluster of any device is missing. Throws VmaError with vma's wording.
 */
export function verifyVma(buf: Buffer, progress?: VerifyProgress): VerifyResult {
  const header = readVmaHeader(buf);
  const devs = new Map(header.devices.map((d) => [d.id, { ...d, seen: new Uint8Array(Math.ceil(d.size / CLUSTER)) }]));
  const total = header.devices.reduce((s, d) => s + d.size, 0);
  let off = header.headerSize;
  let read = 0;
  let zeroBlocks = 0;
  let sparse = 0;
  let lastPct = -1;
  while (off < buf.length) {
    if (buf.length - off < EXTENT_HEADER) throw new VmaError(`read short extent (${buf.length - off} bytes)`);
    const eh = Buffer.from(buf.subarray(off, off + EXTENT_HEADER));
    if (!eh.subarray(0, 4).equals(VMA_EXTENT_MAGIC)) throw new VmaError('wrong vma extent header magic');
    const sum = Buffer.from(eh.subarray(24, 40));
    eh.fill(0, 24, 40);
    if (!md5(eh).equals(sum)) throw new VmaError('wrong vma extent header chechsum');
    if (!eh.subarray(8, 24).equals(header.uuid)) throw new VmaError('wrong vma extent uuid');
    const blockCount = eh.readUInt16BE(6);
    const dataLen = blockCount * BLOCK;
    if (buf.length - off - EXTENT_HEADER < dataLen) throw new VmaError(`read short extent (${buf.length - off} bytes)`);
    let usedBlocks = 0;
    for (let i = 0; i < BLOCKS_PER_EXTENT; i++) {
      const info = eh.readBigUInt64BE(40 + i * 8);
      if (info === 0n) continue;
      const mask = Number(info >> 48n);
      const devId = Number((info >> 32n) & 0xffn);
      const cluster = Number(info & 0xffffffffn);
      const dev = devs.get(devId);
      if (!dev) throw new VmaError(`got wrong dev id ${devId}`);
      if (cluster >= dev.seen.length) throw new VmaError(`got wrong cluster number ${cluster} for stream ${dev.name}`);
      dev.seen[cluster] = 1;
      let bits = 0;
      for (let b = 0; b < BLOCKS_PER_CLUSTER; b++) if (mask & (1 << b)) bits++;
      usedBlocks += bits;
      // vma counts fully-zero clusters as sparse and zero 4K blocks inside written clusters apart.
      if (mask === 0) sparse += CLUSTER;
      else zeroBlocks += BLOCKS_PER_CLUSTER - bits;
      read += CLUSTER;
    }
    if (usedBlocks !== blockCount) throw new VmaError(`wrong block count in extent (${blockCount} != ${usedBlocks})`);
    off += EXTENT_HEADER + dataLen;
    const pct = total > 0 ? Math.floor((read * 100) / total) : 100;
    if (progress && pct !== lastPct) {
      lastPct = pct;
      progress(pct, read);
    }
  }
  for (const dev of devs.values()) {
    const missing = dev.seen.indexOf(0);
    if (missing >= 0) throw new VmaError(`detected missing cluster ${missing} for stream ${dev.name}`);
  }
  return { header, totalBytes: read, sparseBytes: sparse, zeroBlockBytes: zeroBlocks * BLOCK };
}
