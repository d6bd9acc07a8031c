import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { commandIds } from '../../../src/extension/commands/ids';

const root = path.resolve(__dirname, '../../..');

interface Manifest {
  contributes: {
    configuration: { properties: Record<string, { scope?: string }> };
    commands: { command: string; category?: string }[];
    menus: Record<string, { command: string }[]>;
    views: Record<string, { id: string }[]>;
  };
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: string | boolean; restrictedConfigurations?: string[] } };
  engines: { vscode: string };
}

async function manifest(): Promise<Manifest> {
  return JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as Manifest;
}

describe('package.json manifest', () => {
  it('declares exactly the commands the extension registers', async () => {
    const declared = (await manifest()).contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(declared, [...commandIds].sort());
  });

  it('puts every command under the "Lifeboat" category', async () => {
    const m = await manifest();
    assert.deepEqual(m.contributes.commands.filter((c) => c.category !== 'Lifeboat').map((c) => c.command), []);
  });

  it('only references declared commands in menus', async () => {
    const m = await manifest();
    const declared = new Set(m.contributes.commands.map((c) => c.command));
    const referenced = Object.values(m.contributes.menus).flat().map((e) => e.command);
    assert.deepEqual(referenced.filter((c) => !declared.has(c)), []);
  });

  it('activates lazily and supports Restricted Mode in a limited way', async () => {
    const m = await manifest();
    assert.ok(!m.activationEvents.includes('*'), 'never activate on startup');
    assert.ok(m.activationEvents.includes('workspaceContains:**/terraform.tfvars'));
    assert.equal(m.capabilities.untrustedWorkspaces.supported, 'limited');
  });

  it('in Restricted Mode ignores the workspace settings that say where SSH goes, which keys it trusts, what runs and where files are written', async () => {
    const m = await manifest();
    const restricted = new Set(m.capabilities.untrustedWorkspaces.restrictedConfigurations ?? []);
    const steering = Object.keys(m.contributes.configuration.properties)
      .filter((k) => /^lifeboat\.(nodes|ssh\.|discovery\.|runbook\.(destructivePatterns|reportFolder))/.test(k));
    assert.ok(steering.length >= 7, steering.join());
    assert.deepEqual(steering.filter((k) => !restricted.has(k)), []);
  });

  it('accepts VS Code 1.139, the version the tests run in, and is no newer than @types/vscode', async () => {
    const m = await manifest();
    const min = /^\^(\d+)\.(\d+)/.exec(m.engines.vscode);
    assert.ok(min, m.engines.vscode);
    assert.ok(Number(min[2]) <= 139 && Number(min[1]) === 1);
    const types = JSON.parse(await fs.readFile(path.join(root, 'node_modules/@types/vscode/package.json'), 'utf8')) as { version: string };
    assert.ok(Number(types.version.split('.')[1]) <= Number(min[2]), `@types/vscode ${types.version} is newer than engines ${m.engines.vscode}`);
  });
});
