/**
 * The TerraformRunner on execa: the `terraform` found on PATH (or a given binary), in the
 * environment's folder, with an explicit environment (credentials there, never in argv), output
 * streamed line by line, the AbortSignal killing the process, and non-zero exits returned, not thrown.
 */
import type { TerraformRunner } from '../../core';

export interface ExecaRunnerOptions {
  /** Default `terraform` from PATH. */
  readonly binary?: string;
  /** Grace period between SIGTERM and SIGKILL on cancel. */
  readonly killAfterMs?: number;
}

export function createTerraformRunner(options: ExecaRunnerOptions = {}): TerraformRunner {
  return {
    async run(args, { cwd, env, signal, onLine }) {
      const lineSink = (stream: 'stdout' | 'stderr') => function* (line: unknown) {
        onLine?.(String(line), stream);
        yield line;
      };
      // execa is ESM-only: a dynamic import keeps this module loadable from CommonJS (tests under tsx).
      const { execa } = await import('execa');
      const subprocess = execa(options.binary ?? 'terraform', [...args], {
        cwd,
        // Only defined values: an undefined one would reach the child as the text "undefined".
        env: env ? Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)) : undefined,
        extendEnv: env === undefined,
        // Its own process group, so a cancel also stops the provider plugins it started.
        detached: true,
        reject: false,
        stdin: 'ignore',
        stripFinalNewline: false,
        stdout: onLine ? [lineSink('stdout'), 'pipe'] : 'pipe',
        stderr: onLine ? [lineSink('stderr'), 'pipe'] : 'pipe',
      });
      let cancelled = false;
      let forceTimer: NodeJS.Timeout | undefined;
      const killGroup = (sig: NodeJS.Signals) => {
        if (subprocess.pid === undefined) return;
        try {
          process.kill(-subprocess.pid, sig);
        } catch {
          // Already gone.
        }
      };
      const onAbort = () => {
        cancelled = true;
        killGroup('SIGTERM');
        forceTimer = setTimeout(() => killGroup('SIGKILL'), options.killAfterMs ?? 5000);
        forceTimer.unref();
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      const result = await subprocess;
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(forceTimer);
      const text = (v: unknown) => (Array.isArray(v) ? v.join('\n') : typeof v === 'string' ? v : '');
      const failedToStart = result.exitCode === undefined && !cancelled;
      return {
        code: cancelled || result.isTerminated ? null : result.exitCode ?? null,
        stdout: text(result.stdout),
        stderr: failedToStart ? `${text(result.stderr)}${result.shortMessage ?? ''}` : text(result.stderr),
      };
    },
  };
}
