import * as vscode from 'vscode';
import type { Services } from '../services';

export function registerViews(context: vscode.ExtensionContext, services: Services): void {
  const view = vscode.window.createTreeView('lifeboat.recovery', {
    treeDataProvider: services.recoveryTree,
    showCollapseAll: true,
  });
  services.verify.attachView(view);
  context.subscriptions.push(view);
}
