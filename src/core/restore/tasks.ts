/**
 * Long operations run as Proxmox tasks detached from the SSH session, so a dropped connection does
 * not kill them; Lifeboat follows the task by its UPID (status + log) and re-attaches after a
 * reconnect.
 */
import { CancelledError, LifeboatError, throwIfAborted } from '../errors';
import { msg } from '../procedure/message';
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

/** What is known once a detached command was started, before its task is found. */
export interface Launched {
  readonly logFile: string;
  /** The background process; undefined when the connection dropped before the node said it. */
  readonly pid: number | undefined;
  /** Cancelled while the launch line was on its way: it may or may not have started. */
  readonly uncertain?: boolean;
}

export interface LaunchOptions {
  readonly node: string;
  readonly vmid: number;
  readonly taskTypes: readonly string[];
  readonly logFile: string;
  readonly signal: AbortSignal;
  readonly log: LogSink;
  readonly sleep: Sleep;
  readonly timing: TaskTiming;
  /**
   * Called as soon as the command is known to run on the node, before its task is looked for: from
   * then on it may run whatever happens to the connection or to Lifeboat (the caller records it).
   */
  readonly onLaunched?: (launched: Launched) => void;
}

/** A lost SSH connection (or a node that cannot be reached again yet): worth riding out. */
export function isConnectionLoss(err: unknown): boolean {
  return LifeboatError.is(err, 'connectionLost') || LifeboatError.is(err, 'hostUnreachable');
}

/**
 * Starts `spec` detached on the node and finds the task it created (type among `taskTypes`, id =
 * vmid, started after launch). If the command fails before creating a task (a pre-check error such
 * as "VM 200 already exists"), its output is read back and thrown as `taskFailed`.
 *
 * Connection losses are ridden out like `followTask` does: a drop while the launch's answer is on
 * its way is settled after reconnecting by the command's log file (it exists once the node ran the
 * line); a drop while looking for the task just looks again.
 */
export async function launchTask(shell: NodeShell, spec: CommandSpec, opts: LaunchOptions): Promise<LaunchedTask> {
  const launch = `date +%s; ${detached(spec, opts.logFile)}`;
  const localStart = Date.now();
  let since: number;
  let pid: number | undefined;
  try {
    const started = await shell.exec(launch, { signal: opts.signal });
    const [epochLine, pidLine] = started.stdout.trim().split('\n');
    since = Number(epochLine);
    pid = Number(pidLine);
    if (started.code !== 0 || !Number.isFinite(since) || !Number.isFinite(pid)) {
      throw LifeboatError.saying('remoteCommandFailed', msg('could not start {0} on {1}: {2}', commandLine(spec), opts.node, started.stderr.trim()), { node: opts.node });
    }
  } catch (err) {
    if (CancelledError.is(err)) {
      // The line may have reached the node before the channel closed: say it may run.
      opts.onLaunched?.({ logFile: opts.logFile, pid: undefined, uncertain: true });
      throw err;
    }
    if (!isConnectionLoss(err)) throw err;
    opts.log.warn(`lost the connection to ${opts.node} while starting ${spec.program}; checking whether it started`);
    const check = await ridingOut(`checking whether ${spec.program} started`, opts, () => shell.exec(`date +%s; test -e ${quoteArg(opts.logFile)} && echo started || echo absent`, { signal: opts.signal }));
    const [nowLine, answer] = check.stdout.trim().split('\n');
    if (answer !== 'started') {
      throw LifeboatError.saying('connectionLost', msg('the connection to {0} was lost while starting {1}, and the node shows no sign that it ran (no {2}): it was not started', opts.node, spec.program, opts.logFile), { node: opts.node }, { cause: err });
    }
    // The node's clock at launch, from its clock now and the time that went by here (with a margin).
    since = Number(nowLine) - Math.ceil((Date.now() - localStart) / 1000) - 5;
    pid = undefined;
  }
  opts.onLaunched?.({ logFile: opts.logFile, pid });
  opts.log.info(`started ${spec.program} on ${opts.node} (${pid === undefined ? 'pid unknown' : `pid ${pid}`}), waiting for its task`);

  // Without the node's clock, only a task still running can be ours (none ran when the plan was made).
  const mine = (tasks: readonly { type: string; id?: string; starttime: number; endtime?: number; upid: string }[]) => tasks
    .filter((t) => opts.taskTypes.includes(t.type) && t.id === String(opts.vmid) && (Number.isFinite(since) ? t.starttime >= since - 2 : t.endtime === undefined))
    .sort((a, b) => b.starttime - a.starttime)[0];
  const deadline = Date.now() + opts.timing.appearTimeoutMs;
  let losses = 0;
  for (;;) {
    throwIfAborted(opts.signal);
    try {
      const found = mine(await runJson(shell, pvesh.tasks(opts.node, opts.vmid), TaskListSchema, opts.signal));
      if (found) return { upid: found.upid, logFile: opts.logFile };
      if (pid !== undefined) {
        const alive = await shell.exec(`kill -0 ${pid} 2>/dev/null && echo alive || echo gone`, { signal: opts.signal });
        if (alive.stdout.trim() === 'gone') {
          // Give the task list one more look: the process may have ended right after creating it.
          const late = mine(await runJson(shell, pvesh.tasks(opts.node, opts.vmid), TaskListSchema, opts.signal));
          if (late) return { upid: late.upid, logFile: opts.logFile };
          const output = await shell.exec(`cat ${quoteArg(opts.logFile)}`, { signal: opts.signal });
          const text = output.stdout.trim();
          // The process is gone: nothing of it runs any more (`ended`).
          const details = { node: opts.node, output: text.slice(0, 1000), ended: true };
          // The command's own output is the node's words, shown as they came; our sentence only when it said nothing.
          throw text ? new LifeboatError('taskFailed', text, details) : LifeboatError.saying('taskFailed', msg('{0} exited without creating a task', spec.program), details);
        }
      }
      losses = 0;
      if (Date.now() > deadline) {
        const text = pid === undefined
          ? msg('{0} is running on {1} (output in {2}) but no task appeared', spec.program, opts.node, opts.logFile)
          : msg('{0} is running on {1} (pid {2}) but no task appeared', spec.program, opts.node, pid);
        throw LifeboatError.saying('taskFailed', text, { node: opts.node, pid });
      }
    } catch (err) {
      if (CancelledError.is(err) || !isConnectionLoss(err)) throw err;
      losses++;
      opts.log.warn(`lost the connection to ${opts.node} while looking for the task of ${spec.program} (${losses}/${opts.timing.reconnectAttempts}); it keeps running on the node, reconnecting`);
      if (losses > opts.timing.reconnectAttempts) throw err;
    }
    await opts.sleep(Math.min(opts.timing.pollMs, 500), opts.signal);
  }
}

/** Runs `fn` again after each connection loss, up to `reconnectAttempts` in a row. */
async function ridingOut<T>(what: string, opts: Pick<LaunchOptions, 'node' | 'signal' | 'log' | 'sleep' | 'timing'>, fn: () => Promise<T>): Promise<T> {
  for (let losses = 1; ; losses++) {
    throwIfAborted(opts.signal);
    try {
      return await fn();
    } catch (err) {
      if (CancelledError.is(err) || !isConnectionLoss(err) || losses > opts.timing.reconnectAttempts) throw err;
      opts.log.warn(`lost the connection to ${opts.node} while ${what} (${losses}/${opts.timing.reconnectAttempts}), reconnecting`);
      await opts.sleep(opts.timing.pollMs, opts.signal);
    }
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
      if (CancelledError.is(err) || !isConnectionLoss(err)) throw err;
      losses++;
      opts.log.warn(`lost the connection to ${opts.node} while following ${upid} (${losses}/${opts.timing.reconnectAttempts}); the task keeps running on the node, reconnecting`);
      if (losses > opts.timing.reconnectAttempts) throw err;
    }
    await opts.sleep(opts.timing.pollMs, opts.signal);
  }
}
