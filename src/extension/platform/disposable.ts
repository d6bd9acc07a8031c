import type * as vscode from 'vscode';

/** Base for classes that own listeners: everything registered is disposed with the owner (GHPR's `_register`). */
export abstract class DisposableOwner implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];

  protected register<T extends vscode.Disposable>(disposable: T): T {
    this.owned.push(disposable);
    return disposable;
  }

  dispose(): void {
    for (const d of this.owned.splice(0).reverse()) d.dispose();
  }
}
