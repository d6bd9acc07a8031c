/**
 * Where a run log lives: `.lifeboat/runs/<runbook name>.json` in the runbook's folder, as indented
 * JSON (readable in a diff, safe to commit: commands and outputs were masked before they got here).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RunLog } from '../../core';

export function runLogPath(runbookFile: string): string {
  const name = path.basename(runbookFile).replace(/\.(md|markdown)$/i, '');
  return path.join(path.dirname(runbookFile), '.lifeboat', 'runs', `${name}.json`);
}

export async function readRunLog(runbookFile: string): Promise<RunLog | undefined> {
  try {
    const parsed = JSON.parse(await fs.readFile(runLogPath(runbookFile), 'utf8')) as Partial<RunLog>;
    if (parsed.format !== 'lifeboat-runbook-run/1' || typeof parsed.startedAt !== 'string' || typeof parsed.steps !== 'object' || typeof parsed.checks !== 'object') return undefined;
    return parsed as RunLog;
  } catch {
    return undefined;
  }
}

/** Writes are chained so an older state never lands after a newer one. */
export class RunLogWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly runbookFile: string, private readonly onError: (err: unknown) => void) {}

  write(log: RunLog | undefined): Promise<void> {
    const file = runLogPath(this.runbookFile);
    this.chain = this.chain.then(async () => {
      if (!log) {
        await fs.rm(file, { force: true });
        return;
      }
      await fs.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      await fs.writeFile(tmp, `${JSON.stringify(log, null, 2)}\n`, 'utf8');
      await fs.rename(tmp, file);
    }).catch(this.onError);
    return this.chain;
  }

  flush(): Promise<void> {
    return this.chain;
  }
}
