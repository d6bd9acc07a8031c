/**
 * `qm` and `pct`: status, list, config, start, stop, shutdown, destroy, unlock (reference §6, §7.3).
 * Power and destroy commands are tasks (qmstart, qmstop, qmshutdown, qmdestroy / vzstart, ...).
 */
import { type Ctx, ToolError, out, paramError, parseArgs, simSleep, vmidArg } from '../cli';
import { type GuestState, disksOf, mutateState, readState, findStorage } from '../model';
import type { GuestType } from '../spec';
import { kindWord, localGuest, lockedError, noConfig } from '../guests';
import { type TaskContext, runTaskCli } from '../tasks';
import { activeFaults } from '../faults';
import { pctRestore } from './restore';
import { qmGuestCmd } from './agent';

const QM_COMMANDS = ['config', 'destroy', 'guest', 'list', 'set', 'shutdown', 'start', 'status', 'stop', 'unlock'];
const PCT_COMMANDS = ['config', 'destroy', 'list', 'restore', 'set', 'shutdown', 'start', 'status', 'stop', 'unlock'];

function usageOf(tool: 'qm' | 'pct'): string {
  const cmds = tool === 'qm' ? QM_COMMANDS : PCT_COMMANDS;
  return [`USAGE: ${tool} <COMMAND> [ARGS] [OPTIONS]`, ...cmds.map((c) => `       ${tool} ${c}`)].join('\n');
}

export async function guestTool(ctx: Ctx, tool: 'qm' | 'pct', args: string[]): Promise<number> {
  const type: GuestType = tool === 'qm' ? 'qemu' : 'lxc';
  const [cmd, ...rest] = args;
  const usage = (sub: string, extra = ''): string => `${tool} ${sub} <vmid>${extra} [OPTIONS]`;
  switch (cmd) {
    case 'status': {
      const p = parseArgs(rest, [], ['verbose'], usage('status'));
      const vmid = vmidArg(p.positional[0], usage('status'));
      const g = localGuest(readState(ctx.stateDir), ctx.node, type, vmid);
      out(`status: ${g.status}\n`);
      if (p.opts.verbose === '1') out(`name: ${g.config.name ?? g.config.hostname ?? ''}\nvmid: ${vmid}\n`);
      return 0;
    }
    case 'list':
      parseArgs(rest, [], ['full'], `${tool} list [OPTIONS]`);
      out(tool === 'qm' ? qmList(ctx) : pctList(ctx));
      return 0;
    case 'config': {
      const p = parseArgs(rest, ['snapshot'], ['current'], usage('config'));
      const vmid = vmidArg(p.positional[0], usage('config'));
      const g = localGuest(readState(ctx.stateDir), ctx.node, type, vmid);
      for (const key of Object.keys(g.config).sort()) out(`${key}: ${g.config[key]}\n`);
      return 0;
    }
    case 'unlock': {
      const p = parseArgs(rest, [], [], usage('unlock'));
      const vmid = vmidArg(p.positional[0], usage('unlock'));
      mutateState(ctx.stateDir, (s) => {
        delete localGuest(s, ctx.node, type, vmid).config.lock;
      });
      return 0;
    }
    case 'set':
      return setConfig(ctx, tool, type, rest);
    case 'start':
    case 'stop':
    case 'shutdown':
      return power(ctx, tool, type, cmd, rest);
    case 'destroy':
      return destroy(ctx, tool, type, rest);
    case 'restore':
      if (tool === 'pct') return pctRestore(ctx, rest);
      break;
    case 'guest':
      if (tool === 'qm') return qmGuestCmd(ctx, rest);
      break;
    default:
      break;
  }
  if (cmd === undefined) throw new ToolError(`ERROR: no command specified\n${usageOf(tool)}`);
  throw new ToolError(`ERROR: unknown command '${tool} ${cmd}'\n${usageOf(tool)}`);
}

/** Keys `qm set` / `pct set` may change here (the config keys the simulator knows about). */
const SETTABLE = /^(agent|boot|cores|cpu|description|hostname|ipconfig\d+|memory|name|net\d+|onboot|protection|sockets|swap|tags|startup|nameserver|searchdomain)$/;

/** `qm set <vmid> --key value ... [--delete k1,k2]`: a synchronous config update (no task). */
async function setConfig(ctx: Ctx, tool: 'qm' | 'pct', type: GuestType, rest: string[]): Promise<number> {
  const usage = `${tool} set <vmid> [OPTIONS]`;
  const vmid = vmidArg(rest[0], usage);
  const changes: Record<string, string> = {};
  let del: string[] = [];
  let skiplock = false;
  for (let i = 1; i < rest.length; i++) {
    const m = /^--?([a-z][a-z0-9_-]*)(?:=(.*))?$/.exec(rest[i]!);
    if (!m) throw new ToolError(`400 too many arguments\n${usage}`);
    const value = m[2] ?? rest[++i];
    if (value === undefined) throw paramError({ [m[1]!]: 'missing value' }, usage);
    if (m[1] === 'delete') del = value.split(/[,;\s]+/).filter(Boolean);
    else if (m[1] === 'skiplock') skiplock = value === '1';
    else if (m[1] === 'digest') continue;
    else if (SETTABLE.test(m[1]!)) changes[m[1]!] = value;
    else throw paramError({ [m[1]!]: 'property is not defined in schema and the schema does not allow additional properties' }, usage);
  }
  mutateState(ctx.stateDir, (s) => {
    const g = localGuest(s, ctx.node, type, vmid);
    if (!skiplock && g.config.lock) throw lockedError(g)!;
    Object.assign(g.config, changes);
    for (const k of del) delete g.config[k];
  });
  return 0;
}

function qmList(ctx: Ctx): string {
  const state = readState(ctx.stateDir);
  const guests = Object.values(state.guests).filter((g) => g.node === ctx.node && g.type === 'qemu').sort((a, b) => a.vmid - b.vmid);
  if (guests.length === 0) return '';
  const f = (a: string, b: string, c: string, d: string, e: string, p: string): string => `${a.padStart(10)} ${b.padEnd(20)} ${c.padEnd(10)} ${d.padEnd(10)} ${e.padStart(12)} ${p.padEnd(10)}\n`;
  let text = f('VMID', 'NAME', 'STATUS', 'MEM(MB)', 'BOOTDISK(GB)', 'PID');
  for (const g of guests) {
    const boot = disksOf(g.config)[0];
    text += f(String(g.vmid), g.config.name ?? '', g.status, g.config.memory ?? '512', ((boot?.sizeBytes ?? 0) / 1024 ** 3).toFixed(2), g.status === 'running' ? String(fakePid(g)) : '0');
  }
  return text;
}

function pctList(ctx: Ctx): string {
  const state = readState(ctx.stateDir);
  const guests = Object.values(state.guests).filter((g) => g.node === ctx.node && g.type === 'lxc').sort((a, b) => a.vmid - b.vmid);
  if (guests.length === 0) return '';
  const f = (a: string, b: string, c: string, d: string): string => `${a.padEnd(10)} ${b.padEnd(10)} ${c.padEnd(12)} ${d.padEnd(20)}\n`;
  let text = f('VMID', 'Status', 'Lock', 'Name');
  for (const g of guests) text += f(String(g.vmid), g.status, g.config.lock ?? '', g.config.hostname ?? '');
  return text;
}

/** A stable "kvm" pid for a running guest. */
export function fakePid(g: GuestState): number {
  return 1000 + ((g.vmid * 7919 + Math.floor((g.startedAt ?? 0) / 1000)) % 900000);
}

async function power(ctx: Ctx, tool: 'qm' | 'pct', type: GuestType, cmd: 'start' | 'stop' | 'shutdown', rest: string[]): Promise<number> {
  const usage = `${tool} ${cmd} <vmid> [OPTIONS]`;
  const p = parseArgs(rest, ['timeout', 'machine', 'migratedfrom', 'stateuri', 'targetstorage'], ['skiplock', 'forceStop', 'keepActive', 'overrule-shutdown', 'debug'], usage);
  const vmid = vmidArg(p.positional[0], usage);
  const state = readState(ctx.stateDir);
  const g = localGuest(state, ctx.node, type, vmid);
  if (p.opts.skiplock !== '1') {
    const locked = lockedError(g);
    if (locked) throw locked;
  }
  const word = kindWord(type);
  if (cmd === 'start' && g.status === 'running') throw new ToolError(`${word} ${vmid} already running`);
  if (cmd === 'shutdown' && g.status !== 'running') throw new ToolError(`${word} ${vmid} not running`);
  const prefix = type === 'qemu' ? 'qm' : 'vz';
  return runTaskCli(ctx, { kind: 'power', node: ctx.node, stateDir: ctx.stateDir, type: `${prefix}${cmd}`, id: String(vmid), params: { vmid, guestType: type, cmd } });
}

/** Worker: start/stop/shutdown. */
export async function powerWorker(t: TaskContext): Promise<void> {
  const { vmid, guestType, cmd } = t.job.params as { vmid: number; guestType: GuestType; cmd: 'start' | 'stop' | 'shutdown' };
  const type = guestType;
  await simSleep(cmd === 'start' ? 1500 : cmd === 'stop' ? 1000 : 4000);
  t.failPoint();
  if (cmd !== 'start' && activeFaults(t.stateDir).some((f) => f.kind === 'refuse-stop' && f.vmid === vmid)) {
    if (cmd === 'shutdown') throw new Error(type === 'qemu' ? 'VM quit/powerdown failed - got timeout' : `command 'lxc-stop -n ${vmid} --nokill --timeout 60' failed: exit code 1`);
    throw new Error(type === 'qemu' ? `can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout` : `can't lock file '/run/lock/lxc/pve-config-${vmid}.lock' - got timeout`);
  }
  mutateState(t.stateDir, (s) => {
    const g = localGuest(s, t.node, type, vmid);
    if (cmd === 'start') {
      g.status = 'running';
      g.startedAt = Date.now();
    } else {
      g.status = 'stopped';
      delete g.startedAt;
    }
  });
}

async function destroy(ctx: Ctx, tool: 'qm' | 'pct', type: GuestType, rest: string[]): Promise<number> {
  const usage = `${tool} destroy <vmid> [OPTIONS]`;
  const p = parseArgs(rest, [], ['purge', 'skiplock', 'destroy-unreferenced-disks', 'force'], usage);
  const vmid = vmidArg(p.positional[0], usage);
  const state = readState(ctx.stateDir);
  const g = localGuest(state, ctx.node, type, vmid);
  const word = kindWord(type);
  if (g.config.protection === '1') throw new ToolError(`can't remove ${word} ${vmid} - protection mode enabled`);
  if (p.opts.skiplock !== '1') {
    const locked = lockedError(g);
    if (locked) throw locked;
  }
  if (g.status === 'running') throw new ToolError(`${word} ${vmid} is running - destroy failed`);
  return runTaskCli(ctx, { kind: 'destroy', node: ctx.node, stateDir: ctx.stateDir, type: type === 'qemu' ? 'qmdestroy' : 'vzdestroy', id: String(vmid), params: { vmid, guestType: type, purge: p.opts.purge === '1' } });
}

/** Worker: destroy a stopped guest, its disks, and with `--purge` its job entries. */
export async function destroyWorker(t: TaskContext): Promise<void> {
  const { vmid, guestType, purge } = t.job.params as { vmid: number; guestType: GuestType; purge: boolean };
  await simSleep(1200);
  t.failPoint();
  const removed = mutateState(t.stateDir, (s) => {
    const g = s.guests[String(vmid)];
    if (!g || g.node !== t.node || g.type !== guestType) throw noConfig(t.node, guestType, vmid);
    if (g.status === 'running') throw new Error(`${kindWord(guestType)} ${vmid} is running - destroy failed`);
    delete s.guests[String(vmid)];
    if (purge) {
      s.jobs = s.jobs.map((j) => (j.vmids ? { ...j, vmids: j.vmids.filter((v) => v !== vmid) } : j));
    }
    return disksOf(g.config).map((d) => ({ d, storageType: findStorage(s, t.node, d.storage)?.type }));
  });
  for (const { d, storageType } of removed) {
    if (storageType === 'lvmthin') t.log(`  Logical volume "${d.volname}" successfully removed.`);
  }
  if (purge) t.log(`purging ${kindWord(guestType)} ${vmid} from related configurations..`);
}
