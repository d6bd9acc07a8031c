/**
 * Plans and reports as text, shared by the CLI (terminal) and the extension (confirmation dialog,
 * Markdown report). Takes the surface's `t`, so both speak the same translated words.
 */
import { translate, type Message, type Plan, type RunReport, type StepOutcome } from '../core';
import type { Translate } from './problemText';

export function render(m: Message, t: Translate): string {
  return translate(m, t);
}

/** The plan as plain lines: summary, what will be destroyed, warnings, then each step's exact commands. */
export function planLines(plan: Plan, t: Translate): string[] {
  const lines: string[] = [render(plan.title, t), ''];
  for (const s of plan.summary) lines.push(`  ${render(s.label, t)}: ${s.value}`);
  if (plan.destroys.length) {
    lines.push('', t('This will destroy or overwrite:'));
    for (const d of plan.destroys) lines.push(`  ! ${render(d, t)}`);
  }
  if (plan.warnings.length) {
    lines.push('', t('Read before you answer:'));
    for (const w of plan.warnings) lines.push(`  - ${render(w, t)}`);
  }
  lines.push('', t('Steps and exact commands:'));
  plan.steps.forEach((step, i) => {
    lines.push(`  ${i + 1}. ${render(step.title, t)}${step.destructive ? `  [${t('changes something')}]` : ''}`);
    for (const c of step.commands) lines.push(`       $ ${c}`);
    if (step.effect) lines.push(`       ${render(step.effect, t)}`);
  });
  return lines;
}

/**
 * An error kept as data (a failed step, a node the inventory could not read) in the operator's
 * language when the core gave a sentence, else as it came.
 */
export function errorText(error: Pick<NonNullable<StepOutcome['error']>, 'message' | 'text'>, t: Translate): string {
  return error.text ? render(error.text, t) : error.message;
}

function statusWord(status: StepOutcome['status'], t: Translate): string {
  switch (status) {
    case 'done': return t('done');
    case 'failed': return t('FAILED');
    case 'cancelled': return t('cancelled');
    case 'not-run': return t('not run');
  }
}

export function seconds(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function outcomeWord(report: RunReport, t: Translate): string {
  switch (report.status) {
    case 'succeeded': return t('Succeeded');
    case 'failed': return t('Failed');
    case 'cancelled': return t('Cancelled');
  }
}

/** The report as Markdown: the record the operator keeps (also written under .lifeboat/reports). */
export function reportMarkdown(report: RunReport, t: Translate): string {
  const out: string[] = [
    `# ${render(report.title, t)} — ${outcomeWord(report, t)}`,
    '',
    `- ${t('Started')}: ${report.startedAt}`,
    `- ${t('Finished')}: ${report.finishedAt}`,
    `- ${t('Duration')}: ${seconds(report.durationMs)}`,
  ];
  for (const s of report.summary) out.push(`- ${render(s.label, t)}: \`${s.value}\``);
  for (const [label, value] of shownFacts(report, t)) out.push(`- ${label}: \`${value}\``);
  out.push('', `## ${t('Steps')}`, '', `| # | ${t('Step')} | ${t('Outcome')} | ${t('Duration')} | ${t('Details')} |`, '|---|---|---|---|---|');
  report.steps.forEach((s, i) => {
    const details = s.error ? `${s.error.reason}: ${errorText(s.error, t)}` : s.detail ? render(s.detail, t) : '';
    out.push(`| ${i + 1} | ${render(s.title, t)} | ${statusWord(s.status, t)} | ${seconds(s.durationMs)} | ${details.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  });
  if (report.aftermath.length) {
    out.push('', `## ${report.status === 'succeeded' ? t('Notes') : t('State left behind and how to undo')}`, '');
    for (const a of report.aftermath) out.push(`- ${render(a, t)}`);
  }
  if (report.nextSteps.length) {
    out.push('', `## ${t('Next steps')}`, '');
    for (const n of report.nextSteps) out.push(`- ${render(n, t)}`);
  }
  return out.join('\n') + '\n';
}

/** The report for a terminal: the same facts, without Markdown tables. */
export function reportLines(report: RunReport, t: Translate): string[] {
  const out: string[] = [`${render(report.title, t)}: ${outcomeWord(report, t)} (${seconds(report.durationMs)})`];
  for (const s of report.summary) out.push(`  ${render(s.label, t)}: ${s.value}`);
  for (const [label, value] of shownFacts(report, t)) out.push(`  ${label}: ${value}`);
  report.steps.forEach((s, i) => {
    const details = s.error ? ` — ${errorText(s.error, t)}` : s.detail ? ` — ${render(s.detail, t)}` : '';
    out.push(`  ${i + 1}. [${statusWord(s.status, t)}] ${render(s.title, t)} ${seconds(s.durationMs)}${details}`);
  });
  for (const a of report.aftermath) out.push(`  ! ${render(a, t)}`);
  for (const n of report.nextSteps) out.push(`  → ${render(n, t)}`);
  return out;
}

/** The facts an operator reads in a report (internal flags stay in the JSON only). */
function shownFacts(report: RunReport, t: Translate): [string, string][] {
  const labels: Record<string, string> = {
    safetyPoint: t('Safety point'),
    restoreTask: t('Restore task'),
    address: t('Address'),
    reachability: t('Reachability'),
    reattached: t('Re-attached after connection loss'),
    planSummary: t('Terraform plan'),
    planDestroyed: t('DO NOT APPLY: the plan would destroy'),
  };
  return Object.entries(report.facts).filter(([key]) => key in labels).map(([key, value]) => [labels[key]!, value]);
}
