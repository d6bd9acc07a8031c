/**
 * Plans and reports as data (JSON for --json and tests) and as files: every run leaves a dated
 * Markdown record under .lifeboat/reports/ in the operator's repository.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { english, type Plan, type RunReport } from '../core';
import { reportMarkdown } from './reportText';
import type { Translate } from './problemText';

export function planJson(plan: Plan) {
  return {
    id: plan.id,
    kind: plan.kind,
    title: english(plan.title),
    summary: plan.summary.map((s) => ({ label: english(s.label), value: s.value })),
    destroys: plan.destroys.map(english),
    warnings: plan.warnings.map(english),
    steps: plan.steps.map((s) => ({ id: s.id, title: english(s.title), destructive: s.destructive, commands: s.commands, effect: s.effect ? english(s.effect) : undefined })),
    nextSteps: plan.nextSteps.map(english),
  };
}

export function reportJson(r: RunReport, savedTo?: string) {
  return {
    status: r.status,
    kind: r.kind,
    title: english(r.title),
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    summary: r.summary.map((s) => ({ label: english(s.label), value: s.value })),
    facts: r.facts,
    steps: r.steps.map((s) => ({ id: s.id, title: english(s.title), status: s.status, startedAt: s.startedAt, durationMs: s.durationMs, detail: s.detail ? english(s.detail) : undefined, error: s.error ? { reason: s.error.reason, message: s.error.message } : undefined })),
    changed: r.changed,
    aftermath: r.aftermath.map(english),
    nextSteps: r.nextSteps.map(english),
    reportFile: savedTo,
  };
}

export async function saveReport(root: string, report: RunReport, t: Translate = englishT): Promise<string> {
  const dir = path.join(root, '.lifeboat', 'reports');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.startedAt.replace(/[:.]/g, '-')}-${report.planId}.md`);
  await fs.writeFile(file, reportMarkdown(report, t));
  return file;
}

/** The untranslated text, for records that must read the same whatever the operator's language. */
export const englishT: Translate = (m, ...a) => english({ text: m, args: a.map((x) => (typeof x === 'boolean' ? String(x) : x)) });
