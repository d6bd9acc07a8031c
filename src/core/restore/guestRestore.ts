/**
 * Restore a VM or container from a vzdump backup (the operator's user story "restore a VM or a
 * container", P1). `planGuestRestore` reads (never writes) what it needs and returns a Plan with the
 * exact commands; `runPlan` executes it. In place: stop, real safety point (vzdump), overwrite,
 * start, reachability check. To a new VMID: the original is untouched.
 */
import { CancelledError, LifeboatError, errorArg, throwIfAborted } from '../errors';
import type { DeclaredGuest } from '../model/environment';
import type { LogSink, NetworkProbe, NodeShell, Sleep } from '../ports';
import { backupVolume, guest as guestCmd, pvesh, quickIntegrityCommand, restoreCommand, volumePath, vzdumpCommand, type GuestType } from '../proxmox/commands';
import { AgentInterfacesSchema, ClusterResourceSchema, GuestConfigSchema, LxcInterfacesSchema, TaskListSchema, TaskStatusSchema } from '../proxmox/records';
import { commandLine, detached } from '../proxmox/shell';
import { checkNodeName, checkStorageId, parseDay, parseVmid } from '../proxmox/validate';
import { loadInventory, runJson } from '../inventory/load';
import { SAFETY_POINT_NOTE, backupDay, backupsOf, chooseBackup, isSafetyPoint, matchGuests } from '../inventory/backups';
import type { Backup, Guest, Inventory, Storage } from '../inventory/model';
import { msg, type Message, type MessageArg } from '../procedure/message';
import type { Plan, Step, StepContext } from '../procedure/types';
import { disksOf, parseConfigText, staticAddress } from './guestConfig';
import { defaultTaskTiming, followTask, launchTask, type Launched, type TaskTiming } from './tasks';
import { z } from 'zod';

export interface GuestRestoreRequest {
  readonly vmid: number | string;
  /** Node to restore on; default: where the guest is now, else where its backup is. */
  readonly node?: string;
  /** Target storage for the disks; default: where the archive says they were. */
  readonly storage?: string;
  /** `YYYY-MM-DD`: the newest backup of that day (node-local time). */
  readonly date?: string;
  /** A specific backup (from the explorer); overrides `date`. */
  readonly volid?: string;
  /** Restore beside the original under this new VMID. */
  readonly targetId?: number | string;
  /**
   * With targetId: leave the copy's network link down, so that it cannot clash with the original
   * (it has the original's addresses). Default: down; only an explicit `false` brings it up.
   */
  readonly linkDown?: boolean;
}

export interface GuestRestoreDeps {
  /**
   * What the explorer or the CLI loaded: used only to find the node. The plan itself is made from
   * what that node says now (guests, storages, backups), read again before planning.
   */
  readonly inventory: Inventory;
  readonly shell: (node: string) => NodeShell;
  readonly probe: NetworkProbe;
  readonly sleep: Sleep;
  readonly log: LogSink;
  /** Guests declared in the repository (address fallback, next steps). */
  readonly declared: readonly DeclaredGuest[];
  /** VMIDs with a restore under way in this process (the extension and CLI share nothing else). */
  readonly activeRestores: Set<number>;
  readonly timing?: Partial<GuestRestoreTiming>;
  readonly now?: () => Date;
}

export interface GuestRestoreTiming extends TaskTiming {
  /** Graceful shutdown before a hard stop. */
  readonly shutdownTimeoutS: number;
  /** How long a started guest has to answer on the network. */
  readonly bootTimeoutMs: number;
  readonly sshPort: number;
}

export const defaultGuestRestoreTiming: GuestRestoreTiming = { ...defaultTaskTiming, shutdownTimeoutS: 60, bootTimeoutMs: 180_000, sshPort: 22 };

/** Everything the plan was built from; also the JSON of `restore-vm --dry-run --json`. */
export interface GuestRestoreFacts {
  readonly vmid: number;
  readonly targetId: number;
  readonly inPlace: boolean;
  readonly node: string;
  readonly type: GuestType;
  readonly backup: Backup;
  readonly archivePath: string | undefined;
  /** The guest being replaced (in place) as the node reported it when the plan was made. */
  readonly existing: Guest | undefined;
  /** Passed as --storage; undefined = each disk back where the backup says. */
  readonly targetStorage: string | undefined;
  readonly neededBytes: number;
  /** Where the disks go and how much room they need there. */
  readonly storageNeeds: readonly { readonly storage: string; readonly bytes: number }[];
  readonly warnings: readonly Message[];
  readonly safetyStorage: string | undefined;
  readonly declared: DeclaredGuest | undefined;
  readonly addressHint: string | undefined;
  /** With a new VMID: the addresses the original holds (its tfvars ip, its config's); never proof that the copy answers. */
  readonly originalAddresses: readonly string[];
  /** With a new VMID: leave the copy's network link down. */
  readonly linkDown: boolean;
  /** The guest being overwritten has `protection: 1`, which Proxmox honours by refusing the restore. */
  readonly protectedGuest: boolean;
  /** With a new VMID: the backup's configuration has `protection: 1`, so the copy is protected too. */
  readonly copyProtected: boolean;
  /** The next older usable backup, offered when this one turns out damaged. */
  readonly previousBackup: { readonly volid: string; readonly day: string; readonly ctime: number; readonly byDate: boolean } | undefined;
}

export async function planGuestRestore(request: GuestRestoreRequest, deps: GuestRestoreDeps): Promise<{ plan: Plan; facts: GuestRestoreFacts }> {
  const timing = { ...defaultGuestRestoreTiming, ...deps.timing };
  const vmid = parseVmid(request.vmid);
  const targetId = request.targetId === undefined ? vmid : parseVmid(request.targetId, 'target VMID');
  if (request.node) checkNodeName(request.node);
  if (request.storage) checkStorageId(request.storage);
  if (request.date) parseDay(request.date);
  const inPlace = targetId === vmid;

  // The node, from what was loaded earlier (possibly hours ago)…
  const cached = deps.inventory;
  const node = request.node ?? cached.guests.find((g) => g.vmid === vmid)?.node ?? backupsOf(cached, vmid)[0]?.node;
  if (!node) throw LifeboatError.saying('noBackup', msg('no backup of {0} on any storage, and no guest {0} on any node', vmid), { vmid });
  // …then everything else from what that node says now: a guest started or stopped since, a backup
  // made or pruned, storage filled up. `/cluster/resources` covers every node of the cluster.
  const shell = deps.shell(node);
  const inv = await loadInventory({ nodes: [{ name: node, host: node }], pool: { shell: () => shell, dispose: () => undefined }, log: deps.log });
  const nodeInv = inv.nodes.find((n) => n.node === node);
  if (!nodeInv?.reachable) {
    throw LifeboatError.saying('hostUnreachable', msg('node {0} could not be read: {1}', node, nodeInv?.error ? nodeErrorArg(nodeInv.error) : msg('not in the inventory')), { node });
  }

  const existing = inv.guests.find((g) => g.vmid === vmid);
  const targetExisting = inPlace ? existing : inv.guests.find((g) => g.vmid === targetId);
  if (!inPlace && targetExisting) {
    throw LifeboatError.saying('vmidInUse', msg('VMID {0} is already used by {1} on {2}; choose a free id', targetId, targetExisting.name ?? targetExisting.type, targetExisting.node), { vmid: targetId, node: targetExisting.node });
  }
  if (inPlace && existing && existing.node !== node) {
    throw LifeboatError.saying('vmidInUse', msg('guest {0} lives on {1}, not on {2}: restore it in place on {1}, or to a new VMID on {2}', vmid, existing.node, node), { vmid, node: existing.node });
  }

  // Backups this node can read: its own storages, shared ones included.
  const readable = inv.backups.filter((b) => b.node === node || isShared(inv, b));
  const backup = request.volid
    ? readable.find((b) => b.volid === request.volid) ?? raise(LifeboatError.saying('noBackup', msg('backup {0} is not visible from node {1}', request.volid, node), { vmid, volid: request.volid, node }))
    : chooseBackup(readable, vmid, request.date);
  const previousBackup = previousUsable(readable, backup);
  const corrupt = (damage: Message) => LifeboatError.saying('backupCorrupt', withPrevious(damage, previousBackup), { vmid, volid: backup.volid, previousVolid: previousBackup?.volid, previousDay: previousBackup?.byDate ? previousBackup.day : undefined });
  const type = backup.type;
  if (existing && existing.type !== type) {
    throw LifeboatError.saying('vmidInUse', existing.type === 'qemu' ? msg('VMID {0} is a VM but the backup is a container', vmid) : msg('VMID {0} is a container but the backup is a VM', vmid), { vmid });
  }
  if (backup.sizeBytes <= 0 && !backup.pbs) throw corrupt(msg('backup {0} is empty (0 bytes)', backup.volid));
  if (backup.verification === 'failed') throw corrupt(msg('backup {0} failed its last PBS verification', backup.volid));
  if (deps.activeRestores.has(targetId)) {
    throw LifeboatError.saying('restoreInProgress', msg('a restore of {0} is already running in this window', targetId), { vmid: targetId });
  }
  if (targetExisting?.lock) {
    throw LifeboatError.saying('guestLocked', msg('guest {0} is locked ({1}); another operation is running on it', targetId, targetExisting.lock), { vmid: targetId, lock: targetExisting.lock });
  }

  await refuseConcurrentRestore(shell, node, targetId);

  // Read-only facts from the node: where the archive is, what disks it holds.
  const archivePath = backup.pbs ? undefined : (await mustRun(shell, volumePath(backup.volid), node)).trim();
  const planWarnings: Message[] = [];
  let configText = '';
  try {
    configText = await runJson(shell, pvesh.extractConfig(node, backup.volid), z.string(), undefined);
  } catch (err) {
    // Often a damaged archive (the integrity check will say so) or a permission problem.
    planWarnings.push(msg('The configuration inside the backup could not be read ({0}): its disk sizes are unknown and the room on the target storage was not checked.', err instanceof Error ? err.message.slice(0, 200) : String(err)));
  }
  const config = parseConfigText(configText);
  const disks = disksOf(config, configText);
  const neededBytes = disks.reduce((sum, d) => sum + d.sizeBytes, 0);

  // The original's current configuration: its protection (in place) and its disks (their room
  // comes back on the storages that hold them), or its addresses (a copy beside it).
  const current = existing ? await runJson(shell, pvesh.guestConfig(node, type, vmid), GuestConfigSchema, undefined) : undefined;
  const protectedGuest = inPlace && current?.protection === '1';
  const reclaimable = new Map<string, number>();
  if (inPlace && current) for (const d of disksOf(current)) reclaimable.set(d.storage, (reclaimable.get(d.storage) ?? 0) + d.sizeBytes);

  // VMs: each disk goes back to the storage its #qmdump#map line names, unless the operator chose one.
  // Containers: `pct restore` defaults to `local`, which rarely holds container volumes, so the
  // rootfs's original storage is passed explicitly.
  const nodeStorages = nodeInv.storages;
  const rootfsStorage = disks.find((d) => d.key === 'rootfs')?.storage;
  const targetStorage = request.storage ?? (type === 'lxc' ? rootfsStorage || 'local-lvm' : undefined);
  const needs = new Map<string, number>();
  for (const d of disks) {
    const where = targetStorage ?? d.storage;
    if (where) needs.set(where, (needs.get(where) ?? 0) + d.sizeBytes);
  }
  if (targetStorage && !needs.has(targetStorage)) needs.set(targetStorage, 0);
  for (const [storageId, needed] of needs) {
    const s = nodeStorages.find((x) => x.id === storageId);
    if (!s) throw LifeboatError.saying('storageMissing', msg('storage {0} does not exist on {1}', storageId, node), { node, storage: storageId });
    const wanted = type === 'qemu' ? 'images' : 'rootdir';
    if (!s.content.includes(wanted)) {
      throw LifeboatError.saying('storageMissing', type === 'qemu' ? msg('storage {0} on {1} does not hold VM disks', storageId, node) : msg('storage {0} on {1} does not hold container volumes', storageId, node), { node, storage: storageId });
    }
    // In place, the old disks are replaced: their space comes back, on the storage that holds them.
    const reclaim = reclaimable.get(storageId) ?? 0;
    if (s.availBytes + reclaim < needed) {
      const text = reclaim > 0
        ? msg('storage {0} on {1} has {2} free (plus {3} of the disks it replaces); the backup\'s disks need {4}', storageId, node, gib(s.availBytes), gib(reclaim), gib(needed))
        : msg('storage {0} on {1} has {2} free; the backup\'s disks need {3}', storageId, node, gib(s.availBytes), gib(needed));
      throw LifeboatError.saying('storageFull', text, { node, storage: storageId, avail: s.availBytes, needed });
    }
  }

  const safetyStorage = inPlace && existing ? chooseSafetyStorage(nodeStorages, existing, backupsOf(inv, vmid)) : undefined;
  if (inPlace && existing && !safetyStorage) {
    throw LifeboatError.saying('storageFull', msg('no backup storage on {0} has room for a safety backup of {1} (about {2} needed)', node, vmid, gib(safetyEstimate(existing, backupsOf(inv, vmid)))), { node, vmid });
  }

  // The tfvars entry of the guest: by an explicit VMID, by the name of the guest the node runs, or —
  // for a guest no node has any more — by the VMID the inventory resolved for it (backup notes).
  const declared = deps.declared.find((d) => (d.vmid ?? -1) === vmid)
    ?? deps.declared.find((d) => existing?.name !== undefined && d.name === existing.name && (d.kind === 'vm') === (type === 'qemu'))
    ?? (existing ? undefined : matchGuests(deps.declared, inv).find((m) => !m.guest && m.vmid === vmid)?.declared);
  const addressHint = staticAddress(config) ?? declared?.ip;
  const facts: GuestRestoreFacts = {
    vmid, targetId, inPlace, node, type, backup, archivePath, existing: targetExisting, targetStorage, neededBytes, safetyStorage, declared,
    storageNeeds: [...needs].map(([storage, bytes]) => ({ storage, bytes })),
    warnings: planWarnings,
    addressHint,
    originalAddresses: inPlace ? [] : [...new Set([addressHint, declared?.ip, current ? staticAddress(current) : undefined].filter((a): a is string => Boolean(a)))],
    linkDown: !inPlace && request.linkDown !== false,
    protectedGuest,
    copyProtected: !inPlace && config.protection === '1',
    previousBackup,
  };
  return { plan: buildPlan(facts, deps, timing), facts };
}

/**
 * The backup to offer when `chosen` turns out damaged: the next older one that is not empty, not
 * failed, not a safety point. `byDate`: `--date <its day>` picks exactly it (no newer one that day).
 */
function previousUsable(readable: readonly Backup[], chosen: Backup): GuestRestoreFacts['previousBackup'] {
  const older = readable
    .filter((b) => b.vmid === chosen.vmid && b.ctime < chosen.ctime && b.volid !== chosen.volid && (b.sizeBytes > 0 || b.pbs) && b.verification !== 'failed' && !isSafetyPoint(b))
    .sort((a, b) => b.ctime - a.ctime)[0];
  if (!older) return undefined;
  const day = backupDay(older);
  let byDate = false;
  try {
    byDate = chooseBackup(readable, chosen.vmid, day).volid === older.volid;
  } catch {
    byDate = false;
  }
  return { volid: older.volid, day, ctime: older.ctime, byDate };
}

/**
 * A damaged backup's sentence, then the previous usable one (and the --date that picks it) or that
 * there is none. The damage stays the first argument: a surface that offers the previous backup
 * in its own way says the damage alone (src/shared/errorText.ts).
 */
function withPrevious(damage: Message, previous: GuestRestoreFacts['previousBackup']): Message {
  if (!previous) return msg('{0}; no older usable backup was found', damage);
  if (previous.byDate) return msg('{0}; the previous backup is {1} ({2}): restore it with --date {3}', damage, previous.volid, formatTime(previous.ctime), previous.day);
  return msg('{0}; the previous backup is {1} ({2})', damage, previous.volid, formatTime(previous.ctime));
}

/** Why a node could not be read, as a sentence when the inventory kept one. */
function nodeErrorArg(error: NonNullable<Inventory['nodes'][number]['error']>): MessageArg {
  return error.text ?? error.message;
}

function buildPlan(f: GuestRestoreFacts, deps: GuestRestoreDeps, timing: GuestRestoreTiming): Plan {
  const shell = deps.shell(f.node);
  const steps: Step[] = [];
  const running = f.existing?.status === 'running';
  const label = f.type === 'qemu' ? 'VM' : 'CT';
  const planId = `restore-${f.targetId}-${Date.now().toString(36)}`;
  const logFile = `/tmp/lifeboat-${planId}.log`;
  const safetyLog = `/tmp/lifeboat-${planId}-safety.log`;

  /**
   * No safety point, no overwrite: put a guest we stopped back as it was before saying so — but
   * never while its backup may still be running (vzdump holds the guest; starting it would race
   * the backup). A task whose end was not seen is asked once more.
   */
  const restartAfterFailedSafetyPoint = async (ctx: StepContext): Promise<void> => {
    if (ctx.facts.get('wasRunning') !== 'true') return;
    if (ctx.facts.has('safetyLaunched') && !ctx.facts.has('safetyTaskEnded') && !(await safetyTaskHasEnded(ctx))) {
      ctx.log.warn(`not starting ${f.vmid} again: its safety backup may still be running on ${f.node}`);
      return;
    }
    try {
      const restart = await shell.exec(commandLine(guestCmd.start(f.type, f.vmid)));
      if (restart.code === 0) {
        ctx.facts.set('stopped', 'false');
        ctx.facts.set('restartedAfterFailure', 'true');
      }
    } catch (err) {
      // The safety point's failure is what the operator must read; the aftermath says how to start it.
      ctx.log.warn(`could not start ${f.vmid} again: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const safetyTaskHasEnded = async (ctx: StepContext): Promise<boolean> => {
    const upid = ctx.facts.get('safetyTask');
    if (!upid) return false;
    try {
      const status = await runJson(shell, pvesh.taskStatus(f.node, upid), TaskStatusSchema, undefined);
      if (status.status !== 'stopped') return false;
      ctx.facts.set('safetyTaskEnded', status.exitstatus ?? 'unexpected status');
      return true;
    } catch {
      return false;
    }
  };

  steps.push(recheckStep(f, shell, label));

  if (f.archivePath) {
    const check = quickIntegrityCommand(f.backup.format, f.archivePath);
    const testLine = `${commandLine({ program: 'test', args: ['-s', f.archivePath] })} && ${commandLine(check)}`;
    steps.push({
      id: 'check-archive',
      title: msg('Check the archive is present and intact'),
      destructive: false,
      cancel: 'anytime',
      commands: [testLine],
      async run(ctx) {
        const r = await shell.exec(testLine, { signal: ctx.signal });
        if (r.code !== 0) {
          if (f.previousBackup) ctx.facts.set('previousBackup', f.previousBackup.volid);
          if (f.previousBackup?.byDate) ctx.facts.set('previousBackupDay', f.previousBackup.day);
          throw LifeboatError.saying('backupCorrupt', withPrevious(msg('integrity check of {0} failed (exit {1}): {2}', f.backup.volid, r.code ?? 'none', (r.stderr || r.stdout).trim()), f.previousBackup), {
            volid: f.backup.volid, previousVolid: f.previousBackup?.volid, previousDay: f.previousBackup?.byDate ? f.previousBackup.day : undefined,
          });
        }
        return msg('{0} passed the integrity check', f.backup.volid);
      },
    });
  }

  if (f.inPlace && f.existing && running) {
    const shutdown = guestCmd.shutdown(f.type, f.vmid, timing.shutdownTimeoutS);
    const stop = guestCmd.stop(f.type, f.vmid);
    steps.push({
      id: 'stop',
      title: msg('Stop {0} {1} (it is running)', label, f.vmid),
      destructive: true,
      cancel: 'between-steps',
      commands: [commandLine(shutdown), `${commandLine(stop)}   # only if the shutdown times out`],
      effect: msg('The guest stops; start it again with: {0}', commandLine(guestCmd.start(f.type, f.vmid))),
      async run(ctx) {
        ctx.facts.set('wasRunning', 'true');
        const r = await shell.exec(commandLine(shutdown), { signal: ctx.signal });
        if (r.code !== 0) {
          ctx.log.warn(`shutdown of ${f.vmid} did not complete (${r.stderr.trim()}); stopping it`);
          await mustRun(shell, stop, f.node, ctx.signal);
        }
        ctx.facts.set('stopped', 'true');
        return msg('{0} {1} stopped', label, f.vmid);
      },
    });
  }

  if (f.inPlace && f.existing && f.safetyStorage) {
    const dump = vzdumpCommand(f.vmid, f.safetyStorage, SAFETY_POINT_NOTE);
    steps.push({
      id: 'safety-point',
      title: msg('Make a safety backup of {0} {1} on {2}', label, f.vmid, f.safetyStorage),
      destructive: false,
      cancel: 'between-steps',
      commands: [detached(dump, safetyLog), `pvesh get /nodes/${f.node}/tasks/<UPID>/status   # followed until it ends`],
      effect: msg('A new backup of the current guest, protected, kept until you delete it; it prunes no other backup'),
      async run(ctx) {
        // Like the restore, the backup runs as a task detached from the SSH session: a dropped
        // connection must not leave the guest stopped with a backup half made.
        let volid: string | undefined;
        try {
          const task = await launchTask(shell, dump, {
            node: f.node, vmid: f.vmid, taskTypes: ['vzdump'], logFile: safetyLog, signal: ctx.signal, log: ctx.log, sleep: deps.sleep, timing,
            onLaunched: (launched) => recordLaunch(ctx, 'safety', launched),
          });
          ctx.facts.set('safetyTask', task.upid);
          await followTask(shell, task.upid, {
            node: f.node, signal: ctx.signal, log: ctx.log, sleep: deps.sleep, timing,
            onLine: (line) => {
              ctx.log.info(`  ${line}`);
              volid ??= /creating (?:vzdump|Proxmox Backup Server) archive '([^']+)'/.exec(line)?.[1];
            },
            onFraction: (fraction) => ctx.report({ fraction }),
            onReattach: () => countReattach(ctx),
          });
          ctx.facts.set('safetyTaskEnded', 'OK');
        } catch (err) {
          if (LifeboatError.is(err, 'taskFailed') && err.details.ended === true) ctx.facts.set('safetyTaskEnded', err.message);
          // A cancel stops here: the backup keeps running on the node, the guest stays as it is.
          if (CancelledError.is(err) || ctx.signal.aborted) throw new CancelledError();
          await restartAfterFailedSafetyPoint(ctx);
          throw LifeboatError.saying('safetyPointFailed', msg('the safety backup failed: {0}', errorArg(err)), { vmid: f.vmid, node: f.node }, { cause: err });
        }
        if (!volid) {
          await restartAfterFailedSafetyPoint(ctx);
          throw LifeboatError.saying('safetyPointFailed', msg('the safety backup ended without naming its archive'), { vmid: f.vmid, node: f.node });
        }
        // vzdump names a file archive by its path and a PBS one relative to the datastore.
        const safetyVolid = /^[a-z][a-z0-9\-_.]*:backup\//i.test(volid) ? volid : volid.startsWith('/') ? `${f.safetyStorage}:backup/${volid.split('/').pop()}` : `${f.safetyStorage}:backup/${volid}`;
        ctx.facts.set('safetyPoint', safetyVolid);
        return msg('Safety point {0}, protected so that no backup pruning removes it; once the guest is confirmed good, delete it with: {1}', safetyVolid, removeSafetyPointLine(f.node, safetyVolid));
      },
    });
  }

  if (f.protectedGuest) {
    const lift = guestCmd.setProtection(f.type, f.vmid, false);
    steps.push({
      id: 'lift-protection',
      title: msg('Lift the protection of {0} {1} (Proxmox refuses to overwrite a protected guest)', label, f.vmid),
      destructive: true,
      cancel: 'between-steps',
      commands: [commandLine(lift)],
      effect: msg('Set it again with: {0}', commandLine(guestCmd.setProtection(f.type, f.vmid, true))),
      async run(ctx) {
        await mustRun(shell, lift, f.node, ctx.signal);
        ctx.facts.set('protectionLifted', 'true');
        return msg('Protection lifted');
      },
    });
  }

  const restore = restoreCommand(f.type, f.backup.volid, f.targetId, { storage: f.targetStorage, force: f.inPlace && f.existing !== undefined, unique: !f.inPlace });
  steps.push({
    id: 'restore',
    title: f.inPlace && f.existing
      ? msg('Overwrite {0} {1} with the backup of {2}', label, f.targetId, formatTime(f.backup.ctime))
      : msg('Restore the backup of {0} as {1} {2}', formatTime(f.backup.ctime), label, f.targetId),
    destructive: true,
    cancel: 'between-steps',
    commands: [detached(restore, logFile), `pvesh get /nodes/${f.node}/tasks/<UPID>/status   # followed until it ends`],
    effect: f.inPlace && f.existing
      ? msg('The current disks of {0} are replaced; the safety point restores them', f.targetId)
      : msg('A new guest {0}; remove it with: {1}', f.targetId, removeCopyLine(f, true)),
    async run(ctx) {
      try {
        const task = await launchTask(shell, restore, {
          node: f.node, vmid: f.targetId, taskTypes: f.type === 'qemu' ? ['qmrestore'] : ['vzrestore'], logFile, signal: ctx.signal, log: ctx.log, sleep: deps.sleep, timing,
          onLaunched: (launched) => recordLaunch(ctx, 'restore', launched),
        });
        ctx.facts.set('restoreTask', task.upid);
        ctx.log.info(`restore task ${task.upid}`);
        const done = await followTask(shell, task.upid, {
          node: f.node, signal: ctx.signal, log: ctx.log, sleep: deps.sleep, timing,
          onLine: (line) => ctx.log.info(`  ${line}`),
          onFraction: (fraction) => ctx.report({ fraction }),
          onReattach: () => countReattach(ctx),
        });
        ctx.facts.set('restored', 'true');
        return msg('Task {0} ended: {1}', task.upid, done.exitstatus);
      } catch (err) {
        // The task's end was seen: the aftermath must not say it may still be running.
        if (LifeboatError.is(err, 'taskFailed') && err.details.ended === true) ctx.facts.set('restoreTaskEnded', err.message);
        throw err;
      }
    },
  });

  if (f.protectedGuest) {
    const protect = guestCmd.setProtection(f.type, f.vmid, true);
    steps.push({
      id: 'protect-again',
      title: msg('Protect {0} {1} again', label, f.vmid),
      destructive: false,
      cancel: 'between-steps',
      commands: [commandLine(protect)],
      async run(ctx) {
        await mustRun(shell, protect, f.node, ctx.signal);
        ctx.facts.set('protectionLifted', 'false');
        return msg('Protection set again');
      },
    });
  }
  if (f.linkDown) steps.push(linkDownStep(f, shell));

  const start = guestCmd.start(f.type, f.targetId);
  steps.push({
    id: 'start',
    title: msg('Start {0} {1}', label, f.targetId),
    destructive: false,
    cancel: 'between-steps',
    commands: [commandLine(start)],
    async run(ctx) {
      await mustRun(shell, start, f.node, ctx.signal);
      ctx.facts.set('started', 'true');
      return msg('{0} {1} started', label, f.targetId);
    },
  });

  steps.push(reachabilityStep(f, deps, timing));

  const summary = [
    { label: msg('Guest'), value: `${f.vmid}${f.existing?.name ? ` (${f.existing.name})` : f.declared ? ` (${f.declared.name})` : ''} on ${f.node}` },
    { label: msg('Backup'), value: `${f.backup.volid} — ${formatTime(f.backup.ctime)}, ${gib(f.backup.sizeBytes)}` },
    { label: msg('Target'), value: f.inPlace ? (f.existing ? `${label} ${f.vmid} (in place)` : `${label} ${f.vmid} (new)`) : `${label} ${f.targetId} (new VMID, ${f.vmid} untouched)` },
    ...(f.storageNeeds.length ? [{ label: msg('Target storage'), value: f.storageNeeds.map((n) => `${n.storage} (${gib(n.bytes)})`).join(', ') }] : []),
    ...(f.safetyStorage ? [{ label: msg('Safety backup to'), value: f.safetyStorage }] : []),
  ];
  const destroys = f.inPlace && f.existing
    ? [msg('The current disks and configuration of {0} {1}{2} are overwritten', label, f.vmid, f.existing.name ? ` (${f.existing.name})` : '')]
    : [];
  const warnings: Message[] = [...f.warnings];
  if (f.protectedGuest) warnings.push(msg('{0} {1} is protected: the plan lifts the protection to overwrite it and sets it again afterwards', label, f.vmid));
  if (running && f.inPlace) warnings.push(msg('{0} {1} is running: it will be stopped (services down until the restore ends)', label, f.vmid));
  if (!f.inPlace && !f.linkDown) {
    warnings.push(f.originalAddresses.length
      ? msg('The copy keeps the network configuration of {0} (address {1}) and starts with its link up: the two will clash on the network. Leave the link down instead (--link-down in the CLI).', f.vmid, f.originalAddresses.join(', '))
      : msg('The copy keeps the network configuration of {0} and starts with its link up: it may clash with the original on the network. Leave the link down instead (--link-down in the CLI).', f.vmid));
  }
  const env = f.declared?.environment;
  return {
    id: planId,
    kind: 'restore-guest',
    title: msg('Restore {0} {1} from backup', label, f.targetId),
    summary,
    warnings,
    destroys,
    steps,
    exclusive: { held: deps.activeRestores, key: f.targetId },
    nextSteps: [
      ...(env ? [msg('Run terraform plan in environments/{0}: a restore from backup happens outside Terraform', env)] : [msg('Run terraform plan in the environment that declares this guest: a restore from backup happens outside Terraform')]),
      ...(f.inPlace && f.existing && f.safetyStorage
        ? [msg('Once the guest is confirmed good, delete the safety point (it is protected, so no pruning removes it): {0}', `pvesh set /nodes/${f.node}/storage/${f.safetyStorage}/content/<safety point> --protected 0 && pvesh delete /nodes/${f.node}/storage/${f.safetyStorage}/content/<safety point>`)]
        : []),
      ...(f.linkDown ? [msg('The copy {0} runs with its network link down: give it an address of its own before bringing the link up ({1} set {0} --net0 …,link_down=0).', f.targetId, f.type === 'qemu' ? 'qm' : 'pct')] : []),
    ],
  };
}

/**
 * The plan was made from what the node said then; the operator may have taken minutes to say yes.
 * Before anything changes, the target must still be as planned (there, running or stopped, not
 * locked; or still free). Changes nothing; refuses with `planOutdated` otherwise.
 */
function recheckStep(f: GuestRestoreFacts, shell: NodeShell, label: string): Step {
  const read = pvesh.clusterResources('vm');
  const planned = f.existing;
  const state = (status: string | undefined) => (status === 'running' ? 'running' : 'not running');
  return {
    id: 'recheck',
    title: msg('Check that {0} {1} is still as planned', label, f.targetId),
    destructive: false,
    cancel: 'anytime',
    commands: [commandLine(read)],
    async run(ctx) {
      const rows = await runJson(shell, read, z.array(ClusterResourceSchema), ctx.signal);
      const now = rows.find((r) => r.vmid === f.targetId && (r.type === 'qemu' || r.type === 'lxc'));
      let change: Message | undefined;
      if (planned && !now) change = msg('guest {0} no longer exists', f.targetId);
      else if (!planned && now) change = msg('VMID {0} is now used by {1} on {2}', f.targetId, now.name ?? now.type, now.node ?? '?');
      else if (planned && now) {
        if ((now.node ?? f.node) !== planned.node) change = msg('guest {0} is now on {1}, not on {2}', f.targetId, now.node ?? '?', planned.node);
        else if (now.lock) change = msg('guest {0} is now locked ({1})', f.targetId, now.lock);
        else if (state(now.status) !== state(planned.status)) change = msg('guest {0} is now {1}; it was {2} when the plan was made', f.targetId, now.status ?? 'unknown', planned.status);
      }
      if (change) {
        throw LifeboatError.saying('planOutdated', msg('{0}: the plan no longer fits, nothing was changed; plan the restore again', change), { vmid: f.targetId, node: f.node });
      }
      return now ? msg('{0} {1} is {2}, as planned', label, f.targetId, now.status ?? '?') : msg('VMID {0} is still free', f.targetId);
    },
  };
}

/** A detached command now runs on the node, whatever happens next: recorded for the report. */
function recordLaunch(ctx: StepContext, what: 'safety' | 'restore', launched: Launched): void {
  ctx.facts.set(`${what}Launched`, launched.logFile);
  if (launched.pid !== undefined) ctx.facts.set(`${what}Pid`, String(launched.pid));
  if (launched.uncertain) ctx.facts.set(`${what}LaunchUncertain`, 'true');
}

function linkDownStep(f: GuestRestoreFacts, shell: NodeShell): Step {
  return {
    id: 'link-down',
    title: msg('Leave the network link of {0} down', f.targetId),
    destructive: false,
    cancel: 'between-steps',
    commands: [`${f.type === 'qemu' ? 'qm' : 'pct'} set ${f.targetId} --net0 <net0 of the backup>,link_down=1`],
    async run(ctx) {
      const config = await runJson(shell, pvesh.guestConfig(f.node, f.type, f.targetId), GuestConfigSchema, ctx.signal);
      const net0 = config.net0;
      if (!net0) return msg('No network interface to take down');
      await mustRun(shell, guestCmd.setLinkDown(f.type, f.targetId, net0), f.node, ctx.signal);
      ctx.facts.set('linkDown', 'true');
      return msg('Network link down: the copy cannot clash with the original');
    },
  };
}

function reachabilityStep(f: GuestRestoreFacts, deps: GuestRestoreDeps, timing: GuestRestoreTiming): Step {
  const shell = deps.shell(f.node);
  return {
    id: 'reachability',
    title: msg('Wait for boot and check the guest answers on the network'),
    destructive: false,
    cancel: 'anytime',
    commands: [
      f.type === 'qemu' ? commandLine(pvesh.agentInterfaces(f.node, f.targetId)) : commandLine(pvesh.lxcInterfaces(f.node, f.targetId)),
      `tcp connect <address>:${timing.sshPort}; ping <address>`,
    ],
    async run(ctx) {
      if (ctx.facts.get('linkDown') === 'true') {
        ctx.facts.set('reachability', 'not checked: network link left down');
        return msg('Not checked: the network link was left down on purpose');
      }
      const deadline = Date.now() + timing.bootTimeoutMs;
      // A copy beside the original: an address the original holds proves nothing (the original
      // answers there), so it is never probed.
      const theirs = new Set(f.originalAddresses);
      let tried: string[] = [];
      for (;;) {
        throwIfAborted(ctx.signal);
        const { candidates, configured } = await addressCandidates(f, shell, ctx);
        const shared = candidates.filter((a) => theirs.has(a));
        tried = candidates.filter((a) => !theirs.has(a));
        // Its configuration gives it the original's address: no other address will come.
        if (configured !== undefined && theirs.has(configured)) return notCheckedShared(ctx, configured);
        for (const address of tried) {
          if (await deps.probe.tcp(address, timing.sshPort, 3000, ctx.signal)) {
            const ping = await deps.probe.ping(address, 2000, ctx.signal);
            ctx.facts.set('address', address);
            ctx.facts.set('reachability', `tcp/${timing.sshPort} ok, ping ${ping}`);
            return msg('{0} answers on port {1} (ping: {2})', address, timing.sshPort, ping);
          }
        }
        if (Date.now() > deadline) {
          if (tried.length === 0 && shared.length > 0) return notCheckedShared(ctx, shared.join(', '));
          break;
        }
        await deps.sleep(Math.min(timing.pollMs * 2, 3000), ctx.signal);
      }
      ctx.facts.set('reachability', 'failed');
      throw LifeboatError.saying('unreachableAfterRestore', msg('the guest was restored and started but did not answer on port {0} ({1}) within {2} s', timing.sshPort, tried.join(', ') || msg('no address known'), Math.round(timing.bootTimeoutMs / 1000)), { vmid: f.targetId });
    },
  };
}

function notCheckedShared(ctx: StepContext, address: string): Message {
  ctx.facts.set('reachability', `not checked: the copy has the original's address ${address}`);
  return msg('Not checked: the copy has the address {0} of the original, which answers there; the copy cannot be told apart. Leave its link down and give it an address of its own.', address);
}

/**
 * Addresses to try, best first: guest agent / container interfaces, then the config, then tfvars
 * (only in place: for a copy, the tfvars entry is the original's). `configured`: the config's
 * static address.
 */
async function addressCandidates(f: GuestRestoreFacts, shell: NodeShell, ctx: StepContext): Promise<{ candidates: string[]; configured: string | undefined }> {
  const found: string[] = [];
  let configured: string | undefined;
  try {
    if (f.type === 'qemu') {
      const r = await runJson(shell, pvesh.agentInterfaces(f.node, f.targetId), AgentInterfacesSchema, ctx.signal);
      found.push(...usableAddresses(r.result));
    } else {
      const r = await runJson(shell, pvesh.lxcInterfaces(f.node, f.targetId), LxcInterfacesSchema, ctx.signal);
      found.push(...usableAddresses(r ?? []));
    }
  } catch (err) {
    if (CancelledError.is(err)) throw err;
    // Normal for 10–60 s after boot (the agent is not up yet) or without an agent.
  }
  try {
    const config = await runJson(shell, pvesh.guestConfig(f.node, f.type, f.targetId), GuestConfigSchema, ctx.signal);
    configured = staticAddress(config);
    if (configured) found.push(configured);
  } catch (err) {
    if (CancelledError.is(err)) throw err;
  }
  if (f.inPlace && f.declared?.ip) found.push(f.declared.ip);
  return { candidates: [...new Set(found)], configured };
}

function usableAddresses(ifaces: readonly { name: string; 'ip-addresses'?: readonly { 'ip-address': string; 'ip-address-type': string }[] }[]): string[] {
  return ifaces
    .filter((i) => i.name !== 'lo' && !/^(docker|br-|veth|virbr|cni|flannel)/.test(i.name))
    .flatMap((i) => i['ip-addresses'] ?? [])
    .filter((a) => /^(ipv4|inet)$/.test(a['ip-address-type']) && !a['ip-address'].startsWith('169.254.') && !a['ip-address'].startsWith('127.0.0.1'))
    .map((a) => a['ip-address']);
}

/** A restore task already running for this VMID (from another window, the CLI, or the web UI). */
async function refuseConcurrentRestore(shell: NodeShell, node: string, vmid: number): Promise<void> {
  const tasks = await runJson(shell, pvesh.tasks(node, vmid), TaskListSchema, undefined);
  const running = tasks.find((t) => (t.type === 'qmrestore' || t.type === 'vzrestore' || t.type === 'vzdump') && t.id === String(vmid) && (t.status === undefined || t.status === 'running') && t.endtime === undefined);
  if (running) {
    throw LifeboatError.saying('restoreInProgress', msg('task {0} ({1}) is running for {2} on {3}; wait for it to end', running.upid, running.type, vmid, node), { vmid, node, upid: running.upid });
  }
}

function chooseSafetyStorage(storages: readonly Storage[], guest: Guest, history: readonly Backup[]): string | undefined {
  const needed = safetyEstimate(guest, history);
  return storages
    .filter((s) => s.active && s.content.includes('backup') && s.availBytes >= needed)
    .sort((a, b) => b.availBytes - a.availBytes)[0]?.id;
}

/** A new backup is about as big as the last one; without history, assume the whole disk. */
function safetyEstimate(guest: Guest, history: readonly Backup[]): number {
  const last = history.find((b) => b.sizeBytes > 0);
  return Math.ceil((last?.sizeBytes ?? guest.maxdiskBytes ?? 0) * 1.2);
}

function isShared(inv: Inventory, b: Backup): boolean {
  return inv.nodes.some((n) => n.storages.some((s) => s.id === b.storage && s.shared));
}

async function mustRun(shell: NodeShell, spec: Parameters<typeof commandLine>[0], node: string, signal?: AbortSignal): Promise<string> {
  const line = commandLine(spec);
  const r = await shell.exec(line, { signal });
  if (r.code !== 0) {
    throw LifeboatError.saying('remoteCommandFailed', msg('{0} failed on {1} (exit {2}): {3}', line, node, r.code ?? 'none', (r.stderr || r.stdout).trim()), { node, command: line, exitCode: r.code ?? undefined });
  }
  return r.stdout;
}

export function formatTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function gib(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

function raise(err: Error): never {
  throw err;
}

/** The two commands that delete a (protected) safety point. */
function removeSafetyPointLine(node: string, volid: string): string {
  try {
    return `${commandLine(backupVolume.unprotect(node, volid))} && ${commandLine(backupVolume.remove(node, volid))}`;
  } catch {
    return `pvesh set /nodes/${node}/storage/<storage>/content/${volid} --protected 0 && pvesh delete /nodes/${node}/storage/<storage>/content/${volid}`;
  }
}

/** Re-attachments after a lost connection, across the safety point and the restore (for the report). */
function countReattach(ctx: StepContext): void {
  ctx.facts.set('reattached', String(Number(ctx.facts.get('reattached') ?? 0) + 1));
}

/**
 * What a failed or cancelled restore leaves behind, and how to undo it (for the report). Read from
 * the facts the steps recorded: what was launched on the node, what was seen to end, what was
 * overwritten, started, protected.
 */
export function restoreAftermath(f: GuestRestoreFacts, facts: ReadonlyMap<string, string>): Message[] {
  const out: Message[] = [];
  const label = f.type === 'qemu' ? 'VM' : 'CT';
  const tool = f.type === 'qemu' ? 'qm' : 'pct';
  const activeTasks = (vmid: number) => commandLine(pvesh.activeTasks(f.node, vmid));
  const safety = facts.get('safetyPoint');
  const safetyEnded = facts.get('safetyTaskEnded');
  const safetyMayRun = facts.has('safetyLaunched') && !safety && safetyEnded === undefined;

  // The safety backup.
  const safetyTask = facts.get('safetyTask');
  if (safetyMayRun) {
    out.push(safetyTask
      ? msg('The safety backup task {0} may still be running on {1} and keeps {2} locked until it ends. Follow it with: pvesh get /nodes/{1}/tasks/{0}/status', safetyTask, f.node, f.vmid)
      : facts.has('safetyLaunchUncertain')
        ? msg('The safety backup of {0} may have been started on {1} just before the cancel (output in {2}): if it runs, it keeps {0} locked until it ends. Check with: {3}', f.vmid, f.node, facts.get('safetyLaunched') ?? '?', activeTasks(f.vmid))
        : msg('The safety backup of {0} was started on {1} (output in {2}) but Lifeboat lost track of its task: it may still be running and keeps {0} locked until it ends. Check with: {3}', f.vmid, f.node, facts.get('safetyLaunched') ?? '?', activeTasks(f.vmid)));
  } else if (!safety && safetyEnded === 'OK' && f.safetyStorage) {
    out.push(msg('The safety backup task {0} ended OK but Lifeboat did not read its archive name: it is on {1} with the note "{2}", protected. Delete it if you do not need it.', safetyTask ?? '?', f.safetyStorage, SAFETY_POINT_NOTE));
  }

  // The restore.
  const task = facts.get('restoreTask');
  const ended = facts.get('restoreTaskEnded');
  const restored = facts.get('restored') === 'true';
  const started = facts.get('started') === 'true';
  const launched = facts.has('restoreLaunched');
  /** qmrestore may have changed the target: launched, and not known to have refused before its task. */
  const touched = launched && !(ended !== undefined && !task);
  const back = safety ? backCommand(f, safety, started) : undefined;
  if (restored) {
    if (f.inPlace && f.existing) {
      out.push(started
        ? msg('{0} {1} was overwritten with the backup {2} and started.', label, f.vmid, f.backup.volid)
        : msg('{0} {1} was overwritten with the backup {2}.', label, f.vmid, f.backup.volid));
    } else if (f.inPlace) {
      out.push(msg('{0} {1} was recreated from the backup {2}.', label, f.vmid, f.backup.volid));
    } else {
      out.push(started
        ? msg('The copy {0} was restored from the backup {1} and started; {2} was not touched. Remove the copy with: {3}', f.targetId, f.backup.volid, f.vmid, removeCopyLine(f, true))
        : msg('The copy {0} was restored from the backup {1}; {2} was not touched. Remove the copy with: {3}', f.targetId, f.backup.volid, f.vmid, removeCopyLine(f, false)));
    }
    if (started) {
      const reach = facts.get('reachability');
      if (reach === 'failed') out.push(msg('It did not answer on the network in time: check its console before relying on it.'));
      else if (reach === undefined) out.push(msg('Its network check did not complete: check that it answers before relying on it.'));
    } else if (!f.inPlace && f.linkDown && facts.get('linkDown') !== 'true') {
      out.push(msg('The copy {0} is not started and its network link is not down yet: take it down before you start it ({1} set {0} --net0 <its net0>,link_down=1), or remove the copy.', f.targetId, tool));
    } else {
      out.push(msg('The backup was restored but the guest is not started: {0}', commandLine(guestCmd.start(f.type, f.targetId))));
    }
  } else if (task && ended !== undefined) {
    out.push(msg('The restore task {0} ended with an error on {1}: {2}. Proxmox leaves a half-restored guest as it is: do not start it.', task, f.node, ended));
  } else if (task) {
    out.push(msg('The restore task {0} may still be running on {1}: it cannot be stopped halfway safely. Follow it with: pvesh get /nodes/{1}/tasks/{0}/status', task, f.node));
  } else if (launched && ended !== undefined) {
    out.push(msg('The restore command refused to start on {0}: {1}. Nothing was restored.', f.node, ended));
  } else if (launched && facts.has('restoreLaunchUncertain')) {
    out.push(msg('The restore of {0} may have been started on {1} just before the cancel (output in {2}): if it runs, it cannot be stopped halfway safely. Check with: {3}', f.targetId, f.node, facts.get('restoreLaunched') ?? '?', activeTasks(f.targetId)));
  } else if (launched) {
    out.push(msg('The restore of {0} was started on {1} (output in {2}) but Lifeboat lost track of its task: it may still be running, and cannot be stopped halfway safely. Check with: {3}', f.targetId, f.node, facts.get('restoreLaunched') ?? '?', activeTasks(f.targetId)));
  }
  if (safety && back && (touched || restored)) {
    out.push(msg('The guest as it was before is saved in {0}; to return to it: {1}', safety, back));
  } else if (safety && back) {
    out.push(msg('A safety point was made: {0} (protected; delete it if you do not need it: {1})', safety, removeSafetyPointLine(f.node, safety)));
  }

  if (facts.get('protectionLifted') === 'true') {
    out.push(msg('The protection of {0} {1} was lifted and not set again: {2}', label, f.vmid, commandLine(guestCmd.setProtection(f.type, f.vmid, true))));
  }
  if (facts.get('restartedAfterFailure') === 'true') {
    out.push(msg('{0} {1} was started again as it was; nothing was overwritten.', label, f.vmid));
  }
  if (facts.get('wasRunning') === 'true' && facts.get('stopped') !== 'true' && facts.get('restartedAfterFailure') !== 'true' && !touched && !restored) {
    out.push(msg('{0} {1} was not overwritten; its stop did not complete, so it may be running or stopped: check with {2}, and start it if needed with: {3}', label, f.vmid, commandLine(guestCmd.status(f.type, f.vmid)), commandLine(guestCmd.start(f.type, f.vmid))));
  }
  if (facts.get('stopped') === 'true' && !touched && !restored) {
    out.push(safetyMayRun
      ? msg('{0} {1} was stopped and not overwritten; once the safety backup has ended, start it again with: {2}', label, f.vmid, commandLine(guestCmd.start(f.type, f.vmid)))
      : msg('{0} {1} was stopped and not overwritten; start it again with: {2}', label, f.vmid, commandLine(guestCmd.start(f.type, f.vmid))));
  }
  if (!f.inPlace && touched && !restored) {
    out.push(msg('A half-restored copy {0} may exist on {1}; {2} was not touched. Remove the copy with: {3}', f.targetId, f.node, f.vmid, removeCopyLine(f, false)));
  }
  if (out.length === 0) out.push(msg('Nothing was overwritten.'));
  return out;
}

/**
 * Removing a copy: stopped first if it may run, its protection (inherited from the backup's
 * configuration) lifted first, or Proxmox refuses the destroy.
 */
function removeCopyLine(f: GuestRestoreFacts, mayRun: boolean): string {
  return [
    ...(mayRun ? [commandLine(guestCmd.stop(f.type, f.targetId))] : []),
    ...(f.copyProtected ? [commandLine(guestCmd.setProtection(f.type, f.targetId, false))] : []),
    `${f.type === 'qemu' ? 'qm' : 'pct'} destroy ${f.targetId}`,
  ].join(' && ');
}

/** Back to the guest as it was: restore the safety point over it (stopped first if it runs). */
function backCommand(f: GuestRestoreFacts, safety: string, started: boolean): string {
  let restore: string;
  try {
    restore = commandLine(restoreCommand(f.type, safety, f.vmid, { force: true, storage: f.targetStorage }));
  } catch {
    restore = `${f.type === 'qemu' ? 'qmrestore' : 'pct restore'} ${safety}`;
  }
  return started ? `${commandLine(guestCmd.stop(f.type, f.vmid))} && ${restore}` : restore;
}
