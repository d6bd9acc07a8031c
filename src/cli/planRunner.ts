/**
 * The one way every CLI procedure shows its plan, asks, runs and reports: `--dry-run` prints the
 * plan and stops; otherwise the plan is printed (to stderr with `--json`, so stdout stays JSON),
 * the question defaults to no (`--force` answers yes; no terminal and no `--force` is a refusal),
 * the plan runs with Ctrl-C wired to its AbortSignal, and the report is printed and saved under
 * `.lifeboat/reports/`.
 */
import { runPlan, type Message, type Plan, type RunReport } from '../core';
import { planJson, reportJson, saveReport } from '../shared/reportData';
import { planLines, render, reportLines } from '../shared/reportText';
import type { CliIo } from './commands/environments';
import { t } from './l10n';
import { ExitCode } from './output';
import { confirm } from './prompt';
import type { CliRuntime } from './runtime';

export interface PlanRunOptions {
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly force?: boolean;
}

export interface PlanRunSpec {
  readonly plan: Plan;
  /** What the plan was built from: printed by `--dry-run --json`. */
  readonly facts: unknown;
  readonly question: string;
  readonly aftermath: (stepFacts: ReadonlyMap<string, string>) => Message[];
  /** Extra fields for the JSON report (e.g. the Terraform plan's result). */
  readonly extraJson?: (report: RunReport) => Record<string, unknown>;
  /** Extra lines after the human report (e.g. a DO NOT APPLY warning). */
  readonly extraLines?: (report: RunReport) => string[];
}

export async function confirmAndRun(spec: PlanRunSpec, o: PlanRunOptions, io: CliIo, rt: Pick<CliRuntime, 'signal' | 'log' | 'discovery'>): Promise<number> {
  const { plan } = spec;
  if (o.dryRun) {
    if (o.json) io.out(JSON.stringify({ dryRun: true, plan: planJson(plan), facts: spec.facts }, null, 2));
    else {
      for (const line of planLines(plan, t)) io.out(line);
      io.out('');
      io.out(t('Dry run: nothing was changed.'));
    }
    return ExitCode.ok;
  }
  for (const line of planLines(plan, t)) (o.json ? io.err : io.out)(line);
  const interactive = Boolean(process.stdin.isTTY) && io.env.CI !== 'true';
  if (!(await confirm(spec.question, { force: Boolean(o.force), interactive }))) {
    io.err(interactive ? t('Not confirmed: nothing was changed.') : t('Not confirmed (no terminal to ask on): nothing was changed. Rerun with --force to proceed without a question.'));
    if (o.json) io.out(JSON.stringify({ status: 'not-confirmed', changed: false }, null, 2));
    return ExitCode.failure;
  }
  const report = await runPlan(plan, {
    signal: rt.signal,
    log: rt.log,
    onProgress: (p) => {
      if (o.json) return;
      const said = p.message ? render(p.message, t) : undefined;
      if (p.fraction !== undefined) io.err(`  ${p.stepId} ${Math.round(p.fraction * 100)}%${said ? `: ${said}` : ''}`);
      else if (said) io.err(`  ${p.stepId}: ${said}`);
    },
    aftermath: (stepFacts) => spec.aftermath(stepFacts),
  });
  const saved = await saveReport(rt.discovery.root, report, t);
  if (o.json) io.out(JSON.stringify({ ...reportJson(report, saved), ...(spec.extraJson?.(report) ?? {}) }, null, 2));
  else {
    io.out('');
    for (const line of reportLines(report, t)) io.out(line);
    for (const line of spec.extraLines?.(report) ?? []) io.out(line);
    io.out(t('Report written to {0}', saved));
  }
  return report.status === 'succeeded' ? ExitCode.ok : ExitCode.failure;
}
