/**
 * The runbook checklist's registrations: the panel serializer (a checklist survives a window reload),
 * the "Open as checklist" CodeLens on Markdown runbooks, and the `lifeboat.openRunbook` command
 * (palette, explorer and editor-title menus) whose handler sits in the command table.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { RUNBOOK_VIEW_TYPE, RunbookPanel } from './runbookPanel';

/** Panels by runbook file; set by registerRunbookPanel (the command table has no ExtensionContext). */
class RunbookPanels implements vscode.Disposable {
  private readonly panels = new Map<string, RunbookPanel>();

  constructor(private readonly s: Services, private readonly extensionUri: vscode.Uri) {}

  async open(file: string, restored?: vscode.WebviewPanel): Promise<RunbookPanel> {
    const key = path.resolve(file);
    const existing = this.panels.get(key);
    if (existing && !restored) {
      existing.reveal();
      return existing;
    }
    existing?.dispose();
    const panel = await RunbookPanel.create(key, this.s, this.extensionUri, restored);
    this.panels.set(key, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
    });
    return panel;
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
    this.panels.clear();
  }
}

let panels: RunbookPanels | undefined;

/** A step heading in the first lines of a document: "## Step 1 —", "### Étape A :", "### 3. …". */
const STEP_HEADING = /^#{1,6}[ \t]+(?:(?:step|[ÉéEe]tape|phase)[ \t]+(?:\d{1,3}|[A-Za-z])(?![\p{L}\p{N}])|\d{1,3}[.)][ \t])/imu;

/** A Markdown file under a `docs/` folder whose text has a step heading. */
export function looksLikeRunbook(fsPath: string, text: string): boolean {
  return /(^|[\\/])docs[\\/]/i.test(fsPath) && STEP_HEADING.test(text.slice(0, 300_000));
}

class RunbookCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!looksLikeRunbook(document.uri.fsPath, document.getText())) return [];
    return [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
      title: `$(checklist) ${vscode.l10n.t('Open as checklist')}`,
      command: 'lifeboat.openRunbook',
      arguments: [document.uri],
      tooltip: vscode.l10n.t('Lifeboat: run this runbook as a checklist'),
    })];
  }
}

export function registerRunbookPanel(context: vscode.ExtensionContext, s: Services): void {
  panels = new RunbookPanels(s, context.extensionUri);
  context.subscriptions.push(
    panels,
    vscode.window.registerWebviewPanelSerializer(RUNBOOK_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const rel = state && typeof state === 'object' && typeof (state as { path?: unknown }).path === 'string' ? (state as { path: string }).path : undefined;
        const file = rel ? await resolveRunbook(rel) : undefined;
        if (!file || !panels) {
          panel.dispose();
          return;
        }
        await panels.open(file, panel);
      },
    }),
    vscode.languages.registerCodeLensProvider({ language: 'markdown', scheme: 'file' }, new RunbookCodeLensProvider()),
  );
}

/** A path from a restored panel's state: relative to a workspace folder (or absolute). */
async function resolveRunbook(rel: string): Promise<string | undefined> {
  const candidates = path.isAbsolute(rel) ? [rel] : (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, rel));
  for (const c of candidates) if (await fs.access(c).then(() => true, () => false)) return c;
  return undefined;
}

/** `lifeboat.openRunbook [uri]`: a Markdown file from the explorer or editor, else a pick (default docs/DISASTER-RECOVERY.md). */
export const openRunbook = (_s: Services) => async (arg?: vscode.Uri | string): Promise<RunbookPanel | undefined> => {
  if (!panels) throw new Error('the runbook panel is not registered');
  let file = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : undefined;
  if (!file) {
    const active = vscode.window.activeTextEditor?.document;
    file = await pickRunbook(active?.languageId === 'markdown' ? active.uri.fsPath : undefined);
  }
  if (!file) return undefined;
  return panels.open(file);
};

async function pickRunbook(activeMarkdown: string | undefined): Promise<string | undefined> {
  const found = await vscode.workspace.findFiles('**/*.{md,markdown}', '{**/node_modules/**,**/.lifeboat/**,**/.git/**}', 500);
  const preferred = (u: vscode.Uri) => (u.fsPath === activeMarkdown ? 0 : /[\\/]docs[\\/]DISASTER-RECOVERY\.md$/i.test(u.fsPath) ? 1 : /[\\/]docs[\\/]/i.test(u.fsPath) ? 2 : 3);
  found.sort((a, b) => preferred(a) - preferred(b) || a.fsPath.localeCompare(b.fsPath));
  const browse = vscode.l10n.t('Browse…');
  const items: (vscode.QuickPickItem & { file?: string })[] = found.map((u) => ({
    label: vscode.workspace.asRelativePath(u),
    file: u.fsPath,
    ...(preferred(u) <= 1 ? { description: vscode.l10n.t('suggested') } : {}),
  }));
  items.push({ label: browse });
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Open a runbook as a checklist'), placeHolder: vscode.l10n.t('A Markdown runbook, e.g. docs/DISASTER-RECOVERY.md') });
  if (!pick) return undefined;
  if (pick.file) return pick.file;
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Markdown: ['md', 'markdown'] } });
  return chosen?.[0]?.fsPath;
}
