/**
 * Decisions about backups, as plain functions (tested without any node): which backup a restore
 * uses, what counts as stale, how backups map to guests.
 */
import { LifeboatError } from '../errors';
import type { DeclaredGuest } from '../model/environment';
import { parseDay } from '../proxmox/validate';
import type { Backup, Guest, Inventory, MatchedGuest } from './model';

/** The calendar day of a backup in the node's local time, from its vzdump name (`YYYY_MM_DD`). */
export function backupDay(b: Backup): string {
  const fromName = /vzdump-[a-z]+-\d+-(\d{4})_(\d{2})_(\d{2})-/.exec(b.volid);
  if (fromName) return `${fromName[1]}-${fromName[2]}-${fromName[3]}`;
  const pbs = /\/(\d{4}-\d{2}-\d{2})T/.exec(b.volid);
  if (pbs?.[1]) return pbs[1];
  return new Date(b.ctime * 1000).toISOString().slice(0, 10);
}

/** The note Lifeboat puts on the backup it makes before overwriting a guest. */
export const SAFETY_POINT_NOTE = 'Lifeboat safety point before restore';

/** A backup Lifeboat made before an overwrite: the state a restore replaced, not a regular backup. */
export function isSafetyPoint(b: Backup): boolean {
  return (b.notes ?? '').startsWith(SAFETY_POINT_NOTE);
}

/** The newest regular backup (safety points only when there is nothing else). */
export function newestBackup(backups: readonly Backup[]): Backup | undefined {
  return backups.find((b) => !isSafetyPoint(b)) ?? backups[0];
}

export function backupsOf(inventory: Pick<Inventory, 'backups'>, vmid: number): Backup[] {
  return inventory.backups.filter((b) => b.vmid === vmid).sort((a, b) => b.ctime - a.ctime);
}

/**
 * The backup a restore uses: the newest, or the newest of a given day (`YYYY-MM-DD`, node-local).
 * No backup → `noBackup`; none that day → `noBackupOnDate` with the days that exist.
 */
export function chooseBackup(backups: readonly Backup[], vmid: number, date?: string): Backup {
  const all = backups.filter((b) => b.vmid === vmid).sort((a, b) => b.ctime - a.ctime);
  if (all.length === 0) throw new LifeboatError('noBackup', `no backup of ${vmid} on any storage`, { vmid });
  // A snapshot the Proxmox Backup Server failed to verify is never chosen on its own, and a
  // Lifeboat safety point (the state a previous restore replaced) only when nothing else exists.
  const verified = all.filter((b) => b.verification !== 'failed');
  const regular = verified.filter((b) => !isSafetyPoint(b));
  const mine = regular.length > 0 ? regular : verified;
  if (mine.length === 0) throw new LifeboatError('backupCorrupt', `every backup of ${vmid} failed its last verification`, { vmid });
  if (date === undefined) return mine[0]!;
  parseDay(date);
  const sameDay = mine.filter((b) => backupDay(b) === date);
  if (sameDay.length === 0) {
    const days = [...new Set(mine.map(backupDay))];
    throw new LifeboatError('noBackupOnDate', `no backup of ${vmid} on ${date}; backups exist on ${days.join(', ')}`, { vmid, date, available: days.join(', ') });
  }
  return sameDay[0]!;
}

export function isStale(b: Backup | undefined, rpoHours: number, now: Date): boolean {
  return b === undefined || now.getTime() - b.ctime * 1000 > rpoHours * 3600_000;
}

/**
 * The RPO target from a `backup` block's schedule: a daily schedule (`01:30`) allows a day plus a
 * margin for the job's own duration; anything else falls back to the setting.
 */
export function rpoHoursFor(schedule: string | undefined, fallbackHours: number): number {
  if (schedule && /^\d{1,2}:\d{2}$/.test(schedule.trim())) return 26;
  return fallbackHours;
}

/** Declared guests matched by name (and type) to the nodes' guests. Undeclared guests are not included. */
export function matchGuests(declared: readonly DeclaredGuest[], inventory: Inventory): MatchedGuest[] {
  const used = new Set<number>();
  const matched: MatchedGuest[] = declared.map((d) => {
    const guest = findGuest(d, inventory.guests);
    if (guest) used.add(guest.vmid);
    return { declared: d, guest, backups: guest ? backupsOf(inventory, guest.vmid) : d.vmid ? backupsOf(inventory, d.vmid) : [] };
  });
  return matched;
}

function findGuest(d: DeclaredGuest, guests: readonly Guest[]): Guest | undefined {
  if (d.vmid) return guests.find((g) => g.vmid === d.vmid);
  const wantType = d.kind === 'vm' ? 'qemu' : 'lxc';
  const byName = guests.filter((g) => g.name === d.name && g.type === wantType);
  return byName.find((g) => g.node === d.node) ?? byName[0];
}
