// No vscode import: these decisions are unit-tested in plain Node (test/unit/extension/presentation.test.ts).
/**
 * How guests and backups look in the Recovery explorer: label, description, icon, colour, flags.
 * The tree classes only map these to vscode.TreeItems.
 */
import type { Backup, DeclaredGuest, Guest, OrphanBackups, Verdict, VmidSource } from '../../core';
import { formatTime, gib, isSafetyPoint, newestBackup, usableBackups } from '../../core';
import type { Translate } from '../../shared/problemText';

export type GuestFlag = 'exists' | 'running' | 'missing' | 'restorable' | 'never' | 'stale' | 'corrupt';
export type BackupFlag = 'protected' | 'failedVerification' | 'stale' | 'corrupt';

export interface ItemLook {
  readonly label: string;
  readonly description: string;
  readonly icon: string;
  /** A theme colour id, when the item needs attention. */
  readonly color?: 'errorForeground' | 'list.warningForeground' | 'disabledForeground' | 'testing.iconPassed';
  readonly tooltip: string;
  /** Flags that also drive the context value (menus), in this order: `lifeboat.guest.missing.restorable`. */
  readonly flags: readonly (GuestFlag | BackupFlag)[];
}

/** "6 h ago", "3 d ago": how old a backup is, coarse on purpose. */
export function age(epochSeconds: number, now: Date, t: Translate): string {
  const minutes = Math.max(0, Math.round((now.getTime() - epochSeconds * 1000) / 60_000));
  if (minutes < 60) return t('{0} min ago', minutes);
  const hours = Math.round(minutes / 60);
  if (hours < 48) return t('{0} h ago', hours);
  return t('{0} d ago', Math.round(hours / 24));
}

/** A guest as the explorer knows it: what tfvars declares, what a node runs, its backups. */
export interface GuestLookInput {
  readonly declared: DeclaredGuest | undefined;
  readonly guest: Guest | undefined;
  /** Newest first. */
  readonly backups: readonly Backup[];
  /** For a guest no node has: the VMID it had, and where Lifeboat learnt it. */
  readonly vmid?: number | undefined;
  readonly vmidSource?: VmidSource | undefined;
  /** For a guest no node has: VMIDs whose backups' notes all name it (Lifeboat does not choose). */
  readonly candidateVmids?: readonly number[];
}

function vmidOrigin(vmid: number, source: VmidSource | undefined, t: Translate): string {
  switch (source) {
    case 'backup-notes': return t('VMID {0}, from the notes of its backups', vmid);
    case 'state': return t('VMID {0}, from the Terraform state on disk', vmid);
    case 'tfvars': return t('VMID {0}, from terraform.tfvars', vmid);
    default: return t('VMID {0}', vmid);
  }
}

/**
 * A guest's look. `verdictOf` is the last backup verification (the same verdicts the backup items
 * show): a backup it or the PBS server found damaged never counts as the guest's newest.
 */
export function guestLook(g: GuestLookInput, rpoHours: number, now: Date, t: Translate, verdictOf: Verdict = () => undefined): ItemLook {
  const { declared, guest, backups } = g;
  const name = guest?.name ?? declared?.name ?? '?';
  const kind = (guest?.type ?? (declared?.kind === 'vm' ? 'qemu' : 'lxc')) === 'qemu' ? 'VM' : 'LXC';
  const usable = usableBackups(backups, verdictOf);
  const newest = newestBackup(usable);
  const onlyCorrupt = backups.length > 0 && usable.length === 0;
  const flags: GuestFlag[] = [];
  if (!guest) return missingGuestLook(g, name, kind, newest, onlyCorrupt, now, t);
  flags.push('exists');
  if (guest.status === 'running') flags.push('running');
  if (onlyCorrupt) flags.push('corrupt');
  else if (!newest) flags.push('never');
  else if (now.getTime() - newest.ctime * 1000 > rpoHours * 3600_000) flags.push('stale');
  const backupText = newest ? t('newest {0}', age(newest.ctime, now, t)) : onlyCorrupt ? t('only corrupt backups') : t('never backed up');
  const alarm = flags.includes('never') || flags.includes('corrupt');
  return {
    label: name,
    description: `${guest.vmid} · ${kind} · ${guest.status}${guest.lock ? ` · ${t('locked ({0})', guest.lock)}` : ''} · ${backupText}`,
    icon: alarm ? 'error' : flags.includes('stale') ? 'warning' : kind === 'VM' ? (guest.status === 'running' ? 'vm-running' : 'vm-outline') : 'package',
    color: alarm ? 'errorForeground' : flags.includes('stale') ? 'list.warningForeground' : guest.status === 'running' ? undefined : 'disabledForeground',
    tooltip: [
      `${name} (${kind} ${guest.vmid}) — ${guest.node}, ${guest.status}`,
      declared ? t('Declared in environment {0}', declared.environment) : t('Not declared in any terraform.tfvars'),
      newest ? t('Newest backup: {0} ({1})', formatTime(newest.ctime), age(newest.ctime, now, t)) : onlyCorrupt ? t('Every backup failed its last verification: none can be restored') : t('No backup on any storage'),
      flags.includes('stale') ? t('Older than the {0} h recovery point objective', rpoHours) : '',
      t('{0} backup(s)', backups.length),
    ].filter(Boolean).join('\n'),
    flags,
  };
}

/**
 * A declared guest no node has (its node died, it was destroyed): restorable when its VMID is known
 * and an intact backup exists — the operator's way back, so it says so.
 */
function missingGuestLook(g: GuestLookInput, name: string, kind: string, newest: Backup | undefined, onlyCorrupt: boolean, now: Date, t: Translate): ItemLook {
  const flags: GuestFlag[] = ['missing'];
  const env = g.declared?.environment ?? '?';
  const gone = t('{0} is declared in environment {1} but no node has it.', name, env);
  if (g.vmid === undefined) {
    const candidates = g.candidateVmids ?? [];
    return {
      label: name,
      description: candidates.length
        ? t('{0} · not found on any node · backups under VMIDs {1}', kind, candidates.join(', '))
        : t('{0} · not found on any node', kind),
      icon: 'question',
      color: 'list.warningForeground',
      tooltip: [
        t('{0} is declared in terraform.tfvars but no node has a guest with that name.', name),
        candidates.length ? t('Backups under VMIDs {0} name it: restore the right one from "Backups without a guest".', candidates.join(', ')) : '',
      ].filter(Boolean).join('\n'),
      flags,
    };
  }
  const origin = vmidOrigin(g.vmid, g.vmidSource, t);
  if (newest) {
    flags.push('restorable');
    return {
      label: name,
      description: t('{0} · {1} · missing — restorable from backup · newest {2}', g.vmid, kind, age(newest.ctime, now, t)),
      icon: 'history',
      color: 'list.warningForeground',
      tooltip: [
        gone,
        origin,
        t('Newest backup: {0} ({1}) on {2}', formatTime(newest.ctime), age(newest.ctime, now, t), newest.storage),
        t('{0} backup(s)', g.backups.length),
        t('Restore it from a backup: right-click → Restore from Newest Backup…, or lifeboat restore-vm {0}', g.vmid),
      ].join('\n'),
      flags,
    };
  }
  flags.push(onlyCorrupt ? 'corrupt' : 'never');
  return {
    label: name,
    description: onlyCorrupt ? t('{0} · {1} · missing — only corrupt backups', g.vmid, kind) : t('{0} · {1} · missing — no backup', g.vmid, kind),
    icon: 'error',
    color: 'errorForeground',
    tooltip: [gone, origin, onlyCorrupt ? t('Every backup failed its last verification: none can be restored') : t('No backup on any storage')].join('\n'),
    flags,
  };
}

/** The "Backups without a guest" group of a node. */
export function orphanGroupLook(groups: readonly OrphanBackups[], t: Translate): ItemLook {
  const count = groups.reduce((n, o) => n + o.backups.length, 0);
  return {
    label: t('Backups without a guest'),
    description: groups.length === 1 ? t('1 VMID, {0} backup(s)', count) : t('{0} VMIDs, {1} backup(s)', groups.length, count),
    icon: 'inbox',
    color: 'list.warningForeground',
    tooltip: t('Backups whose VMID no node runs and no guest declared in terraform.tfvars claims: a guest that was destroyed, or that lived on a node that is down. Restore one of them to bring the guest back.'),
    flags: [],
  };
}

/** One VMID of that group, named by its newest backup's notes when there are any. */
export function orphanLook(o: OrphanBackups, now: Date, t: Translate): ItemLook {
  const kind = o.type === 'qemu' ? 'VM' : 'LXC';
  const newest = newestBackup(o.backups);
  const notes = newest?.notes && !isSafetyPoint(newest) ? newest.notes.split('\n')[0] : undefined;
  return {
    label: `VMID ${o.vmid}`,
    description: [kind, notes, t('{0} backup(s)', o.backups.length), newest ? t('newest {0}', age(newest.ctime, now, t)) : undefined].filter(Boolean).join(' · '),
    icon: 'archive',
    tooltip: [
      t('No node runs VMID {0} and no declared guest is named in its backups\' notes.', o.vmid),
      newest ? t('Newest backup: {0} ({1}) on {2}', formatTime(newest.ctime), age(newest.ctime, now, t), newest.storage) : '',
      t('Restore one of its backups to bring it back (or: lifeboat restore-vm {0}).', o.vmid),
    ].filter(Boolean).join('\n'),
    flags: [],
  };
}

/** The first item of the explorer in Restricted Mode: why the restore actions are greyed out. */
export function restrictedLook(t: Translate): ItemLook {
  return {
    label: t('Restricted Mode: restores are disabled'),
    description: t('Manage Workspace Trust'),
    icon: 'shield',
    color: 'list.warningForeground',
    tooltip: t('This folder is not trusted, so Lifeboat only shows what it finds: restores, rebuilds and verifications run commands on your nodes and stay disabled until you trust the folder. Click to manage Workspace Trust.'),
    flags: [],
  };
}

export function backupLook(b: Backup, isNewest: boolean, rpoHours: number, now: Date, t: Translate, verified?: 'corrupt' | 'ok'): ItemLook {
  const flags: BackupFlag[] = [];
  const corrupt = verified === 'corrupt';
  if (corrupt) flags.push('corrupt');
  if (b.protected) flags.push('protected');
  if (b.verification === 'failed') flags.push('failedVerification');
  const stale = isNewest && now.getTime() - b.ctime * 1000 > rpoHours * 3600_000;
  if (stale) flags.push('stale');
  const safety = isSafetyPoint(b);
  const parts = [age(b.ctime, now, t), gib(b.sizeBytes), b.format, b.storage];
  if (safety) parts.unshift(t('safety point'));
  if (corrupt) parts.unshift(t('CORRUPT'));
  if (b.notes && !safety) parts.push(b.notes);
  return {
    label: formatTime(b.ctime),
    description: parts.join(' · '),
    icon: corrupt || b.verification === 'failed' ? 'error' : b.protected ? 'lock' : stale ? 'warning' : b.verification === 'ok' || verified === 'ok' ? 'verified' : safety ? 'shield' : 'archive',
    color: corrupt || b.verification === 'failed' ? 'errorForeground' : stale ? 'list.warningForeground' : b.verification === 'ok' || verified === 'ok' ? 'testing.iconPassed' : undefined,
    tooltip: [
      corrupt ? t('CORRUPT: failed the last backup verification — do not restore from it') : verified === 'ok' ? t('Intact at the last backup verification') : '',
      b.volid,
      t('Node {0}, storage {1}', b.node, b.storage),
      t('Size {0}, format {1}', gib(b.sizeBytes), b.format),
      b.notes ? t('Notes: {0}', b.notes) : '',
      safety ? t('Made by Lifeboat before a restore overwrote the guest: the state that restore replaced.') : '',
      b.protected ? t('Protected: cannot be deleted or pruned') : '',
      b.verification === 'ok' ? t('Verified by the Proxmox Backup Server') : b.verification === 'failed' ? t('FAILED its last verification') : '',
      stale ? t('Older than the {0} h recovery point objective', rpoHours) : '',
    ].filter(Boolean).join('\n'),
    flags,
  };
}

/** Filter by name or VMID (case-insensitive substring). */
export function matchesFilter(filter: string | undefined, name: string | undefined, vmid: number | undefined): boolean {
  if (!filter) return true;
  const f = filter.trim().toLowerCase();
  return (name ?? '').toLowerCase().includes(f) || (vmid !== undefined && String(vmid).includes(f));
}

export const BACKUP_PAGE = 50;
