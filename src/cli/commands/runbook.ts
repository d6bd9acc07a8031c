/**
 * `lifeboat runbook <file> [--json]`: what Lifeboat understands of a Markdown runbook (steps with
 * estimates, commands, checklist items, RTO). Useful to check a runbook before the night it is needed.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { destructiveReasonText, parseRunbook, translate, translateArg, type Runbook } from '../../core';
import { ExitCode } from '../output';
import { t } from '../l10n';
import type { CliIo } from './environments';

export interface RunbookOptions {
  readonly json?: boolean;
  readonly destructive?: string[];
}

export async function runbookCommand(file: string, options: RunbookOptions, io: CliIo): Promise<number> {
  const full = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = await fs.readFile(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.err(code === 'ENOENT' ? t('No runbook at {0}: the file does not exist.', full) : t('Cannot read {0}: {1}', full, err instanceof Error ? err.message : String(err)));
    return ExitCode.failure;
  }
  const runbook = parseRunbook(text, { fileName: path.basename(full), destructivePatterns: options.destructive ?? [] });
  if (options.json) io.out(JSON.stringify({ file: full, ...runbook }, null, 2));
  else printHuman(runbook, io);
  return ExitCode.ok;
}

function printHuman(rb: Runbook, io: CliIo): void {
  const s = io.style;
  io.out(s.bold(rb.title));
  io.out(rb.rtoMinutes !== undefined ? t('RTO target: {0} min', rb.rtoMinutes) : t('RTO target: not stated'));
  if (rb.estimatedMinutes) io.out(t('Sum of the step estimates: {0} min', rb.estimatedMinutes));
  if (rb.prerequisites.length) {
    io.out('');
    io.out(s.bold(t('Prerequisites')));
    for (const c of rb.prerequisites) io.out(`  [${c.checked ? 'x' : ' '}] ${c.text}`);
  }
  if (rb.steps.length === 0) {
    io.out('');
    io.out(t('No steps found: add numbered headings ("## Step 1 — …", "### Étape A : …", "### 1. …") or section headings.'));
  }
  rb.steps.forEach((step, i) => {
    io.out('');
    const est = step.estimateMinutes !== undefined ? s.dim(`  (${t('~{0} min', step.estimateMinutes)})`) : '';
    io.out(`${s.bold(`${step.number ?? String(i + 1)}. ${step.title}`)}${est}  ${s.dim(`[${step.id}, ${t('line {0}', step.range.start + 1)}]`)}`);
    for (const p of step.prerequisites) io.out(`  ${t('Prerequisite')}: ${p}`);
    for (const c of step.commands) {
      const flags = [
        c.destructive ? s.yellow(t('asks first ({0})', translateArg(destructiveReasonText(c.destructive), t))) : '',
        c.lifeboat && c.lifeboat.unsupported.length === 0 ? s.green(t('Lifeboat: {0}', c.lifeboat.command)) : '',
        c.placeholders.length ? t('asks for {0}', c.placeholders.map((p) => `<${p}>`).join(', ')) : '',
      ].filter(Boolean).join('  ');
      io.out(`  $ ${c.text.split('\n')[0] ?? ''}${c.text.includes('\n') ? ' …' : ''}${flags ? `   ${flags}` : ''}`);
    }
    for (const c of step.checklist) io.out(`  [${c.checked ? 'x' : ' '}] ${c.text}`);
    for (const e of step.expected) io.out(`  ${t('Expected')}: ${e}`);
    for (const w of step.warnings) io.out(`  ${s.yellow('!')} ${w}`);
  });
  for (const l of rb.limits) io.err(t('Note: {0}', translate(l, t)));
}
