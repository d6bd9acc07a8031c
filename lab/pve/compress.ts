/**
 * Real compression with Debian's tools (zstd, gzip, lzop), so that `zstd -t`, `gzip -t`,
 * `lzop -t` and `tar -tf` on the node give real answers.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Compression } from './spec';

export const COMPRESSION_EXT: Record<Compression, string> = { zstd: '.zst', gzip: '.gz', lzo: '.lzo', none: '' };

const COMPRESSORS: Record<Exclude<Compression, 'none'>, [string, string[]]> = {
  zstd: ['zstd', ['-q', '-c', '-3', '-']],
  gzip: ['gzip', ['-c', '-n', '-6']],
  lzo: ['lzop', ['-c']],
};

/** vzdump's `--compress` values → our Compression (`1` = lzo, `0` = none). */
export function parseCompressOption(value: string | undefined): Compression | undefined {
  switch (value ?? '0') {
    case '0':
      return 'none';
    case '1':
    case 'lzo':
      return 'lzo';
    case 'gzip':
      return 'gzip';
    case 'zstd':
      return 'zstd';
    default:
      return undefined;
  }
}

export function compressionOfFile(file: string): Compression {
  if (file.endsWith('.zst')) return 'zstd';
  if (file.endsWith('.gz') || file.endsWith('.tgz')) return 'gzip';
  if (file.endsWith('.lzo')) return 'lzo';
  return 'none';
}

/** Compresses with the real tool (async, so seeding can run several in parallel). */
export function compress(data: Buffer, c: Compression): Promise<Buffer> {
  if (c === 'none') return Promise.resolve(data);
  const [cmd, args] = COMPRESSORS[c];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} failed (${code}): ${Buffer.concat(err).toString()}`))));
    child.stdin.end(data);
  });
}

export function compressSync(data: Buffer, c: Compression): Buffer {
  if (c === 'none') return data;
  const [cmd, args] = COMPRESSORS[c];
  const r = spawnSync(cmd, args, { input: data, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr?.toString()}`);
  return r.stdout;
}

/** The decompressor pipeline prefix Proxmox prints (`zstd -q -d -c`, `zcat`, `lzop -d -c`). */
export function decompressorCommand(c: Compression): string | undefined {
  return { zstd: 'zstd -q -d -c', gzip: 'zcat', lzo: 'lzop -d -c', none: undefined }[c];
}

export interface Decompressed {
  data: Buffer;
  /** The tool's stderr (e.g. `/*stdin*\ : Read error (39) : premature end`) when it failed. */
  error?: string;
  code: number;
}

/** Decompresses a file with the real tool; a damaged file yields the partial output and the tool's error. */
export function decompressFile(file: string): Decompressed {
  const c = compressionOfFile(file);
  if (c === 'none') {
    const r = spawnSync('cat', [file], { maxBuffer: 1 << 30 });
    return { data: r.stdout, code: r.status ?? 1, ...(r.status === 0 ? {} : { error: r.stderr.toString().trim() }) };
  }
  const [cmd, args] = { zstd: ['zstd', ['-q', '-d', '-c']], gzip: ['gzip', ['-d', '-c']], lzo: ['lzop', ['-d', '-c']] }[c] as [string, string[]];
  const r = spawnSync(cmd, [...args, file], { maxBuffer: 1 << 30 });
  const code = r.status ?? 1;
  return { data: r.stdout ?? Buffer.alloc(0), code, ...(code === 0 ? {} : { error: (r.stderr?.toString() ?? '').trim() }) };
}

/**
 * Compresses files in place with one tool invocation per batch (`zstd --rm`, `gzip`, `lzop -U`):
 * `x.vma` becomes `x.vma.zst`. Seeding thousands of archives would otherwise pay one process
 * start per file.
 */
export async function compressFilesInPlace(files: readonly string[], c: Compression): Promise<void> {
  if (c === 'none' || files.length === 0) return;
  const [cmd, args] = { zstd: ['zstd', ['-q', '-f', '--rm', '-3']], gzip: ['gzip', ['-f', '-n', '-6']], lzo: ['lzop', ['-q', '-f', '-U']] }[c] as [string, string[]];
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cmd, [...args, '--', ...batch], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code}): ${err}`))));
    });
  }
}
