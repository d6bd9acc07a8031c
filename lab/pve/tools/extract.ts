/**
 * Config extraction from an archive (`pvesm extractconfig`, `/nodes/{node}/vzdump/extractconfig`):
 * qemu → decompress (broken-pipe/truncation errors ignored, like pve-storage) and read the VMA's
 * `qemu-server.conf` blob; lxc → the first tar member `./etc/vzdump/pct.conf` (see ctConfigOf).
 */
import { type Ctx, ToolError } from '../cli';
import { readState } from '../model';
import { requireFile, resolveBackupVolume } from '../volumes';
import { decompressFile } from '../compress';
import { VmaError, readVmaHeader } from '../vma';
import { readTarMember } from '../tar';

/**
 * `pct.conf` of a container archive. pve-storage runs `tar -xpOf <archive> ./etc/vzdump/pct.conf
 * --occurrence`, which stops after the first member, so an archive damaged further on still
 * yields its config. Piping a cut stream through tar makes that racy here (our archives are tiny:
 * the damage is a few KiB away), so we decompress (keeping the partial output) and read the first
 * member ourselves; the archive as a whole is still checked with the real tar (`tar -tf`).
 */
export function ctConfigOf(file: string): string | undefined {
  const d = decompressFile(file);
  return readTarMember(d.data, './etc/vzdump/pct.conf')?.toString('utf8');
}

export function extractConfig(ctx: Ctx, volid: string): string {
  const state = readState(ctx.stateDir);
  const vol = resolveBackupVolume(state, ctx.node, volid);
  requireFile(vol, vol.path);
  if (/^vzdump-qemu-.*\.vma(\.|$)/.test(vol.filename)) {
    const d = decompressFile(vol.path);
    try {
      const c = readVmaHeader(d.data).configs.find((x) => x.name === 'qemu-server.conf');
      if (!c) throw new ToolError("unable to find configuration data 'qemu-server.conf'");
      return c.data.toString('utf8');
    } catch (e) {
      if (e instanceof VmaError) throw new ToolError(`command 'vma config -' failed: ${e.message}`);
      throw e;
    }
  }
  if (/^vzdump-(lxc|openvz)-/.test(vol.filename)) {
    const conf = ctConfigOf(vol.path);
    if (conf === undefined) throw new ToolError(`unable to extract configuration for backup format 'tar' - ./etc/vzdump/pct.conf: Not found in archive`);
    return conf;
  }
  throw new ToolError(`cannot determine backup guest type for backup archive '${vol.path}'`);
}
