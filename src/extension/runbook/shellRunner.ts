/**
 * Runs one runbook command on this machine: `bash -c <command>` in the workspace folder, output
 * streamed as it comes, the exit code as the outcome. The process gets its own group so Stop ends
 * everything it started.
 */
import { spawn } from 'node:child_process';

export interface ShellRun {
  /** Resolves with the exit code (128 + signal number when killed). */
  readonly done: Promise<number>;
  stop(): void;
}

export function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, onOutput: (chunk: string) => void): ShellRun {
  const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => onOutput(d));
  child.stderr.on('data', (d: string) => onOutput(d));
  const done = new Promise<number>((resolve) => {
    child.on('error', (err) => {
      onOutput(`${err.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1)));
  });
  return {
    done,
    stop: () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    },
  };
}
