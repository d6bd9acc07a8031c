/**
 * Human output: plain text, with bold/colour only on a TTY and never when NO_COLOR is set
 * (https://no-color.org), so logs and pipes stay readable.
 */
export interface Styles {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
}

export function styles(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Styles {
  // no-color.org: NO_COLOR counts when it is present and not empty.
  const enabled = Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39) };
}

/** Exit codes shared by every command (verify-backups refines 1 and 2, see its help). */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
