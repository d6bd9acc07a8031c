/**
 * Decisions about backups, as plain functions (tested without any node): which backup a restore
 * uses, what counts as stale, how backups map to guests.
 */
import { LifeboatError } from '../errors';
import { msg } from '../procedure/message';
import type { DeclaredGuest } from '../model/environment';
import { parseDay } from '../proxmox/validate';
import type { Backup, BackupJob, Guest, Inventory, MatchedGuest, OrphanBackups, VmidSource } from './model';
import { largestGapHours, parseCalendarEvent } from './schedule';

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
  if (all.length === 0) throw LifeboatError.saying('noBackup', msg('no backup of {0} on any storage', vmid), { vmid });
  // A snapshot the Proxmox Backup Server failed to verify is never chosen on its own, and a
  // Lifeboat safety point (the state a previous restore replaced) only when nothing else exists.
  const verified = all.filter((b) => b.verification !== 'failed');
  const regular = verified.filter((b) => !isSafetyPoint(b));
  const mine = regular.length > 0 ? regular : verified;
  if (mine.length === 0) throw LifeboatError.saying('backupCorrupt', msg('every backup of {0} failed its last verification', vmid), { vmid });
  if (date === undefined) return mine[0]!;
  parseDay(date);
  const sameDay = mine.filter((b) => backupDay(b) === date);
  if (sameDay.length === 0) {
    const days = [...new Set(mine.map(backupDay))];
    throw LifeboatError.saying('noBackupOnDate', msg('no backup of {0} on {1}; backups exist on {2}', vmid, date, days.join(', ')), { vmid, date, available: days.join(', ') });
  }
  return sameDay[0]!;
}

export function isStale(b: Backup | undefined, rpoHours: number, now: Date): boolean {
  return b === undefined || now.getTime() - b.ctime * 1000 > rpoHours * 3600_000;
}

/** Hours a backup job may take on top of the time between two of its runs. */
export const RPO_MARGIN_HOURS = 2;

/**
 * The RPO target from a Proxmox calendar-event schedule (`01:30`, `sun 01:00`, `mon..fri 02:00`,
 * `daily`, `*-*-* 02:00`, `2,14:00`…): the longest time between two runs plus a margin for the
 * job's own duration, in whole hours (a daily job: 26 h). A schedule this cannot read (or none)
 * gives the fallback (the `lifeboat.backup.rpoHours` setting).
 */
export function rpoHoursFor(schedule: string | undefined, fallbackHours: number): number {
  const event = schedule ? parseCalendarEvent(schedule) : undefined;
  const gap = event ? largestGapHours(event) : undefined;
  return gap === undefined ? fallbackHours : Math.ceil(gap + RPO_MARGIN_HOURS);
}

/** Does this job back up that guest (listed, or `all` on its node without being excluded)? */
export function jobCovers(job: BackupJob, vmid: number, node: string | undefined): boolean {
  if (job.vmids === 'all') return !job.exclude.includes(vmid) && (job.node === undefined || node === undefined || job.node === node);
  return job.vmids.includes(vmid);
}

/**
 * A guest's RPO target: the schedule of its environment's `backup` block, else — the block says
 * nothing Lifeboat can read — the enabled Proxmox job that backs the guest up most often, else the
 * fallback.
 */
export function guestRpoHours(blockSchedule: string | undefined, jobs: readonly BackupJob[], vmid: number | undefined, node: string | undefined, fallbackHours: number): number {
  const fromBlock = rpoHoursFor(blockSchedule, Number.NaN);
  if (!Number.isNaN(fromBlock)) return fromBlock;
  if (vmid === undefined) return fallbackHours;
  const fromJobs = jobs
    .filter((j) => j.enabled && jobCovers(j, vmid, node))
    .map((j) => rpoHoursFor(j.schedule, Number.NaN))
    .filter((h) => !Number.isNaN(h));
  return fromJobs.length ? Math.min(...fromJobs) : fallbackHours;
}

/**
 * What the last verification said of a backup: `corrupt` (Lifeboat's integrity check failed) or
 * `ok`; undefined when it was not checked.
 */
export type Verdict = (volid: string) => 'corrupt' | 'ok' | undefined;

/** A backup a restore must not use: Lifeboat's verification or the PBS server found it damaged. */
export function isKnownCorrupt(b: Backup, verdictOf: Verdict = () => undefined): boolean {
  return b.verification === 'failed' || verdictOf(b.volid) === 'corrupt';
}

/** The backups a restore can use (newest first, as given): known-corrupt ones left out. */
export function usableBackups(backups: readonly Backup[], verdictOf: Verdict = () => undefined): Backup[] {
  return backups.filter((b) => !isKnownCorrupt(b, verdictOf));
}

/** What a state read without the network says about an environment's guests (`stateGuests` of src/core/state). */
export interface StateGuestHint {
  /** `module.vms["gitea"].proxmox_virtual_environment_vm.this` */
  readonly address: string;
  readonly vmid: number;
  readonly name: string | undefined;
}

export interface MatchOptions {
  /** Per environment name: the guests of a Terraform state already on disk (never fetched for this). */
  readonly stateGuests?: ReadonlyMap<string, readonly StateGuestHint[]>;
}

/**
 * Declared guests matched by name (and type) to the nodes' guests. Undeclared guests are not
 * included. A declared guest no node has (its node died, or it was destroyed) keeps a VMID when one
 * can be learnt without the network: an explicit `vmid` in tfvars, the `vm_id` of a state on disk,
 * or the notes of backups whose VMID no node runs (`{{guestname}}` templates) — with its backups.
 */
export function matchGuests(declared: readonly DeclaredGuest[], inventory: Inventory, options: MatchOptions = {}): MatchedGuest[] {
  const live = new Set(inventory.guests.map((g) => g.vmid));
  const found = declared.map((d) => ({ d, guest: findGuest(d, inventory.guests) }));
  const missing = found.filter((x) => !x.guest).map((x) => x.d);
  const byNotes = vmidsFromNotes(missing, inventory, live);
  return found.map(({ d, guest }): MatchedGuest => {
    if (guest) return { declared: d, guest, backups: backupsOf(inventory, guest.vmid), vmid: guest.vmid, vmidSource: 'node', candidateVmids: [] };
    const fromState = d.vmid === undefined ? vmidFromState(d, options.stateGuests?.get(d.environment), live) : undefined;
    const fromNotes = byNotes.get(d) ?? [];
    const [vmid, vmidSource]: [number | undefined, VmidSource | undefined] = d.vmid !== undefined
      ? [d.vmid, 'tfvars']
      : fromState !== undefined ? [fromState, 'state'] : fromNotes.length === 1 ? [fromNotes[0], 'backup-notes'] : [undefined, undefined];
    return {
      declared: d,
      guest: undefined,
      backups: vmid !== undefined ? backupsOf(inventory, vmid) : [],
      vmid,
      vmidSource,
      candidateVmids: vmid === undefined && fromNotes.length > 1 ? fromNotes : [],
    };
  });
}

/**
 * Guests the nodes run that no declared guest matches (a restored copy, a hand-made VM), templates
 * left out; only those on `node` when given. `matched` is the match of every environment's guests.
 */
export function undeclaredGuests(inventory: Pick<Inventory, 'guests'>, matched: readonly Pick<MatchedGuest, 'guest'>[], node?: string): Guest[] {
  const declared = new Set(matched.flatMap((m) => (m.guest ? [m.guest.vmid] : [])));
  return inventory.guests.filter((g) => !g.template && !declared.has(g.vmid) && (node === undefined || g.node === node));
}

/**
 * The backups whose VMID no node runs and no matched guest claims, by VMID (newest backup first
 * within each, VMIDs with the newest backup first). They are what is left of a guest nobody
 * declares, or of a declared one Lifeboat could not name with certainty.
 */
export function orphanBackups(inventory: Pick<Inventory, 'guests' | 'backups'>, matched: readonly Pick<MatchedGuest, 'vmid'>[]): OrphanBackups[] {
  const taken = new Set<number>([...inventory.guests.map((g) => g.vmid), ...matched.flatMap((m) => (m.vmid !== undefined ? [m.vmid] : []))]);
  const groups = new Map<number, Backup[]>();
  for (const b of inventory.backups) {
    if (taken.has(b.vmid)) continue;
    groups.set(b.vmid, [...(groups.get(b.vmid) ?? []), b]);
  }
  return [...groups].map(([vmid, list]) => {
    const backups = [...list].sort((a, b) => b.ctime - a.ctime);
    return { vmid, type: backups[0]!.type, backups };
  }).sort((a, b) => b.backups[0]!.ctime - a.backups[0]!.ctime || a.vmid - b.vmid);
}

/**
 * Where a guest no node has comes back: its declared node when that node was read and can read
 * the backup (its own storage, or a shared one), else the node the backup was listed from.
 */
export function restoreNodeFor(declaredNode: string | undefined, backup: Backup, inventory: Pick<Inventory, 'nodes'>): string {
  const node = inventory.nodes.find((n) => n.node === declaredNode);
  if (!node?.reachable) return backup.node;
  const readable = backup.node === node.node || node.storages.some((s) => s.id === backup.storage && s.shared);
  return readable ? node.node : backup.node;
}

function kindOf(type: Guest['type']): DeclaredGuest['kind'] {
  return type === 'qemu' ? 'vm' : 'container';
}

/**
 * The words of a backup's notes that can be a guest name. Proxmox's `{{guestname}}` notes template
 * puts the name there, alone or with other variables (`{{guestname}} on {{node}}`); a name is a
 * whole word, so `gitea` does not match `gitea-old`.
 */
function noteWords(notes: string | undefined): Set<string> {
  return new Set((notes ?? '').toLowerCase().split(/[^a-z0-9._-]+/).map((w) => w.replace(/[._-]+$/, '')).filter(Boolean));
}

/**
 * For each declared guest no node has: the VMIDs (no node runs them) whose backups' notes name it.
 * A VMID whose notes name two declared guests is nobody's; safety points say nothing about names.
 */
function vmidsFromNotes(missing: readonly DeclaredGuest[], inventory: Pick<Inventory, 'backups'>, live: ReadonlySet<number>): Map<DeclaredGuest, number[]> {
  const named = new Map<number, Set<DeclaredGuest>>();
  if (missing.length === 0) return new Map();
  for (const b of inventory.backups) {
    if (live.has(b.vmid) || !b.notes || isSafetyPoint(b)) continue;
    const words = noteWords(b.notes);
    for (const d of missing) {
      if (d.kind !== kindOf(b.type) || !words.has(d.name.toLowerCase())) continue;
      named.set(b.vmid, (named.get(b.vmid) ?? new Set()).add(d));
    }
  }
  const out = new Map<DeclaredGuest, number[]>();
  for (const [vmid, guests] of [...named].sort(([a], [b]) => a - b)) {
    if (guests.size !== 1) continue;
    const [d] = [...guests] as [DeclaredGuest];
    out.set(d, [...(out.get(d) ?? []), vmid]);
  }
  return out;
}

/**
 * The `vm_id` the state records for a declared guest: the instance keyed by its name in a
 * `for_each` (`module.vms["gitea"]`), or the resource whose `name` it is, of the right kind. Only
 * a VMID no node runs: one that runs is some other guest now.
 */
function vmidFromState(d: DeclaredGuest, refs: readonly StateGuestHint[] | undefined, live: ReadonlySet<number>): number | undefined {
  if (!refs?.length) return undefined;
  const resourceKind = d.kind === 'vm' ? 'proxmox_virtual_environment_vm' : 'proxmox_virtual_environment_container';
  const otherKind = d.kind === 'vm' ? 'proxmox_virtual_environment_container' : 'proxmox_virtual_environment_vm';
  const candidates = refs.filter((r) => !r.address.includes(otherKind) && (r.address.includes(`["${d.name}"]`) || r.name === d.name) && (r.address.includes(resourceKind) || !r.address.includes('proxmox_virtual_environment_')));
  const vmids = [...new Set(candidates.map((r) => r.vmid))];
  return vmids.length === 1 && !live.has(vmids[0]!) ? vmids[0] : undefined;
}

function findGuest(d: DeclaredGuest, guests: readonly Guest[]): Guest | undefined {
  if (d.vmid) return guests.find((g) => g.vmid === d.vmid);
  const wantType = d.kind === 'vm' ? 'qemu' : 'lxc';
  const byName = guests.filter((g) => g.name === d.name && g.type === wantType);
  return byName.find((g) => g.node === d.node) ?? byName[0];
}
