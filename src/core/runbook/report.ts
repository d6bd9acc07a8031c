/**
 * The DR test report: a dated Markdown record of a run (date, scenario, operator, each step's duration
 * and outcome, problems met and how they were solved, measured RTO against the target). The words go
 * through the caller's translator; secrets were masked when the run log was written.
 */
import { translate, type Message } from '../procedure/message';
import type { Runbook, RunLog, StepRecord } from './model';
import { failureMessage } from './checklist';
import { elapsedMs, stepElapsedMs } from './timing';
import { slug } from './parse';

export type Translate = (message: string, ...args: (string | number)[]) => string;

export interface ReportInput {
  readonly runbook: Runbook;
  readonly log: RunLog;
  /** The runbook's path as the operator knows it (relative to the workspace). */
  readonly runbookPath: string;
  readonly operator: string;
  readonly scenario: string;
  readonly now: Date;
}

/** `1 h 05 min`, `12 min`, `45 s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const say = (m: Message, t: Translate) => translate(m, t);

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function outcome(rec: StepRecord | undefined, t: Translate): string {
  switch (rec?.status ?? 'pending') {
    case 'done': return rec?.manual ? t('done (marked by hand)') : t('done');
    case 'failed': return t('FAILED');
    case 'skipped': return t('skipped');
    case 'running': return t('running');
    case 'pending': return t('not run');
  }
}

/** The report's file name: `<date>-<runbook>.md`. */
export function reportFileName(runbook: Runbook, fileName: string, now: Date): string {
  return `${now.toISOString().slice(0, 10)}-${slug(fileName.replace(/\.(md|markdown)$/i, '') || runbook.title)}.md`;
}

export function runbookReportMarkdown(input: ReportInput, t: Translate): string {
  const { runbook, log, now } = input;
  const measured = elapsedMs(log, now);
  const lines: string[] = [];
  lines.push(`# ${t('DR test report: {0}', runbook.title)}`, '');
  lines.push(`- ${t('Date')}: ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  lines.push(`- ${t('Scenario')}: ${input.scenario || t('(not stated)')}`);
  lines.push(`- ${t('Operator')}: ${input.operator}`);
  lines.push(`- ${t('Runbook')}: \`${input.runbookPath}\``);
  lines.push(`- ${t('Run started')}: ${log.startedAt.slice(0, 16).replace('T', ' ')} UTC${log.endedAt ? `, ${t('ended')}: ${log.endedAt.slice(0, 16).replace('T', ' ')} UTC` : ` (${t('not finished')})`}`);
  const target = runbook.rtoMinutes ?? log.rtoMinutes;
  if (target !== undefined) {
    const met = measured <= target * 60_000;
    lines.push(`- ${t('Measured recovery time')}: **${formatDuration(measured)}**, ${t('target (RTO)')}: ${target} min — ${met ? t('met') : t('EXCEEDED')}`);
  } else {
    lines.push(`- ${t('Measured recovery time')}: **${formatDuration(measured)}** (${t('no RTO target stated in the runbook')})`);
  }
  lines.push('', `## ${t('Steps')}`, '');
  lines.push(`| # | ${t('Step')} | ${t('Estimate')} | ${t('Duration')} | ${t('Outcome')} |`, '|---|---|---|---|---|');
  runbook.steps.forEach((s, i) => {
    const rec = log.steps[s.id];
    const spent = rec ? stepElapsedMs(rec, now) : 0;
    lines.push(`| ${s.number ?? i + 1} | ${cell(s.title)} | ${s.estimateMinutes !== undefined ? `${s.estimateMinutes} min` : '—'} | ${spent > 0 ? formatDuration(spent) : '—'} | ${outcome(rec, t)} |`);
  });
  const problems: string[] = [];
  for (const s of runbook.steps) {
    const rec = log.steps[s.id];
    if (!rec) continue;
    const name = `${s.number ?? ''} ${s.title}`.trim();
    for (const a of rec.attempts) {
      if (a.status === 'failed') {
        const what = a.failure && a.failure.reason !== 'commandFailed'
          ? say(failureMessage(a.failure), t)
          : a.failedCommand ? t('`{0}` failed (exit code {1})', a.failedCommand, a.exitCode ?? '?') : t('an attempt failed');
        problems.push(`- **${cell(name)}**: ${what}; ${t('retried')}.`);
      } else if (a.status === 'done') {
        problems.push(`- **${cell(name)}**: ${a.manual ? t('marked done by hand, then reopened') : t('done, then reopened')}.`);
      } else {
        problems.push(`- **${cell(name)}**: ${t('skipped ({0}), then reopened', a.skipReason ?? '')}.`);
      }
    }
    if (rec.status === 'failed') problems.push(`- **${cell(name)}**: ${t('still failing: {0}', say(failureMessage(rec.failure), t))}`);
    if (rec.status === 'skipped') problems.push(`- **${cell(name)}**: ${t('skipped: {0}', rec.skipReason ?? '')}`);
    if (rec.status === 'done' && rec.manual) problems.push(`- **${cell(name)}**: ${t('marked done by hand')}${rec.skipReason ? `: ${rec.skipReason}` : ''}`);
  }
  lines.push('', `## ${t('Problems met and how they were solved')}`, '');
  lines.push(...(problems.length ? problems : [t('None: every step ran and succeeded the first time.')]));
  const items = [...runbook.prerequisites, ...runbook.steps.flatMap((s) => s.checklist)];
  if (items.length) {
    lines.push('', `## ${t('Checklist')}`, '');
    for (const c of items) lines.push(`- [${log.checks[c.id] ? 'x' : ' '}] ${c.text}`);
  }
  lines.push('', `_${t('Written by Lifeboat from the run log {0}.', '`' + input.runbookPath + '`')}_`, '');
  return lines.join('\n');
}
