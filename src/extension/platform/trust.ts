import * as vscode from 'vscode';

/**
 * Restricted Mode: Lifeboat shows what the repository declares but changes nothing. Every action
 * that changes something calls this first; the menus are also hidden by `isWorkspaceTrusted`.
 */
export function requireTrust(): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = vscode.l10n.t('Manage Workspace Trust');
  void vscode.window.showWarningMessage(
    vscode.l10n.t('Lifeboat is in Restricted Mode: restores, rebuilds and runbook commands are disabled until you trust this folder, because they run commands on your nodes.'),
    manage,
  ).then((choice) => {
    if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
