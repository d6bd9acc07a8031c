/**
 * Questions on the terminal. The default answer is always "no": Enter, EOF, Ctrl-C, or no terminal
 * at all mean no. `--force` answers yes without asking (the CLI only).
 */
import * as readline from 'node:readline/promises';

export async function confirm(question: string, opts: { force: boolean; interactive: boolean }): Promise<boolean> {
  if (opts.force) return true;
  if (!opts.interactive) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^(y|yes|o|oui)$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
