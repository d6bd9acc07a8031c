/**
 * The runbook checklist's registrations: the panel serializer (a checklist survives a window reload),
 * the "Open as checklist" CodeLens and editor-title button on Markdown files that look like runbooks
 * (the extension activates on Markdown for them), and the `lifeboat.openRunbook` command (palette,
 * explorer and editor-title menus) whose handler sits in the command table.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { looksLikeRunbook, parseRunbook } from '../../core';
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

/** The context key the editor-title button's `when` clause reads: the paths of open runbooks. */
const RUNBOOK_PATHS_KEY = 'lifeboat.runbookPaths';

/**
 * Which open Markdown documents are runbooks (core `looksLikeRunbook`, decided on the parsed model and
 * cached per document version): feeds the CodeLens and the editor-title button.
 */
class RunbookDetector implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; runbook: boolean }>();
  private readonly paths = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    const refresh = () => {
      for (const editor of vscode.window.visibleTextEditors) this.check(editor.document);
    };
    this.disposables.push(
      vscode.window.onDidChangeVisibleTextEditors(refresh),
      vscode.workspace.onDidSaveTextDocument((d) => this.check(d)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.cache.delete(d.uri.toString());
        if (this.paths.delete(d.uri.fsPath)) this.publish();
      }),
    );
    refresh();
  }

  check(document: vscode.TextDocument): boolean {
    if (document.languageId !== 'markdown' || document.uri.scheme !== 'file') return false;
    const key = document.uri.toString();
    const cached = this.cache.get(key);
    if (cached?.version === document.version) return cached.runbook;
    const runbook = looksLikeRunbook(document.uri.fsPath, parseRunbook(document.getText(), { fileName: path.basename(document.uri.fsPath) }));
    this.cache.set(key, { version: document.version, runbook });
    const had = this.paths.has(document.uri.fsPath);
    if (runbook !== had) {
      if (runbook) this.paths.add(document.uri.fsPath);
      else this.paths.delete(document.uri.fsPath);
      this.publish();
    }
    return runbook;
  }

  private publish(): void {
    void vscode.commands.executeCommand('setContext', RUNBOOK_PATHS_KEY, [...this.paths]);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

class RunbookCodeLensProvider implements vscode.CodeLensProvider {
  constructor(private readonly detector: RunbookDetector) {}

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.detector.check(document)) return [];
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
  const detector = new RunbookDetector();
  context.subscriptions.push(
    panels,
    detector,
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
    vscode.languages.registerCodeLensProvider({ language: 'markdown', scheme: 'file' }, new RunbookCodeLensProvider(detector)),
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
