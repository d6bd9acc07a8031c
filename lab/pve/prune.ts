/**
 * Backup retention as pve-storage applies it (`PVE::Storage::prune_mark_backup_group`): vzdump
 * prunes the guest's older backups on the target storage right after writing a new one, unless it
 * runs with `--remove 0` (reference §10). Protected backups are never removed and do not count
 * towards the retention.
 *
 * The rules, in this order, each keep the newest backup of every period not already kept by an
 * earlier rule, up to its count: keep-last (each backup), keep-hourly, keep-daily, keep-weekly (ISO
 * week), keep-monthly, keep-yearly. Everything left unmarked is removed. No retention, or
 * `keep-all=1`, keeps everything. Times are node-local (the lab's nodes run in UTC).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BackupFile, logNameOf, relToState } from './archive';
import { mutateState } from './model';

export type Retention = Readonly<Record<string, string>>;

const RULES = ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly'] as const;

/** `keep-daily=7,keep-weekly=4`, as `print_property_string` prints it (keys sorted). */
export function retentionString(r: Retention): string {
  return Object.keys(r).sort().map((k) => `${k}=${r[k]}`).join(',');
}

/** Parses `keep-last=3,keep-daily=7` (vzdump's `--prune-backups`). */
export function parseRetention(text: string): Retention {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(keep-(?:all|last|hourly|daily|weekly|monthly|yearly))=(\d+)$/.exec(part);
    if (!m) throw new Error(`invalid format - unknown or malformed retention '${part}'`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** Whether the retention removes anything at all (no rule, or keep-all, keeps everything). */
export function prunes(r: Retention | undefined): r is Retention {
  if (!r || r['keep-all'] === '1') return false;
  return RULES.some((k) => Number(r[k] ?? 0) > 0);
}

function isoWeek(d: Date): string {
  // ISO 8601: the week with the year's first Thursday is week 1; weeks start on Monday.
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86400_000 + 1) / 7);
  return `${week}/${t.getUTCFullYear()}`;
}

const PERIOD: Record<(typeof RULES)[number], (ctime: number) => string> = {
  'keep-last': (c) => String(c),
  'keep-hourly': (c) => new Date(c * 1000).toISOString().slice(0, 13),
  'keep-daily': (c) => new Date(c * 1000).toISOString().slice(0, 10),
  'keep-weekly': (c) => isoWeek(new Date(c * 1000)),
  'keep-monthly': (c) => new Date(c * 1000).toISOString().slice(0, 7),
  'keep-yearly': (c) => new Date(c * 1000).toISOString().slice(0, 4),
};

export type PruneMark = 'keep' | 'remove' | 'protected';

/** Marks one backup group (one guest's backups on one storage), newest first, like pve-storage. */
export function pruneMarks<T extends { readonly ctime: number; readonly protected: boolean }>(group: readonly T[], keep: Retention): { entry: T; mark: PruneMark }[] {
  const list = [...group].sort((a, b) => b.ctime - a.ctime).map((entry) => ({ entry, mark: (entry.protected ? 'protected' : undefined) as PruneMark | undefined }));
  if (!prunes(keep)) return list.map((x) => ({ entry: x.entry, mark: x.mark ?? 'keep' }));
  for (const rule of RULES) {
    const count = Number(keep[rule] ?? 0);
    if (!(count > 0)) continue;
    const id = PERIOD[rule];
    const already = new Set(list.filter((x) => x.mark === 'keep').map((x) => id(x.entry.ctime)));
    const added = new Set<string>();
    for (const x of list) {
      if (x.mark !== undefined || already.has(id(x.entry.ctime))) continue;
      const period = id(x.entry.ctime);
      if (!added.has(period)) {
        if (added.size >= count) break;
        added.add(period);
        x.mark = 'keep';
      } else {
        x.mark = 'remove';
      }
    }
  }
  return list.map((x) => ({ entry: x.entry, mark: x.mark ?? 'remove' }));
}

/** Removes a backup archive with its `.notes` and `.log` and forgets its logical size. */
export function removeArchive(stateDir: string, b: Pick<BackupFile, 'path' | 'filename'>): void {
  fs.rmSync(b.path);
  fs.rmSync(`${b.path}.notes`, { force: true });
  fs.rmSync(path.join(path.dirname(b.path), logNameOf(b.filename)), { force: true });
  mutateState(stateDir, (s) => {
    delete s.archives[relToState(stateDir, b.path)];
  });
}
