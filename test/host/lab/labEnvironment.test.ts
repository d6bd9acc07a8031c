import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { getExtension } from '../suite/helpers';
import { labApi } from './labHelpers';

describe('lab: the extension host on the simulated homelab', () => {
  it('inherits the lab environment of .lab/env', () => {
    assert.equal(process.env['LIFEBOAT_LAB'], '1', 'LIFEBOAT_LAB');
    for (const key of ['LIFEBOAT_SSH_CONFIG', 'LIFEBOAT_KNOWN_HOSTS', 'LIFEBOAT_SSH_KEY']) {
      const file = process.env[key];
      assert.ok(file && existsSync(file), `${key}=${String(file)} should name an existing file`);
    }
    assert.ok(process.env['AWS_ACCESS_KEY_ID'] && process.env['AWS_SECRET_ACCESS_KEY'] && process.env['MINIO_ROOT_PASSWORD'], 'AWS_* and MINIO_ROOT_PASSWORD');
    // VS Code's server always puts its own remote-cli folder (the `code` command) first.
    const entries = (process.env['PATH'] ?? '').split(':').filter((d) => !/\/bin\/remote-cli$/.test(d));
    assert.match(entries[0] ?? '', /\/\.lab\/bin$/, `PATH should start with .lab/bin: ${process.env['PATH']}`);
    const terraform = entries.map((d) => path.join(d, 'terraform')).find((f) => existsSync(f));
    assert.match(terraform ?? '', /\/\.lab\/bin\/terraform$/, 'terraform is the lab\'s stand-in');
  });

  it('opens .lab/workspace', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    assert.match(folders[0]?.uri.fsPath ?? '', /\/\.lab\/workspace$/);
  });

  it('activates and registers every command of package.json', async () => {
    await labApi();
    const json = getExtension().packageJSON as { contributes: { commands: { command: string }[] } };
    const declared = json.contributes.commands.map((c) => c.command);
    assert.ok(declared.length >= 17, `${declared.length} commands declared`);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(declared.filter((id) => !registered.has(id)), [], 'declared but not registered');
  });
});
