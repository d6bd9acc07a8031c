/**
 * A procedure is data first: `plan(inputs)` returns steps with the exact commands; `runPlan`
 * executes them with an AbortSignal, a log and a progress reporter. The extension, the CLI and
 * `--dry-run` all consume the same plan, and the report is built from what each step recorded.
 */
import type { LogSink } from '../ports';
import type { Message } from './message';

export interface StepContext {
  readonly signal: AbortSignal;
  readonly log: LogSink;
  /** Progress inside the step: a sentence (translated by the surface) and/or a fraction 0..1 of the step. */
  report(progress: { message?: Message; fraction?: number }): void;
  /** Facts for the report (backup used, safety point, task id…); later steps can read them. */
  readonly facts: Map<string, string>;
}

export interface Step {
  readonly id: string;
  readonly title: Message;
  /** Changes or destroys something on a node or in a store. */
  readonly destructive: boolean;
  /** `anytime`: aborting stops it cleanly. `between-steps`: once started it finishes on the node. */
  readonly cancel: 'anytime' | 'between-steps';
  /** The exact commands, shown before anything runs and by --dry-run. */
  readonly commands: readonly string[];
  /** What this step changes and how to undo it (shown in the plan and the report). */
  readonly effect?: Message;
  run(ctx: StepContext): Promise<Message | void>;
}

export interface Plan {
  readonly id: string;
  readonly kind: 'restore-guest' | 'restore-state' | 'rebuild-minio' | 'rebuild-monitoring' | 'verify-backups';
  readonly title: Message;
  /** Key facts shown above the steps: source, target, what will be overwritten. */
  readonly summary: readonly { readonly label: Message; readonly value: string }[];
  /** Things the operator must read before saying yes. */
  readonly warnings: readonly Message[];
  /** What will be destroyed or overwritten; empty when nothing is. */
  readonly destroys: readonly Message[];
  readonly steps: readonly Step[];
  /** Next steps the report recommends whatever the outcome. */
  readonly nextSteps: readonly Message[];
  /**
   * Runs of plans with the same key in the same set never overlap: the engine takes the key before
   * the first step and gives it back at the end; a second run finds it taken and changes nothing.
   */
  readonly exclusive?: { readonly held: Set<number | string>; readonly key: number | string };
}

export type StepStatus = 'done' | 'failed' | 'cancelled' | 'not-run';

export interface StepOutcome {
  readonly id: string;
  readonly title: Message;
  readonly status: StepStatus;
  readonly startedAt: string | undefined;
  readonly durationMs: number | undefined;
  readonly detail: Message | undefined;
  /** `text`: the sentence to translate when the step gave one (`message` is English). */
  readonly error: { readonly reason: string; readonly message: string; readonly text?: Message } | undefined;
}

export interface RunReport {
  readonly planId: string;
  readonly kind: Plan['kind'];
  readonly title: Message;
  readonly status: 'succeeded' | 'failed' | 'cancelled';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly summary: Plan['summary'];
  readonly steps: readonly StepOutcome[];
  readonly facts: Readonly<Record<string, string>>;
  /** Whether anything was changed before the run ended (for failures and cancellations). */
  readonly changed: boolean;
  /** On failure or cancellation: the state things are in and how to undo, in the operator's words. */
  readonly aftermath: readonly Message[];
  readonly nextSteps: readonly Message[];
}
