/**
 * Markdown runbook → Runbook model, with source lines. markdown-it (ADR 12) does the Markdown:
 * raw HTML is off (it stays text), nesting is capped by `maxNesting`, and the input is cut at
 * MAX_RUNBOOK_CHARS, so a hostile or huge file neither executes nor hangs. Everything here is
 * a single pass over the tokens plus linear-time patterns on short strings.
 */
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';
import { msg, type Message } from '../procedure/message';
import type { ChecklistItem, Runbook, RunbookCommand, RunbookStep, RunbookTable } from './model';
import { SHELL_LANGUAGES, destructiveReason, lifeboatMappingOf, placeholdersOf, splitCommands } from './commands';

/** Larger runbooks are read up to here: a runbook is a few pages, 300 kB is a hundred; markdown-it needs about 1 s for 1 MB of nested lists. */
export const MAX_RUNBOOK_CHARS = 300_000;
/** markdown-it stops nesting blocks below this depth (a list 2,000 levels deep is read as text). */
export const MAX_NESTING = 50;
/** Heading and paragraph text longer than this is cut before any pattern is tried. */
const MAX_TEXT = 2_000;

export interface ParseOptions {
  /** File name, for the title when the runbook has no level-1 heading. */
  readonly fileName?: string;
  /** Extra destructive patterns (settings `lifeboat.runbook.destructivePatterns`). */
  readonly destructivePatterns?: readonly string[];
}

const md = new MarkdownIt('default', { html: false, linkify: false, typographer: false });
// maxNesting is a real option of markdown-it (presets set it) that @types/markdown-it leaves out.
(md.options as { maxNesting?: number }).maxNesting = MAX_NESTING;

interface Heading {
  readonly index: number; // token index of heading_open
  readonly level: number;
  readonly text: string;
  readonly line: number;
  readonly number?: string;
  readonly rest: string;
}

const STEP_WORD = /^(?:step|[ÉéEe]tape|phase)\s+(\d{1,3}|[A-Za-z])(?![\p{L}\p{N}])\s*(?:[—–:.)-]\s*)?(.*)$/iu;
const NUMBERED = /^(\d{1,3})[.)]\s+(.*)$/u;
const NUMBERED_DASH = /^(\d{1,3})\s+[—–-]\s+(.*)$/u;
const PREREQ_TITLE = /^(?:before you (?:start|begin)|prerequisites?|requirements|pr[ée]-?requis|avant de commencer)\b/iu;
const SKIP_TITLE = /^(?:contacts?|references?|see also|voir aussi|annexes?|appendix|changelog|historique|liens|links)$/iu;
const EXPECTED_LABEL = /^(?:expected(?: results?| output)?|r[ée]sultats? attendus?|attendu|you should see|on doit voir)\s*:?\s*/iu;
const PREREQ_LABEL = /^(?:prerequisites?|requires|requirements|pr[ée]-?requis|avant de commencer)\s*:\s*/iu;

const UNIT = '(h|hours?|heures?|hrs?|min(?:ute)?s?|mn)';
/** "1h30", "1 h 30", "2h05min", "1 hour 30 minutes", "1 heure et 30 min": hours and minutes (groups 1, 2). */
const HOURS_MINUTES_SRC = '(\\d{1,2})\\s?(?:h|hrs?|hours?|heures?)\\s?(?:(?:and|et)\\s)?([0-5]\\d|\\d(?=\\s?(?:min|mn)))(?:\\s?(?:min(?:ute)?s?|mn))?(?![\\d\\p{L}])';
/** A duration: hours and minutes (groups 1, 2) or an amount with its unit (groups 3, 4). */
const DURATION_SRC = `(?:${HOURS_MINUTES_SRC}|(\\d{1,4}(?:[.,]\\d{1,2})?)\\s*${UNIT}(?![\\p{L}]))`;
const APPROX = '(?:~|≈|about|approx(?:\\.|imately)?|around|roughly|environ|circa|ca\\.|à peu près|autour de)';
/** "~10 min", "about 10 min", "environ 1h30". */
const EST_MARKED = new RegExp(`${APPROX}\\s*${DURATION_SRC}`, 'iu');
/** "(10 min)", "(~1h30)". */
const EST_PAREN = new RegExp(`\\(\\s*~?\\s*${DURATION_SRC}\\s*\\)`, 'iu');
/** "Durée : 10 min", "Durée estimée : 15 min", "Estimated: 2 hours", "Estimated time: 1.5 h", "Temps : ~5 min". */
const EST_LABEL = new RegExp(`(?:dur[ée]e(?:\\s+estim[ée]e)?|temps(?:\\s+estim[ée])?|estimated?(?:\\s+(?:time|duration))?|estimation|duration|expected duration|time needed)\\s*:\\s*${APPROX}?\\s*${DURATION_SRC}`, 'iu');
/** "takes about 10 min", "Comptez 15 min", "prévoir environ 1 h", "allow 20 minutes". */
const EST_VERB = new RegExp(`(?:\\btakes?|\\blasts?|\\ballow|\\bbudget|\\bprend|\\bdure|\\bcomptez|\\bcompter|\\bpr[ée]voyez|\\bpr[ée]voir)\\s+(?:up to\\s+|jusqu'à\\s+|${APPROX}\\s*)?${DURATION_SRC}`, 'iu');
/** "(about 10 min)", "(environ 1h30)". */
const EST_PAREN_APPROX = new RegExp(`\\(\\s*${APPROX}\\s*${DURATION_SRC}\\s*\\)`, 'iu');
/** At the end of a heading after a dash: "Step 5: E — 10 minutes", "Restauration – 1h30". */
const EST_TRAILING = new RegExp(`\\s[—–-]\\s*${APPROX}?\\s*${DURATION_SRC}\\s*$`, 'iu');
/** A duration just after these words is a wait or a timing inside the step, not the step's estimate. */
const NOT_AN_ESTIMATE = /(?:\bwait(?:ing|s)?|\bsleep|\battend\w*|\bpatiente\w*|\bafter|\baprès|\bapres|\bwithin|\bevery|\btoutes les|\bago|\bil y a|\btimeout|\bdélai|\bdelai|\bdelay|\binterval\w*|\bretry|\bretries)\W+(?:[\p{L}\d'’-]+\W+){0,2}$/iu;
/** A sentence or table cell that states the RTO itself. */
const RTO_STRICT = /\bRTO\b|recovery time objective|temps de reprise|d[ée]lai de reprise|\bDMIA\b|dur[ée]e maximale d'interruption/iu;
const RTO_CUE = /\bRTO\b|objectif|target|cible|recovery time|temps de reprise|d[ée]lai de reprise|\bDMIA\b/iu;
const RPO = /\bRPO\b|recovery point|perte de donn[ée]es/iu;

const DURATION = new RegExp(DURATION_SRC, 'iu');
const DURATION_G = new RegExp(DURATION_SRC, 'giu');

/** Minutes of a DURATION_SRC match whose first group is at `g` in `m`. */
function minutesOf(m: RegExpExecArray, g: number): number {
  if (m[g] !== undefined) return Number(m[g]) * 60 + Number(m[g + 1] ?? 0);
  const n = Number((m[g + 2] ?? '0').replace(',', '.'));
  return /^h/i.test(m[g + 3] ?? 'min') ? Math.round(n * 60) : Math.round(n);
}

const withoutCodeSpans = (text: string) => text.replace(/`[^`]{0,2000}`/g, ' ');

/** An estimate in a heading: "(about 10 min)", "~10 min", "(10 min)", "Durée : 10 min", "… — 10 minutes". */
export function estimateIn(text: string, strict = false): number | undefined {
  const s = withoutCodeSpans(text.slice(0, MAX_TEXT));
  const label = EST_LABEL.exec(s);
  if (label) return minutesOf(label, 1);
  if (strict) return undefined;
  const m = EST_MARKED.exec(s) ?? EST_PAREN.exec(s);
  if (m) return minutesOf(m, 1);
  const trailing = EST_TRAILING.exec(s);
  return trailing ? minutesOf(trailing, 1) : undefined;
}

/**
 * An estimate in a paragraph of a step: a label ("Durée estimée : 15 min"), a verb ("takes about 10
 * min", "Comptez 15 min"), or an approximate duration ("about 10 min") anywhere in the sentence unless
 * it follows "wait", "after", "every", "timeout"… (a timing inside the step). A short paragraph may also
 * be just "(10 min)". Code spans are never read: `sleep 600` is a command, not an estimate.
 */
export function estimateInText(text: string): number | undefined {
  const s = withoutCodeSpans(text.slice(0, MAX_TEXT));
  const label = EST_LABEL.exec(s) ?? EST_VERB.exec(s);
  if (label) return minutesOf(label, 1);
  const marked = EST_MARKED.exec(s);
  if (marked && !NOT_AN_ESTIMATE.test(s.slice(Math.max(0, marked.index - 60), marked.index))) return minutesOf(marked, 1);
  if (s.trim().length <= 40) {
    const paren = EST_PAREN.exec(s);
    if (paren) return minutesOf(paren, 1);
  }
  return undefined;
}

/** The first duration in a text (a table cell, the rest of a sentence), in minutes. */
function firstDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? minutesOf(m, 1) : undefined;
}

/**
 * The RTO target stated in a sentence ("under 45 minutes (RTO)", "RPO 24 h, RTO 1h30", "Objectif :
 * reprise en 45 min"): the duration right after the cue when there is one, else the first one that is
 * not the RPO's.
 */
export function rtoIn(text: string): number | undefined {
  const s = withoutCodeSpans(text.slice(0, MAX_TEXT));
  const cue = RTO_CUE.exec(s);
  if (!cue) return undefined;
  const after = firstDuration(s.slice(cue.index, cue.index + 120));
  if (after !== undefined) return after;
  for (const m of s.matchAll(DURATION_G)) {
    // "RPO: 24 h … back in 45 min (RTO)": skip a duration that belongs to the RPO.
    if (RPO.test(s.slice(Math.max(0, (m.index ?? 0) - 30), m.index))) continue;
    return minutesOf(m as RegExpExecArray, 1);
  }
  return undefined;
}

/**
 * The RTO in a table: a row whose first cell names it (`| RTO | 45 min |`), or an RTO column with a
 * single row below it (`| RTO | RPO |` / `| 45 min | 24 h |`). A column with several rows is an RTO per
 * service, not the runbook's target: not read.
 */
function rtoInTable(header: readonly string[], rows: readonly (readonly string[])[]): { minutes: number; text: string } | undefined {
  for (const row of [header, ...rows]) {
    const first = row[0] ?? '';
    if (RTO_STRICT.test(first) && !RPO.test(first)) {
      const value = firstDuration(row.slice(1).join(' '));
      if (value !== undefined) return { minutes: value, text: row.join(' | ') };
    }
  }
  const col = header.findIndex((h) => RTO_STRICT.test(h) && !RPO.test(h));
  if (col >= 0 && rows.length === 1) {
    const value = firstDuration(rows[0]?.[col] ?? '');
    if (value !== undefined) return { minutes: value, text: `${header[col] ?? ''}: ${rows[0]?.[col] ?? ''}` };
  }
  return undefined;
}

export function slug(text: string): string {
  return text
    .slice(0, 200)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60) || 'step';
}

/** FNV-1a, 32 bits: enough to notice that a step's text changed. */
export function textHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Plain text of an inline token: code spans keep their backticks, links their text, nothing is HTML. */
function inlineText(token: Token | undefined): string {
  if (!token) return '';
  if (!token.children) return token.content.slice(0, MAX_TEXT);
  let out = '';
  for (const c of token.children) {
    if (c.type === 'text' || c.type === 'html_inline') out += c.content;
    else if (c.type === 'code_inline') out += `\`${c.content}\``;
    else if (c.type === 'softbreak' || c.type === 'hardbreak') out += ' ';
    else if (c.type === 'image') out += c.content;
    if (out.length > MAX_TEXT) break;
  }
  return out.slice(0, MAX_TEXT).trim();
}

function stepHeading(text: string): { number: string; rest: string } | undefined {
  const m = STEP_WORD.exec(text) ?? NUMBERED.exec(text) ?? NUMBERED_DASH.exec(text);
  return m ? { number: (m[1] ?? '').toUpperCase(), rest: (m[2] ?? '').trim() } : undefined;
}

/** The heading without its estimate and an explicit `{#id}`. */
function cleanTitle(text: string): { title: string; explicitId?: string } {
  let title = text;
  let explicitId: string | undefined;
  const idm = /\s*\{#([A-Za-z0-9_-]{1,60})\}\s*$/.exec(title);
  if (idm) {
    explicitId = idm[1];
    title = title.slice(0, idm.index);
  }
  title = title.replace(EST_PAREN, '').replace(EST_PAREN_APPROX, '').replace(EST_TRAILING, '').trim();
  title = title.replace(/\s*[—–:-]\s*$/u, '').trim();
  return { title: title || text, explicitId };
}

interface Collected {
  checklist: ChecklistItem[];
  commands: RunbookCommand[];
  expected: string[];
  warnings: string[];
  tables: RunbookTable[];
  notes: string[];
  prerequisites: string[];
  estimate?: number;
  attributeId?: string;
}

function parseAttributes(info: string): { language: string; attrs: Record<string, unknown> } {
  const trimmed = info.trim();
  const space = trimmed.search(/[\s{]/);
  const language = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const brace = trimmed.indexOf('{');
  let attrs: Record<string, unknown> = {};
  if (brace >= 0 && trimmed.length - brace < 2_000) {
    try {
      const parsed: unknown = JSON.parse(trimmed.slice(brace));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) attrs = parsed as Record<string, unknown>;
    } catch {
      // Not JSON (e.g. Pandoc's `{.class}`): no attributes.
    }
  }
  return { language, attrs };
}

/** Reads the blocks of one section (tokens [from, to)). */
function collect(tokens: readonly Token[], from: number, to: number, stepId: string, patterns: readonly string[]): Collected {
  const c: Collected = { checklist: [], commands: [], expected: [], warnings: [], tables: [], notes: [], prerequisites: [] };
  let mode: 'none' | 'expected' | 'prerequisites' = 'none';
  let quoteDepth = 0;
  let listDepth = 0;
  let quoteText: string[] = [];
  let table: { header: string[]; rows: string[][]; line: number; inHead: boolean; row: string[] } | undefined;
  let commandIndex = 0;
  const checkIds = new Map<string, number>();
  for (let i = from; i < to; i++) {
    const tok = tokens[i];
    if (!tok) continue;
    switch (tok.type) {
      case 'blockquote_open':
        quoteDepth++;
        break;
      case 'blockquote_close':
        quoteDepth = Math.max(0, quoteDepth - 1);
        if (quoteDepth === 0 && quoteText.length) {
          c.warnings.push(quoteText.join(' '));
          quoteText = [];
        }
        break;
      case 'bullet_list_open':
      case 'ordered_list_open':
        listDepth++;
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        listDepth = Math.max(0, listDepth - 1);
        if (listDepth === 0 && quoteDepth === 0 && mode !== 'none') mode = 'none';
        break;
      case 'heading_open': {
        const text = inlineText(tokens[i + 1]);
        if (EXPECTED_LABEL.test(text) && text.replace(EXPECTED_LABEL, '') === '') mode = 'expected';
        else if (PREREQ_TITLE.test(text)) mode = 'prerequisites';
        else {
          mode = 'none';
          c.notes.push(text);
        }
        i += 2;
        break;
      }
      case 'table_open':
        table = { header: [], rows: [], line: tok.map?.[0] ?? 0, inHead: false, row: [] };
        break;
      case 'thead_open':
        if (table) table.inHead = true;
        break;
      case 'thead_close':
        if (table) table.inHead = false;
        break;
      case 'tr_open':
        if (table) table.row = [];
        break;
      case 'tr_close':
        if (table) {
          if (table.inHead) table.header = table.row;
          else table.rows.push(table.row);
        }
        break;
      case 'th_open':
      case 'td_open':
        if (table) table.row.push(inlineText(tokens[i + 1]));
        break;
      case 'table_close':
        if (table) c.tables.push({ header: table.header, rows: table.rows, line: table.line });
        table = undefined;
        break;
      case 'fence':
      case 'code_block': {
        const { language, attrs } = tok.type === 'fence' ? parseAttributes(tok.info) : { language: '', attrs: {} };
        const line = (tok.map?.[0] ?? 0) + (tok.type === 'fence' ? 1 : 0);
        if (SHELL_LANGUAGES.has(language) && quoteDepth === 0) {
          const blockId = typeof attrs.id === 'string' && /^[A-Za-z0-9_.-]{1,60}$/.test(attrs.id) ? attrs.id : undefined;
          if (blockId && !c.attributeId) c.attributeId = blockId;
          const split = splitCommands(tok.content, language);
          split.forEach((s, k) => {
            commandIndex++;
            const id = blockId ? (split.length === 1 ? blockId : `${blockId}-${k + 1}`) : `${stepId}-${commandIndex}`;
            const marked = attrs.confirm === true ? 'runbook' : undefined;
            const mapping = lifeboatMappingOf(s.text);
            c.commands.push({
              id,
              text: s.text,
              language,
              line: line + s.offset,
              placeholders: placeholdersOf(s.text),
              ...(marked || destructiveReason(s.text, patterns) ? { destructive: marked ?? destructiveReason(s.text, patterns) } : {}),
              ...(mapping ? { lifeboat: mapping } : {}),
            });
          });
        } else if (mode === 'expected') {
          c.expected.push(tok.content.trim().slice(0, MAX_TEXT));
        }
        break;
      }
      case 'inline': {
        const parent = tokens[i - 1];
        if (!parent || parent.type !== 'paragraph_open') break;
        const text = inlineText(tok);
        if (!text) break;
        if (quoteDepth > 0) {
          quoteText.push(text);
          break;
        }
        const task = /^\[([ xX])\]\s+/.exec(text);
        const inList = listDepth > 0 && tokens[i - 2]?.type === 'list_item_open';
        if (task && inList) {
          const itemText = text.slice(task[0].length);
          const base = `${stepId}-check-${slug(itemText).slice(0, 32).replace(/-+$/, '')}`;
          const seen = (checkIds.get(base) ?? 0) + 1;
          checkIds.set(base, seen);
          const id = seen === 1 ? base : `${base}-${seen}`;
          c.checklist.push({ id, text: itemText, checked: task[1] !== ' ', line: parent.map?.[0] ?? 0 });
          break;
        }
        const est = estimateInText(text);
        if (est !== undefined && c.estimate === undefined) c.estimate = est;
        if (EXPECTED_LABEL.test(text)) {
          mode = 'expected';
          const rest = text.replace(EXPECTED_LABEL, '').trim();
          if (rest) c.expected.push(rest);
          break;
        }
        if (PREREQ_LABEL.test(text)) {
          mode = 'prerequisites';
          const rest = text.replace(PREREQ_LABEL, '').trim();
          if (rest) c.prerequisites.push(rest);
          break;
        }
        if (inList && mode === 'expected') c.expected.push(text);
        else if (inList && mode === 'prerequisites') c.prerequisites.push(text);
        else {
          if (!inList) mode = 'none';
          c.notes.push(text);
        }
        break;
      }
      default:
        break;
    }
  }
  return c;
}

/**
 * Parses a Markdown runbook. Never throws on content; always returns a model (possibly with no steps).
 * Steps come from numbered headings ("Step 2 —", "Étape A :", "### 3.") or, without them, from the heading outline.
 */
export function parseRunbook(source: string, options: ParseOptions = {}): Runbook {
  const limits: Message[] = [];
  let text = source;
  if (text.length > MAX_RUNBOOK_CHARS) {
    const cut = text.lastIndexOf('\n', MAX_RUNBOOK_CHARS);
    text = text.slice(0, cut > 0 ? cut : MAX_RUNBOOK_CHARS);
    limits.push(msg('Only the first {0} characters of {1} were read.', MAX_RUNBOOK_CHARS, source.length));
  }
  const tokens = md.parse(text, {});
  const lines = text.split('\n');
  const patterns = options.destructivePatterns ?? [];

  const headings: Heading[] = [];
  let deepest = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (!tok) continue;
    if (tok.level > deepest) deepest = tok.level;
    if (tok.type !== 'heading_open' || tok.level !== 0) continue;
    const htext = inlineText(tokens[i + 1]);
    const sh = stepHeading(htext);
    headings.push({ index: i, level: Number(tok.tag.slice(1)), text: htext, line: tok.map?.[0] ?? 0, ...(sh ? { number: sh.number, rest: sh.rest } : { rest: htext }) });
  }
  if (deepest >= MAX_NESTING - 1) limits.push(msg('Blocks nested deeper than {0} levels are read as text.', MAX_NESTING));

  const h1s = headings.filter((h) => h.level === 1);
  const title = h1s[0]?.text ?? options.fileName?.replace(/\.(md|markdown)$/i, '') ?? 'Runbook';

  // Numbered steps: the level where most numbered headings are.
  const numbered = headings.filter((h) => h.number !== undefined);
  let stepHeadings: Heading[];
  let stepsFrom: Runbook['stepsFrom'];
  if (numbered.length > 0) {
    const counts = new Map<number, number>();
    for (const h of numbered) counts.set(h.level, (counts.get(h.level) ?? 0) + 1);
    const level = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 2;
    stepHeadings = numbered.filter((h) => h.level === level);
    stepsFrom = 'numbered';
  } else {
    const candidates = h1s.length === 1 ? headings.filter((h) => h !== h1s[0]) : headings;
    const level = Math.min(...candidates.map((h) => h.level));
    stepHeadings = candidates.filter((h) => h.level === level);
    stepsFrom = stepHeadings.length ? 'outline' : 'none';
  }
  const stepLevel = stepHeadings[0]?.level ?? 1;
  const isStep = new Set(stepHeadings.map((h) => h.index));

  const position = new Map(headings.map((h, k) => [h.index, k]));
  /** The headings after h, in order. */
  function* after(h: Heading): Generator<Heading> {
    for (let k = (position.get(h.index) ?? headings.length) + 1; k < headings.length; k++) {
      const o = headings[k];
      if (o) yield o;
    }
  }
  /** Where the section that starts at heading h ends: the next heading at its level or above. */
  const sectionEnd = (h: Heading): { token: number; line: number } => {
    for (const o of after(h)) if (o.level <= Math.max(h.level, stepLevel)) return { token: o.index, line: o.line };
    return { token: tokens.length, line: lines.length };
  };
  /** Whether a section holds something to do: commands or checkboxes. */
  const actionable = (h: Heading): boolean => {
    const c = collect(tokens, h.index + 3, sectionEnd(h).token, 'probe', []);
    return c.commands.length > 0 || c.checklist.length > 0;
  };
  /**
   * Where a numbered step ends. An unnumbered heading at the step level between two numbered steps
   * ("### Step Two" after "### 2)") does not end it: its section is read as part of the step (its
   * heading becomes a note) and `limits` says so, rather than its commands going nowhere. After the last
   * step only a section with commands or checkboxes is taken; "Contacts", "References"… and
   * "Before you start" sections always end a step.
   */
  const stepEnd = (h: Heading, last: boolean): { token: number; line: number } => {
    if (stepsFrom !== 'numbered') return sectionEnd(h);
    for (const o of after(h)) {
      if (o.level > stepLevel) continue;
      if (o.level < stepLevel || isStep.has(o.index)) return { token: o.index, line: o.line };
      if (PREREQ_TITLE.test(o.text) || SKIP_TITLE.test(cleanTitle(o.text).title)) return { token: o.index, line: o.line };
      if (last && !actionable(o)) return { token: o.index, line: o.line };
      limits.push(msg('"{0}" (line {1}) has no step number: it is read as part of step {2}.', o.text.slice(0, 120), o.line + 1, h.number ?? '?'));
    }
    return { token: tokens.length, line: lines.length };
  };

  const prerequisites: ChecklistItem[] = [];
  const firstStep = stepHeadings[0];
  // The introduction (before the first step) and "Before you start" sections hold runbook-level prerequisites.
  const prereqSections: { from: number; to: number; id: string }[] = [];
  if (firstStep) {
    const introEnd = headings.find((h) => h.index > (h1s[0]?.index ?? -1) && h.index <= firstStep.index)?.index ?? firstStep.index;
    prereqSections.push({ from: 0, to: introEnd, id: 'intro' });
  }
  for (const h of headings) {
    if (h.number === undefined && PREREQ_TITLE.test(h.text) && (h.level <= stepLevel)) {
      prereqSections.push({ from: h.index + 3, to: sectionEnd(h).token, id: 'prereq' });
    }
  }
  for (const s of prereqSections) prerequisites.push(...collect(tokens, s.from, s.to, s.id, patterns).checklist);

  const steps: RunbookStep[] = [];
  /** Token ranges read as steps: a shell block outside all of them is reported in `limits`. */
  const covered = new Uint8Array(tokens.length);
  const used = new Set<string>();
  stepHeadings.forEach((h, n) => {
    if (!h.number && (PREREQ_TITLE.test(h.text))) return;
    const end = stepEnd(h, n === stepHeadings.length - 1);
    const { title: cleaned, explicitId } = cleanTitle(h.number !== undefined ? h.rest : h.text);
    const provisional = explicitId ?? slug(h.number !== undefined ? `step ${h.number} ${cleaned}` : cleaned);
    const c = collect(tokens, h.index + 3, end.token, provisional, patterns);
    if (stepsFrom === 'outline' && SKIP_TITLE.test(cleaned) && c.commands.length === 0 && c.checklist.length === 0) return;
    covered.fill(1, h.index, end.token);
    let id = explicitId ?? c.attributeId ?? provisional;
    for (let k = 2; used.has(id); k++) id = `${explicitId ?? c.attributeId ?? provisional}-${k}`;
    used.add(id);
    const fixIds = id !== provisional;
    const sourceText = lines.slice(h.line, end.line).join('\n');
    const estimate = estimateIn(h.text) ?? c.estimate;
    steps.push({
      id,
      ...(h.number !== undefined ? { number: h.number } : {}),
      title: cleaned,
      heading: h.text,
      level: h.level,
      range: { start: h.line, end: end.line },
      ...(estimate !== undefined ? { estimateMinutes: estimate } : {}),
      prerequisites: c.prerequisites,
      checklist: fixIds ? c.checklist.map((x) => ({ ...x, id: x.id.replace(provisional, id) })) : c.checklist,
      commands: fixIds ? c.commands.map((x) => (x.id.startsWith(`${provisional}-`) ? { ...x, id: id + x.id.slice(provisional.length) } : x)) : c.commands,
      expected: c.expected,
      warnings: c.warnings,
      tables: c.tables,
      notes: c.notes,
      hash: textHash(sourceText),
    });
  });
  limits.push(...strayCommands(tokens, covered));

  // The RTO: a sentence that says "RTO", else a table row or column that states it, else a target
  // stated before the first step.
  let rto: { minutes: number; text: string } | undefined;
  const introEnd = firstStep?.index ?? tokens.length;
  for (let i = 0; i < tokens.length && !rto; i++) {
    const tok = tokens[i];
    if (tok?.type !== 'inline' || tokens[i - 1]?.type !== 'paragraph_open') continue;
    const t = inlineText(tok);
    if (!/\bRTO\b/.test(t)) continue;
    const r = rtoIn(t);
    if (r !== undefined) rto = { minutes: r, text: t.slice(0, 300) };
  }
  rto ??= tableRto(tokens);
  for (let i = 0; i < introEnd && !rto; i++) {
    const tok = tokens[i];
    if (tok?.type !== 'inline' || tokens[i - 1]?.type !== 'paragraph_open') continue;
    const t = inlineText(tok);
    const r = rtoIn(t);
    if (r !== undefined) rto = { minutes: r, text: t.slice(0, 300) };
  }

  return {
    title,
    stepsFrom: steps.length ? stepsFrom : 'none',
    ...(rto ? { rtoMinutes: rto.minutes, rtoText: rto.text } : {}),
    prerequisites,
    steps,
    estimatedMinutes: steps.reduce((sum, s) => sum + (s.estimateMinutes ?? 0), 0),
    limits,
  };
}

/** The first table in the document that states the RTO (see rtoInTable). */
function tableRto(tokens: readonly Token[]): { minutes: number; text: string } | undefined {
  let header: string[] = [];
  let rows: string[][] = [];
  let row: string[] = [];
  let inHead = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    switch (tok?.type) {
      case 'table_open': header = []; rows = []; break;
      case 'thead_open': inHead = true; break;
      case 'thead_close': inHead = false; break;
      case 'tr_open': row = []; break;
      case 'th_open':
      case 'td_open': row.push(inlineText(tokens[i + 1])); break;
      case 'tr_close': if (inHead) header = row; else rows.push(row); break;
      case 'table_close': {
        const found = rtoInTable(header, rows);
        if (found) return found;
        break;
      }
      default: break;
    }
  }
  return undefined;
}

/** At most this many "commands outside any step" notes: a document of loose snippets is not a runbook. */
const MAX_STRAY_NOTES = 5;

/**
 * Shell blocks that belong to no step (the introduction, a "Before you start" or "Contacts" section,
 * the text of a part heading above the steps): they are not offered to run, and `limits` says where
 * they are so none disappears silently. Blocks inside blockquotes are left out on purpose (alternatives).
 */
function strayCommands(tokens: readonly Token[], covered: Uint8Array): Message[] {
  const notes: Message[] = [];
  let quoteDepth = 0;
  let under: { text: string; reported: boolean } | undefined;
  let beforeAnyHeadingReported = false;
  for (let i = 0; i < tokens.length && notes.length < MAX_STRAY_NOTES; i++) {
    const tok = tokens[i];
    if (!tok) continue;
    if (tok.type === 'heading_open' && tok.level === 0) under = { text: inlineText(tokens[i + 1]), reported: false };
    else if (tok.type === 'blockquote_open') quoteDepth++;
    else if (tok.type === 'blockquote_close') quoteDepth = Math.max(0, quoteDepth - 1);
    if (tok.type !== 'fence' || quoteDepth > 0 || covered[i] === 1 || under?.reported || (!under && beforeAnyHeadingReported)) continue;
    const { language } = parseAttributes(tok.info);
    if (!SHELL_LANGUAGES.has(language) || splitCommands(tok.content, language).length === 0) continue;
    const line = (tok.map?.[0] ?? 0) + 1;
    if (under) {
      under.reported = true;
      notes.push(msg('Commands under "{0}" (line {1}) belong to no step: they are not offered to run.', under.text.slice(0, 120), line));
    } else {
      beforeAnyHeadingReported = true;
      notes.push(msg('Commands at line {0} come before the first step: they are not offered to run.', line));
    }
  }
  return notes;
}
