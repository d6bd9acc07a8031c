/**
 * The stopwatch of a run, shared by the DR report (core) and the checklist webview, so the time the
 * operator watches is the time the report records. Pure functions of the run log; no imports but types.
 */
import type { RunLog, StepRecord } from './model';

function earliest(a: number | undefined, iso: string | undefined): number | undefined {
  if (!iso) return a;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return a;
  return a === undefined || t < a ? t : a;
}

/**
 * When the recovery started: the earliest start of any step, counting the earlier attempts of a step
 * that was retried or reopened (its own `startedAt` is then the latest attempt's). Undefined before any
 * step started: ticking checkboxes beforehand does not start the clock.
 */
export function runStartedAt(log: RunLog): number | undefined {
  let first: number | undefined;
  for (const rec of Object.values(log.steps)) {
    first = earliest(first, rec.startedAt);
    for (const a of rec.attempts) first = earliest(first, a.startedAt);
  }
  return first;
}

/** The measured recovery time: from the first start to the run's end, or to now. Zero before any step started. */
export function elapsedMs(log: RunLog, now: Date | number): number {
  const first = runStartedAt(log);
  if (first === undefined) return 0;
  const end = log.endedAt ? Date.parse(log.endedAt) : typeof now === 'number' ? now : now.getTime();
  return Math.max(0, end - first);
}

/** A step's own time: its finished attempts, plus the attempt running now. */
export function stepElapsedMs(rec: StepRecord, now: Date | number): number {
  const at = typeof now === 'number' ? now : now.getTime();
  const running = rec.status === 'running' && rec.startedAt ? Math.max(0, at - Date.parse(rec.startedAt)) : 0;
  return rec.durationMs + running;
}
