/**
 * Messages between the runbook panel (extension host) and its webview. One union per direction; both
 * sides switch on `type` with an exhaustive default. No vscode, no DOM: both tsconfigs read this file.
 * The host validates every incoming ToHost with `toHostSchema` (src/extension/runbook/messages.ts)
 * before acting, since anything in a webview is less trusted.
 */
import type { Runbook, RunLog } from '../core/runbook/model';

export type { Runbook, RunLog, RunbookStep, RunbookCommand, ChecklistItem, RunbookStepStatus, StepRecord, CommandRecord } from '../core/runbook/model';

/** Every sentence the webview shows; the host sends them translated (vscode.l10n). */
export const runbookLabelKeys = [
  'runAll', 'runStep', 'run', 'runWithLifeboat', 'stop', 'retry', 'skip', 'markDone', 'reopen', 'exportReport', 'newRun',
  'elapsed', 'rtoTarget', 'noRto', 'estimate', 'notStarted', 'prerequisites', 'checklist', 'commands', 'expected',
  'warning', 'output', 'changed', 'restricted', 'pending', 'running', 'done', 'failed', 'skipped', 'doneManually',
  'destructive', 'noSteps', 'exitCode', 'retries', 'skipReason', 'overEstimate', 'placeholders', 'openSource', 'limits', 'partlyRun',
] as const;
export type RunbookLabelKey = (typeof runbookLabelKeys)[number];
export type RunbookLabels = Readonly<Record<RunbookLabelKey, string>>;

/** What is running now: the webview disables the other Run buttons meanwhile. */
export interface BusyState {
  readonly stepId: string;
  readonly commandId?: string;
  /** Part of "Run all remaining". */
  readonly sequence: boolean;
}

export interface RunbookSession {
  readonly runbook: Runbook;
  /** The runbook's path relative to the workspace folder. */
  readonly path: string;
  /** Restricted Mode: nothing runs, the Run buttons are disabled. */
  readonly trusted: boolean;
  /** Lifeboat commands registered now: "Run with Lifeboat" is offered only for these. */
  readonly lifeboatCommands: readonly string[];
  readonly labels: RunbookLabels;
  /** The runbook's `limits`, translated (the model keeps them as msg() sentences). */
  readonly limits: readonly string[];
  /** Why a command asks first, translated: the model's reason (`restore`, `pattern: …`) → the words to show. */
  readonly reasons: Readonly<Record<string, string>>;
}

/** Why each failed step failed, translated by the host: step id → sentence (the run log keeps data). */
export type FailureTexts = Readonly<Record<string, string>>;

export type ToWebview =
  | { readonly type: 'session'; readonly session: RunbookSession; readonly log: RunLog | null; readonly changed: readonly string[]; readonly failures: FailureTexts; readonly busy: BusyState | null; readonly now: string }
  | { readonly type: 'state'; readonly log: RunLog | null; readonly changed: readonly string[]; readonly failures: FailureTexts; readonly busy: BusyState | null; readonly now: string }
  | { readonly type: 'output'; readonly stepId: string; readonly commandId: string; readonly text: string; readonly reset?: boolean }
  | { readonly type: 'notice'; readonly level: 'info' | 'error'; readonly text: string };

export type ToHost =
  | { readonly type: 'ready' }
  | { readonly type: 'runCommand'; readonly stepId: string; readonly commandId: string; readonly via: 'shell' | 'lifeboat' }
  | { readonly type: 'runStep'; readonly stepId: string }
  | { readonly type: 'runRemaining' }
  | { readonly type: 'stop' }
  | { readonly type: 'retry'; readonly stepId: string }
  | { readonly type: 'skip'; readonly stepId: string; readonly reason?: string }
  | { readonly type: 'markDone'; readonly stepId: string }
  | { readonly type: 'reopen'; readonly stepId: string }
  | { readonly type: 'check'; readonly itemId: string; readonly checked: boolean }
  | { readonly type: 'exportReport' }
  | { readonly type: 'newRun' }
  | { readonly type: 'reveal'; readonly line: number };

/** For the default branch of an exhaustive switch. */
export function assertNever(value: never): never {
  throw new Error(`unexpected message ${JSON.stringify(value)}`);
}
