/**
 * Every command of the extension, in one table. Each entry is wrapped once: errors are logged and
 * shown with a "Show Log" action, cancellation stays silent. `test/unit/extension/manifest.test.ts`
 * checks this table against package.json in both directions.
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
import { isCancellation } from '../inventoryService';
import { verifyBackups } from './verify';
import { rebuildMinio, rebuildMonitoring } from './rebuild';
import { openRunbook } from '../runbook';

type Handler = (s: Services) => (...args: never[]) => unknown;

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
      try {
        return await handler(...args);
      } catch (err) {
        if (isCancellation(err)) return undefined;
        services.log.error(`${id} failed`, err);
        const showLog = vscode.l10n.t('Show Log');
        const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Lifeboat: {0}', err instanceof Error ? err.message : String(err)), showLog);
        if (choice === showLog) services.log.show(true);
        return undefined;
      }
    }));
  }
}

