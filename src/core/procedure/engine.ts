/**
 * Runs a plan step by step. Checks the signal between steps, records each step's outcome and
 * duration, stops at the first failure, and builds the report from what was recorded — never
 * reporting success on a partial result.
 */
import { CancelledError, LifeboatError } from '../errors';
import type { LogSink } from '../ports';
import { english, msg, type Message } from './message';
import type { Plan, RunReport, StepContext, StepOutcome } from './types';

export interface RunOptions {
  readonly signal: AbortSignal;
  readonly log: LogSink;
  /** `message`: the step's title when it starts, then what the step reports; sentences for the surface to translate. */
  readonly onProgress?: (p: { stepId: string; stepIndex: number; stepCount: number; message?: Message; fraction?: number }) => void;
  readonly onStep?: (outcome: StepOutcome, index: number) => void;
  readonly now?: () => Date;
  /** Called when a run fails or is cancelled after changes, to describe the state left behind. */
  readonly aftermath?: (facts: ReadonlyMap<string, string>, failedStepId: string | undefined) => Message[];
}

export async function runPlan(plan: Plan, options: RunOptions): Promise<RunReport> {
  const now = options.now ?? (() => new Date());
  const lock = plan.exclusive;
  if (lock?.held.has(lock.key)) {
    // Another run of the same kind on the same target is under way: change nothing.
    options.log.warn(`[${plan.id}] refused: another run for ${String(lock.key)} is in progress`);
    const at = now().toISOString();
    const error = { reason: 'restoreInProgress', message: `another run for ${String(lock.key)} is in progress` };
    return {
      planId: plan.id, kind: plan.kind, title: plan.title, status: 'failed', startedAt: at, finishedAt: at, durationMs: 0,
      summary: plan.summary,
      steps: plan.steps.map((step, i): StepOutcome => ({ id: step.id, title: step.title, status: i === 0 ? 'failed' : 'not-run', startedAt: undefined, durationMs: undefined, detail: undefined, error: i === 0 ? error : undefined })),
      facts: {}, changed: false, aftermath: [msg('Nothing was changed.')], nextSteps: plan.nextSteps,
    };
  }
  lock?.held.add(lock.key);
  try {
    return await runSteps(plan, options, now);
  } finally {
    lock?.held.delete(lock.key);
  }
}

async function runSteps(plan: Plan, options: RunOptions, now: () => Date): Promise<RunReport> {
  const startedAt = now();
  const facts = new Map<string, string>();
  const outcomes: StepOutcome[] = [];
  let status: RunReport['status'] = 'succeeded';
  let changed = false;
  let failedStepId: string | undefined;
  const notRun = (step: Plan['steps'][number]): StepOutcome => ({ id: step.id, title: step.title, status: 'not-run', startedAt: undefined, durationMs: undefined, detail: undefined, error: undefined });

  for (const [index, step] of plan.steps.entries()) {
    if (status !== 'succeeded') {
      outcomes.push(notRun(step));
      continue;
    }
    if (options.signal.aborted) {
      status = 'cancelled';
      outcomes.push(notRun(step));
      continue;
    }
    const stepStarted = now();
    options.log.info(`[${plan.id}] step ${index + 1}/${plan.steps.length} ${step.id}: ${english(step.title)}`);
    for (const c of step.commands) options.log.info(`[${plan.id}]   $ ${c}`);
    options.onProgress?.({ stepId: step.id, stepIndex: index, stepCount: plan.steps.length, message: step.title });
    const ctx: StepContext = {
      signal: options.signal,
      log: options.log,
      facts,
      report: (p) => options.onProgress?.({ stepId: step.id, stepIndex: index, stepCount: plan.steps.length, ...p }),
    };
    const elapsed = () => now().getTime() - stepStarted.getTime();
    try {
      if (step.destructive) changed = true;
      const detail = await step.run(ctx);
      const outcome: StepOutcome = { id: step.id, title: step.title, status: 'done', startedAt: stepStarted.toISOString(), durationMs: elapsed(), detail: detail ?? undefined, error: undefined };
      outcomes.push(outcome);
      options.onStep?.(outcome, index);
    } catch (err) {
      const cancelled = CancelledError.is(err);
      status = cancelled ? 'cancelled' : 'failed';
      failedStepId = step.id;
      const error = cancelled
        ? { reason: 'cancelled', message: 'cancelled by the operator' }
        : { reason: LifeboatError.is(err) ? err.reason : 'internal', message: err instanceof Error ? err.message : String(err), ...(LifeboatError.is(err) && err.text ? { text: err.text } : {}) };
      if (cancelled) options.log.warn(`[${plan.id}] step ${step.id} cancelled`);
      else options.log.error(`[${plan.id}] step ${step.id} failed: ${error.message}`);
      const outcome: StepOutcome = { id: step.id, title: step.title, status: cancelled ? 'cancelled' : 'failed', startedAt: stepStarted.toISOString(), durationMs: elapsed(), detail: undefined, error };
      outcomes.push(outcome);
      options.onStep?.(outcome, index);
    }
  }

  // A report is owed even if describing the aftermath fails.
  function describeAftermath(): Message[] {
    const generic = msg('Some steps changed things before the run stopped; see each step above.');
    try {
      return options.aftermath?.(facts, failedStepId) ?? [generic];
    } catch (err) {
      options.log.error(`[${plan.id}] could not describe the state left behind: ${String(err)}`);
      return [generic];
    }
  }

  const finishedAt = now();
  const aftermath = status === 'succeeded' ? [] : changed ? describeAftermath() : [msg('Nothing was changed.')];
  return {
    planId: plan.id,
    kind: plan.kind,
    title: plan.title,
    status,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    summary: plan.summary,
    steps: outcomes,
    facts: Object.fromEntries(facts),
    changed,
    aftermath,
    nextSteps: plan.nextSteps,
  };
}
