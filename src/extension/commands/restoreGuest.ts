/**
 * Restore a guest: from a guest item (newest backup, or to a new VMID), from a backup item, or
 * from the palette with a wizard that asks everything first (environment → guest → backup → in
 * place or new VMID). Then the core plans, the operator confirms the exact commands, and the plan
 * runs with progress and a report. No SSH or parsing here.
 */
import * as vscode from 'vscode';
import {
  declaredGuests, LifeboatError, backupsOf, formatTime, gib, matchGuests, parseVmid, planGuestRestore, restoreAftermath, undeclaredGuests,
  type Backup, type EnvironmentConfig, type Guest, type GuestRestoreRequest, type Inventory,
} from '../../core';
import { sleep } from '../../adapters/net/probe';
import { describeError } from '../../shared/errorText';
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

/** A guest the wizard offers: found on a node, or declared and gone but with backups (its VMID known). */
interface WizardGuest {
  readonly vmid: number;
  readonly node: string | undefined;
  readonly name: string | undefined;
  readonly guest: Guest | undefined;
  readonly environment: string | undefined;
}

/**
 * The palette path: every question first (environment → guest → backup → in place or new VMID),
 * nothing runs until the plan is confirmed. The environment step is skipped when there is one.
 */
async function wizard(s: Services, inventory: Inventory): Promise<GuestRestoreRequest | undefined> {
  const discoveries = await s.discovery.discoveries();
  const envs = discoveries.flatMap((d) => d.environments);
  const total = envs.length > 1 ? 4 : 3;
  let step = 0;
  const title = (text: string) => vscode.l10n.t('Restore Guest ({0}/{1}): {2}', ++step, total, text);

  let candidates: WizardGuest[];
  if (envs.length > 1) {
    const envPick = await vscode.window.showQuickPick(
      envs.map((env) => {
        const guests = guestsOf(env, envs, inventory);
        return { label: env.name, description: [env.defaultNode, vscode.l10n.t('{0} guest(s)', guests.length)].filter(Boolean).join(' · '), guests };
      }),
      { title: title(vscode.l10n.t('which environment?')), placeHolder: vscode.l10n.t('The environment that declares the guest'), ignoreFocusOut: true },
    );
    if (!envPick) return undefined;
    candidates = envPick.guests;
  } else {
    // One environment: its guests (lost ones with backups included), then every other guest the nodes run.
    const only = envs[0];
    candidates = only ? guestsOf(only, envs, inventory) : [];
    candidates.push(...undeclaredGuests(inventory, matchGuests(envs.flatMap(declaredGuests), inventory))
      .filter((g) => !candidates.some((c) => c.vmid === g.vmid))
      .map((g): WizardGuest => ({ vmid: g.vmid, node: g.node, name: g.name, guest: g, environment: undefined })));
  }
  const guestPick = await vscode.window.showQuickPick(
    candidates.map((c) => {
      const newest = backupsOf(inventory, c.vmid)[0];
      return {
        label: c.name ?? '?',
        description: c.guest
          ? `${c.vmid} · ${c.guest.type === 'qemu' ? 'VM' : 'LXC'} · ${c.guest.node} · ${c.guest.status}`
          : `${c.vmid} · ${vscode.l10n.t('not found on any node')}`,
        detail: [c.environment ? vscode.l10n.t('environment {0}', c.environment) : vscode.l10n.t('not declared in tfvars'), newest ? vscode.l10n.t('newest backup {0}', age(newest.ctime, new Date(), vscode.l10n.t)) : vscode.l10n.t('never backed up')].join(' · '),
        candidate: c,
      };
    }),
    { title: title(vscode.l10n.t('which guest?')), placeHolder: vscode.l10n.t('Type a name or a VMID'), matchOnDescription: true, ignoreFocusOut: true },
  );
  if (!guestPick) return undefined;
  const g = guestPick.candidate;
  const backups = backupsOf(inventory, g.vmid);
  if (backups.length === 0) {
    void vscode.window.showErrorMessage(vscode.l10n.t('No backup of {0} ({1}) on any storage: nothing can be restored. Nothing was changed.', g.name ?? '?', g.vmid));
    return undefined;
  }
  const backupPick = await vscode.window.showQuickPick(
    backups.map((b, i) => ({ label: formatTime(b.ctime), description: backupDescription(b), detail: i === 0 ? vscode.l10n.t('newest') : undefined, backup: b })),
    { title: title(vscode.l10n.t('which backup?')), placeHolder: vscode.l10n.t('The newest is first'), ignoreFocusOut: true },
  );
  if (!backupPick) return undefined;
  const inPlace = g.guest
    ? vscode.l10n.t('In place: overwrite {0} (stop, safety backup, restore)', g.vmid)
    : vscode.l10n.t('In place: recreate {0} from the backup', g.vmid);
  const beside = vscode.l10n.t('Beside it: restore to a new VMID, {0} untouched', g.vmid);
  const mode = await vscode.window.showQuickPick([inPlace, beside], { title: title(vscode.l10n.t('where?')), ignoreFocusOut: true });
  if (!mode) return undefined;
  const base = { vmid: g.vmid, node: g.node ?? backupPick.backup.node, volid: backupPick.backup.volid };
  return mode === beside ? askTarget(inventory, base) : base;
}

/**
 * The guests of one environment, as the explorer shows them: those it declares (found on a node,
 * or gone with backups under a known VMID), and the undeclared guests of its default node.
 */
function guestsOf(env: EnvironmentConfig, envs: readonly EnvironmentConfig[], inventory: Inventory): WizardGuest[] {
  const out: WizardGuest[] = [];
  for (const { declared, guest, backups, vmid } of matchGuests(declaredGuests(env), inventory)) {
    if (guest) out.push({ vmid: guest.vmid, node: guest.node, name: declared?.name ?? guest.name, guest, environment: env.name });
    else if (declared && vmid !== undefined && backups.length > 0) out.push({ vmid, node: declared.node, name: declared.name, guest: undefined, environment: env.name });
  }
  if (env.defaultNode) {
    for (const g of undeclaredGuests(inventory, matchGuests(envs.flatMap(declaredGuests), inventory), env.defaultNode)) {
      out.push({ vmid: g.vmid, node: g.node, name: g.name, guest: g, environment: undefined });
    }
  }
  return out;
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
  // Only to find the node: the core reads the guest, its storages and backups again from the node
  // itself before planning, so a cached inventory hours old cannot decide the plan.
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
        declared: discoveries.flatMap((d) => d.environments.flatMap(declaredGuests)),
        activeRestores: s.activeRestores,
      }),
    );
  } catch (err) {
    if (LifeboatError.is(err)) {
      const said = describeError(err, vscode.l10n.t);
      const message = vscode.l10n.t('Cannot restore {0}: {1} Nothing was changed.', String(request.vmid), /[.!?]$/.test(said) ? said : `${said}.`);
      s.log.warn(`restore of ${String(request.vmid)} refused: ${err.reason}: ${err.message}`);
      const previous = LifeboatError.is(err, 'backupCorrupt') && typeof err.details.previousVolid === 'string' ? err.details.previousVolid : undefined;
      if (previous) offerPreviousBackup(s, request, previous, message);
      else void vscode.window.showErrorMessage(message);
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
  const previous = report.status === 'failed' ? report.facts.previousBackup : undefined;
  if (previous) {
    offerPreviousBackup(s, { ...request, node: facts.node }, previous, vscode.l10n.t('The backup {0} of {1} is damaged; nothing was changed. The previous backup is {2}.', facts.backup.volid, facts.vmid, previous));
  }
  return { status: report.status, reportFile: report.reportFile };
}

/**
 * A damaged backup: offer the next older one, as a fresh plan with its own confirmation. Not
 * awaited, so that a caller waiting for this command's outcome (the runbook) is not held by a
 * notification nobody answers.
 */
function offerPreviousBackup(s: Services, request: GuestRestoreRequest, volid: string, message: string): void {
  const restorePrevious = vscode.l10n.t('Restore the previous backup…');
  // Don't wait: the answer starts a new plan of its own.
  void vscode.window.showErrorMessage(message, restorePrevious).then(async (choice) => {
    if (choice === restorePrevious) await planConfirmRun(s, { ...request, volid, date: undefined });
  });
}
