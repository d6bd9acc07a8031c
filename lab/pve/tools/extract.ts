/**
 * Config extraction from an archive (`pvesm extractconfig`, `/nodes/{node}/vzdump/extractconfig`):
 * qemu → decompress (broken-pipe/truncation errors ignored, like pve-storage) and read the VMA's
 * `qemu-server.conf` blob; lxc → `tar -xpOf <archive> ./etc/vzdump/pct.conf` with the real tar.
 */
import { spawnSync } from 'node:child_process';
import { type Ctx, ToolError } from '../cli';
import { readState } from '../model';
import { requireFile, resolveBackupVolume } from '../volumes';
import { decompressFile } from '../compress';
import { VmaError, readVmaHeader } from '../vma';

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
    const r = spawnSync('tar', ['-xpOf', vol.path, './etc/vzdump/pct.conf', '--occurrence'], { maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new ToolError(`unable to extract configuration for backup format 'tar' - ${r.stderr.toString().trim().split('\n')[0] ?? ''}`);
    return r.stdout.toString('utf8');
  }
  throw new ToolError(`cannot determine backup guest type for backup archive '${vol.path}'`);
}
