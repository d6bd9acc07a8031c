/**
 * Proxmox tasks: UPIDs, task logs under `<stateDir>/tasks/<node>/<hex>/<UPID>` (like
 * `/var/log/pve/tasks`), status derived from the log's last line and the worker's liveness
 * (as pve-common does), and the fork/tee behaviour of `fork_worker`:
 *
 * The CLI never does the work itself. It writes a job file and spawns a *detached* worker
 * (own session via setsid, stdio closed), which computes its UPID from its own pid/pstart, runs
 * the job, appends every line to the task log and ends it with `TASK OK` / `TASK ERROR: <msg>` /
 * `TASK WARNINGS: <n>`. The CLI tails that log to stdout and exits like the real tools
 * (0; or 255 with the message on stderr). Killing the CLI — or the SSH connection that runs it —
 * leaves the worker running, so the task completes and stays visible through pvesh.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type Ctx, err, out, sleep } from './cli';
import { writeFileAtomic } from './store';
import { localDateTime } from './format';

export interface Upid {
  readonly node: string;
  readonly pid: number;
  readonly pstart: number;
  readonly starttime: number;
  readonly type: string;
  readonly id: string;
  readonly user: string;
}

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

export function formatUpid(u: Upid): string {
  return `UPID:${u.node}:${hex8(u.pid)}:${hex8(u.pstart)}:${hex8(u.starttime)}:${u.type}:${u.id}:${u.user}:`;
}

export function parseUpid(s: string): Upid | undefined {
  const m = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/.exec(s);
  if (!m) return undefined;
  return { node: m[1]!, pid: parseInt(m[3]!, 16), pstart: parseInt(m[4]!, 16), starttime: parseInt(m[5]!, 16), type: m[6]!, id: m[7]!, user: m[8]! };
}

export function tasksDir(stateDir: string, node: string): string {
  return path.join(stateDir, 'tasks', node);
}

export function taskLogFile(stateDir: string, upid: string): string {
  const u = parseUpid(upid);
  if (!u) throw new Error(`unable to parse worker upid '${upid}'`);
  return path.join(tasksDir(stateDir, u.node), hex8(u.starttime).slice(-1), upid);
}

/** Start time of a process in clock ticks since boot (`/proc/<pid>/stat` field 22), or undefined. */
export function procStart(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined; // a zombie is dead for our purpose
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

export interface TaskStatus {
  readonly upid: string;
  readonly node: string;
  readonly pid: number;
  readonly pstart: number;
  readonly starttime: number;
  readonly type: string;
  readonly id: string;
  readonly user: string;
  readonly status: 'running' | 'stopped';
  readonly exitstatus?: string;
  readonly endtime?: number;
}

function lastLine(file: string): string | undefined {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n').filter((l) => l.length > 0);
  return lines[lines.length - 1];
}

/** Exit status from a final log line (`OK`, `WARNINGS: n`, or the error), undefined if not final. */
export function exitStatusOf(line: string | undefined): string | undefined {
  if (!line) return undefined;
  if (line === 'TASK OK') return 'OK';
  if (line.startsWith('TASK WARNINGS: ')) return `WARNINGS: ${line.slice(15)}`;
  if (line.startsWith('TASK ERROR: ')) return line.slice(12);
  return undefined;
}

export function taskStatus(stateDir: string, upid: string): TaskStatus | undefined {
  const u = parseUpid(upid);
  if (!u) return undefined;
  const file = taskLogFile(stateDir, upid);
  if (!fs.existsSync(file)) return undefined;
  const base = { upid, ...u };
  const exit = exitStatusOf(lastLine(file));
  if (exit !== undefined) return { ...base, status: 'stopped', exitstatus: exit, endtime: Math.floor(fs.statSync(file).mtimeMs / 1000) };
  if (procStart(u.pid) === u.pstart) return { ...base, status: 'running' };
  return { ...base, status: 'stopped', exitstatus: 'unexpected status', endtime: Math.floor(fs.statSync(file).mtimeMs / 1000) };
}

export function listTasks(stateDir: string, node: string): TaskStatus[] {
  const root = tasksDir(stateDir, node);
  const out: TaskStatus[] = [];
  let subdirs: string[] = [];
  try {
    subdirs = fs.readdirSync(root);
  } catch {
    return out;
  }
  for (const d of subdirs) {
    let files: string[] = [];
    try {
      files = fs.readdirSync(path.join(root, d));
    } catch {
      continue;
    }
    for (const f of files) {
      if (!f.startsWith('UPID:')) continue;
      const st = taskStatus(stateDir, f);
      if (st) out.push(st);
    }
  }
  return out.sort((a, b) => b.starttime - a.starttime || (a.upid < b.upid ? 1 : -1));
}

export function readTaskLog(stateDir: string, upid: string): string[] {
  const text = fs.readFileSync(taskLogFile(stateDir, upid), 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Spawning and following a task

export interface TaskJob {
  /** The worker implementation to run (see worker.ts). */
  readonly kind: string;
  readonly node: string;
  readonly stateDir: string;
  /** UPID type and id (`qmrestore`, `200`). */
  readonly type: string;
  readonly id: string;
  readonly params: Record<string, unknown>;
}

/** Spawns the detached worker for `job` and returns its UPID once the worker has created its log. */
export async function startTask(ctx: Ctx, job: TaskJob): Promise<string> {
  const jobsDir = path.join(ctx.stateDir, 'tasks', 'jobs');
  fs.mkdirSync(jobsDir, { recursive: true });
  const jobFile = path.join(jobsDir, `${Date.now()}-${randomBytes(4).toString('hex')}.json`);
  writeFileAtomic(jobFile, JSON.stringify(job));
  let exited = false;
  if (process.env.PVE_SIM_INLINE_WORKER === '1') {
    // Test-only (runToolInProcess): run the worker body in this process, saving a node start per
    // task. Same code and files; only the detachment is lost, which the process-level tests cover.
    const { workerMain } = await import('./worker');
    void workerMain(jobFile).catch(() => (exited = true));
  } else {
    const child = spawn(process.execPath, [ctx.script, '__task-worker', jobFile], { detached: true, stdio: 'ignore', env: process.env });
    child.unref();
    child.on('exit', () => (exited = true));
  }
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      const upid = fs.readFileSync(`${jobFile}.upid`, 'utf8');
      fs.rmSync(`${jobFile}.upid`, { force: true });
      return upid;
    } catch {
      /* not yet */
    }
    if (exited && !fs.existsSync(`${jobFile}.upid`)) throw new Error('unable to start worker - worker exited early');
    if (Date.now() > deadline) throw new Error('unable to start worker - timeout');
    await sleep(10);
  }
}

/**
 * `fork_worker` + `$tee_worker`: starts the task and echoes its log on stdout until it ends.
 * Returns the exit code: 0 for OK/WARNINGS, 255 for an error (message on stderr).
 */
export async function runTaskCli(ctx: Ctx, job: TaskJob, opts: { printUpid?: boolean } = {}): Promise<number> {
  const upid = await startTask(ctx, job);
  if (opts.printUpid) out(`${upid}\n`);
  const file = taskLogFile(ctx.stateDir, upid);
  let offset = 0;
  let partial = '';
  const u = parseUpid(upid)!;
  for (;;) {
    let chunk = '';
    try {
      const fd = fs.openSync(file, 'r');
      const size = fs.fstatSync(fd).size;
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        fs.readSync(fd, buf, 0, buf.length, offset);
        offset = size;
        chunk = buf.toString('utf8');
      }
      fs.closeSync(fd);
    } catch {
      /* created by the worker before it reports its UPID; transient errors are retried */
    }
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const exit = exitStatusOf(line);
      if (exit === undefined) {
        out(`${line}\n`);
        continue;
      }
      if (exit === 'OK') return 0;
      if (exit.startsWith('WARNINGS: ')) {
        err(`Task finished with ${exit.slice(10)} warning(s)!\n`);
        return 0;
      }
      err(`${exit}\n`);
      return 255;
    }
    if (chunk === '' && procStart(u.pid) !== u.pstart) {
      // The worker died without a final line (killed): what pve-common calls "unexpected status".
      const again = fs.existsSync(file) ? fs.statSync(file).size : 0;
      if (again === offset) {
        err('unexpected status\n');
        return 255;
      }
    }
    await sleep(40);
  }
}

/** The context a worker body gets. */
export interface TaskContext {
  readonly stateDir: string;
  readonly node: string;
  readonly upid: string;
  readonly job: TaskJob;
  /** Appends one line to the task log (echoed by the CLI). */
  log(line: string): void;
  /** Appends `WARN: <text>` and counts a warning. */
  warn(text: string): void;
  /** Throws the message of a matching `fail-task` fault, if any (call it where the failure should hit). */
  failPoint(): void;
}

export function taskTimestamp(ms = Date.now()): string {
  return localDateTime(ms);
}
