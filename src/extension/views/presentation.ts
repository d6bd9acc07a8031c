// No vscode import: these decisions are unit-tested in plain Node (test/unit/extension/presentation.test.ts).
/**
 * How guests and backups look in the Recovery explorer: label, description, icon, colour, flags.
 * The tree classes only map these to vscode.TreeItems.
 */
import type { Backup, DeclaredGuest, Guest } from '../../core';
import { formatTime, gib, isSafetyPoint, newestBackup } from '../../core';
import type { Translate } from '../../shared/problemText';

export interface ItemLook {
  readonly label: string;
  readonly description: string;
  readonly icon: string;
  /** A theme colour id, when the item needs attention. */
  readonly color?: 'errorForeground' | 'list.warningForeground' | 'disabledForeground' | 'testing.iconPassed';
  readonly tooltip: string;
  /** Flags that also drive the context value (menus). */
  readonly flags: readonly ('stale' | 'never' | 'missing' | 'protected' | 'failedVerification' | 'exists' | 'running' | 'corrupt')[];
}

/** "6 h ago", "3 d ago": how old a backup is, coarse on purpose. */
export function age(epochSeconds: number, now: Date, t: Translate): string {
  const minutes = Math.max(0, Math.round((now.getTime() - epochSeconds * 1000) / 60_000));
  if (minutes < 60) return t('{0} min ago', minutes);
  const hours = Math.round(minutes / 60);
  if (hours < 48) return t('{0} h ago', hours);
  return t('{0} d ago', Math.round(hours / 24));
}

export function guestLook(declared: DeclaredGuest | undefined, guest: Guest | undefined, backups: readonly Backup[], rpoHours: number, now: Date, t: Translate): ItemLook {
  const name = guest?.name ?? declared?.name ?? '?';
  const kind = (guest?.type ?? (declared?.kind === 'vm' ? 'qemu' : 'lxc')) === 'qemu' ? 'VM' : 'LXC';
  const newest = newestBackup(backups);
  const flags: ItemLook['flags'][number][] = [];
  if (!guest) {
    flags.push('missing');
    return {
      label: name,
      description: t('{0} · not found on any node', kind),
      icon: 'question',
      color: 'list.warningForeground',
      tooltip: t('{0} is declared in terraform.tfvars but no node has a guest with that name.', name),
      flags,
    };
  }
  flags.push('exists');
  if (guest.status === 'running') flags.push('running');
  if (!newest) flags.push('never');
  else if (now.getTime() - newest.ctime * 1000 > rpoHours * 3600_000) flags.push('stale');
  const backupText = newest ? t('newest {0}', age(newest.ctime, now, t)) : t('never backed up');
  return {
    label: name,
    description: `${guest.vmid} · ${kind} · ${guest.status}${guest.lock ? ` · ${t('locked ({0})', guest.lock)}` : ''} · ${backupText}`,
    icon: flags.includes('never') || flags.includes('stale') ? 'warning' : kind === 'VM' ? (guest.status === 'running' ? 'vm-running' : 'vm-outline') : 'package',
    color: flags.includes('never') ? 'errorForeground' : flags.includes('stale') ? 'list.warningForeground' : guest.status === 'running' ? undefined : 'disabledForeground',
    tooltip: [
      `${name} (${kind} ${guest.vmid}) — ${guest.node}, ${guest.status}`,
      declared ? t('Declared in environment {0}', declared.environment) : t('Not declared in any terraform.tfvars'),
      newest ? t('Newest backup: {0} ({1})', formatTime(newest.ctime), age(newest.ctime, now, t)) : t('No backup on any storage'),
      flags.includes('stale') ? t('Older than the {0} h recovery point objective', rpoHours) : '',
      t('{0} backup(s)', backups.length),
    ].filter(Boolean).join('\n'),
    flags,
  };
}

export function backupLook(b: Backup, isNewest: boolean, rpoHours: number, now: Date, t: Translate, verified?: 'corrupt' | 'ok'): ItemLook {
  const flags: ItemLook['flags'][number][] = [];
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
