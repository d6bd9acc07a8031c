/**
 * The interfaces the core needs from the outside world. Adapters implement them (src/adapters);
 * the extension and the CLI pass them in. Shaped so that a `vscode.LogOutputChannel` *is* a LogSink.
 */
export interface LogSink {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

/** A LogSink that drops everything (tests, quiet CLI runs). */
export const silentLog: LogSink = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
