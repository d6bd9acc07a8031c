/**
 * Long operations run as Proxmox tasks detached from the SSH session, so a dropped connection does
 * not kill them; Lifeboat follows the task by its UPID (status + log) and re-attaches after a
 * reconnect.
 */
import { CancelledError, LifeboatError, throwIfAborted } from '../errors';
import type { LogSink, NodeShell, Sleep } from '../ports';
import { pvesh } from '../proxmox/commands';
import { TaskListSchema, TaskLogSchema, TaskStatusSchema } from '../proxmox/records';
import { commandLine, detached, quoteArg, type CommandSpec } from '../proxmox/shell';
import { runJson } from '../inventory/load';

export interface TaskTiming {
  readonly pollMs: number;
  /** How long to wait for a task to appear after launching its command. */
  readonly appearTimeoutMs: number;
  /** How many consecutive connection losses to ride out while following a task. */
  readonly reconnectAttempts: number;
}

export const defaultTaskTiming: TaskTiming = { pollMs: 1000, appearTimeoutMs: 60_000, reconnectAttempts: 30 };

export interface LaunchedTask {
  readonly upid: string;
  readonly logFile: string;
}

/**
 * Starts `spec` detached on the node and finds the task it created (type among `taskTypes`, id =
 * vmid, started after launch). If the command fails before creating a task (a pre-check error such
 * as "VM 200 already exists"), its output is read back and thrown as `taskFailed`.
 */
export async function launchTask(shell: NodeShell, spec: CommandSpec, opts: { node: string; vmid: number; taskTypes: readonly string[]; logFile: string; signal: AbortSignal; log: LogSink; sleep: Sleep; timing: TaskTiming }): Promise<LaunchedTask> {
  const launch = `date +%s; ${detached(spec, opts.logFile)}`;
  const started = await shell.exec(launch, { signal: opts.signal });
  const [epochLine, pidLine] = started.stdout.trim().split('\n');
  const since = Number(epochLine);
  const pid = Number(pidLine);
  if (started.code !== 0 || !Number.isFinite(since) || !Number.isFinite(pid)) {
    throw new LifeboatError('remoteCommandFailed', `could not start ${commandLine(spec)} on ${opts.node}: ${started.stderr.trim()}`, { node: opts.node });
  }
  opts.log.info(`started ${spec.program} on ${opts.node} (pid ${pid}), waiting for its task`);
  const deadline = Date.now() + opts.timing.appearTimeoutMs;
  for (;;) {
    throwIfAborted(opts.signal);
    const tasks = await runJson(shell, pvesh.tasks(opts.node, opts.vmid), TaskListSchema, opts.signal);
    const mine = tasks
      .filter((t) => opts.taskTypes.includes(t.type) && t.id === String(opts.vmid) && t.starttime >= since - 2)
      .sort((a, b) => b.starttime - a.starttime)[0];
    if (mine) return { upid: mine.upid, logFile: opts.logFile };
    const alive = await shell.exec(`kill -0 ${pid} 2>/dev/null && echo alive || echo gone`, { signal: opts.signal });
    if (alive.stdout.trim() === 'gone') {
      // Give the task list one more look: the process may have ended right after creating it.
      const again = await runJson(shell, pvesh.tasks(opts.node, opts.vmid), TaskListSchema, opts.signal);
      const late = again.find((t) => opts.taskTypes.includes(t.type) && t.id === String(opts.vmid) && t.starttime >= since - 2);
      if (late) return { upid: late.upid, logFile: opts.logFile };
      const output = await shell.exec(`cat ${quoteArg(opts.logFile)}`, { signal: opts.signal });
      const text = output.stdout.trim();
      throw new LifeboatError('taskFailed', text || `${spec.program} exited without creating a task`, { node: opts.node, output: text.slice(0, 1000) });
    }
    if (Date.now() > deadline) {
      throw new LifeboatError('taskFailed', `${spec.program} is running on ${opts.node} (pid ${pid}) but no task appeared`, { node: opts.node, pid });
    }
    await opts.sleep(Math.min(opts.timing.pollMs, 500), opts.signal);
  }
}

export interface FollowOptions {
  readonly node: string;
  readonly signal: AbortSignal;
  readonly log: LogSink;
  readonly sleep: Sleep;
  readonly timing: TaskTiming;
  /** Each new log line (streamed to the output channel / stdout). */
  readonly onLine?: (line: string) => void;
  /** Progress 0..1 from `progress N%` lines. */
  readonly onFraction?: (fraction: number) => void;
  /** Called after a reconnect, for the log and the report. */
  readonly onReattach?: (attempt: number) => void;
}

/**
 * Follows a task until it ends. Connection losses are ridden out (the task keeps running on the
 * node) and the log resumes where it stopped. Resolves with the exit status (`OK`, `WARNINGS: n`);
 * a failed task rejects with `taskFailed` and the task's error text.
 */
export async function followTask(shell: NodeShell, upid: string, opts: FollowOptions): Promise<{ exitstatus: string; reattached: number }> {
  let next = 0;
  let losses = 0;
  let reattached = 0;
  for (;;) {
    throwIfAborted(opts.signal);
    try {
      const read = await runJson(shell, pvesh.taskLog(opts.node, upid, next), TaskLogSchema, opts.signal);
      // An empty log is answered with one placeholder line; it is not the task's first line.
      const lines = read.length === 1 && read[0]?.t === 'no content' ? [] : read;
      for (const { n, t } of lines) {
        if (n <= next) continue;
        next = n;
        if (/^TASK (OK|ERROR|WARNINGS)/.test(t)) continue;
        opts.onLine?.(t);
        const pct = /^progress (\d+)%/.exec(t) ?? /^INFO:\s+(\d+)% \(/.exec(t);
        if (pct) opts.onFraction?.(Number(pct[1]) / 100);
      }
      const status = await runJson(shell, pvesh.taskStatus(opts.node, upid), TaskStatusSchema, opts.signal);
      if (losses > 0) {
        reattached++;
        opts.onReattach?.(reattached);
        losses = 0;
      }
      if (status.status === 'stopped') {
        const exit = status.exitstatus ?? 'unexpected status';
        if (exit === 'OK' || exit.startsWith('WARNINGS')) return { exitstatus: exit, reattached };
        throw new LifeboatError('taskFailed', exit, { node: opts.node, upid, ended: true });
      }
    } catch (err) {
      if (CancelledError.is(err) || !LifeboatError.is(err, 'connectionLost') && !LifeboatError.is(err, 'hostUnreachable')) throw err;
      losses++;
      opts.log.warn(`lost the connection to ${opts.node} while following ${upid} (${losses}/${opts.timing.reconnectAttempts}); the task keeps running on the node, reconnecting`);
      if (losses > opts.timing.reconnectAttempts) throw err;
    }
    await opts.sleep(opts.timing.pollMs, opts.signal);
  }
}
