/**
 * The one way the extension asks before something that changes or destroys: a modal whose default
 * answer is no. VS Code focuses (and styles as primary) the first button that is not the close
 * affordance, and adds its own "Cancel" as the close affordance; so the first button here is an
 * explicit "No, Change Nothing". Enter, Escape and the close box all change nothing; only a
 * deliberate click on the action goes ahead.
 */
import * as vscode from 'vscode';

export async function confirmDefaultNo(message: string, action: string, detail?: string): Promise<boolean> {
  const no: vscode.MessageItem = { title: vscode.l10n.t('No, Change Nothing') };
  const proceed: vscode.MessageItem = { title: action };
  const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, no, proceed);
  return choice === proceed;
}
