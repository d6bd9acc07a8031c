/**
 * Which CodeLens goes where on a `terraform.tfvars`, as plain data (tested without VS Code): the
 * line, a title (a Message, translated by the extension) and the command with its arguments.
 * Titles come only from what is already known (the cached inventory); nothing here waits on the
 * network, and no secret value ever reaches a title.
 */
import { backupsOf, isStale, newestBackup } from '../inventory/backups';
import type { Inventory } from '../inventory/model';
import type { TfvarsOutline } from '../config/tfvars';
import type { DeclaredGuest } from '../model/environment';
import { msg, type Message } from '../procedure/message';

export interface LensSpec {
  /** Zero-based line. */
  readonly line: number;
  readonly title: Message;
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
  readonly rpoHours: number;
  readonly now: Date;
  /** Commands registered right now (lenses for procedures that do not exist yet are left out). */
  readonly available: ReadonlySet<string>;
}

export function ageText(epochSeconds: number, now: Date): { value: number; unit: 'min' | 'h' | 'd' } {
  const minutes = Math.max(0, Math.round((now.getTime() - epochSeconds * 1000) / 60_000));
  if (minutes < 60) return { value: minutes, unit: 'min' };
  const hours = Math.round(minutes / 60);
  return hours < 48 ? { value: hours, unit: 'h' } : { value: Math.round(hours / 24), unit: 'd' };
}

function findGuest(inv: Inventory, g: DeclaredGuest) {
  if (g.vmid) return inv.guests.find((x) => x.vmid === g.vmid);
  const type = g.kind === 'vm' ? 'qemu' : 'lxc';
  const same = inv.guests.filter((x) => x.name === g.name && x.type === type);
  return same.find((x) => x.node === g.node) ?? same[0];
}

export function tfvarsLenses(ctx: LensContext): LensSpec[] {
  const { outline, inventory, now } = ctx;
  const lenses: LensSpec[] = [];
  const has = (cmd: string) => ctx.available.has(cmd);
  const env = outline.environment ?? '?';

  // Top of the file.
  if (!inventory) {
    lenses.push({ line: 0, kind: 'summary', icon: 'plug', title: ctx.loading ? msg('Lifeboat: {0} — reading the nodes…', env) : msg('Lifeboat: {0} — connect to see backups', env), command: 'lifeboat.connect', args: [] });
  } else {
    const matched = outline.guests.map((g) => ({ g, guest: findGuest(inventory, g) }));
    const newest = matched.flatMap(({ guest }) => { const n = guest ? newestBackup(backupsOf(inventory, guest.vmid)) : undefined; return n ? [n] : []; }).sort((a, b) => b.ctime - a.ctime)[0];
    const unprotected = matched.filter(({ guest }) => guest && backupsOf(inventory, guest.vmid).length === 0).length;
    const stale = matched.filter(({ guest }) => guest && backupsOf(inventory, guest.vmid).length > 0 && isStale(newestBackup(backupsOf(inventory, guest.vmid)), ctx.rpoHours, now)).length;
    const count = outline.guests.length;
    lenses.push({
      line: 0,
      kind: unprotected || stale ? 'warning' : 'summary',
      icon: unprotected || stale ? 'warning' : 'pass',
      title: unprotected
        ? msg('Lifeboat: {0} — {1} guests, {2} never backed up', env, count, unprotected)
        : stale
          ? msg('Lifeboat: {0} — {1} guests, {2} with a stale backup', env, count, stale)
          : newest ? msg('Lifeboat: {0} — {1} guests, newest backup {2} old', env, count, agoText(newest.ctime, now)) : msg('Lifeboat: {0} — {1} guests', env, count),
      command: 'lifeboat.focusExplorer',
      args: [],
    });
  }
  if (has('lifeboat.showStateVersions')) lenses.push({ line: 0, kind: 'state', icon: 'database', title: msg('State versions'), command: 'lifeboat.showStateVersions', args: [{ env }] });
  if (has('lifeboat.openRunbook')) lenses.push({ line: 0, kind: 'runbook', icon: 'checklist', title: msg('Open DR runbook'), command: 'lifeboat.openRunbook', args: [] });

  // Each guest entry.
  for (const g of outline.guests) {
    const line = g.range.start.line;
    if (!inventory) {
      lenses.push({ line, kind: 'guest', icon: 'history', title: msg('Restore from newest backup…'), command: 'lifeboat.restoreFromNewest', args: [{ name: g.name, environment: env }] });
      continue;
    }
    const guest = findGuest(inventory, g);
    const vmid = guest?.vmid ?? g.vmid;
    if (!guest) {
      lenses.push({ line, kind: 'warning', icon: 'question', title: msg('Not found on any node'), command: 'lifeboat.focusExplorer', args: [] });
    }
    if (vmid === undefined) continue;
    const backups = backupsOf(inventory, vmid);
    const newest = newestBackup(backups);
    if (!newest) {
      lenses.push({ line, kind: 'warning', icon: 'error', title: msg('No backup of {0} on any storage', vmid), command: 'lifeboat.showBackups', args: [{ vmid }] });
      continue;
    }
    lenses.push({ line, kind: 'guest', icon: 'history', title: msg('Restore from newest backup (VMID {0}, {1} old)', vmid, agoText(newest.ctime, now)), command: 'lifeboat.restoreFromNewest', args: [{ vmid, node: guest?.node ?? newest.node }] });
    lenses.push({ line, kind: 'guest', icon: 'archive', title: msg('Show backups ({0})', backups.length), command: 'lifeboat.showBackups', args: [{ vmid }] });
    if (isStale(newest, ctx.rpoHours, now)) {
      lenses.push({ line, kind: 'warning', icon: 'warning', title: msg('Newest backup older than {0} h', ctx.rpoHours), command: 'lifeboat.showBackups', args: [{ vmid }] });
    }
  }

  // Blocks.
  const minio = outline.blocks.minio;
  if (minio) {
    lenses.push({ line: minio.start.line, kind: 'minio', icon: 'pulse', title: msg('Check MinIO health'), command: 'lifeboat.checkMinioHealth', args: [] });
    if (has('lifeboat.rebuildMinio')) lenses.push({ line: minio.start.line, kind: 'minio', icon: 'tools', title: msg('Rebuild MinIO'), command: 'lifeboat.rebuildMinio', args: [] });
  }
  const monitoring = outline.blocks.monitoring;
  if (monitoring) {
    lenses.push({ line: monitoring.start.line, kind: 'monitoring', icon: 'pulse', title: msg('Check health'), command: 'lifeboat.checkMonitoringHealth', args: [] });
    if (has('lifeboat.rebuildMonitoring')) lenses.push({ line: monitoring.start.line, kind: 'monitoring', icon: 'tools', title: msg('Rebuild monitoring'), command: 'lifeboat.rebuildMonitoring', args: [] });
  }
  const backup = outline.blocks.backup;
  if (backup) {
    lenses.push({ line: backup.start.line, kind: 'backup', icon: 'list-unordered', title: msg('Show backup jobs'), command: 'lifeboat.showBackupJobs', args: [] });
    if (has('lifeboat.verifyBackups')) lenses.push({ line: backup.start.line, kind: 'backup', icon: 'verified', title: msg('Verify backups'), command: 'lifeboat.verifyBackups', args: [{ env }] });
  }
  return lenses;
}

/** A short age for lens titles (`6 h`, `3 d`): units that read the same in English and French. */
function agoText(epochSeconds: number, now: Date): string {
  const a = ageText(epochSeconds, now);
  return `${a.value} ${a.unit}`;
}
