/**
 * The terraform commands Lifeboat runs (never `apply`): as exact argument lists for the plan, and
 * the reading of their results.
 */
import { LifeboatError } from '../errors';
import type { StepContext } from '../procedure/types';
import type { TerraformRunner } from '../ports';

export const TF_INIT_RECONFIGURE = ['init', '-reconfigure', '-input=false'] as const;
export const TF_INIT_MIGRATE = ['init', '-migrate-state', '-force-copy', '-input=false'] as const;
export const TF_PLAN = ['plan', '-detailed-exitcode', '-input=false', '-no-color'] as const;

export function terraformLine(args: readonly string[]): string {
  return ['terraform', ...args].join(' ');
}

export interface PlanOutcome {
  readonly changes: boolean;
  /** `No changes.` or the `Plan: X to add, Y to change, Z to destroy.` line. */
  readonly summary: string;
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  /** Addresses the plan would destroy (`# <address> will be destroyed`). */
  readonly destroyed: readonly string[];
  readonly created: readonly string[];
}

export function readPlanOutput(code: number | null, stdout: string): PlanOutcome | undefined {
  if (code === 0) return { changes: false, summary: 'No changes.', add: 0, change: 0, destroy: 0, destroyed: [], created: [] };
  if (code !== 2) return undefined;
  const m = /^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.$/m.exec(stdout);
  const destroyed = [...stdout.matchAll(/^\s*# (\S+) will be destroyed$/gm)].map((x) => x[1]!);
  const created = [...stdout.matchAll(/^\s*# (\S+) (?:will be created|must be replaced)$/gm)].map((x) => x[1]!);
  return {
    changes: true,
    summary: m?.[0] ?? 'Changes (no Plan: summary line found).',
    add: Number(m?.[1] ?? created.length),
    change: Number(m?.[2] ?? 0),
    destroy: Number(m?.[3] ?? destroyed.length),
    destroyed,
    created,
  };
}

/** Runs one terraform command from a step, streaming its lines to the log; a non-zero exit (except plan's 2) fails. */
export async function runTerraform(
  terraform: TerraformRunner,
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  ctx: StepContext,
  okCodes: readonly number[] = [0],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await terraform.run(args, { cwd, env, signal: ctx.signal, onLine: (line) => { if (line.trim()) ctx.log.info(`  ${line}`); } });
  if (r.code === null || !okCodes.includes(r.code)) {
    const error = errorSummary(r.stderr || r.stdout);
    throw new LifeboatError('remoteCommandFailed', `${terraformLine(args)} failed (exit ${r.code ?? 'none'})${error ? `: ${error}` : ''}`, { command: terraformLine(args), exitCode: r.code ?? undefined });
  }
  return r;
}

/** Terraform's `Error: …` line(s), without the box drawing. */
export function errorSummary(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/^[│╷╵]\s?/, '').trim()).filter(Boolean);
  const errors = lines.filter((l) => l.startsWith('Error'));
  return (errors.length ? errors : lines.slice(-2)).slice(0, 2).join(' ');
}
