/**
 * A run of a runbook as pure transitions on its run log: pending → running → done | failed | skipped,
 * retry (failed → pending, the failed attempt kept), mark done by hand, skip with a reason.
 * Every function returns a new log and throws ChecklistError on a transition that makes no sense.
 */
import type { AttemptRecord, CommandRecord, Runbook, RunLog, StepRecord, RunbookStepStatus } from './model';

export class ChecklistError extends Error {
  readonly brand = 'ChecklistError' as const;
  constructor(readonly reason: 'unknownStep' | 'badTransition' | 'reasonRequired', message: string) {
    super(message);
    this.name = 'ChecklistError';
  }
  static is(err: unknown): err is ChecklistError {
    return err instanceof Error && (err as Partial<ChecklistError>).brand === 'ChecklistError';
  }
}

/** How much of each command's output the run log keeps. */
export const OUTPUT_TAIL_CHARS = 4_000;

const iso = (d: Date) => d.toISOString();

function emptyStep(hash: string): StepRecord {
  return { status: 'pending', durationMs: 0, hash, retries: 0, attempts: [], commands: {} };
}

/** A fresh run: every step pending, checkboxes as written in the Markdown. */
export function newRunLog(runbook: Runbook, runbookPath: string, now: Date, operator?: string): RunLog {
  const steps: Record<string, StepRecord> = {};
  const checks: Record<string, boolean> = {};
  for (const s of runbook.steps) {
    steps[s.id] = emptyStep(s.hash);
    for (const c of s.checklist) checks[c.id] = c.checked;
  }
  for (const c of runbook.prerequisites) checks[c.id] = c.checked;
  return {
    format: 'lifeboat-runbook-run/1',
    runbook: runbookPath,
    title: runbook.title,
    startedAt: iso(now),
    ...(operator ? { operator } : {}),
    ...(runbook.rtoMinutes !== undefined ? { rtoMinutes: runbook.rtoMinutes } : {}),
    steps,
    checks,
  };
}

/**
 * Brings a saved log up to the current runbook: new steps are added as pending, checkboxes of new
 * items get their Markdown default, and a step left "running" (the window was reloaded or closed
 * while it ran) becomes failed: its command's outcome is unknown.
 */
export function resumeRunLog(log: RunLog, runbook: Runbook, now: Date): RunLog {
  const steps: Record<string, StepRecord> = { ...log.steps };
  const checks: Record<string, boolean> = { ...log.checks };
  for (const s of runbook.steps) {
    const rec = steps[s.id];
    if (!rec) steps[s.id] = emptyStep(s.hash);
    else if (rec.status === 'running') {
      const commands = Object.fromEntries(Object.entries(rec.commands).map(([k, c]) => [k, c.status === 'running' ? { ...c, status: 'failed' as const, endedAt: iso(now) } : c]));
      steps[s.id] = { ...rec, status: 'failed', endedAt: iso(now), failure: 'interrupted', commands };
    }
    for (const c of s.checklist) if (!(c.id in checks)) checks[c.id] = c.checked;
  }
  for (const c of runbook.prerequisites) if (!(c.id in checks)) checks[c.id] = c.checked;
  return { ...log, steps, checks };
}

/** Steps whose Markdown changed since the run recorded them (ids of steps with a different hash). */
export function changedSteps(log: RunLog, runbook: Runbook): string[] {
  return runbook.steps.filter((s) => log.steps[s.id] && log.steps[s.id]?.hash !== s.hash).map((s) => s.id);
}

function step(log: RunLog, stepId: string): StepRecord {
  const rec = log.steps[stepId];
  if (!rec) throw new ChecklistError('unknownStep', `no step ${stepId} in this run`);
  return rec;
}

function withStep(log: RunLog, stepId: string, rec: StepRecord): RunLog {
  return { ...log, steps: { ...log.steps, [stepId]: rec } };
}

function expect(rec: StepRecord, stepId: string, allowed: readonly RunbookStepStatus[], action: string): void {
  if (!allowed.includes(rec.status)) {
    throw new ChecklistError('badTransition', `cannot ${action} step ${stepId}: it is ${rec.status}`);
  }
}

/** pending | failed → running. Starting a failed step again counts as a retry. */
export function startStep(log: RunLog, stepId: string, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, stepId, ['pending', 'failed'], 'start');
  const retried = rec.status === 'failed' ? retryStep(log, stepId, now).steps[stepId] ?? rec : rec;
  const { endedAt: _e, failure: _f, ...rest } = retried;
  return withStep(log, stepId, { ...rest, status: 'running', startedAt: iso(now) });
}

/** Records a command's start and end inside a running step. */
export function recordCommand(log: RunLog, stepId: string, commandId: string, record: CommandRecord): RunLog {
  const rec = step(log, stepId);
  expect(rec, stepId, ['running'], 'record a command of');
  const tail = record.outputTail.length > OUTPUT_TAIL_CHARS ? `…${record.outputTail.slice(-OUTPUT_TAIL_CHARS)}` : record.outputTail;
  return withStep(log, stepId, { ...rec, commands: { ...rec.commands, [commandId]: { ...record, outputTail: tail } } });
}

/** running → done (every command exited 0) or failed (the first non-zero exit). */
export function finishStep(log: RunLog, stepId: string, outcome: { ok: true } | { ok: false; failedCommand?: string; exitCode?: number; failure?: string }, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, stepId, ['running'], 'finish');
  const started = rec.startedAt ? Date.parse(rec.startedAt) : now.getTime();
  const durationMs = rec.durationMs + Math.max(0, now.getTime() - started);
  if (outcome.ok) return withStep(log, stepId, { ...rec, status: 'done', endedAt: iso(now), durationMs });
  const failure = outcome.failure ?? (outcome.failedCommand ? `${outcome.failedCommand} exited with ${outcome.exitCode ?? '?'}` : 'failed');
  return withStep(log, stepId, { ...rec, status: 'failed', endedAt: iso(now), durationMs, failure });
}

/** failed → pending, keeping the failed attempt for the report. */
export function retryStep(log: RunLog, stepId: string, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, stepId, ['failed'], 'retry');
  const failedCommand = Object.entries(rec.commands).find(([, c]) => c.status === 'failed');
  const attempt: AttemptRecord = {
    status: 'failed',
    ...(rec.startedAt ? { startedAt: rec.startedAt } : {}),
    endedAt: rec.endedAt ?? iso(now),
    ...(failedCommand ? { failedCommand: failedCommand[1].text, ...(failedCommand[1].exitCode !== undefined ? { exitCode: failedCommand[1].exitCode } : {}) } : {}),
  };
  const { endedAt: _e, failure: _f, ...rest } = rec;
  return withStep(log, stepId, { ...rest, status: 'pending', retries: rec.retries + 1, attempts: [...rec.attempts, attempt] });
}

/** pending | failed → skipped, with the operator's reason (it goes into the report). */
export function skipStep(log: RunLog, stepId: string, reason: string, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, stepId, ['pending', 'failed'], 'skip');
  if (!reason.trim()) throw new ChecklistError('reasonRequired', `skipping step ${stepId} needs a reason`);
  return withStep(log, stepId, { ...rec, status: 'skipped', endedAt: iso(now), skipReason: reason.trim() });
}

/** pending | failed → done by hand (the operator did it another way). */
export function markStepDone(log: RunLog, stepId: string, now: Date, note?: string): RunLog {
  const rec = step(log, stepId);
  expect(rec, stepId, ['pending', 'failed'], 'mark done');
  return withStep(log, stepId, { ...rec, status: 'done', manual: true, endedAt: iso(now), ...(note ? { skipReason: note } : {}) });
}

/** done | skipped → pending: undo a manual decision. */
export function reopenStep(log: RunLog, stepId: string): RunLog {
  const rec = step(log, stepId);
  expect(rec, stepId, ['done', 'skipped'], 'reopen');
  const { endedAt: _e, skipReason: _s, manual: _m, ...rest } = rec;
  return withStep(log, stepId, { ...rest, status: 'pending' });
}

export function setCheck(log: RunLog, itemId: string, checked: boolean): RunLog {
  return { ...log, checks: { ...log.checks, [itemId]: checked } };
}

/** The steps still to run, in order (pending or failed). */
export function remainingSteps(log: RunLog, runbook: Runbook): string[] {
  return runbook.steps.filter((s) => {
    const st = log.steps[s.id]?.status ?? 'pending';
    return st === 'pending' || st === 'failed';
  }).map((s) => s.id);
}

/** True when every step is done or skipped. */
export function isComplete(log: RunLog, runbook: Runbook): boolean {
  return runbook.steps.every((s) => ['done', 'skipped'].includes(log.steps[s.id]?.status ?? 'pending'));
}

/** Marks the end of the run when it is complete (the measured recovery time stops there). */
export function closeIfComplete(log: RunLog, runbook: Runbook, now: Date): RunLog {
  if (log.endedAt || !isComplete(log, runbook)) return log;
  return { ...log, endedAt: iso(now) };
}

/**
 * The measured recovery time so far: from the first step started (ticking checkboxes beforehand does
 * not count) to the run's end, or now. Zero before any step started.
 */
export function elapsedMs(log: RunLog, now: Date): number {
  const starts = Object.values(log.steps).map((s) => s.startedAt ?? s.attempts[0]?.startedAt).filter((s): s is string => Boolean(s)).sort();
  const first = starts[0];
  if (!first) return 0;
  const end = log.endedAt ? Date.parse(log.endedAt) : now.getTime();
  return Math.max(0, end - Date.parse(first));
}
