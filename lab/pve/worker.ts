/**
 * The detached task worker (`pve.cjs __task-worker <jobfile>`): computes its UPID, owns the task
 * log, runs the job body and writes the final `TASK ...` line. See tasks.ts for why it is detached.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type TaskContext, type TaskJob, formatUpid, procStart, taskLogFile } from './tasks';
import { writeFileAtomic } from './store';
import { activeFaults } from './faults';
import { WORKERS } from './tools/workers';

export async function workerMain(jobFile: string): Promise<number> {
  const job = JSON.parse(fs.readFileSync(jobFile, 'utf8')) as TaskJob;
  const upid = formatUpid({ node: job.node, pid: process.pid, pstart: procStart(process.pid) ?? 0, starttime: Math.floor(Date.now() / 1000), type: job.type, id: job.id, user: 'root@pam' });
  const logFile = taskLogFile(job.stateDir, upid);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, '');
  writeFileAtomic(`${jobFile}.upid`, upid);
  let warnings = 0;
  const log = (line: string): void => {
    fs.appendFileSync(logFile, line.endsWith('\n') ? line : `${line}\n`);
  };
  const ctx: TaskContext = {
    stateDir: job.stateDir,
    node: job.node,
    upid,
    job,
    log,
    warn: (text) => {
      warnings++;
      log(`WARN: ${text}`);
    },
    failPoint: () => {
      for (const f of activeFaults(job.stateDir)) {
        if (f.kind === 'fail-task' && f.type === job.type && (f.vmid === undefined || String(f.vmid) === job.id)) throw new Error(f.message);
      }
    },
  };
  const body = WORKERS[job.kind];
  try {
    if (!body) throw new Error(`unknown task kind '${job.kind}'`);
    await body(ctx);
    log(warnings > 0 ? `TASK WARNINGS: ${warnings}` : 'TASK OK');
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).trim().split('\n').join(' ');
    log(`TASK ERROR: ${msg}`);
  } finally {
    // The `.upid` file is removed by the CLI once it has read it (a fast task may end first).
    try {
      fs.unlinkSync(jobFile);
    } catch {
      /* already gone */
    }
  }
  return 0;
}
