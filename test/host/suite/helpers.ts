import * as vscode from 'vscode';

export const EXTENSION_ID = 'lifeboat-dr.lifeboat';

/** The API object returned by the extension's activate(). */
export interface LifeboatApi {
  recoveryTree: vscode.TreeDataProvider<unknown>;
}

export function getExtension(): vscode.Extension<LifeboatApi> {
  const ext = vscode.extensions.getExtension<LifeboatApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext;
}

/** Activates the extension if needed and returns its API. */
export async function getApi(): Promise<LifeboatApi> {
  const ext = getExtension();
  const api = ext.isActive ? ext.exports : await ext.activate();
  if (!api || typeof api !== 'object' || !('recoveryTree' in api)) {
    throw new Error(`activate() returned ${JSON.stringify(api)}, expected { recoveryTree }`);
  }
  return api;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until `done` accepts its result or `timeoutMs` elapses, then returns the last
 * result (the caller's assertion reports what was seen).
 */
export async function poll<T>(probe: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(250);
  }
}

export function labelOf(item: vscode.TreeItem): string {
  const { label } = item;
  if (label === undefined) return '';
  return typeof label === 'string' ? label : label.label;
}

/** The children of `element` (top level when undefined) with their tree items and labels. */
export async function childrenOf(
  provider: vscode.TreeDataProvider<unknown>,
  element?: unknown,
): Promise<{ element: unknown; item: vscode.TreeItem; label: string }[]> {
  const children = (await provider.getChildren(element)) ?? [];
  return Promise.all(
    children.map(async (child) => {
      const item = await provider.getTreeItem(child);
      return { element: child, item, label: labelOf(item) };
    }),
  );
}
