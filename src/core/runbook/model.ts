/**
 * The runbook model: what Lifeboat understands of a Markdown runbook, with source positions, and the
 * run log that records a run of it. Types only, and only type imports of other type-only or pure
 * files: the webview type-checks this file too (through src/shared/runbookMessages.ts) with the DOM
 * library and no Node types.
 */
import type { Message } from '../procedure/message';

/** Lines of the source file, 0-based, `end` exclusive (markdown-it's `map`). */
export interface SourceRange {
  readonly start: number;
  readonly end: number;
}

/** What Lifeboat can do itself for a command that calls one of the operator's known scripts. */
export interface LifeboatMapping {
  /** The script's file name, e.g. `restore-vm.sh`. */
  readonly script: string;
  /** A Lifeboat command id, e.g. `lifeboat.restoreGuest`. Offered only when registered at run time. */
  readonly command: string;
  /** The command's argument, from the script's flags (e.g. `{ vmid: 131, node: 'alpha' }`). */
  readonly args: Readonly<Record<string, string | number | boolean>>;
  /** Flags the script was given that the Lifeboat procedure has no equivalent for: then it is not offered. */
  readonly unsupported: readonly string[];
}

/** One shell command of a step: one line of a `sh`/`bash`/`shell`/`console` block (continuations joined). */
export interface RunbookCommand {
  /** Stable: the block's `{"id":…}` attribute when present, else `<step id>-<n>`. */
  readonly id: string;
  /** The command as it will run (prompt and comments removed, `\` continuations joined). */
  readonly text: string;
  readonly language: string;
  /** 0-based line of the command's first line in the source. */
  readonly line: number;
  /** Names of `<placeholder>`s to ask for before running, in order of appearance. */
  readonly placeholders: readonly string[];
  /** Why it asks first (`restore`, `--force`, a settings pattern…), or undefined when it does not. */
  readonly destructive?: string;
  readonly lifeboat?: LifeboatMapping;
}

export interface ChecklistItem {
  /** Stable: `<step id>-check-<slug of the text>`. */
  readonly id: string;
  readonly text: string;
  /** Checked in the Markdown (`- [x]`): a default, the run log's value wins. */
  readonly checked: boolean;
  readonly line: number;
}

export interface RunbookTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly line: number;
}

export interface RunbookStep {
  /** Stable id: a `{"id":…}` attribute of the step's first fenced block, a `{#id}` on the heading, else the heading's slug. */
  readonly id: string;
  /** The number or letter the author gave it ("1", "A"), when numbered. */
  readonly number?: string;
  /** The heading without its number and its estimate. */
  readonly title: string;
  /** The heading as written. */
  readonly heading: string;
  readonly level: number;
  readonly range: SourceRange;
  readonly estimateMinutes?: number;
  readonly prerequisites: readonly string[];
  readonly checklist: readonly ChecklistItem[];
  readonly commands: readonly RunbookCommand[];
  readonly expected: readonly string[];
  readonly warnings: readonly string[];
  readonly tables: readonly RunbookTable[];
  /** Other paragraphs and list items, as plain text. */
  readonly notes: readonly string[];
  /** A short hash of the step's source text: a run log records it to notice edits. */
  readonly hash: string;
}

export interface Runbook {
  /** The first heading of level 1, else the file name. */
  readonly title: string;
  /** How steps were found: numbered headings, or the heading outline. */
  readonly stepsFrom: 'numbered' | 'outline' | 'none';
  /** The runbook-level recovery time objective in minutes, when stated. */
  readonly rtoMinutes?: number;
  /** The sentence the RTO was read from. */
  readonly rtoText?: string;
  /** "Before you start" / "Prérequis" sections and the introduction's checkboxes. */
  readonly prerequisites: readonly ChecklistItem[];
  readonly steps: readonly RunbookStep[];
  /** Sum of the steps' estimates, in minutes (0 when none is stated). */
  readonly estimatedMinutes: number;
  /**
   * What the reader had to guess or leave out (too large, nesting too deep, a heading without a number
   * read as part of the step before it, commands outside any step), as sentences each surface translates.
   */
  readonly limits: readonly Message[];
}

export type RunbookStepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface CommandRecord {
  readonly status: 'running' | 'done' | 'failed';
  readonly via: 'shell' | 'lifeboat';
  /** The command as run, placeholders filled in, secrets masked. */
  readonly text: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly exitCode?: number;
  /** The last lines of its output, secrets masked. */
  readonly outputTail: string;
}

/**
 * Why a step failed, as data: each surface says it in its own language (`failureMessage` in
 * checklist.ts). The run log keeps this, never a sentence.
 */
export interface StepFailure {
  /**
   * `commandFailed`: a shell command exited non-zero; `procedureFailed`: a Lifeboat procedure did not
   * report success; `interrupted`: VS Code closed while the step ran; `stopped`: the operator pressed
   * Stop; `error`: Lifeboat could not run the command at all.
   */
  readonly reason: 'commandFailed' | 'procedureFailed' | 'interrupted' | 'stopped' | 'error';
  /** The command as run (placeholders filled, secrets masked). */
  readonly command?: string;
  readonly exitCode?: number;
  /** procedureFailed: the Lifeboat command id. */
  readonly procedure?: string;
  /** procedureFailed: what it reported (`failed`, `cancelled`, `not-confirmed`, `refused`), or `none`. */
  readonly outcome?: string;
  /** Text from elsewhere (an error message, already in the operator's language), shown as given. */
  readonly detail?: string;
}

/**
 * One past attempt of a step, kept when it is retried (a failed attempt) or reopened (a done or
 * skipped one): the report's "problems met", and the first start of the step for the stopwatch.
 */
export interface AttemptRecord {
  readonly status: 'failed' | 'done' | 'skipped';
  readonly startedAt?: string;
  readonly endedAt: string;
  readonly failedCommand?: string;
  readonly exitCode?: number;
  readonly failure?: StepFailure;
  readonly manual?: boolean;
  readonly skipReason?: string;
}

export interface StepRecord {
  readonly status: RunbookStepStatus;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** Time spent running, summed over attempts, in ms. */
  readonly durationMs: number;
  readonly hash: string;
  readonly skipReason?: string;
  /** Marked done by hand (not by exit codes). */
  readonly manual?: boolean;
  readonly failure?: StepFailure;
  readonly retries: number;
  readonly attempts: readonly AttemptRecord[];
  readonly commands: Readonly<Record<string, CommandRecord>>;
}

/** The run log: `.lifeboat/runs/<runbook>.json` next to the runbook. Human-readable, safe to commit. */
export interface RunLog {
  readonly format: 'lifeboat-runbook-run/1';
  /** The runbook's path relative to the run log's folder's owner (the workspace folder). */
  readonly runbook: string;
  readonly title: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly operator?: string;
  readonly rtoMinutes?: number;
  readonly steps: Readonly<Record<string, StepRecord>>;
  readonly checks: Readonly<Record<string, boolean>>;
}
