/**
 * Every command of the extension, in one table. Each entry is wrapped once: errors are logged and
 * shown with a "Show Log" action, cancellation stays silent. `test/unit/extension/manifest.test.ts`
 * checks this table against package.json in both directions.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';

import type { CommandId } from './ids';

type Handler = (s: Services) => (...args: never[]) => unknown;

export const commandTable: Record<CommandId, Handler> = {
  'lifeboat.refresh': (s) => () => s.discovery.refresh(),
  'lifeboat.showLog': (s) => () => s.log.show(true),
  'lifeboat.openRepository': () => () => vscode.commands.executeCommand('vscode.openFolder', undefined, { forceNewWindow: false }),
  'lifeboat.openTfvars': () => (node?: { env?: { tfvarsPath: string } }) =>
    node?.env ? vscode.window.showTextDocument(vscode.Uri.file(node.env.tfvarsPath)) : undefined,
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

function isCancellation(err: unknown): boolean {
  return err instanceof vscode.CancellationError || (err instanceof Error && err.name === 'AbortError');
}
