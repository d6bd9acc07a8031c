// No vscode import here: these decisions are unit-tested in plain Node.
/**
 * From a verification to what the editor shows: one diagnostic per finding that concerns a place in
 * the repository (the guest's tfvars line, the backup block, backend.tf), grouped by file; which
 * archives are corrupt (explorer flag); the error count (the view's badge).
 */
import { translate, type Finding, type Range, type VerifyResult } from '../../core';
import type { Translate } from '../../shared/problemText';
import type { ProcedureOutcome } from '../platform/runPlan';

export interface PlannedDiagnostic {
  readonly range: Range;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** The finding's code (`archive-corrupt`, `never-backed-up`…), shown in the Problems panel. */
  readonly code: string;
}

/** Warnings and errors with a file; findings without a line go on the file's first line. */
export function diagnosticsByFile(result: VerifyResult, t: Translate): Map<string, PlannedDiagnostic[]> {
  const out = new Map<string, PlannedDiagnostic[]>();
  for (const f of result.findings) {
    if (f.severity === 'ok' || !f.file) continue;
    const list = out.get(f.file) ?? [];
    list.push({ range: f.range ?? { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } }, severity: f.severity, message: text(f, t), code: f.code });
    out.set(f.file, list);
  }
  return out;
}

function text(f: Finding, t: Translate): string {
  return translate(f.message, t);
}

/** What the explorer marks on a backup: the last verification's verdict for each archive. */
export function verdictsByVolid(result: VerifyResult): Map<string, 'corrupt' | 'ok'> {
  const out = new Map<string, 'corrupt' | 'ok'>();
  for (const a of result.archives) {
    const bad = a.verdict === 'corrupt' || a.verdict === 'missing' || a.verdict === 'empty' || a.verdict === 'pbs-failed' || a.checksum === 'changed';
    if (bad) out.set(a.volid, 'corrupt');
    else if (a.verdict === 'ok' || a.verdict === 'unchanged' || a.verdict === 'pbs-ok') out.set(a.volid, 'ok');
  }
  return out;
}

export function badgeFor(result: VerifyResult, t: Translate): { value: number; tooltip: string } | undefined {
  if (result.counts.error === 0) return undefined;
  return { value: result.counts.error, tooltip: t('{0} error(s) in the last backup verification', result.counts.error) };
}

/**
 * A verification as a procedure outcome (the runbook's "Run with Lifeboat"): errors fail, warnings
 * succeed with the report, a cancelled run is cancelled (why: `commands/verify.ts`).
 */
export function verifyStatus(result: Pick<VerifyResult, 'cancelled' | 'exitCode'>): ProcedureOutcome['status'] {
  if (result.cancelled) return 'cancelled';
  return result.exitCode === 2 ? 'failed' : 'succeeded';
}
