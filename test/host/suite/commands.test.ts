import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { getApi, getExtension } from './helpers';

interface CommandContribution {
  command: string;
}

describe('commands', () => {
  before(async () => {
    await getApi();
  });

  it('declares at least one command in package.json', () => {
    const declared = declaredCommands();
    assert.ok(declared.length > 0, 'contributes.commands is empty');
    for (const id of declared) assert.match(id, /^lifeboat\.[a-z][A-Za-z0-9]*$/, `command id ${id}`);
  });

  it('registers every command declared in package.json', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declaredCommands().filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], 'declared in package.json but not registered');
  });

  it('declares every lifeboat.* command it registers', async () => {
    const declared = new Set(declaredCommands());
    const registered = (await vscode.commands.getCommands(true)).filter((id) => id.startsWith('lifeboat.'));
    // Views contribute built-in commands named after the view id (e.g. lifeboat.recovery.focus).
    const viewIds = viewIdsOf();
    const undeclared = registered.filter(
      (id) => !declared.has(id) && !viewIds.some((view) => id.startsWith(`${view}.`)),
    );
    assert.deepEqual(undeclared, [], 'registered but not declared in package.json');
  });
});

function declaredCommands(): string[] {
  const json = getExtension().packageJSON as { contributes?: { commands?: CommandContribution[] } };
  return (json.contributes?.commands ?? []).map((c) => c.command);
}

function viewIdsOf(): string[] {
  const json = getExtension().packageJSON as {
    contributes?: { views?: Record<string, { id: string }[]> };
  };
  return Object.values(json.contributes?.views ?? {}).flat().map((v) => v.id);
}
