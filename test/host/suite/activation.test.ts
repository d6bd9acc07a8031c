import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, getApi, getExtension, poll } from './helpers';

describe('activation', () => {
  it('loads the extension from the development path', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} should be among ${vscode.extensions.all.length} loaded extensions`);
  });

  it('opens the homelab fixture as the workspace', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, 'exactly one workspace folder');
    assert.match(folders[0]?.uri.path ?? '', /\/homelab$/);
  });

  it('activates by itself on a workspace containing terraform.tfvars', async () => {
    const ext = getExtension();
    const active = await poll(() => ext.isActive, (isActive) => isActive, 20_000);
    assert.equal(active, true, 'workspaceContains:**/terraform.tfvars should have activated the extension');
  });

  it('returns its API from activate()', async () => {
    const api = await getApi();
    assert.equal(typeof api.recoveryTree.getChildren, 'function');
    assert.equal(typeof api.recoveryTree.getTreeItem, 'function');
  });
});
