import type * as vscode from 'vscode';
import type { LogSink } from '../../core';

/**
 * The core's LogSink is structurally a LogOutputChannel; this adds a component prefix so lines
 * from discovery, SSH and procedures can be told apart in the "Lifeboat" channel.
 */
export function componentLog(channel: vscode.LogOutputChannel, component: string): LogSink {
  const p = (m: string) => `[${component}] ${m}`;
  return {
    trace: (m, ...a) => channel.trace(p(m), ...a),
    debug: (m, ...a) => channel.debug(p(m), ...a),
    info: (m, ...a) => channel.info(p(m), ...a),
    warn: (m, ...a) => channel.warn(p(m), ...a),
    error: (m, ...a) => channel.error(typeof m === 'string' ? p(m) : m, ...a),
  };
}
