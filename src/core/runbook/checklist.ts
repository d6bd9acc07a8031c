/**
 * A run of a runbook as pure transitions on its run log: pending → running → done | failed | skipped,
 * retry (failed → pending, the failed attempt kept), mark done by hand, skip with a reason, reopen.
 * A running step whose commands are not executing (some were run one by one) is handled like a failed
 * one: it can be continued, skipped or marked done. Every function returns a new log and throws
 * ChecklistError on a transition that makes no sense; errors and failures are data and msg() sentences,
 * translated by the surface.
 */
import { english, msg, type Message } from '../procedure/message';
import type { AttemptRecord, CommandRecord, Runbook, RunLog, StepFailure, StepRecord, RunbookStepStatus } from './model';

export { elapsedMs, runStartedAt, stepElapsedMs } from './timing';

export class ChecklistError extends Error {
  readonly brand = 'ChecklistError' as const;
  /** The sentence to show, translated by the surface (`translate(detail, vscode.l10n.t)`). */
  readonly detail: Message;
  constructor(readonly reason: 'unknownStep' | 'badTransition' | 'reasonRequired' | 'commandRunning', detail: Message) {
    super(english(detail));
    this.name = 'ChecklistError';
    this.detail = detail;
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
    else if (rec.status === 'running' && commandRunning(rec)) {
      // A command was executing when VS Code closed: its outcome is unknown. A running step with no
      // command executing (commands run one by one) stays as it was: it can be continued.
      const commands = Object.fromEntries(Object.entries(rec.commands).map(([k, c]) => [k, c.status === 'running' ? { ...c, status: 'failed' as const, endedAt: iso(now) } : c]));
      const started = rec.startedAt ? Date.parse(rec.startedAt) : now.getTime();
      const last = Math.max(started, ...Object.values(rec.commands).map((c) => Date.parse(c.endedAt ?? c.startedAt) || started));
      steps[s.id] = { ...rec, status: 'failed', endedAt: iso(now), durationMs: rec.durationMs + Math.max(0, last - started), failure: { reason: 'interrupted' }, commands };
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
  if (!rec) throw new ChecklistError('unknownStep', msg('This step is no longer in the runbook.'));
  return rec;
}

/** True while one of the step's commands is executing (not merely a step left running between commands). */
export function commandRunning(rec: StepRecord): boolean {
  return Object.values(rec.commands).some((c) => c.status === 'running');
}

function withStep(log: RunLog, stepId: string, rec: StepRecord): RunLog {
  return { ...log, steps: { ...log.steps, [stepId]: rec } };
}

function expect(rec: StepRecord, allowed: readonly RunbookStepStatus[], refusal: Message): void {
  if (!allowed.includes(rec.status)) throw new ChecklistError('badTransition', refusal);
}

/** An idle running step may be closed (skipped, marked done); one whose command is executing may not. */
function expectIdle(rec: StepRecord): void {
  if (rec.status === 'running' && commandRunning(rec)) {
    throw new ChecklistError('commandRunning', msg('A command of this step is running: stop it first.'));
  }
}

/** The time of the attempt running now, added when a running step is closed by hand. */
function closedDuration(rec: StepRecord, now: Date): number {
  if (rec.status !== 'running' || !rec.startedAt) return rec.durationMs;
  return rec.durationMs + Math.max(0, now.getTime() - Date.parse(rec.startedAt));
}

/** pending | failed → running. Starting a failed step again counts as a retry. */
export function startStep(log: RunLog, stepId: string, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, ['pending', 'failed'], msg('This step cannot be started now: it is running, or done or skipped (reopen it first).'));
  const retried = rec.status === 'failed' ? retryStep(log, stepId, now).steps[stepId] ?? rec : rec;
  const { endedAt: _e, failure: _f, ...rest } = retried;
  return withStep(log, stepId, { ...rest, status: 'running', startedAt: iso(now) });
}

/** Records a command's start and end inside a running step. */
export function recordCommand(log: RunLog, stepId: string, commandId: string, record: CommandRecord): RunLog {
  const rec = step(log, stepId);
  expect(rec, ['running'], msg('This step is not running.'));
  const tail = record.outputTail.length > OUTPUT_TAIL_CHARS ? `…${record.outputTail.slice(-OUTPUT_TAIL_CHARS)}` : record.outputTail;
  return withStep(log, stepId, { ...rec, commands: { ...rec.commands, [commandId]: { ...record, outputTail: tail } } });
}

/** running → done (every command succeeded) or failed (with why). */
export function finishStep(log: RunLog, stepId: string, outcome: { ok: true } | { ok: false; failure: StepFailure }, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, ['running'], msg('This step is not running.'));
  const durationMs = closedDuration(rec, now);
  if (outcome.ok) return withStep(log, stepId, { ...rec, status: 'done', endedAt: iso(now), durationMs });
  return withStep(log, stepId, { ...rec, status: 'failed', endedAt: iso(now), durationMs, failure: outcome.failure });
}

/** failed → pending, keeping the failed attempt for the report. */
export function retryStep(log: RunLog, stepId: string, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, ['failed'], msg('Only a failed step can be retried.'));
  const failedCommand = Object.entries(rec.commands).find(([, c]) => c.status === 'failed');
  const attempt: AttemptRecord = {
    status: 'failed',
    ...(rec.startedAt ? { startedAt: rec.startedAt } : {}),
    endedAt: rec.endedAt ?? iso(now),
    ...(failedCommand ? { failedCommand: failedCommand[1].text, ...(failedCommand[1].exitCode !== undefined ? { exitCode: failedCommand[1].exitCode } : {}) } : {}),
    ...(rec.failure ? { failure: rec.failure } : {}),
  };
  const { endedAt: _e, failure: _f, startedAt: _s, ...rest } = rec;
  return withStep(log, stepId, { ...rest, status: 'pending', retries: rec.retries + 1, attempts: [...rec.attempts, attempt] });
}

/** pending | failed | idle running → skipped, with the operator's reason (it goes into the report). */
export function skipStep(log: RunLog, stepId: string, reason: string, now: Date): RunLog {
  const rec = step(log, stepId);
  expect(rec, ['pending', 'failed', 'running'], msg('This step is already done or skipped.'));
  expectIdle(rec);
  if (!reason.trim()) throw new ChecklistError('reasonRequired', msg('Skipping a step needs a reason: it goes into the DR report.'));
  return withStep(log, stepId, { ...rec, status: 'skipped', endedAt: iso(now), durationMs: closedDuration(rec, now), skipReason: reason.trim() });
}

/** pending | failed | idle running → done by hand (the operator did it another way). */
export function markStepDone(log: RunLog, stepId: string, now: Date, note?: string): RunLog {
  const rec = step(log, stepId);
  expect(rec, ['pending', 'failed', 'running'], msg('This step is already done or skipped.'));
  expectIdle(rec);
  return withStep(log, stepId, { ...rec, status: 'done', manual: true, endedAt: iso(now), durationMs: closedDuration(rec, now), ...(note ? { skipReason: note } : {}) });
}

/**
 * done | skipped → pending: undo a decision and run the step again. The closed attempt is kept in
 * `attempts` (with its start, so the measured recovery time still counts from the first start, and the
 * report says it was reopened); its command results are cleared.
 */
export function reopenStep(log: RunLog, stepId: string, now: Date = new Date()): RunLog {
  const rec = step(log, stepId);
  expect(rec, ['done', 'skipped'], msg('Only a done or skipped step can be reopened.'));
  const closed: AttemptRecord = {
    status: rec.status === 'done' ? 'done' : 'skipped',
    ...(rec.startedAt ? { startedAt: rec.startedAt } : {}),
    endedAt: rec.endedAt ?? iso(now),
    ...(rec.manual ? { manual: true } : {}),
    ...(rec.skipReason ? { skipReason: rec.skipReason } : {}),
  };
  const { endedAt: _e, skipReason: _s, manual: _m, startedAt: _st, failure: _f, ...rest } = rec;
  // Its commands start afresh: results of the closed attempt must not count towards the next one.
  return withStep(log, stepId, { ...rest, status: 'pending', commands: {}, attempts: [...rec.attempts, closed] });
}

export function setCheck(log: RunLog, itemId: string, checked: boolean): RunLog {
  return { ...log, checks: { ...log.checks, [itemId]: checked } };
}

/** The steps still to run, in order: pending, failed, or running with no command executing (partly run by hand). */
export function remainingSteps(log: RunLog, runbook: Runbook): string[] {
  return runbook.steps.filter((s) => {
    const rec = log.steps[s.id];
    const st = rec?.status ?? 'pending';
    return st === 'pending' || st === 'failed' || (st === 'running' && rec !== undefined && !commandRunning(rec));
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

/** Why a step failed, as a sentence the surface translates. */
export function failureMessage(failure: StepFailure | string | undefined): Message {
  // Run logs written before failures were data held an English sentence: shown as written.
  if (failure === undefined) return msg('failed');
  if (typeof failure === 'string') return { text: failure, args: [] };
  // The command is shown in full in the step; a sentence quotes the start of a long one.
  const full = failure.command ?? '?';
  const command = full.length > 60 ? `${full.slice(0, 59)}…` : full;
  const procedure = failure.procedure ?? '?';
  switch (failure.reason) {
    case 'commandFailed':
      return msg('`{0}` exited with code {1}.', command, failure.exitCode ?? '?');
    case 'interrupted':
      return msg('Interrupted: VS Code closed while a command ran, so its outcome is unknown. Check, then retry, skip or mark the step done.');
    case 'stopped':
      return msg('Stopped by the operator.');
    case 'error':
      return msg('Could not run `{0}`: {1}', command, failure.detail ?? '?');
    case 'procedureFailed':
      if (failure.detail) return msg('Lifeboat ({0}) did not run the procedure: {1}', procedure, failure.detail);
      switch (failure.outcome) {
        case 'failed': return msg('Lifeboat\'s procedure ({0}) failed: see its report.', procedure);
        case 'cancelled': return msg('Lifeboat\'s procedure ({0}) was cancelled.', procedure);
        case 'not-confirmed': return msg('Lifeboat\'s procedure ({0}) was not confirmed, or found nothing to act on: it changed nothing.', procedure);
        case 'refused': return msg('Lifeboat\'s procedure ({0}) refused to run: its message says why.', procedure);
        default: return msg('Lifeboat\'s procedure ({0}) reported no outcome, so the step is not marked done: check what it did, then mark the step done by hand if it succeeded.', procedure);
      }
  }
}

/**
 * What a Lifeboat procedure command resolved to, read strictly: only an explicit `{ status: 'succeeded' }`
 * is a success. Anything else (another status, nothing at all, a value of another shape) fails the step.
 */
export function procedureVerdict(value: unknown): { ok: true; reportFile?: string } | { ok: false; outcome: string; reportFile?: string } {
  const status = value && typeof value === 'object' && typeof (value as { status?: unknown }).status === 'string' ? (value as { status: string }).status : undefined;
  const file = value && typeof value === 'object' ? (value as { reportFile?: unknown }).reportFile : undefined;
  const reportFile = typeof file === 'string' ? { reportFile: file } : {};
  if (status === 'succeeded') return { ok: true, ...reportFile };
  return { ok: false, outcome: status ?? 'none', ...reportFile };
}
