/**
 * Restore a guest: from a guest item (newest backup, or to a new VMID), from a backup item, or
 * from the palette with a wizard that asks everything first (environment → guest → backup → in
 * place or new VMID). Then the core plans, the operator confirms the exact commands, and the plan
 * runs with progress and a report. No SSH or parsing here.
 */
import * as vscode from 'vscode';
import {
  LifeboatError, backupsOf, formatTime, gib, parseVmid, planGuestRestore, restoreAftermath,
  type Backup, type GuestRestoreRequest, type Inventory,
} from '../../core';
import { sleep } from '../../adapters/net/probe';
import type { Services } from '../services';
import type { RecoveryNode } from '../views/recoveryTree';
import { age } from '../views/presentation';
import { confirmPlan, runWithProgress, type ProcedureOutcome } from '../platform/runPlan';
import { requireTrust } from '../platform/trust';

type GuestNode = Extract<RecoveryNode, { kind: 'guest' }>;
type BackupNode = Extract<RecoveryNode, { kind: 'backup' }>;

/**
 * Arguments other surfaces (CodeLens, runbook) pass: `{ vmid, node?, volid?, targetId? }`, or
 * `{ name, environment }` when the VMID is not known yet (a lens shown before the nodes were read).
 */
export interface RestoreGuestArgs {
  readonly vmid?: number;
  readonly name?: string;
  readonly environment?: string;
  readonly node?: string;
  readonly volid?: string;
  readonly targetId?: number;
  readonly linkDown?: boolean;
}

export const restoreGuest = (s: Services) => async (arg?: GuestNode | BackupNode | RestoreGuestArgs): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const request = await requestFrom(s, arg, false);
  return request ? planConfirmRun(s, request) : { status: 'not-confirmed' };
};

export const restoreGuestToNewId = (s: Services) => async (arg?: GuestNode | BackupNode): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const request = await requestFrom(s, arg, true);
  return request ? planConfirmRun(s, request) : { status: 'not-confirmed' };
};

async function requestFrom(s: Services, arg: GuestNode | BackupNode | RestoreGuestArgs | undefined, newId: boolean): Promise<GuestRestoreRequest | undefined> {
  const inventory = await s.inventory.inventory();
  if (arg && 'kind' in arg && arg.kind === 'backup') {
    const base = { vmid: arg.backup.vmid, node: arg.guest?.node ?? arg.backup.node, volid: arg.backup.volid };
    return newId ? askTarget(inventory, base) : base;
  }
  if (arg && 'kind' in arg && arg.kind === 'guest') {
    const vmid = arg.guest?.vmid ?? arg.declared?.vmid;
    if (vmid === undefined) {
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} was not found on any node and its VMID is unknown: nothing to restore from. Refresh the explorer once the node is back.', arg.declared?.name ?? '?'));
      return undefined;
    }
    const base = { vmid, node: arg.guest?.node ?? arg.node };
    return newId ? askTarget(inventory, base) : base;
  }
  if (arg && 'vmid' in arg && arg.vmid !== undefined) return { ...arg, vmid: arg.vmid };
  if (arg && 'name' in arg && arg.name) {
    const named = arg.name;
    const found = inventory.guests.find((g) => g.name === named);
    if (!found) {
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} was not found on any node and its VMID is unknown: nothing to restore from. Refresh the explorer once the node is back.', named));
      return undefined;
    }
    return { vmid: found.vmid, node: found.node };
  }
  return wizard(s, inventory);
}

/** The palette path: every question first, nothing runs until the plan is confirmed. */
async function wizard(s: Services, inventory: Inventory): Promise<GuestRestoreRequest | undefined> {
  const discoveries = await s.discovery.discoveries();
  const envs = discoveries.flatMap((d) => d.environments);
  const declaredNames = new Map(envs.flatMap((e) => e.guests.map((g) => [g.name, e.name] as const)));
  const guestPick = await vscode.window.showQuickPick(
    inventory.guests.filter((g) => !g.template).map((g) => {
      const newest = backupsOf(inventory, g.vmid)[0];
      return {
        label: `${g.name ?? '?'}`,
        description: `${g.vmid} · ${g.type === 'qemu' ? 'VM' : 'LXC'} · ${g.node} · ${g.status}`,
        detail: [declaredNames.get(g.name ?? '') ? vscode.l10n.t('environment {0}', declaredNames.get(g.name ?? '')!) : vscode.l10n.t('not declared in tfvars'), newest ? vscode.l10n.t('newest backup {0}', age(newest.ctime, new Date(), vscode.l10n.t)) : vscode.l10n.t('never backed up')].join(' · '),
        guest: g,
      };
    }),
    { title: vscode.l10n.t('Restore Guest (1/3): which guest?'), placeHolder: vscode.l10n.t('Type a name or a VMID'), matchOnDescription: true, ignoreFocusOut: true },
  );
  if (!guestPick) return undefined;
  const g = guestPick.guest;
  const backups = backupsOf(inventory, g.vmid);
  if (backups.length === 0) {
    void vscode.window.showErrorMessage(vscode.l10n.t('No backup of {0} ({1}) on any storage: nothing can be restored. Nothing was changed.', g.name ?? '?', g.vmid));
    return undefined;
  }
  const backupPick = await vscode.window.showQuickPick(
    backups.map((b, i) => ({ label: formatTime(b.ctime), description: backupDescription(b), detail: i === 0 ? vscode.l10n.t('newest') : undefined, backup: b })),
    { title: vscode.l10n.t('Restore Guest (2/3): which backup?'), placeHolder: vscode.l10n.t('The newest is first'), ignoreFocusOut: true },
  );
  if (!backupPick) return undefined;
  const inPlace = vscode.l10n.t('In place: overwrite {0} (stop, safety backup, restore)', g.vmid);
  const beside = vscode.l10n.t('Beside it: restore to a new VMID, {0} untouched', g.vmid);
  const mode = await vscode.window.showQuickPick([inPlace, beside], { title: vscode.l10n.t('Restore Guest (3/3): where?'), ignoreFocusOut: true });
  if (!mode) return undefined;
  const base = { vmid: g.vmid, node: g.node, volid: backupPick.backup.volid };
  return mode === beside ? askTarget(inventory, base) : base;
}

function backupDescription(b: Backup): string {
  return [age(b.ctime, new Date(), vscode.l10n.t), gib(b.sizeBytes), b.format, b.storage, b.notes, b.protected ? vscode.l10n.t('protected') : undefined].filter(Boolean).join(' · ');
}

async function askTarget(inventory: Inventory, base: { vmid: number; node?: string; volid?: string }): Promise<GuestRestoreRequest | undefined> {
  const used = new Set(inventory.guests.map((g) => g.vmid));
  let suggestion = base.vmid + 800;
  while (used.has(suggestion)) suggestion++;
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('Restore {0} to a new VMID', base.vmid),
    prompt: vscode.l10n.t('A free VMID for the copy; {0} stays as it is.', base.vmid),
    value: String(suggestion),
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        const id = parseVmid(v);
        return used.has(id) ? vscode.l10n.t('VMID {0} is already used', id) : undefined;
      } catch {
        return vscode.l10n.t('A number from 100 to 999999999');
      }
    },
  });
  if (!value) return undefined;
  const down = vscode.l10n.t('Leave the network link down (recommended: the copy has the same address)');
  const up = vscode.l10n.t('Connect the network');
  const link = await vscode.window.showQuickPick([down, up], { title: vscode.l10n.t('Network of the copy'), ignoreFocusOut: true });
  if (!link) return undefined;
  return { ...base, targetId: Number(value), linkDown: link === down };
}

async function planConfirmRun(s: Services, request: GuestRestoreRequest): Promise<ProcedureOutcome> {
  const inventory = await s.inventory.inventory();
  const discoveries = await s.discovery.discoveries();
  const root = discoveries[0]?.root;
  const pool = s.inventory.shellPool();
  const addresses = await s.inventory.nodes();
  let planned;
  try {
    planned = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Preparing the restore plan (read-only checks)…') }, () =>
      planGuestRestore(request, {
        inventory,
        shell: (node) => pool.shell(addresses.find((a) => a.name === node) ?? { name: node, host: node }),
        probe: s.inventory.probe,
        sleep,
        log: s.log,
        declared: discoveries.flatMap((d) => d.environments.flatMap((e) => e.guests)),
        activeRestores: s.activeRestores,
      }),
    );
  } catch (err) {
    if (LifeboatError.is(err)) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Cannot restore {0}: {1} Nothing was changed.', String(request.vmid), err.message + '.'));
      s.log.warn(`restore of ${String(request.vmid)} refused: ${err.reason}: ${err.message}`);
      return { status: 'refused' };
    }
    throw err;
  }
  const { plan, facts } = planned;
  const action = plan.destroys.length ? vscode.l10n.t('Overwrite and Restore') : vscode.l10n.t('Restore');
  if (!(await confirmPlan(plan, action))) {
    s.log.info(`restore of ${facts.vmid} not confirmed: nothing was changed`);
    return { status: 'not-confirmed' };
  }
  const report = await runWithProgress(s, plan, root ?? process.cwd(), (stepFacts) => restoreAftermath(facts, stepFacts));
  s.inventory.refresh();
  return { status: report.status, reportFile: report.reportFile };
}
