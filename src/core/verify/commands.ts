/**
 * The node-side commands of a backup verification, as data and quoted by shell.ts. The archive path
 * comes from the node (`pvesm path`): it is checked to be one absolute path and then only ever
 * passed as a quoted argument — data, never code.
 */
import { LifeboatError } from '../errors';
import { msg } from '../procedure/message';
import { quickIntegrityCommand } from '../proxmox/commands';
import { commandLine, pipeline, type CommandSpec } from '../proxmox/shell';

export function checkArchivePath(value: string): string {
  const path = value.trim();
  if (!/^\/[^\n\r\0]*[^/\s]$/.test(path)) {
    throw LifeboatError.saying('unexpectedOutput', msg('pvesm path printed {0}, not one absolute file path', JSON.stringify(path.slice(0, 200))), { value: path.slice(0, 200) });
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
 * The integrity test of one archive, on its node: the compression layer's own test (`zstd -t`,
 * `gzip -t`, `lzop -t`) `&&` the decompressed stream read to the end by `vma verify -` (VMs: header,
 * every extent's checksum, no missing cluster) or `tar -tf -` (containers: the listing). An
 * uncompressed archive is read by `vma verify` / `tar -tf` directly. The `&&` fails the line on a
 * decompression failure even without `pipefail`. Quick and full modes run the same test; they differ
 * in which archives are read (the manifest skips unchanged archives that passed, `--full` does not).
 */
export function integrityLine(format: string, path: string): string {
  const decompress = decompressCommand(format, path);
  // By format, not guest type: a pre-VMA qemu backup (`vzdump-qemu-*.tar`) is a tar too.
  const vma = format.startsWith('vma');
  const structure: CommandSpec = vma ? { program: 'vma', args: ['verify', decompress ? '-' : path] } : { program: 'tar', args: ['-tf', decompress ? '-' : path] };
  const quiet = vma ? '' : ' > /dev/null';
  if (!decompress) return `${commandLine(structure)}${quiet}`;
  return `${commandLine(quickIntegrityCommand(format, path))} && ${pipeline(decompress, structure)}${quiet}`;
}
