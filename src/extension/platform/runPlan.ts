/**
 * The extension's side of running a plan: a modal confirmation that shows the exact commands
 * (default: no), a cancellable progress notification, the log in the output channel, and at
 * the end a notification with "Show Report" that opens the Markdown record.
 */
import * as vscode from 'vscode';
import { english, runPlan, type Message, type Plan, type RunReport, type RunOptions } from '../../core';
import { saveReport } from '../../shared/reportData';
import { errorText, planLines, render, reportMarkdown } from '../../shared/reportText';
import type { Services } from '../services';
import { confirmDefaultNo } from './confirm';

export function confirmPlan(plan: Plan, action: string): Promise<boolean> {
  return confirmDefaultNo(render(plan.title, vscode.l10n.t), action, planLines(plan, vscode.l10n.t).slice(1).join('\n'));
}

/**
 * What a procedure command resolves to, so a caller (the runbook checklist's "Run with Lifeboat")
 * knows whether the procedure really succeeded.
 */
export type ProcedureOutcome = { readonly status: 'succeeded' | 'failed' | 'cancelled' | 'not-confirmed' | 'refused'; readonly reportFile?: string };

export function toAbortSignal(token: vscode.CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

export async function runWithProgress(
  s: Services,
  plan: Plan,
  root: string,
  aftermath?: RunOptions['aftermath'],
): Promise<RunReport & { reportFile?: string }> {
  s.log.show(true);
  s.log.info(`── ${english(plan.title)} ──`);
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: render(plan.title, vscode.l10n.t), cancellable: true },
    async (progress, token) => {
      let reported = 0;
      return runPlan(plan, {
        signal: toAbortSignal(token),
        log: s.log,
        aftermath,
        onProgress: (p) => {
          // The bar moves by steps; inside a step by the task's own percentage.
          const overall = ((p.stepIndex + (p.fraction ?? 0)) / p.stepCount) * 100;
          const increment = Math.max(0, overall - reported);
          reported += increment;
          const step = plan.steps[p.stepIndex];
          // What the step says inside it (a health check's services), after its title; the title alone when it starts.
          const inside = p.message && p.message !== step?.title ? ` — ${render(p.message, vscode.l10n.t)}` : '';
          const percent = p.fraction !== undefined ? ` — ${Math.round(p.fraction * 100)}%` : '';
          progress.report({ increment, message: `${step ? render(step.title, vscode.l10n.t) : ''}${inside}${percent}` });
        },
      });
    },
  );
  const saved = await saveReport(root, report, vscode.l10n.t).catch((err: unknown) => {
    s.log.warn(`could not save the report: ${String(err)}`);
    return undefined;
  });
  void announce(report, saved);
  return Object.assign(report, { reportFile: saved });
}

async function announce(report: RunReport, saved: string | undefined): Promise<void> {
  const show = vscode.l10n.t('Show Report');
  const title = render(report.title, vscode.l10n.t);
  const failedStep = report.steps.find((x) => x.status === 'failed');
  // A procedure that ends with a Terraform plan says its result, not only that it is done.
  const planSummary = report.facts['planSummary'];
  const message = report.status === 'succeeded'
    ? vscode.l10n.t('{0}: done in {1} s.', title, Math.round(report.durationMs / 1000)) + (planSummary ? ` ${vscode.l10n.t('Terraform plan: {0}', planSummary)}${Number(report.facts['planDestroy'] ?? 0) > 0 ? ` ${vscode.l10n.t('DO NOT APPLY.')}` : ''}` : '')
    : report.status === 'cancelled'
      ? vscode.l10n.t('{0}: cancelled. {1}', title, report.aftermath.map((m: Message) => render(m, vscode.l10n.t)).join(' '))
      : vscode.l10n.t('{0}: FAILED at "{1}": {2}', title, failedStep ? render(failedStep.title, vscode.l10n.t) : '?', failedStep?.error ? errorText(failedStep.error, vscode.l10n.t) : '');
  const notify = report.status === 'succeeded' ? vscode.window.showInformationMessage : report.status === 'cancelled' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
  const choice = await notify(message, show);
  if (choice === show) await openReport(report, saved);
}

export async function openReport(report: RunReport, saved: string | undefined): Promise<void> {
  const doc = saved
    ? await vscode.workspace.openTextDocument(vscode.Uri.file(saved))
    : await vscode.workspace.openTextDocument({ language: 'markdown', content: reportMarkdown(report, vscode.l10n.t) });
  await vscode.window.showTextDocument(doc, { preview: false });
}
