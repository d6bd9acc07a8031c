/**
 * Markdown runbook → Runbook model, with source lines. markdown-it (ADR 12) does the Markdown:
 * raw HTML is off (it stays text), nesting is capped by `maxNesting`, and the input is cut at
 * MAX_RUNBOOK_CHARS, so a hostile or huge file neither executes nor hangs. Everything here is
 * a single pass over the tokens plus linear-time patterns on short strings.
 */
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';
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
const EST_MARKED = new RegExp(`(?:~|≈|about|approx(?:\\.|imately)?|around|environ|circa|ca\\.)\\s*(\\d{1,4}(?:[.,]\\d)?)\\s*${UNIT}(?![\\p{L}])`, 'iu');
const EST_PAREN = new RegExp(`\\(\\s*~?\\s*(\\d{1,4}(?:[.,]\\d)?)\\s*${UNIT}\\s*\\)`, 'iu');
const EST_LABEL = new RegExp(`(?:dur[ée]e|duration|estimated? time|estimate|temps estim[ée]|temps)\\s*:\\s*(?:~|≈|about|environ)?\\s*(\\d{1,4}(?:[.,]\\d)?)\\s*${UNIT}(?![\\p{L}])`, 'iu');
const RTO_CUE = /\bRTO\b|objectif|target|cible|recovery time|temps de reprise/iu;
const DURATION = new RegExp(`(\\d{1,4}(?:[.,]\\d)?)\\s*${UNIT}(?![\\p{L}])`, 'iu');

const HOURS_MINUTES = /(\d{1,2})\s?h\s?(\d{2})(?!\d)/u;

function minutes(value: string, unit: string): number {
  const n = Number(value.replace(',', '.'));
  return /^h/i.test(unit) ? Math.round(n * 60) : Math.round(n);
}

/** An estimate in a heading: "(about 10 min)", "~10 min", "(10 min)", "Durée : 10 min". */
export function estimateIn(text: string, strict = false): number | undefined {
  const s = text.slice(0, MAX_TEXT);
  const m = EST_LABEL.exec(s) ?? (strict ? undefined : EST_MARKED.exec(s) ?? EST_PAREN.exec(s));
  return m ? minutes(m[1] ?? '0', m[2] ?? 'min') : undefined;
}

/** The RTO target stated in a sentence ("under 45 minutes (RTO)", "Objectif : reprise en 45 min"). */
export function rtoIn(text: string): number | undefined {
  const s = text.slice(0, MAX_TEXT);
  if (!RTO_CUE.test(s)) return undefined;
  const hm = HOURS_MINUTES.exec(s);
  if (hm) return Number(hm[1]) * 60 + Number(hm[2]);
  const m = DURATION.exec(s);
  return m ? minutes(m[1] ?? '0', m[2] ?? 'min') : undefined;
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
  title = title.replace(EST_PAREN, '').replace(/\(\s*(?:~|≈|about|approx\.?|environ)\s*\d{1,4}(?:[.,]\d)?\s*(?:h|hours?|heures?|min(?:ute)?s?|mn)\s*\)/iu, '').trim();
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
        const est = estimateIn(text, true) ?? (text.length <= 40 ? estimateIn(text) : undefined);
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
  const limits: string[] = [];
  let text = source;
  if (text.length > MAX_RUNBOOK_CHARS) {
    const cut = text.lastIndexOf('\n', MAX_RUNBOOK_CHARS);
    text = text.slice(0, cut > 0 ? cut : MAX_RUNBOOK_CHARS);
    limits.push(`read the first ${MAX_RUNBOOK_CHARS} characters of ${source.length}`);
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
  if (deepest >= MAX_NESTING - 1) limits.push(`blocks nested deeper than ${MAX_NESTING} levels are read as text`);

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

  /** Where the section that starts at heading h ends: the next heading at its level or above. */
  const sectionEnd = (h: Heading): { token: number; line: number } => {
    const next = headings.find((o) => o.index > h.index && o.level <= Math.max(h.level, stepLevel));
    return next ? { token: next.index, line: next.line } : { token: tokens.length, line: lines.length };
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
  const used = new Set<string>();
  for (const h of stepHeadings) {
    if (!h.number && (PREREQ_TITLE.test(h.text))) continue;
    const end = sectionEnd(h);
    const { title: cleaned, explicitId } = cleanTitle(h.number !== undefined ? h.rest : h.text);
    const provisional = explicitId ?? slug(h.number !== undefined ? `step ${h.number} ${cleaned}` : cleaned);
    const c = collect(tokens, h.index + 3, end.token, provisional, patterns);
    if (stepsFrom === 'outline' && SKIP_TITLE.test(cleaned) && c.commands.length === 0 && c.checklist.length === 0) continue;
    let id = explicitId ?? c.attributeId ?? provisional;
    for (let n = 2; used.has(id); n++) id = `${explicitId ?? c.attributeId ?? provisional}-${n}`;
    used.add(id);
    const fixIds = id !== provisional;
    const sourceText = lines.slice(h.line, end.line).join('\n');
    steps.push({
      id,
      ...(h.number !== undefined ? { number: h.number } : {}),
      title: cleaned,
      heading: h.text,
      level: h.level,
      range: { start: h.line, end: end.line },
      ...(estimateIn(h.text) ?? c.estimate) !== undefined ? { estimateMinutes: estimateIn(h.text) ?? c.estimate } : {},
      prerequisites: c.prerequisites,
      checklist: fixIds ? c.checklist.map((x) => ({ ...x, id: x.id.replace(provisional, id) })) : c.checklist,
      commands: fixIds ? c.commands.map((x) => (x.id.startsWith(`${provisional}-`) ? { ...x, id: id + x.id.slice(provisional.length) } : x)) : c.commands,
      expected: c.expected,
      warnings: c.warnings,
      tables: c.tables,
      notes: c.notes,
      hash: textHash(sourceText),
    });
  }

  // The RTO: a sentence that says "RTO", else a target stated before the first step.
  let rtoMinutes: number | undefined;
  let rtoText: string | undefined;
  const introEnd = firstStep?.index ?? tokens.length;
  for (const pass of [1, 2]) {
    for (let i = 0; i < (pass === 1 ? tokens.length : introEnd) && rtoMinutes === undefined; i++) {
      const tok = tokens[i];
      if (tok?.type !== 'inline' || tokens[i - 1]?.type !== 'paragraph_open') continue;
      const t = inlineText(tok);
      if (pass === 1 && !/\bRTO\b/.test(t)) continue;
      const r = rtoIn(t);
      if (r !== undefined) {
        rtoMinutes = r;
        rtoText = t.slice(0, 300);
      }
    }
  }

  return {
    title,
    stepsFrom: steps.length ? stepsFrom : 'none',
    ...(rtoMinutes !== undefined ? { rtoMinutes, rtoText } : {}),
    prerequisites,
    steps,
    estimatedMinutes: steps.reduce((sum, s) => sum + (s.estimateMinutes ?? 0), 0),
    limits,
  };
}
