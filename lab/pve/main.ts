/**
 * The simulated Proxmox node's tools, one executable: `node out/lab/pve.cjs <tool> <args...>`
 * with `PVE_SIM_STATE=<stateDir>` and `PVE_SIM_NODE=<node>` (the shims written by tools.ts set
 * them). Tools: pvesh, qm, pct, qmrestore, vzdump, pvesm, vma. `__task-worker` is internal.
 *
 * Before a tool runs, the fault document is consulted: `slow` sleeps; `drop-connection` (when
 * not served by the in-process SSH server, which handles it itself) kills the sshd session
 * process this command runs under, like a network drop would end it.
 */
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { type Ctx, ToolError, err, sleep } from './cli';
import { activeFaults, claimDropFault } from './faults';
import { guestTool } from './tools/guestcmd';
import { pvesh } from './tools/pvesh';
import { qmrestore } from './tools/restore';
import { vzdump } from './tools/vzdump';
import { pvesm } from './tools/pvesm';
import { vmaTool } from './tools/vmacli';
import { workerMain } from './worker';
import { TOOL_NAMES } from './toolNames';

export const TOOLS = TOOL_NAMES;

/** Walks up from our parent to the nearest `sshd: ...` session process (not the listener). */
function sshdSessionPid(): number | undefined {
  let pid = process.ppid;
  for (let i = 0; i < 10 && pid > 1; i++) {
    let cmdline = '';
    let stat = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    if (/^sshd: /.test(cmdline)) return pid;
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return undefined;
}

async function applyFaults(ctx: Ctx, tool: string, args: string[]): Promise<void> {
  const faults = activeFaults(ctx.stateDir);
  for (const f of faults) if (f.kind === 'slow') await sleep(f.delayMs);
  if (process.env.PVE_SIM_INPROCESS === '1' || !faults.some((f) => f.kind === 'drop-connection')) return;
  const drop = claimDropFault(ctx.stateDir, ctx.node, [tool, ...args].join(' '));
  if (drop === undefined) return;
  const target = sshdSessionPid();
  if (!target) return;
  // A detached killer outlives this command, so the drop happens even if we finish first.
  spawn('/bin/sh', ['-c', `sleep ${(drop.delayMs / 1000).toFixed(3)}; kill -9 ${target}`], { detached: true, stdio: 'ignore' }).unref();
  // Held back: the command only runs once its connection is gone, so its answer is lost.
  if (drop.holdAnswer) await sleep(drop.delayMs + 3000);
}

export async function main(argv: string[]): Promise<number> {
  const [tool, ...args] = argv;
  if (tool === '__task-worker') return workerMain(args[0]!);
  if (tool === 'vma') return vmaTool(args);
  if (!tool || !(TOOLS as readonly string[]).includes(tool)) {
    err(`bash: ${tool ?? ''}: command not found\n`);
    return 127;
  }
  const stateDir = process.env.PVE_SIM_STATE;
  const node = process.env.PVE_SIM_NODE;
  if (!stateDir || !node) {
    err('PVE_SIM_STATE and PVE_SIM_NODE must be set\n');
    return 255;
  }
  const ctx: Ctx = { stateDir, node, script: process.env.PVE_SIM_SCRIPT ?? process.argv[1] ?? '' };
  await applyFaults(ctx, tool, args);
  switch (tool) {
    case 'pvesh':
      return pvesh(ctx, args);
    case 'qm':
      return guestTool(ctx, 'qm', args);
    case 'pct':
      return guestTool(ctx, 'pct', args);
    case 'qmrestore':
      return qmrestore(ctx, args);
    case 'vzdump':
      return vzdump(ctx, args);
    case 'pvesm':
      return pvesm(ctx, args);
    default:
      return 127;
  }
}

/** Runs a tool invocation: errors raised before a task print their message and set the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (e) {
    if (e instanceof ToolError) {
      err(e.message.endsWith('\n') ? e.message : `${e.message}\n`);
      return e.exitCode;
    }
    err(`${e instanceof Error ? e.message : String(e)}\n`);
    return 255;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
