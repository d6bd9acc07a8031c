/**
 * The last backup verification, held for the window: the Problems panel (a DiagnosticCollection
 * with one diagnostic on the tfvars line of each affected guest), the explorer's corrupt flags and
 * the view's badge with the error count.
 */
import * as vscode from 'vscode';
import type { VerifyResult } from '../../core';
import { DisposableOwner } from '../platform/disposable';
import { badgeFor, diagnosticsByFile, verdictsByVolid } from './findings';

export class VerifyResults extends DisposableOwner {
  readonly diagnostics = this.register(vscode.languages.createDiagnosticCollection('lifeboat'));
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private verdicts = new Map<string, 'corrupt' | 'ok'>();
  private views: vscode.TreeView<unknown>[] = [];
  private last: VerifyResult | undefined;

  get result(): VerifyResult | undefined {
    return this.last;
  }

  /** The verdict of the last verification for a backup, if it was checked. */
  verdictOf(volid: string): 'corrupt' | 'ok' | undefined {
    return this.verdicts.get(volid);
  }

  /** The explorer's view: its badge shows the error count. */
  attachView(view: vscode.TreeView<unknown>): void {
    this.views.push(view);
    this.applyBadge();
  }

  set(result: VerifyResult): void {
    this.last = result;
    this.diagnostics.clear();
    for (const [file, list] of diagnosticsByFile(result, vscode.l10n.t)) {
      this.diagnostics.set(vscode.Uri.file(file), list.map((d) => {
        const range = new vscode.Range(d.range.start.line, d.range.start.column, d.range.end.line, Math.max(d.range.end.column, d.range.start.column + 1));
        const diagnostic = new vscode.Diagnostic(range, d.message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        diagnostic.source = 'Lifeboat';
        diagnostic.code = d.code;
        return diagnostic;
      }));
    }
    this.verdicts = verdictsByVolid(result);
    this.applyBadge();
    this.changed.fire();
  }

  private applyBadge(): void {
    const badge = this.last ? badgeFor(this.last, vscode.l10n.t) : undefined;
    for (const v of this.views) v.badge = badge;
  }
}
