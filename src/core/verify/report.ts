/**
 * A verification as text: a terminal table, a Markdown record, and JSON. Takes the surface's
 * translate function (vscode.l10n.t or the CLI's t) so both print the same translated words.
 */
import { english, translate } from '../procedure/message';
import { formatTime, gib } from '../restore/guestRestore';
import type { ArchiveCheck, Finding, VerifyResult } from './model';

export type VerifyTranslate = (message: string, ...args: (string | number | boolean)[]) => string;

function render(f: Finding, t: VerifyTranslate): string {
  return translate(f.message, t);
}

function severityWord(s: Finding['severity'], t: VerifyTranslate): string {
  return s === 'error' ? t('ERROR') : s === 'warning' ? t('WARNING') : t('ok');
}

export function verdictWord(c: ArchiveCheck, t: VerifyTranslate): string {
  switch (c.verdict) {
    case 'ok': return t('intact');
    case 'corrupt': return t('CORRUPT');
    case 'missing': return t('MISSING');
    case 'empty': return t('EMPTY');
    case 'unchanged': return t('unchanged since verified');
    case 'unreadable': return t('not checked');
    case 'pbs-ok': return t('PBS verified');
    case 'pbs-failed': return t('PBS verification FAILED');
    case 'pbs-unverified': return t('PBS never verified');
    case 'not-checked': return t('not checked');
  }
}

function location(f: Finding): string {
  const parts = [f.environment, f.guest ? `${f.guest}${f.vmid ? ` ${f.vmid}` : ''}` : f.vmid ? String(f.vmid) : undefined, f.node].filter(Boolean);
  return parts.join(' / ');
}

function pad(cells: readonly string[][]): string[] {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function verifySummary(r: VerifyResult, t: VerifyTranslate): string {
  const verdict = r.cancelled ? t('cancelled, results are partial') : r.exitCode === 2 ? t('errors found') : r.exitCode === 1 ? t('warnings') : t('all good');
  return t('Backup verification ({0}): {1} — {2} error(s), {3} warning(s), {4} archive(s) checked in {5} s', r.full ? t('full') : t('quick'), verdict, r.counts.error, r.counts.warning, r.archives.length, Math.round(r.durationMs / 1000));
}

/** The terminal view: archives as a table, then the findings, worst first. */
export function verifyLines(r: VerifyResult, t: VerifyTranslate): string[] {
  const out: string[] = [];
  if (r.archives.length) {
    const rows = [[t('VMID'), t('Guest'), t('Node'), t('Date'), t('Age'), t('Size'), t('Result'), t('Flags')]];
    for (const a of r.archives) {
      rows.push([String(a.vmid), a.guest ?? '', a.node, formatTime(a.ctime).replace(' UTC', ''), `${Math.round(a.ageHours)} h`, gib(a.sizeBytes), verdictWord(a, t), [a.protected ? t('protected') : '', a.checksum === 'changed' ? t('checksum changed') : a.checksum === 'accepted' ? t('new checksum accepted') : '', a.notes ? `“${a.notes}”` : ''].filter(Boolean).join(' ')]);
    }
    out.push(...pad(rows), '');
  }
  const rows = [[t('Severity'), t('Where'), t('Finding')]];
  for (const f of r.findings) rows.push([severityWord(f.severity, t), location(f) || '—', render(f, t)]);
  out.push(...pad(rows), '', verifySummary(r, t));
  return out;
}

/** The Markdown record (report document in VS Code, file under .lifeboat/reports). */
export function verifyMarkdown(r: VerifyResult, t: VerifyTranslate, displayPath: (file: string) => string = (f) => f): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out = [
    `# ${t('Backup verification')} — ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `**${verifySummary(r, t)}**`,
    '',
    `- ${t('Started')}: ${r.startedAt}`,
    `- ${t('Finished')}: ${r.finishedAt}`,
    `- ${t('Mode')}: ${r.full ? t('full (every archive read again: compression test and vma verify / tar; running guests probed)') : t('quick (every archive checksummed; new and changed ones read: compression test and vma verify / tar)')}`,
    '',
    `## ${t('Findings')}`,
    '',
    `| ${t('Severity')} | ${t('Where')} | ${t('Finding')} | ${t('File')} |`,
    '|---|---|---|---|',
  ];
  for (const f of r.findings) {
    const file = f.file ? `${displayPath(f.file)}${f.range ? `:${f.range.start.line + 1}` : ''}` : '';
    out.push(`| ${severityWord(f.severity, t)} | ${cell(location(f))} | ${cell(render(f, t))} | ${cell(file)} |`);
  }
  if (r.archives.length) {
    out.push('', `## ${t('Archives')}`, '', `| VMID | ${t('Guest')} | ${t('Node')} | ${t('Archive')} | ${t('Age')} | ${t('Size')} | ${t('Result')} | ${t('Protected')} | ${t('Notes')} | sha256 |`, '|---|---|---|---|---|---|---|---|---|---|');
    for (const a of r.archives) {
      out.push(`| ${a.vmid} | ${cell(a.guest ?? '')} | ${a.node} | \`${a.volid}\` | ${Math.round(a.ageHours)} h | ${gib(a.sizeBytes)} | ${verdictWord(a, t)}${a.detail && a.verdict !== 'unchanged' ? ` — ${cell(a.detail)}` : ''} | ${a.protected ? '🔒' : ''} | ${cell(a.notes ?? '')} | ${a.sha256 ? `\`${a.sha256.slice(0, 16)}…\`` : ''} |`);
    }
  }
  if (r.states.length) {
    out.push('', `## ${t('Terraform state versions')}`, '', `| ${t('Environment')} | ${t('Version')} | ${t('Current')} | ${t('Valid')} |`, '|---|---|---|---|');
    for (const s of r.states) out.push(`| ${s.environment} | \`${s.versionId ?? s.where}\` | ${s.isLatest ? '✓' : ''} | ${s.valid ? '✓' : `✗ ${cell(s.reason ?? '')}`} |`);
  }
  return out.join('\n') + '\n';
}

/** The same result as JSON (messages in English; secrets never appear in a verification). */
export function verifyJson(r: VerifyResult, extra: Record<string, unknown> = {}) {
  return {
    status: r.cancelled ? 'cancelled' : r.exitCode === 2 ? 'errors' : r.exitCode === 1 ? 'warnings' : 'ok',
    exitCode: r.exitCode,
    full: r.full,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: r.durationMs,
    counts: r.counts,
    findings: r.findings.map((f) => ({
      severity: f.severity, code: f.code, message: english(f.message), environment: f.environment, guest: f.guest, vmid: f.vmid, node: f.node, volid: f.volid,
      file: f.file, line: f.range ? f.range.start.line + 1 : undefined,
    })),
    archives: r.archives,
    states: r.states,
    ...extra,
  };
}
