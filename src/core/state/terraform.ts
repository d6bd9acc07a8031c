/**
 * The terraform commands Lifeboat runs (never `apply`): as exact argument lists for the plan, and
 * the reading of their results.
 */
import { LifeboatError } from '../errors';
import { msg } from '../procedure/message';
import type { StepContext } from '../procedure/types';
import type { TerraformRunner } from '../ports';
import { maskSecrets, secretValues } from '../runbook/secrets';

export const TF_INIT_RECONFIGURE = ['init', '-reconfigure', '-input=false'] as const;
export const TF_INIT_MIGRATE = ['init', '-migrate-state', '-force-copy', '-input=false'] as const;
export const TF_PLAN = ['plan', '-detailed-exitcode', '-input=false', '-no-color'] as const;

export function terraformLine(args: readonly string[]): string {
  return ['terraform', ...args].join(' ');
}

export interface PlanOutcome {
  readonly changes: boolean;
  /** `No changes.` or the `Plan: [N to import, ]X to add, Y to change, Z to destroy.` line. */
  readonly summary: string;
  readonly import: number;
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  /**
   * Addresses the plan would destroy: `# <address> will be destroyed`, and `must be replaced`
   * (a replacement destroys the resource before or after creating the new one: for a guest,
   * its disks go with it).
   */
  readonly destroyed: readonly string[];
  /** Addresses the plan creates (`will be created`, and the new half of `must be replaced`). */
  readonly created: readonly string[];
}

/** The summary line; `N to import, ` is there from Terraform 1.5 on when the plan imports. */
const PLAN_LINE = /^Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy\.$/m;

export function readPlanOutput(code: number | null, stdout: string): PlanOutcome | undefined {
  if (code === 0) return { changes: false, summary: 'No changes.', import: 0, add: 0, change: 0, destroy: 0, destroyed: [], created: [] };
  if (code !== 2) return undefined;
  const m = PLAN_LINE.exec(stdout);
  const replaced = [...stdout.matchAll(/^\s*# (\S+) must be replaced$/gm)].map((x) => x[1]!);
  const destroyed = [...stdout.matchAll(/^\s*# (\S+) will be destroyed$/gm)].map((x) => x[1]!);
  const created = [...stdout.matchAll(/^\s*# (\S+) will be created$/gm)].map((x) => x[1]!);
  return {
    changes: true,
    summary: m?.[0] ?? 'Changes (no Plan: summary line found).',
    import: Number(m?.[1] ?? 0),
    add: Number(m?.[2] ?? created.length + replaced.length),
    change: Number(m?.[3] ?? 0),
    destroy: Number(m?.[4] ?? destroyed.length + replaced.length),
    destroyed: [...destroyed, ...replaced].sort(),
    created: [...created, ...replaced].sort(),
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
  // Terraform echoes what it is given (a backend's error quotes its configuration, a crash dumps
  // the environment): mask the secrets it was run with, and `password = …` forms, in every line.
  const secrets = secretValues(env);
  const r = await terraform.run(args, { cwd, env, signal: ctx.signal, onLine: (line) => { if (line.trim()) ctx.log.info(`  ${maskSecrets(line, secrets)}`); } });
  if (r.code === null || !okCodes.includes(r.code)) {
    const error = errorSummary(r.stderr || r.stdout, secrets);
    const text = error ? msg('{0} failed (exit {1}): {2}', terraformLine(args), r.code ?? 'none', error) : msg('{0} failed (exit {1})', terraformLine(args), r.code ?? 'none');
    throw LifeboatError.saying('remoteCommandFailed', text, { command: terraformLine(args), exitCode: r.code ?? undefined });
  }
  return r;
}

/** Terraform's `Error: …` line(s), without the box drawing, with secrets masked (`secrets`: values to hide). */
export function errorSummary(text: string, secrets: readonly string[] = []): string {
  const lines = text.split('\n').map((l) => l.replace(/^[│╷╵]\s?/, '').trim()).filter(Boolean);
  const errors = lines.filter((l) => l.startsWith('Error'));
  return maskSecrets((errors.length ? errors : lines.slice(-2)).slice(0, 2).join(' '), secrets);
}
