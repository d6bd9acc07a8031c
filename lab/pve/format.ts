/**
 * Output formatting shared by the simulated tools: Perl `JSON` canonical output as pvesh prints it
 * (reference §0: keys sorted, compact on one line, or `json-pretty` with 3-space indent and
 * JSON::XS' `"key" : value` spacing), and pvesh's default `text` tables (never meant to be parsed).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/** Compact canonical JSON (keys sorted), as `pvesh --output-format json` prints it. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** JSON::XS `canonical pretty` output: 3-space indent, `"key" : value`. */
export function prettyJson(value: unknown, indent = ''): string {
  if (value === null || value === undefined || typeof value !== 'object') return canonicalJson(value);
  const inner = indent + '   ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)} : ${prettyJson(obj[k], inner)}`).join(',\n')}\n${indent}}`;
}

export type OutputFormat = 'text' | 'json' | 'json-pretty' | 'yaml';

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return canonicalJson(v);
  return String(v);
}

/** pvesh's default `text` rendering: a box-drawn table (arrays) or key/value table (objects). */
export function textTable(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return `${String(value)}\n`;
  let header: string[];
  let rows: string[][];
  if (Array.isArray(value)) {
    if (value.length === 0) return '';
    const keys = new Set<string>();
    for (const row of value) if (row && typeof row === 'object') for (const k of Object.keys(row)) keys.add(k);
    header = [...keys].sort();
    rows = value.map((row) => header.map((k) => cell((row as Record<string, unknown>)[k])));
  } else {
    header = ['key', 'value'];
    const obj = value as Record<string, unknown>;
    rows = Object.keys(obj).sort().map((k) => [k, cell(obj[k])]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (l: string, m: string, r: string, fill: string): string => l + widths.map((w) => fill.repeat(w + 2)).join(m) + r;
  const row = (cells: readonly string[]): string => '│' + cells.map((c, i) => ` ${c.padEnd(widths[i] ?? 0)} `).join('│') + '│';
  return [line('┌', '┬', '┐', '─'), row(header), line('╞', '╪', '╡', '═'), ...rows.map(row), line('└', '┴', '┘', '─')].join('\n') + '\n';
}

/** Renders an API result the way pvesh does for the chosen `--output-format`. */
export function renderResult(value: unknown, format: OutputFormat): string {
  if (value === null || value === undefined) return '';
  switch (format) {
    case 'json':
      return canonicalJson(value) + '\n';
    case 'json-pretty':
      return prettyJson(value) + '\n';
    case 'yaml':
    case 'text':
      if (typeof value === 'string') return value.endsWith('\n') ? value : value + '\n';
      return textTable(value);
  }
}

/** Bytes as vzdump prints them (`529MB`, `4.20GB`, `12KB`). */
export function vzdumpSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)}GB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)}MB`;
  return `${Math.round(bytes / 1024)}KB`;
}

/** `32.0 GiB`-style sizes of vzdump's progress lines. */
export function humanIec(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS` in node-local time (the lab's nodes run in UTC). */
export function localDateTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** `Fri Jan  2 03:04:06 2026`: C `ctime(3)` in node-local time (UTC). */
export function cTime(epochMs: number): string {
  const d = new Date(epochMs);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** C `%.3g` (as vma prints percentages: `73.1`, `2.95`, `100`). */
export function g3(x: number): string {
  if (x === 0) return '0';
  return String(Number(x.toPrecision(3)));
}
