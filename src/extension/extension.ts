/**
 * Lifeboat's entry point: a table of contents. Heavy work (discovery, SSH, S3) starts only when a
 * view or command asks for it.
 */
import * as vscode from 'vscode';
import { describeError } from '../shared/errorText';
import { registerCommands } from './commands';
import { createServices } from './services';
import type { RecoveryTreeProvider } from './views/recoveryTree';
import { registerViews } from './views';
import { registerTfvarsCodeLens } from './codelens/tfvarsCodeLens';
import { registerRunbookPanel } from './runbook';

/** What activate() returns: used by the extension-host tests. */
export interface LifeboatApi {
  readonly recoveryTree: RecoveryTreeProvider;
}

export function activate(context: vscode.ExtensionContext): LifeboatApi {
  const log = vscode.window.createOutputChannel('Lifeboat', { log: true });
  context.subscriptions.push(log);
  try {
    const services = createServices(log, context.secrets);
    context.subscriptions.push(services);
    registerViews(context, services);
    registerCommands(context, services);
    registerTfvarsCodeLens(context, services);
    registerRunbookPanel(context, services);
    log.info(`Lifeboat ${String(context.extension.packageJSON.version)} activated (${vscode.env.appName}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'})`);
    return { recoveryTree: services.recoveryTree };
  } catch (err) {
    // VS Code shows nothing when activation throws; say it ourselves.
    log.error('Activation failed', err);
    void vscode.window.showErrorMessage(vscode.l10n.t('Lifeboat failed to start: {0}', describeError(err, vscode.l10n.t)));
    throw err;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
