/**
 * Which CodeLens goes where on a `terraform.tfvars`, as plain data (tested without VS Code): the
 * line, a title (Messages, translated by the extension) and the command with its arguments.
 * Titles come only from what is already known (the cached inventory, the last verification, a state
 * on disk); nothing here waits on the network, and no secret value ever reaches a title. Guests are
 * matched as the explorer matches them (`matchGuests`): a guest no node has keeps the VMID and the
 * backups Lifeboat could name, and a backup the verification found corrupt is never "the newest".
 */
import { guestRpoHours, isStale, matchGuests, newestBackup, restoreNodeFor, usableBackups, type MatchOptions, type Verdict } from '../inventory/backups';
import type { Backup, Inventory, MatchedGuest } from '../inventory/model';
import type { TfvarsOutline } from '../config/tfvars';
import { msg, translate, type Message } from '../procedure/message';

export interface LensSpec {
  /** Zero-based line. */
  readonly line: number;
  /** Rendered one by one (translated) and joined with ", " (`lensTitle`). */
  readonly title: readonly Message[];
  /** Optional codicon shown before the title (`$(history)`). */
  readonly icon?: string;
  readonly command: string;
  readonly args: readonly unknown[];
  readonly kind: 'summary' | 'guest' | 'warning' | 'minio' | 'monitoring' | 'backup' | 'state' | 'runbook';
}

export interface LensContext {
  readonly outline: TfvarsOutline;
  readonly inventory: Inventory | undefined;
  /** Inventory being loaded right now. */
  readonly loading: boolean;
  /** The `backup` block's schedule; without one, each guest's job schedule gives its RPO. */
  readonly schedule?: string | undefined;
  /** The RPO when no schedule can be read (setting `lifeboat.backup.rpoHours`). */
  readonly rpoFallbackHours: number;
  readonly now: Date;
  /** Commands registered right now (lenses for procedures that do not exist yet are left out). */
  readonly available: ReadonlySet<string>;
  /** The last backup verification: a backup it found corrupt is never offered for a restore. */
  readonly verdictOf?: Verdict;
  /** What the inventory's matching may use besides the nodes (a Terraform state on disk). */
  readonly match?: MatchOptions;
}

/** The title as the operator reads it, with the surface's translation function. */
export function lensTitle(spec: Pick<LensSpec, 'title'>, t: (text: string, ...args: (string | number)[]) => string): string {
  return spec.title.map((m) => translate(m, t)).join(', ');
}

export function ageText(epochSeconds: number, now: Date): { value: number; unit: 'min' | 'h' | 'd' } {
  const minutes = Math.max(0, Math.round((now.getTime() - epochSeconds * 1000) / 60_000));
  if (minutes < 60) return { value: minutes, unit: 'min' };
  const hours = Math.round(minutes / 60);
  return hours < 48 ? { value: hours, unit: 'h' } : { value: Math.round(hours / 24), unit: 'd' };
}

/** What a guest's lenses and the summary need to know about it. */
interface GuestState {
  readonly m: MatchedGuest;
  readonly rpoHours: number;
  /** Newest first; known-corrupt backups left out. */
  readonly usable: readonly Backup[];
  /** The newest backup a restore would use. */
  readonly newest: Backup | undefined;
}

export function tfvarsLenses(ctx: LensContext): LensSpec[] {
  const { outline, inventory, now } = ctx;
  const lenses: LensSpec[] = [];
  const has = (cmd: string) => ctx.available.has(cmd);
  const env = outline.environment ?? '?';

  const states: GuestState[] = inventory
    ? matchGuests(outline.guests, inventory, ctx.match).map((m) => {
      const usable = usableBackups(m.backups, ctx.verdictOf);
      const rpoHours = guestRpoHours(ctx.schedule, inventory.jobs, m.vmid, m.guest?.node ?? m.declared?.node, ctx.rpoFallbackHours);
      return { m, rpoHours, usable, newest: newestBackup(usable) };
    })
    : [];

  // Top of the file.
  if (!inventory) {
    lenses.push({ line: 0, kind: 'summary', icon: 'plug', title: [ctx.loading ? msg('Lifeboat: {0} — reading the nodes…', env) : msg('Lifeboat: {0} — connect to see backups', env)], command: 'lifeboat.connect', args: [] });
  } else {
    lenses.push(summaryLens(env, states, now));
  }
  if (has('lifeboat.showStateVersions')) lenses.push({ line: 0, kind: 'state', icon: 'database', title: [msg('State versions')], command: 'lifeboat.showStateVersions', args: [{ env }] });
  if (has('lifeboat.openRunbook')) lenses.push({ line: 0, kind: 'runbook', icon: 'checklist', title: [msg('Open DR runbook')], command: 'lifeboat.openRunbook', args: [] });

  // Each guest entry.
  if (!inventory) {
    for (const g of outline.guests) {
      lenses.push({ line: g.range.start.line, kind: 'guest', icon: 'history', title: [msg('Restore from newest backup…')], command: 'lifeboat.restoreFromNewest', args: [{ name: g.name, environment: env }] });
    }
  }
  for (const state of states) lenses.push(...guestLenses(state, inventory!, now));
  // Blocks.
  const minio = outline.blocks.minio;
  if (minio) {
    lenses.push({ line: minio.start.line, kind: 'minio', icon: 'pulse', title: [msg('Check MinIO health')], command: 'lifeboat.checkMinioHealth', args: [] });
    if (has('lifeboat.rebuildMinio')) lenses.push({ line: minio.start.line, kind: 'minio', icon: 'tools', title: [msg('Rebuild MinIO')], command: 'lifeboat.rebuildMinio', args: [] });
  }
  const monitoring = outline.blocks.monitoring;
  if (monitoring) {
    lenses.push({ line: monitoring.start.line, kind: 'monitoring', icon: 'pulse', title: [msg('Check health')], command: 'lifeboat.checkMonitoringHealth', args: [] });
    if (has('lifeboat.rebuildMonitoring')) lenses.push({ line: monitoring.start.line, kind: 'monitoring', icon: 'tools', title: [msg('Rebuild monitoring')], command: 'lifeboat.rebuildMonitoring', args: [] });
  }
  const backup = outline.blocks.backup;
  if (backup) {
    lenses.push({ line: backup.start.line, kind: 'backup', icon: 'list-unordered', title: [msg('Show backup jobs')], command: 'lifeboat.showBackupJobs', args: [] });
    if (has('lifeboat.verifyBackups')) lenses.push({ line: backup.start.line, kind: 'backup', icon: 'verified', title: [msg('Verify backups')], command: 'lifeboat.verifyBackups', args: [{ env }] });
  }
  return lenses;
}

/** The file's summary: how many guests, and every kind of trouble (or how old the newest backup is). */
function summaryLens(env: string, states: readonly GuestState[], now: Date): LensSpec {
  const count = (f: (s: GuestState) => boolean) => states.filter(f).length;
  const notFound = count((s) => !s.m.guest && !s.newest);
  const restorable = count((s) => !s.m.guest && s.newest !== undefined);
  const never = count((s) => s.m.guest !== undefined && s.m.backups.length === 0);
  const corrupt = count((s) => s.m.guest !== undefined && s.m.backups.length > 0 && !s.newest);
  const stale = count((s) => s.m.guest !== undefined && s.newest !== undefined && isStale(s.newest, s.rpoHours, now));
  const problems: Message[] = [
    ...(notFound ? [msg('{0} not found on any node', notFound)] : []),
    ...(restorable ? [msg('{0} missing, restorable from backup', restorable)] : []),
    ...(never ? [msg('{0} never backed up', never)] : []),
    ...(corrupt ? [msg('{0} with only corrupt backups', corrupt)] : []),
    ...(stale ? [msg('{0} with a stale backup', stale)] : []),
  ];
  const head = states.length === 1 ? msg('Lifeboat: {0} — 1 guest', env) : msg('Lifeboat: {0} — {1} guests', env, states.length);
  const newest = states.flatMap((s) => (s.newest ? [s.newest] : [])).sort((a, b) => b.ctime - a.ctime)[0];
  return {
    line: 0,
    kind: problems.length ? 'warning' : 'summary',
    icon: problems.length ? 'warning' : 'pass',
    title: [head, ...(problems.length ? problems : newest ? [newestAge(newest.ctime, now)] : [])],
    command: 'lifeboat.focusExplorer',
    args: [],
  };
}

/**
 * A guest's lenses: restore from the newest backup a restore can use (VMID and age), show its
 * backups, and a warning when it has none, only corrupt ones, a stale one, or no node has it.
 */
function guestLenses(state: GuestState, inventory: Inventory, now: Date): LensSpec[] {
  const { m, newest, usable } = state;
  const d = m.declared!;
  const line = d.range.start.line;
  const out: LensSpec[] = [];
  const vmid = m.vmid;
  if (!m.guest) {
    out.push({ line, kind: 'warning', icon: 'question', title: [notFoundTitle(m)], command: 'lifeboat.focusExplorer', args: [] });
  }
  if (vmid === undefined) return out;
  const show = (title: Message): LensSpec => ({ line, kind: 'guest', icon: 'archive', title: [title], command: 'lifeboat.showBackups', args: [{ vmid }] });
  if (m.backups.length === 0) {
    out.push({ line, kind: 'warning', icon: 'error', title: [msg('No backup of {0} on any storage', vmid)], command: 'lifeboat.showBackups', args: [{ vmid }] });
    return out;
  }
  if (!newest) {
    out.push({ line, kind: 'warning', icon: 'error', title: [msg('Every backup of {0} is corrupt: nothing to restore from', vmid)], command: 'lifeboat.showBackups', args: [{ vmid }] });
    out.push(show(msg('Show backups ({0})', m.backups.length)));
    return out;
  }
  // The newest backup is known corrupt: the restore names the intact one it uses.
  const skipsCorrupt = newestBackup(m.backups) !== newest;
  const node = m.guest?.node ?? restoreNodeFor(d.node, newest, inventory);
  out.push({
    line,
    kind: 'guest',
    icon: 'history',
    title: [restoreTitle(vmid, newest.ctime, now, skipsCorrupt)],
    command: 'lifeboat.restoreFromNewest',
    args: [skipsCorrupt ? { vmid, node, volid: newest.volid } : { vmid, node }],
  });
  out.push(show(msg('Show backups ({0})', m.backups.length)));
  if (skipsCorrupt) {
    out.push({ line, kind: 'warning', icon: 'error', title: [msg('Newest backup is corrupt ({0} of {1} intact)', usable.length, m.backups.length)], command: 'lifeboat.showBackups', args: [{ vmid }] });
  }
  if (isStale(newest, state.rpoHours, now)) {
    out.push({ line, kind: 'warning', icon: 'warning', title: [msg('Newest backup older than {0} h', state.rpoHours)], command: 'lifeboat.showBackups', args: [{ vmid }] });
  }
  return out;
}

function notFoundTitle(m: MatchedGuest): Message {
  if (m.vmid === undefined) {
    return m.candidateVmids.length ? msg('Not found on any node — backups under VMIDs {0}', m.candidateVmids.join(', ')) : msg('Not found on any node');
  }
  switch (m.vmidSource) {
    case 'backup-notes': return msg('Not found on any node (VMID {0}, named in its backups\' notes)', m.vmid);
    case 'state': return msg('Not found on any node (VMID {0}, from the Terraform state)', m.vmid);
    default: return msg('Not found on any node (VMID {0})', m.vmid);
  }
}

// Ages in titles: one sentence per unit, so that each reads right once translated ("3 j" in French).

function restoreTitle(vmid: number, epochSeconds: number, now: Date, intact: boolean): Message {
  const { value, unit } = ageText(epochSeconds, now);
  if (intact) {
    if (unit === 'min') return msg('Restore from newest intact backup (VMID {0}, {1} min old)', vmid, value);
    if (unit === 'h') return msg('Restore from newest intact backup (VMID {0}, {1} h old)', vmid, value);
    return msg('Restore from newest intact backup (VMID {0}, {1} d old)', vmid, value);
  }
  if (unit === 'min') return msg('Restore from newest backup (VMID {0}, {1} min old)', vmid, value);
  if (unit === 'h') return msg('Restore from newest backup (VMID {0}, {1} h old)', vmid, value);
  return msg('Restore from newest backup (VMID {0}, {1} d old)', vmid, value);
}

function newestAge(epochSeconds: number, now: Date): Message {
  const { value, unit } = ageText(epochSeconds, now);
  if (unit === 'min') return msg('newest backup {0} min old', value);
  if (unit === 'h') return msg('newest backup {0} h old', value);
  return msg('newest backup {0} d old', value);
}
