/**
 * Which Markdown files get the "Open as checklist" CodeLens and editor-title button. Any Markdown file
 * can be opened as a checklist from the explorer or the palette; these are only offered where a
 * checklist makes sense, so that not every README with a code block gets one. The rule is described
 * in docs/runbook-format.md.
 */
import type { Runbook } from './model';

/** Words in a file name or title that say "this is a procedure to recover something" (English, French). */
const RUNBOOK_WORDS = /runbook|playbook|disaster|recover|restore|restaur|reprise|secours|incident|failover|bascule|rebuild|reconstru|\bPRA\b|\bPCA\b|\bDRP?\b|proc[ée]dure|checklist/i;
/** Files that are about a project, not a procedure: offered only when their title says runbook. */
const PROJECT_FILE = /^(?:readme|changelog|changes|contributing|license|licence|code_of_conduct|security|history|authors|notice)(?:[.-][\w-]+)?\.(?:md|markdown)$/i;
const DOCS_FOLDER = /(^|[\\/])docs?[\\/]/i;

function baseName(filePath: string): string {
  const i = Math.max(filePath.lastIndexOf('/'), filePath.lastIndexOf('\\'));
  return filePath.slice(i + 1);
}

/**
 * A runbook: several steps, with shell commands in fenced blocks (in at least one numbered step, or in
 * at least two steps of a heading outline); and its name, folder or title says so — numbered steps
 * anywhere but in a README-like file, an outline only under `docs/` or with a runbook word in the file
 * name or the title. A README-like file (README, CHANGELOG, CONTRIBUTING…) needs a runbook word in its
 * title.
 */
export function looksLikeRunbook(filePath: string, runbook: Runbook): boolean {
  if (runbook.steps.length < 2) return false;
  const withCommands = runbook.steps.filter((s) => s.commands.length > 0).length;
  const numbered = runbook.stepsFrom === 'numbered';
  if (withCommands < (numbered ? 1 : 2)) return false;
  const name = baseName(filePath);
  const titled = RUNBOOK_WORDS.test(runbook.title);
  if (PROJECT_FILE.test(name)) return titled;
  return numbered || titled || DOCS_FOLDER.test(filePath) || RUNBOOK_WORDS.test(name);
}
