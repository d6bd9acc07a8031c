/**
 * A sentence the core wants a surface to show, as data: the English text (the l10n key) and its
 * arguments. The extension renders it with vscode.l10n.t, the CLI with @vscode/l10n; the
 * translation test checks every msg() sentence has a French entry.
 *
 * An argument may itself be a sentence (the cause inside an error, a verdict inside a summary): it
 * is translated first, so no English sentence ends up inside a French one.
 */
export type MessageArg = string | number | Message;

export interface Message {
  readonly text: string;
  readonly args: readonly MessageArg[];
}

export function msg(text: string, ...args: MessageArg[]): Message {
  return { text, args };
}

/** Several findings in one sentence, separated by semicolons (or commas), each translated on its own. */
export function joinedMessages(parts: readonly Message[], separator: 'semicolon' | 'comma' = 'semicolon'): MessageArg {
  const join = (all: MessageArg, part: Message) => (separator === 'comma' ? msg('{0}, {1}', all, part) : msg('{0}; {1}', all, part));
  return parts.reduce<MessageArg | undefined>((all, part) => (all === undefined ? part : join(all, part)), undefined) ?? '';
}

/** The sentence in the surface's language: `t` is vscode.l10n.t or the CLI's t. */
export function translate(m: Message, t: (text: string, ...args: (string | number)[]) => string): string {
  return t(m.text, ...m.args.map((a) => (typeof a === 'object' ? translate(a, t) : a)));
}

/** A value that may be a sentence (translated) or data (as it is). */
export function translateArg(a: MessageArg, t: (text: string, ...args: (string | number)[]) => string): string {
  return typeof a === 'object' ? translate(a, t) : String(a);
}

/** English rendering (logs, JSON reports). */
export function english(m: Message): string {
  return m.text.replace(/\{(\d+)\}/g, (whole, i: string) => {
    const v = m.args[Number(i)];
    return v === undefined ? whole : typeof v === 'object' ? english(v) : String(v);
  });
}
