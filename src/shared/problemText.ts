/**
 * Operator-facing sentences shared by the extension and the CLI. Each takes the surface's `t`
 * (vscode.l10n.t or @vscode/l10n's t), so both print the same translated words.
 */
import type { DiscoveryProblem } from '../core';

export type Translate = (message: string, ...args: (string | number | boolean)[]) => string;

/** What happened, what was not loaded, and what to do. */
export function describeProblem(p: DiscoveryProblem, t: Translate, displayPath: (file: string) => string = (f) => f): string {
  const file = displayPath(p.file);
  const where = p.line ? `${file}:${p.line}:${p.column ?? 1}` : file;
  switch (p.reason) {
    case 'syntax':
      return p.detail
        ? t('{0}: syntax error, expected "{1}" here: {2}. This environment was not loaded; fix the file and refresh.', where, p.detail, p.excerpt ?? '')
        : t('{0}: syntax error near: {1}. This environment was not loaded; fix the file and refresh.', where, p.excerpt ?? '');
    case 'unreadable':
      return t('{0}: cannot be read ({1}). This environment was not loaded.', where, p.detail ?? '');
    case 'noEnvironments':
      return t('{0}: no environment found.', where);
  }
}
