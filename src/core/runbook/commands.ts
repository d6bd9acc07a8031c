/**
 * Shell commands in a runbook: splitting a fenced block into commands, placeholders, what makes a
 * command destructive, and the operator's known restore scripts mapped to Lifeboat procedures.
 * Pure string work with linear-time patterns (hostile input must not hang).
 */
import { quoteArg } from '../proxmox/shell';
import { msg, type MessageArg } from '../procedure/message';
import type { LifeboatMapping } from './model';

/** Fence languages whose lines are commands to run. */
export const SHELL_LANGUAGES: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'console', 'zsh', 'shell-session']);

const MAX_COMMANDS_PER_BLOCK = 500;
const MAX_COMMAND_CHARS = 20_000;

export interface SplitCommand {
  readonly text: string;
  /** Offset of the command's first line within the block (0 = the first content line). */
  readonly offset: number;
}

/**
 * A prompt in front of a command: `$ `, `# `, `user@host:~$ `, `root@pve:/etc# `, `[root@pve ~]# `,
 * optionally after a `(venv) ` marker. Bounded quantifiers only: linear on any line.
 */
const USER_AT_HOST = '[\\w.-]{1,64}@[\\w.-]{1,64}(?::[^\\s$#]{0,200})?|\\[[\\w.-]{1,64}@[\\w.-]{1,64}(?:\\s[^\\]\\n]{0,200})?\\]';
/** In a `console` block: any prompt, including a bare host (`pve:~# `). Lines without one are output. */
const CONSOLE_PROMPT = new RegExp(`^(?:\\([\\w.-]{1,40}\\)\\s)?(?:${USER_AT_HOST}|[\\w.-]{1,64}:[^\\s$#]{0,200})?\\s?[$#]\\s`, 'u');
/** In a `sh` block: `$ ` or a full `user@host…$ ` prompt (a line starting with `#` is a comment there). */
const SHELL_PROMPT = new RegExp(`^(?:\\([\\w.-]{1,40}\\)\\s)?(?:\\$\\s|(?:${USER_AT_HOST})\\s?[$#]\\s)`, 'u');

/**
 * The line without its trailing comment: an unquoted `#` that starts a word (`cmd --x 1 # why`), as
 * bash reads it. `#` inside quotes, escaped, or inside a word (`$#`, `${#a}`, `http://x/#top`) stays.
 */
export function withoutComment(line: string): string {
  let quote: '"' | "'" | undefined;
  let wordStart = true; // after the start, unescaped blanks and ; & | ( )
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (quote === "'") {
      if (ch === "'") quote = undefined;
    } else if (ch === '\\') {
      i++; // an escaped character, an escaped blank included, is part of the word
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#' && wordStart) {
      return line.slice(0, i).trimEnd();
    }
    wordStart = quote === undefined && ch !== '\\' && /[\s;&|()]/.test(ch);
  }
  return line;
}

/**
 * One command per line: prompts and comments removed, `\` continuations joined, a here-document kept
 * with its body. In `console` blocks only prompted lines are commands (the rest is output); elsewhere a
 * line starting with `#` is a comment.
 */
export function splitCommands(content: string, language: string): SplitCommand[] {
  const lines = content.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const consoleBlock = language === 'console' || language === 'shell-session';
  const out: SplitCommand[] = [];
  for (let i = 0; i < lines.length && out.length < MAX_COMMANDS_PER_BLOCK; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim().slice(0, MAX_COMMAND_CHARS);
    if (!trimmed) continue;
    let text: string;
    if (consoleBlock) {
      const prompt = CONSOLE_PROMPT.exec(trimmed);
      if (!prompt) continue; // output shown in the runbook, not a command
      text = trimmed.slice(prompt[0].length).trim();
    } else {
      if (trimmed.startsWith('#')) continue;
      const prompt = SHELL_PROMPT.exec(trimmed);
      text = prompt ? trimmed.slice(prompt[0].length).trim() : trimmed;
    }
    text = withoutComment(text);
    const offset = i;
    while (endsWithContinuation(text) && i + 1 < lines.length && text.length < MAX_COMMAND_CHARS) {
      i++;
      text = `${text.slice(0, -1).trimEnd()} ${withoutComment((lines[i] ?? '').trim())}`.trim();
    }
    const heredoc = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]{0,40})\1/.exec(text);
    if (heredoc) {
      const delimiter = heredoc[2];
      const body: string[] = [];
      while (i + 1 < lines.length && text.length < MAX_COMMAND_CHARS) {
        i++;
        const line = lines[i] ?? '';
        body.push(line);
        if (line.trim() === delimiter) break;
      }
      text = [text, ...body].join('\n');
    }
    if (text) out.push({ text: text.slice(0, MAX_COMMAND_CHARS), offset });
  }
  return out;
}

function endsWithContinuation(text: string): boolean {
  let n = 0;
  for (let i = text.length - 1; i >= 0 && text[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

/** `<version-id>`, `<vmid>`: values the operator types before the command runs. */
export function placeholdersOf(command: string): string[] {
  const names: string[] = [];
  for (const m of command.matchAll(/(?<!<)<([A-Za-z][A-Za-z0-9_.-]{0,40})>/g)) {
    const name = m[1] ?? '';
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Whether a typed value holds characters a shell interprets (spaces, quotes, `;`, `&`, `|`, `$`, `*`…):
 * exactly when the project's one quoting function (src/core/proxmox/shell.ts) would have to quote it.
 */
export function shellSensitive(value: string): boolean {
  try {
    return quoteArg(value) !== value;
  } catch {
    return true; // a NUL byte
  }
}

/** Replaces each `<name>` by its value (values are inserted as typed; the operator sees the result before it runs). */
export function fillPlaceholders(command: string, values: Readonly<Record<string, string>>): string {
  return command.replace(/(?<!<)<([A-Za-z][A-Za-z0-9_.-]{0,40})>/g, (whole, name: string) => values[name] ?? whole);
}

/** Shell words, quotes removed; good enough to read flags, never used to execute anything. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let has = false;
  for (const ch of command.slice(0, MAX_COMMAND_CHARS)) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || current) words.push(current);
      current = '';
      has = false;
    } else if (ch === ';' || ch === '|' || ch === '&') {
      if (has || current) words.push(current);
      words.push(ch);
      current = '';
      has = false;
    } else {
      current += ch;
    }
  }
  if (has || current) words.push(current);
  return words;
}

interface FlagSpec {
  readonly name: string;
  readonly takesValue: boolean;
  readonly numeric?: boolean;
  /** The Lifeboat procedure has no equivalent: the mapping is not offered. */
  readonly unsupported?: boolean;
  /** Fixed value for a boolean flag, e.g. `--list` → action "list". */
  readonly sets?: readonly [string, string];
}

interface ScriptSpec {
  readonly command: string;
  /** When the Lifeboat command depends on the flags (restore-tfstate.sh --fallback → lifeboat.fallbackToLocal). */
  readonly commandFor?: (args: Readonly<Record<string, string | number | boolean>>) => string | undefined;
  readonly positional?: { readonly name: string; readonly numeric: boolean };
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Whether a call with these flags changes something. */
  destructive(flags: ReadonlySet<string>): boolean;
}

/**
 * The operator's restore scripts (pve-home's `scripts/restore/`) and the Lifeboat command that does
 * the same job with a plan, a confirmation and a report.
 */
export const KNOWN_SCRIPTS: Readonly<Record<string, ScriptSpec>> = {
  'restore-vm.sh': {
    command: 'lifeboat.restoreGuest',
    positional: { name: 'vmid', numeric: true },
    flags: {
      '--node': { name: 'node', takesValue: true },
      '--target-id': { name: 'targetId', takesValue: true, numeric: true },
      '--link-down': { name: 'linkDown', takesValue: false },
      '--date': { name: 'date', takesValue: true, unsupported: true },
      '--storage': { name: 'storage', takesValue: true, unsupported: true },
      '--force': { name: 'force', takesValue: false },
      '--dry-run': { name: 'dryRun', takesValue: false, unsupported: true },
    },
    destructive: (f) => !f.has('--dry-run'),
  },
  'restore-tfstate.sh': {
    command: 'lifeboat.restoreTfstate',
    // --list and --show have no procedure: the explorer lists the state versions. The version of
    // --restore is chosen again in Lifeboat's picker, which shows what each one holds.
    commandFor: (a) => ({ restore: 'lifeboat.restoreTfstate', fallback: 'lifeboat.fallbackToLocal', return: 'lifeboat.returnToS3' } as Record<string, string>)[String(a.action)],
    flags: {
      '--env': { name: 'env', takesValue: true },
      '--list': { name: 'action', takesValue: false, sets: ['action', 'list'] },
      '--restore': { name: 'versionId', takesValue: true, sets: ['action', 'restore'] },
      '--show': { name: 'versionId', takesValue: true, sets: ['action', 'show'] },
      '--fallback': { name: 'action', takesValue: false, sets: ['action', 'fallback'] },
      '--return': { name: 'action', takesValue: false, sets: ['action', 'return'] },
      '--force': { name: 'force', takesValue: false },
      '--dry-run': { name: 'dryRun', takesValue: false, unsupported: true },
    },
    destructive: (f) => !f.has('--dry-run') && (f.has('--restore') || f.has('--fallback') || f.has('--return')),
  },
  'rebuild-minio.sh': {
    command: 'lifeboat.rebuildMinio',
    flags: {
      '--force': { name: 'force', takesValue: false },
      '--dry-run': { name: 'dryRun', takesValue: false, unsupported: true },
    },
    destructive: (f) => !f.has('--dry-run'),
  },
  'rebuild-monitoring.sh': {
    command: 'lifeboat.rebuildMonitoring',
    flags: {
      '--mode': { name: 'mode', takesValue: true },
      '--force': { name: 'force', takesValue: false },
      '--dry-run': { name: 'dryRun', takesValue: false, unsupported: true },
    },
    destructive: (f) => !f.has('--dry-run'),
  },
  'verify-backups.sh': {
    command: 'lifeboat.verifyBackups',
    flags: {
      '--full': { name: 'full', takesValue: false },
      '--node': { name: 'node', takesValue: true, unsupported: true },
      '--env': { name: 'env', takesValue: true },
      '--vmid': { name: 'vmid', takesValue: true, numeric: true },
      '--json': { name: 'json', takesValue: false, unsupported: true },
    },
    destructive: () => false,
  },
};

function basename(word: string): string {
  const i = word.lastIndexOf('/');
  return i >= 0 ? word.slice(i + 1) : word;
}

function findScript(words: readonly string[]): { index: number; name: string } | undefined {
  for (let i = 0; i < words.length; i++) {
    const name = basename(words[i] ?? '');
    if (Object.hasOwn(KNOWN_SCRIPTS, name)) return { index: i, name };
  }
  return undefined;
}

/** The script's arguments up to the end of its simple command (`;`, `|`, `&`). */
function scriptArgs(words: readonly string[], from: number): string[] {
  const args: string[] = [];
  for (let i = from; i < words.length; i++) {
    const w = words[i] ?? '';
    if (w === ';' || w === '|' || w === '&') break;
    args.push(w);
  }
  return args;
}

/**
 * Maps a call of a known script to the Lifeboat command that does the same job, e.g.
 * `./scripts/restore/restore-vm.sh 131 --node alpha` → `lifeboat.restoreGuest` `{ vmid: 131, node: 'alpha' }`.
 * Flags Lifeboat has no equivalent for are listed in `unsupported` (the caller then runs the script as written).
 * A value still holding a `<placeholder>` is kept as text: fill the placeholders and map again before running.
 */
export function lifeboatMappingOf(commandLine: string): LifeboatMapping | undefined {
  const words = shellWords(commandLine);
  const found = findScript(words);
  if (!found) return undefined;
  const spec = KNOWN_SCRIPTS[found.name];
  if (!spec) return undefined;
  const args: Record<string, string | number | boolean> = {};
  const unsupported: string[] = [];
  const rest = scriptArgs(words, found.index + 1);
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] ?? '';
    const [flag, inline] = word.startsWith('--') && word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
    const f = spec.flags[flag];
    if (f) {
      if (f.unsupported) unsupported.push(flag);
      let value: string | number | boolean = true;
      if (f.takesValue) {
        const v = inline ?? rest[++i];
        if (v === undefined) {
          unsupported.push(`${flag} (no value)`);
          continue;
        }
        value = f.numeric && /^\d{1,9}$/.test(v) ? Number(v) : v;
      }
      if (f.sets) args[f.sets[0]] = f.sets[1];
      if (f.takesValue || !f.sets) args[f.name] = value;
    } else if (!word.startsWith('-') && spec.positional && args[spec.positional.name] === undefined) {
      args[spec.positional.name] = spec.positional.numeric && /^\d{1,9}$/.test(word) ? Number(word) : word;
    } else {
      unsupported.push(word);
    }
  }
  const command = spec.commandFor ? spec.commandFor(args) : spec.command;
  if (!command) unsupported.push(String(args.action ?? found.name));
  return { script: found.name, command: command ?? spec.command, args, unsupported };
}

/** How a settings pattern is named in a reason (`pattern: <regex>`). */
const PATTERN_PREFIX = 'pattern: ';

/**
 * Why a command asks first, or undefined. Known scripts are judged by their flags
 * (`restore-tfstate.sh --list` only reads); other commands by their words: restore, destroy, apply,
 * `--force`, `rm -rf`; then the operator's own patterns (case-insensitive regular expressions).
 */
export function destructiveReason(command: string, extraPatterns: readonly string[] = []): string | undefined {
  const words = shellWords(command);
  const found = findScript(words);
  const script = found ? KNOWN_SCRIPTS[found.name] : undefined;
  let reason: string | undefined;
  if (found && script) {
    const flags = new Set(scriptArgs(words, found.index + 1).map((w) => (w.includes('=') ? w.slice(0, w.indexOf('=')) : w)));
    if (script.destructive(flags)) reason = found.name;
  }
  for (let i = 0; i < words.length && !reason; i++) {
    if (found && i >= found.index) break; // the known script's own words were judged above
    reason = wordReason(words, i);
  }
  if (!reason && found) {
    // Words after the script's simple command (e.g. `&& terraform apply`).
    const after = found.index + 1 + scriptArgs(words, found.index + 1).length;
    for (let i = after; i < words.length && !reason; i++) reason = wordReason(words, i);
  }
  if (!reason) {
    const text = command.slice(0, MAX_COMMAND_CHARS);
    for (const pattern of extraPatterns) {
      try {
        if (new RegExp(pattern, 'i').test(text)) return `${PATTERN_PREFIX}${pattern}`;
      } catch {
        // An invalid pattern in the settings is ignored here; the settings editor shows it.
      }
    }
  }
  return reason;
}

/**
 * A reason from `destructiveReason` as the operator reads it: a word of the command itself (apply,
 * destroy, --force, rm -rf, a script's name) stays as written; Lifeboat's own words (a restore, the
 * runbook's confirm mark, a settings pattern) are a sentence the surface translates.
 */
export function destructiveReasonText(reason: string): MessageArg {
  if (reason === 'restore') return msg('a restore');
  if (reason === 'runbook') return msg('marked confirm in the runbook');
  if (reason.startsWith(PATTERN_PREFIX)) return msg('matches your pattern {0}', reason.slice(PATTERN_PREFIX.length));
  return reason;
}

function wordReason(words: readonly string[], i: number): string | undefined {
  const word = words[i] ?? '';
  const base = basename(word).toLowerCase();
  if (word === '--force' || word.startsWith('--force=')) return '--force';
  if (base === 'destroy' || word === '-destroy') return 'destroy';
  if (base === 'apply') return 'apply';
  if (/restore/.test(base) && !word.endsWith('/')) return 'restore';
  if (base === 'rm') {
    for (let j = i + 1; j < words.length; j++) {
      const a = words[j] ?? '';
      if (a === ';' || a === '|' || a === '&') break;
      if (/^-[a-zA-Z]*[rR]/.test(a) || a === '--recursive') return 'rm -rf';
    }
  }
  return undefined;
}
