/**
 * CodeLens on `terraform.tfvars`: the recovery action for each block, right where the operator
 * reads it. Positions come from the real HCL parse of the document's current text; titles from the
 * cached inventory only (a lens never waits on the network). Each lens carries only a command id
 * and its arguments.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { lensTitle, outlineTfvars, parseHcl, tfvarsLenses, type LensSpec } from '../../core';
import type { Services } from '../services';
import { commandIds } from '../commands/ids';

export class TfvarsCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly cache = new Map<string, { version: number; specs: Promise<LensSpec[]> }>();

  constructor(private readonly s: Services) {
    s.inventory.onDidChange(() => this.invalidate());
    s.discovery.onDidChange(() => this.invalidate());
    // A verification that finds the newest backup corrupt changes which backup a restore uses.
    s.verify.onDidChange(() => this.invalidate());
  }

  invalidate(): void {
    this.cache.clear();
    this.changed.fire();
  }

  async provideCodeLenses(document: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    if (!vscode.workspace.getConfiguration('lifeboat').get<boolean>('codeLens.enabled', true)) return [];
    const key = document.uri.toString();
    let entry = this.cache.get(key);
    if (!entry || entry.version !== document.version) {
      entry = { version: document.version, specs: this.compute(document) };
      this.cache.set(key, entry);
    }
    const specs = await entry.specs;
    if (token.isCancellationRequested) return [];
    return specs.map((spec) => {
      const range = new vscode.Range(spec.line, 0, spec.line, 0);
      const title = `${spec.icon ? `$(${spec.icon}) ` : ''}${lensTitle(spec, vscode.l10n.t)}`;
      return new vscode.CodeLens(range, { title, command: spec.command, arguments: [...spec.args], tooltip: vscode.l10n.t('Lifeboat') });
    });
  }

  private async compute(document: vscode.TextDocument): Promise<LensSpec[]> {
    const doc = await parseHcl(document.getText());
    const outline = outlineTfvars(doc, path.basename(path.dirname(document.uri.fsPath)));
    const discoveries = await this.s.discovery.discoveries();
    const env = discoveries.flatMap((d) => d.environments).find((e) => e.tfvarsPath === document.uri.fsPath);
    return tfvarsLenses({
      outline,
      inventory: this.s.inventory.cached,
      loading: this.s.inventory.loading,
      schedule: env?.backup?.schedule,
      rpoFallbackHours: vscode.workspace.getConfiguration('lifeboat').get<number>('backup.rpoHours') ?? 26,
      now: new Date(),
      available: new Set<string>(commandIds),
      verdictOf: (volid) => this.s.verify.verdictOf(volid),
      match: { stateGuests: await this.s.discovery.stateGuestsOnDisk() },
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerTfvarsCodeLens(context: vscode.ExtensionContext, s: Services): TfvarsCodeLensProvider {
  const provider = new TfvarsCodeLensProvider(s);
  context.subscriptions.push(
    provider,
    vscode.languages.registerCodeLensProvider([{ scheme: 'file', pattern: '**/*.tfvars' }], provider),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lifeboat.codeLens') || e.affectsConfiguration('lifeboat.backup')) provider.invalidate();
    }),
  );
  return provider;
}
