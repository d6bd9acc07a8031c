/**
 * A sentence the core wants a surface to show, as data: the English text (the l10n key) and its
 * arguments. The extension renders it with vscode.l10n.t, the CLI with @vscode/l10n; the
 * translation test checks every msg() sentence has a French entry.
 */
export interface Message {
  readonly text: string;
  readonly args: readonly (string | number)[];
}

export function msg(text: string, ...args: (string | number)[]): Message {
  return { text, args };
}

/** English rendering (logs, JSON reports). */
export function english(m: Message): string {
  return m.text.replace(/\{(\d+)\}/g, (whole, i: string) => {
    const v = m.args[Number(i)];
    return v === undefined ? whole : String(v);
  });
}
