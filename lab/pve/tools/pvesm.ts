/**
 * `pvesm status | list | extractconfig | path` (reference §2, §4, §8).
 */
import { type Ctx, ToolError, out, parseArgs } from '../cli';
import { findStorage, readState, storageUsage } from '../model';
import { backupsOf } from '../archive';
import { extractConfig } from './extract';
import { resolveBackupVolume } from '../volumes';

const USAGE = 'USAGE: pvesm <COMMAND> [ARGS] [OPTIONS]\n       pvesm extractconfig <volume>\n       pvesm list <storage> [OPTIONS]\n       pvesm path <volume>\n       pvesm status [OPTIONS]';

export async function pvesm(ctx: Ctx, args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  const state = readState(ctx.stateDir);
  const node = state.nodes.find((n) => n.name === ctx.node);
  if (!node) throw new ToolError(`no such cluster node '${ctx.node}'`);
  switch (cmd) {
    case 'status': {
      const p = parseArgs(rest, ['storage', 'content', 'target'], ['enabled'], 'pvesm status [OPTIONS]');
      let storages = node.storages;
      if (p.opts.storage) {
        storages = storages.filter((s) => s.id === p.opts.storage);
        if (storages.length === 0) throw new ToolError(`storage '${p.opts.storage}' does not exist`);
      }
      if (p.opts.content) storages = storages.filter((s) => s.content.includes(p.opts.content!));
      const w = Math.max(...storages.map((s) => s.id.length), 4) + 1;
      let text = `${'Name'.padEnd(w)} ${'Type'.padStart(10)} ${'Status'.padStart(10)} ${'Total (KiB)'.padStart(15)} ${'Used (KiB)'.padStart(15)} ${'Available (KiB)'.padStart(15)} ${'%'.padStart(8)}\n`;
      for (const s of [...storages].sort((a, b) => a.id.localeCompare(b.id))) {
        const u = storageUsage(ctx.stateDir, state, ctx.node, s);
        const k = (n: number): string => String(Math.floor(n / 1024)).padStart(15);
        const pct = u.total > 0 ? (u.used * 100) / u.total : 0;
        text += `${s.id.padEnd(w)} ${s.type.padStart(10)} ${'active'.padStart(10)} ${k(u.total)} ${k(u.used)} ${k(u.avail)} ${(' ' + pct.toFixed(2)).padStart(7)}%\n`;
      }
      out(text);
      return 0;
    }
    case 'list': {
      const usage = 'pvesm list <storage> [OPTIONS]';
      const p = parseArgs(rest, ['content', 'vmid'], [], usage);
      const id = p.positional[0];
      if (!id) throw new ToolError(`400 not enough arguments\n${usage}`);
      const st = findStorage(state, ctx.node, id);
      if (!st) throw new ToolError(`storage '${id}' does not exist`);
      if (p.opts.content && p.opts.content !== 'backup') return 0;
      let rows = backupsOf(ctx.stateDir, state, st);
      if (p.opts.vmid) rows = rows.filter((b) => new RegExp(`\\S+-${p.opts.vmid}-\\S+`).test(b.filename));
      if (rows.length === 0) return 0;
      const wv = Math.max(5, ...rows.map((r) => r.volid.length));
      const wd = Math.max(4, ...rows.map((r) => String(r.size).length));
      let text = `${'Volid'.padEnd(wv)} ${'Format'.padEnd(7)} ${'Type'.padEnd(9)} ${'Size'.padStart(wd)} VMID\n`;
      for (const r of rows) text += `${r.volid.padEnd(wv)} ${r.format.padEnd(7)} ${'backup'.padEnd(9)} ${String(r.size).padStart(wd)} ${r.vmid ?? 0}\n`;
      out(text);
      return 0;
    }
    case 'extractconfig': {
      const usage = 'pvesm extractconfig <volume>';
      const p = parseArgs(rest, [], [], usage);
      if (!p.positional[0]) throw new ToolError(`400 not enough arguments\n${usage}`);
      out(extractConfig(ctx, p.positional[0]) + '\n');
      return 0;
    }
    case 'path': {
      const usage = 'pvesm path <volume>';
      const p = parseArgs(rest, [], [], usage);
      if (!p.positional[0]) throw new ToolError(`400 not enough arguments\n${usage}`);
      out(`${resolveBackupVolume(state, ctx.node, p.positional[0]).path}\n`);
      return 0;
    }
    default:
      throw new ToolError(cmd === undefined ? `ERROR: no command specified\n${USAGE}` : `ERROR: unknown command 'pvesm ${cmd}'\n${USAGE}`);
  }
}
