/**
 * HCL reading for the operator's `terraform.tfvars` and `backend.tf`.
 *
 * Parsing is done by tree-sitter's HCL grammar (web-tree-sitter + @tree-sitter-grammars/tree-sitter-hcl,
 * see docs/adr/0003-hcl-parser.md); this module only *evaluates* the literal subset that tfvars use
 * (strings, numbers, bools, null, tuples, objects, heredocs) into values that remember where they
 * came from, so CodeLens and diagnostics point at the right line. Anything that is not a literal
 * (a variable reference, a function call) is kept as an `expression` with its source text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Language, Parser, type Node as SyntaxNode } from 'web-tree-sitter';
import { MASK, maskSecrets } from '../runbook/secrets';

/** Zero-based line and column, like tree-sitter and VS Code positions. */
export interface Position { readonly line: number; readonly column: number }
export interface Range { readonly start: Position; readonly end: Position }

export type HclValue =
  | { readonly kind: 'string'; readonly value: string; readonly range: Range }
  | { readonly kind: 'number'; readonly value: number; readonly range: Range }
  | { readonly kind: 'bool'; readonly value: boolean; readonly range: Range }
  | { readonly kind: 'null'; readonly range: Range }
  | { readonly kind: 'tuple'; readonly items: readonly HclValue[]; readonly range: Range }
  | { readonly kind: 'object'; readonly entries: readonly HclEntry[]; readonly range: Range }
  | { readonly kind: 'expression'; readonly text: string; readonly range: Range };

/** One `key = value` of an object or of a file's top level, with the range of the key itself. */
export interface HclEntry {
  readonly key: string;
  readonly keyRange: Range;
  readonly value: HclValue;
}

/** A block such as `terraform { ... }` or `backend "s3" { ... }`. */
export interface HclBlock {
  readonly type: string;
  readonly labels: readonly string[];
  readonly range: Range;
  readonly body: HclBody;
}

export interface HclBody {
  readonly attributes: readonly HclEntry[];
  readonly blocks: readonly HclBlock[];
}

export interface HclSyntaxError {
  readonly position: Position;
  /** The offending source line, trimmed, so a message can show it. */
  readonly excerpt: string;
  readonly reason: 'unexpected' | 'missing';
  /** For `missing`: what the parser expected there (e.g. `}`). */
  readonly expected?: string;
}

export interface HclDocument {
  readonly body: HclBody;
  /** Syntax errors, first one first. A document with errors still yields what could be read. */
  readonly errors: readonly HclSyntaxError[];
}

let parserPromise: Promise<Parser> | undefined;

/** Finds a wasm file next to the bundle (dist/) or in node_modules (tests, the lab). */
function wasmPath(file: string, packagePath: string): string {
  const besideBundle = path.join(__dirname, file);
  if (fs.existsSync(besideBundle)) return besideBundle;
  return require.resolve(packagePath);
}

async function createParser(): Promise<Parser> {
  const runtime = wasmPath('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm');
  await Parser.init({ locateFile: () => runtime });
  const grammar = await Language.load(
    fs.readFileSync(wasmPath('tree-sitter-hcl.wasm', '@tree-sitter-grammars/tree-sitter-hcl/tree-sitter-hcl.wasm')),
  );
  const parser = new Parser();
  parser.setLanguage(grammar);
  return parser;
}

/** The parser is loaded once per process (a few milliseconds) and reused. */
function getParser(): Promise<Parser> {
  parserPromise ??= createParser().catch((err: unknown) => {
    parserPromise = undefined;
    throw err;
  });
  return parserPromise;
}

/**
 * Shell-style placeholders such as `"${MINIO_ROOT_PASSWORD:?required}"` are not HCL (the operator's
 * tooling substitutes them before Terraform runs). Escaping their `$` as HCL's `$${` keeps them as
 * literal text for the parser; the column shift is undone in `unshiftColumn`.
 */
const SHELL_PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?=+][^}\n]*)\}/g;

export function findPlaceholder(text: string): { envVar: string; required: boolean } | undefined {
  const match = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?=+])[^}]*)?\}$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  return { envVar: match[1], required: (match[2] ?? '').includes('?') };
}

interface Shift { readonly line: number; readonly atColumn: number }

function escapePlaceholders(text: string): { escaped: string; shifts: Shift[] } {
  const shifts: Shift[] = [];
  const lines = text.split('\n').map((line, lineNo) => {
    let added = 0;
    return line.replace(SHELL_PLACEHOLDER, (whole, _name, _op, offset: number) => {
      shifts.push({ line: lineNo, atColumn: offset + added });
      added += 1;
      return '$' + whole;
    });
  });
  return { escaped: lines.join('\n'), shifts };
}

export async function parseHcl(text: string): Promise<HclDocument> {
  const parser = await getParser();
  const { escaped, shifts } = escapePlaceholders(text);
  const tree = parser.parse(escaped);
  if (!tree) throw new Error('tree-sitter returned no tree');
  try {
    const reader = new Reader(shifts, text.split('\n'));
    const root = tree.rootNode;
    const bodyNode = root.namedChildren.find((c) => c?.type === 'body');
    const body = bodyNode ? reader.body(bodyNode) : { attributes: [], blocks: [] };
    const errors: HclSyntaxError[] = [];
    if (root.hasError) reader.collectErrors(root, errors);
    errors.sort((a, b) => a.position.line - b.position.line || a.position.column - b.position.column);
    return { body, errors };
  } finally {
    tree.delete();
  }
}

class Reader {
  constructor(private readonly shifts: readonly Shift[], private readonly lines: readonly string[]) {}

  private position(p: { row: number; column: number }): Position {
    const before = this.shifts.filter((s) => s.line === p.row && s.atColumn < p.column).length;
    return { line: p.row, column: p.column - before };
  }

  private range(node: SyntaxNode): Range {
    return { start: this.position(node.startPosition), end: this.position(node.endPosition) };
  }

  body(node: SyntaxNode): HclBody {
    const attributes: HclEntry[] = [];
    const blocks: HclBlock[] = [];
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'attribute') {
        const name = child.namedChildren.find((c) => c?.type === 'identifier');
        const expr = child.namedChildren.find((c) => c?.type === 'expression');
        if (name && expr) attributes.push({ key: name.text, keyRange: this.range(name), value: this.expression(expr) });
      } else if (child.type === 'block') {
        blocks.push(this.block(child));
      }
    }
    return { attributes, blocks };
  }

  private block(node: SyntaxNode): HclBlock {
    let type = '';
    const labels: string[] = [];
    let body: HclBody = { attributes: [], blocks: [] };
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'identifier') {
        if (type === '') type = child.text;
        else labels.push(child.text);
      } else if (child.type === 'string_lit') {
        labels.push(this.templateText(child));
      } else if (child.type === 'body') {
        body = this.body(child);
      }
    }
    return { type, labels, range: this.range(node), body };
  }

  private expression(node: SyntaxNode): HclValue {
    const range = this.range(node);
    const inner = node.namedChildren[0];
    if (!inner) return { kind: 'expression', text: node.text, range };
    switch (inner.type) {
      case 'literal_value':
        return this.literal(inner, range);
      case 'collection_value':
        return this.collection(inner, range);
      case 'template_expr':
        return this.template(inner, range);
      default:
        return { kind: 'expression', text: node.text, range };
    }
  }

  private literal(node: SyntaxNode, range: Range): HclValue {
    const lit = node.namedChildren[0];
    switch (lit?.type) {
      case 'numeric_lit':
        return { kind: 'number', value: Number(lit.text), range };
      case 'bool_lit':
        return { kind: 'bool', value: lit.text === 'true', range };
      case 'null_lit':
        return { kind: 'null', range };
      case 'string_lit':
        return { kind: 'string', value: this.templateText(lit), range };
      default:
        return { kind: 'expression', text: node.text, range };
    }
  }

  private collection(node: SyntaxNode, range: Range): HclValue {
    const coll = node.namedChildren[0];
    if (coll?.type === 'tuple') {
      const items = coll.namedChildren
        .filter((c): c is SyntaxNode => c?.type === 'expression')
        .map((c) => this.expression(c));
      return { kind: 'tuple', items, range };
    }
    if (coll?.type === 'object') {
      const entries: HclEntry[] = [];
      for (const elem of coll.namedChildren) {
        if (elem?.type !== 'object_elem') continue;
        const keyNode = elem.childForFieldName('key');
        const valNode = elem.childForFieldName('val');
        if (!keyNode || !valNode) continue;
        const key = this.objectKey(keyNode);
        if (key === undefined) continue;
        entries.push({ key, keyRange: this.range(keyNode), value: this.expression(valNode) });
      }
      return { kind: 'object', entries, range };
    }
    return { kind: 'expression', text: node.text, range };
  }

  /** Keys are bare identifiers (`ip = ...`) or strings (`"k3s-test" = ...`). */
  private objectKey(node: SyntaxNode): string | undefined {
    const value = this.expression(node);
    if (value.kind === 'string') return value.value;
    if (value.kind === 'expression' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(value.text)) return value.text;
    return undefined;
  }

  private template(node: SyntaxNode, range: Range): HclValue {
    const inner = node.namedChildren[0];
    if (!inner) return { kind: 'expression', text: node.text, range };
    const hasInterpolation = inner.descendantsOfType(['template_interpolation', 'template_directive']).length > 0;
    if (hasInterpolation) return { kind: 'expression', text: node.text, range };
    if (inner.type === 'heredoc_template') {
      return { kind: 'string', value: this.heredocText(inner), range };
    }
    return { kind: 'string', value: this.templateText(inner), range };
  }

  private templateText(node: SyntaxNode): string {
    return node.namedChildren
      .filter((c): c is SyntaxNode => c?.type === 'template_literal')
      .map((c) => unescapeQuoted(c.text))
      .join('');
  }

  private heredocText(node: SyntaxNode): string {
    const start = node.namedChildren.find((c) => c?.type === 'heredoc_start')?.text ?? '<<';
    // The grammar's literals drop some indentation, so read the source text between the opening
    // line and the closing marker's line instead.
    const lines = node.text.replace(/\$\$\{/g, '${').split('\n').slice(1, -1);
    if (lines.length === 0) return '';
    if (start.startsWith('<<-')) {
      // `<<-` strips the smallest common indentation, as Terraform does.
      const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0);
      const strip = indents.length ? Math.min(...indents) : 0;
      for (let i = 0; i < lines.length; i++) lines[i] = (lines[i] ?? '').slice(strip);
    }
    // Terraform's heredoc value ends with the newline before the closing marker.
    return lines.join('\n') + '\n';
  }

  collectErrors(node: SyntaxNode, out: HclSyntaxError[]): void {
    if (node.isMissing) {
      const position = this.position(node.startPosition);
      out.push({ position, reason: 'missing', expected: node.type, excerpt: this.excerpt(position.line) });
      return;
    }
    if (node.type === 'ERROR') {
      // An ERROR node often spans a whole attribute; a MISSING token or a nested ERROR inside it
      // is where the operator has to look.
      const inner = this.innermostProblem(node);
      if (inner.isMissing) {
        const position = this.position(inner.startPosition);
        out.push({ position, reason: 'missing', expected: inner.type, excerpt: this.excerpt(position.line) });
        return;
      }
      const position = this.position(inner.startPosition);
      out.push({ position, reason: 'unexpected', excerpt: this.excerpt(position.line) });
      return;
    }
    for (const child of node.children) if (child && (child.hasError || child.isMissing)) this.collectErrors(child, out);
  }

  private innermostProblem(node: SyntaxNode): SyntaxNode {
    const missing = firstMissing(node);
    if (missing) return missing;
    for (const child of node.children) {
      if (!child) continue;
      if (child.isMissing) return child;
      if (child.type === 'ERROR' || child.hasError) return this.innermostProblem(child);
      // Complete attributes and blocks the parser swallowed into the ERROR are not the problem.
      if (node.type === 'ERROR' && ['attribute', 'block', 'comment', 'body'].includes(child.type)) continue;
      return child;
    }
    return node;
  }

  private excerpt(line: number): string {
    return maskExcerpt((this.lines[line] ?? '').trim().slice(0, 120));
  }
}

/**
 * A source line as a syntax error shows it (the log, the explorer, the CLI), without its secret: the
 * value of a secret-looking key (`root_password = "…"`, `proxmox_api_token = …`) is masked by the
 * project's masking helper; when the error is in that very value (an unclosed quote) or the key is
 * quoted, the helper cannot delimit it, so everything after the `=` is masked.
 */
export function maskExcerpt(line: string): string {
  const masked = maskSecrets(line);
  const key = /^"?([A-Za-z0-9_.-]{1,64})"?\s*=/.exec(line)?.[1];
  if (!key || masked.includes(MASK)) return masked;
  // What counts as a secret name is the helper's decision: ask it about this key alone.
  const secretKey = maskSecrets(`${key}=value`) !== `${key}=value`;
  return secretKey ? `${line.slice(0, line.indexOf('=') + 1)} ${MASK}` : masked;
}

function firstMissing(node: SyntaxNode): SyntaxNode | undefined {
  if (node.isMissing) return node;
  for (const child of node.children) {
    if (child && (child.hasError || child.isMissing)) {
      const found = firstMissing(child);
      if (found) return found;
    }
  }
  return undefined;
}

function unescapeQuoted(text: string): string {
  return text
    .replace(/\$\$\{/g, '${')
    .replace(/%%\{/g, '%{')
    .replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_m, esc: string) => {
      switch (esc[0]) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case 'u':
        case 'U': return String.fromCodePoint(parseInt(esc.slice(1), 16));
        default: return esc;
      }
    });
}

// ---- small accessors used by the readers -------------------------------------------------------

export function entry(entries: readonly HclEntry[], key: string): HclEntry | undefined {
  return entries.find((e) => e.key === key);
}

export function objectEntries(value: HclValue | undefined): readonly HclEntry[] {
  return value?.kind === 'object' ? value.entries : [];
}

export function asString(value: HclValue | undefined): string | undefined {
  if (value?.kind === 'string') return value.value;
  if (value?.kind === 'number') return String(value.value);
  return undefined;
}

export function asNumber(value: HclValue | undefined): number | undefined {
  if (value?.kind === 'number') return value.value;
  if (value?.kind === 'string' && value.value.trim() !== '' && !Number.isNaN(Number(value.value))) return Number(value.value);
  return undefined;
}

export function asBool(value: HclValue | undefined): boolean | undefined {
  if (value?.kind === 'bool') return value.value;
  if (value?.kind === 'string' && (value.value === 'true' || value.value === 'false')) return value.value === 'true';
  return undefined;
}

export function asStringList(value: HclValue | undefined): string[] {
  if (value?.kind !== 'tuple') return [];
  return value.items.map(asString).filter((s): s is string => s !== undefined);
}
