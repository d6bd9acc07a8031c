/**
 * Every command of the extension, in one table. Each entry is wrapped once: errors are logged and
 * shown with a "Show Log" action, cancellation stays silent. A procedure command always resolves to
 * its outcome, even when it throws, so a caller (the runbook's "Run with Lifeboat") never mistakes an
 * error for a success. `test/unit/extension/manifest.test.ts` checks this table against package.json
 * in both directions.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';

import type { CommandId } from './ids';
import { restoreGuest, restoreGuestToNewId } from './restoreGuest';
import {
  compareStateWith, compareStateWithCurrent, enterS3Credentials, fallBackToLocal, forgetS3Credentials, openStateVersion, restoreStateVersion, returnToS3,
  showStateImportGuide, showStateVersions, showVersioningHelp,
} from './state';
import { checkMinioHealth, checkMonitoringHealth, showBackupJobs, showBackups } from './inspect';
import { describeError } from '../../shared/errorText';
import { isCancellation } from '../inventoryService';
import { verifyBackups } from './verify';
import { rebuildMinio, rebuildMonitoring } from './rebuild';
import { openRunbook } from '../runbook';
import type { ProcedureOutcome } from '../platform/runPlan';

type Handler = (s: Services) => (...args: never[]) => unknown;

/** Commands that run a procedure and resolve to a ProcedureOutcome (src/extension/platform/runPlan.ts). */
const procedureCommands: ReadonlySet<CommandId> = new Set<CommandId>([
  'lifeboat.restoreGuest', 'lifeboat.restoreFromNewest', 'lifeboat.restoreGuestToNewId', 'lifeboat.restoreBackup',
  'lifeboat.restoreTfstate', 'lifeboat.restoreStateVersion', 'lifeboat.fallbackToLocal', 'lifeboat.returnToS3',
  'lifeboat.rebuildMinio', 'lifeboat.rebuildMonitoring', 'lifeboat.verifyBackups',
]);

export const commandTable: Record<CommandId, Handler> = {
  'lifeboat.refresh': (s) => () => {
    s.discovery.refresh();
    s.inventory.refresh();
    s.state.refresh();
  },
  'lifeboat.showStateVersions': showStateVersions,
  'lifeboat.openStateVersion': openStateVersion,
  'lifeboat.compareStateWithCurrent': compareStateWithCurrent,
  'lifeboat.compareStateWith': compareStateWith,
  'lifeboat.restoreTfstate': restoreStateVersion,
  'lifeboat.restoreStateVersion': restoreStateVersion,
  'lifeboat.fallbackToLocal': fallBackToLocal,
  'lifeboat.returnToS3': returnToS3,
  'lifeboat.showStateImportGuide': showStateImportGuide,
  'lifeboat.enterS3Credentials': enterS3Credentials,
  'lifeboat.forgetS3Credentials': forgetS3Credentials,
  'lifeboat.showVersioningHelp': showVersioningHelp,
  'lifeboat.connect': (s) => async () => {
    s.inventory.refresh();
    await s.inventory.inventory();
  },
  'lifeboat.filter': (s) => async () => {
    const text = await vscode.window.showInputBox({ title: vscode.l10n.t('Filter guests'), prompt: vscode.l10n.t('Part of a name or a VMID'), value: s.recoveryTree.filter ?? '' });
    if (text !== undefined) s.recoveryTree.setFilter(text);
  },
  'lifeboat.clearFilter': (s) => () => s.recoveryTree.setFilter(undefined),
  'lifeboat.loadMoreBackups': (s) => (guestKey: string) => s.recoveryTree.loadMore(guestKey),
  'lifeboat.restoreGuest': restoreGuest,
  'lifeboat.restoreFromNewest': restoreGuest,
  'lifeboat.restoreGuestToNewId': restoreGuestToNewId,
  'lifeboat.restoreBackup': restoreGuest,
  'lifeboat.focusExplorer': () => () => vscode.commands.executeCommand('lifeboat.recovery.focus'),
  'lifeboat.showBackups': showBackups,
  'lifeboat.showBackupJobs': showBackupJobs,
  'lifeboat.checkMinioHealth': checkMinioHealth,
  'lifeboat.checkMonitoringHealth': checkMonitoringHealth,
  'lifeboat.verifyBackups': verifyBackups,
  'lifeboat.rebuildMinio': rebuildMinio,
  'lifeboat.rebuildMonitoring': rebuildMonitoring,
  'lifeboat.showLog': (s) => () => s.log.show(true),
  'lifeboat.openRepository': () => () => vscode.commands.executeCommand('vscode.openFolder', undefined, { forceNewWindow: false }),
  'lifeboat.openTfvars': () => (node?: { env?: { tfvarsPath: string } }) =>
    node?.env ? vscode.window.showTextDocument(vscode.Uri.file(node.env.tfvarsPath)) : undefined,
  'lifeboat.openRunbook': openRunbook,
};

export function registerCommands(context: vscode.ExtensionContext, services: Services): void {
  for (const [id, factory] of Object.entries(commandTable) as [CommandId, Handler][]) {
    const handler = factory(services) as (...args: unknown[]) => unknown;
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      const procedure = procedureCommands.has(id);
      try {
        return await handler(...args);
      } catch (err) {
        if (isCancellation(err)) return procedure ? ({ status: 'cancelled' } satisfies ProcedureOutcome) : undefined;
        services.log.error(`${id} failed`, err);
        const showLog = vscode.l10n.t('Show Log');
        // Don't wait: the caller gets the outcome now, not when the notification is dismissed.
        void vscode.window.showErrorMessage(vscode.l10n.t('Lifeboat: {0}', describeError(err, vscode.l10n.t)), showLog).then((choice) => {
          if (choice === showLog) services.log.show(true);
        });
        return procedure ? ({ status: 'failed' } satisfies ProcedureOutcome) : undefined;
      }
    }));
  }
}

