/**
 * The one place that turns a command into a shell command line. Every argument is quoted for a
 * POSIX shell with single quotes, so a value from the network (a file name on the node, a note)
 * is always data, never code. Builders in this folder produce CommandSpecs; only this file joins them.
 */

/** A remote command as data: the program and its arguments, unquoted. */
export interface CommandSpec {
  readonly program: string;
  readonly args: readonly string[];
}

const SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** Quotes one argument for a POSIX shell. Plain words stay readable in plans and logs. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('NUL byte in a shell argument');
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(spec: CommandSpec): string {
  return [spec.program, ...spec.args].map(quoteArg).join(' ');
}

/** `a | b`: both sides quoted; the pipe is the only shell syntax added. */
export function pipeline(...specs: CommandSpec[]): string {
  return specs.map(commandLine).join(' | ');
}

/**
 * Runs a command detached from the SSH session (own session, no terminal, output to a file), so a
 * dropped connection does not kill it. Prints the background PID.
 */
export function detached(spec: CommandSpec, logFile: string): string {
  return `setsid nohup ${commandLine(spec)} > ${quoteArg(logFile)} 2>&1 < /dev/null & echo $!`;
}
