/**
 * The node-side commands of a backup verification, as data and quoted by shell.ts. The archive path
 * comes from the node (`pvesm path`): it is checked to be one absolute path and then only ever
 * passed as a quoted argument — data, never code.
 */
import { LifeboatError } from '../errors';
import { quickIntegrityCommand } from '../proxmox/commands';
import { commandLine, pipeline, type CommandSpec } from '../proxmox/shell';
import type { GuestType } from '../proxmox/commands';

export function checkArchivePath(value: string): string {
  const path = value.trim();
  if (!/^\/[^\n\r\0]*[^/\s]$/.test(path)) {
    throw new LifeboatError('unexpectedOutput', `pvesm path printed ${JSON.stringify(path.slice(0, 200))}, not one absolute file path`, { value: path.slice(0, 200) });
  }
  return path;
}

/** `stat -c '%s %Y' <path> && sha256sum <path>`: size, mtime and checksum in one round trip. */
export function statAndHashLine(path: string): string {
  const stat: CommandSpec = { program: 'stat', args: ['-c', '%s %Y', path] };
  const hash: CommandSpec = { program: 'sha256sum', args: [path] };
  return `${commandLine(stat)} && ${commandLine(hash)}`;
}

export function parseStatAndHash(stdout: string): { size: number; mtime: number; sha256: string } | undefined {
  const lines = stdout.trim().split('\n');
  const stat = /^(\d+) (\d+)$/.exec(lines[0]?.trim() ?? '');
  const hash = /^([0-9a-f]{64})\s/.exec(lines[1] ?? '');
  if (!stat || !hash) return undefined;
  return { size: Number(stat[1]), mtime: Number(stat[2]), sha256: hash[1]! };
}

/** The decompressor writing the archive's content to stdout, when it is compressed. */
export function decompressCommand(format: string, path: string): CommandSpec | undefined {
  if (format.endsWith('.zst')) return { program: 'zstd', args: ['-q', '-d', '-c', path] };
  if (format.endsWith('.gz') || format === 'tgz') return { program: 'gzip', args: ['-d', '-c', path] };
  if (format.endsWith('.lzo')) return { program: 'lzop', args: ['-d', '-c', path] };
  return undefined;
}

/**
 * The integrity test. Quick: the compression layer's own test (`zstd -t`, `gzip -t`, `lzop -t`), or
 * for an uncompressed archive `vma verify` / `tar -tf`. Full: the quick test, then the decompressed
 * stream is read to the end by `vma verify -` (VMs: every extent's checksum) or `tar -t` (containers).
 */
export function integrityLine(format: string, type: GuestType, path: string, full: boolean): string {
  const quick = commandLine(quickIntegrityCommand(format, path));
  if (!full) return quick;
  const decompress = decompressCommand(format, path);
  if (type === 'qemu') {
    return decompress ? `${quick} && ${pipeline(decompress, { program: 'vma', args: ['verify', '-'] })}` : quick;
  }
  const list: CommandSpec = { program: 'tar', args: ['-tf', '-'] };
  return decompress ? `${quick} && ${pipeline(decompress, list)} > /dev/null` : `${quick} > /dev/null`;
}
