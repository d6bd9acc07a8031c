// CodeLens on the lab workspace's terraform.tfvars (issue 7): titles from the cached inventory of the
// real (simulated) nodes, restore lenses with the right command and arguments, block lenses, the
// setting that turns them off. Runs first in the bundle: the inventory is not loaded yet.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { poll } from '../suite/helpers';
import { labApi, walk } from './labHelpers';

const ENVS = 'infrastructure/proxmox/environments';

function tfvars(env: string): vscode.Uri {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  return vscode.Uri.file(path.join(root, ENVS, env, 'terraform.tfvars'));
}

interface Lens { line: number; title: string; command: string; args: unknown[] }

async function lenses(uri: vscode.Uri): Promise<Lens[]> {
  const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
  return found.map((l) => ({ line: l.range.start.line, title: l.command?.title ?? '', command: l.command?.command ?? '', args: l.command?.arguments ?? [] }));
}

/** Zero-based line of the first line matching `re`. */
function lineOf(doc: vscode.TextDocument, re: RegExp): number {
  for (let i = 0; i < doc.lineCount; i++) if (re.test(doc.lineAt(i).text)) return i;
  throw new Error(`no line matches ${re}`);
}

const show = (l: Lens[]) => JSON.stringify(l.map((x) => `${x.line + 1}: ${x.title} → ${x.command} ${JSON.stringify(x.args)}`), null, 1);

describe('lab: CodeLens on terraform.tfvars', () => {
  let prod: vscode.TextDocument;

  before(async () => {
    await labApi();
    prod = await vscode.workspace.openTextDocument(tfvars('prod'));
    await vscode.window.showTextDocument(prod);
  });

  after(async () => {
    await vscode.workspace.getConfiguration('lifeboat').update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('before the nodes are read, says so at the top and offers restore by name', async () => {
    const all = await poll(() => lenses(prod.uri), (l) => l.length > 0, 20_000);
    const top = all.find((l) => l.line === 0);
    assert.ok(top, `a lens on line 1: ${show(all)}`);
    assert.match(top.title, /Lifeboat: prod — (connect to see backups|reading the nodes…)/, show(all));
    const gitea = all.find((l) => l.line === lineOf(prod, /^\s*"gitea"\s*=/) && l.command === 'lifeboat.restoreFromNewest');
    assert.ok(gitea, `a restore lens above gitea: ${show(all)}`);
    assert.deepEqual(gitea.args, [{ name: 'gitea', environment: 'prod' }]);
  });

  // BUG (reported to the lead): lifeboat.connect only calls inventory.refresh(), which drops the cached
  // promise and fires onDidChange; nothing reads the nodes unless an expanded node of the Recovery view
  // asks for its guests. The lens "Lifeboat: prod — connect to see backups" (command lifeboat.connect)
  // therefore does nothing visible. Un-skip when connect loads the inventory itself.
  it.skip('lifeboat.connect (the top lens\'s action) reads the nodes by itself', async () => {
    await vscode.commands.executeCommand('lifeboat.connect');
    const all = await poll(() => lenses(prod.uri), (l) => l.some((x) => /VMID 121/.test(x.title)), 20_000);
    assert.ok(all.some((x) => /VMID 121/.test(x.title)), `20 s after lifeboat.connect the lenses still say: ${show(all.filter((l) => l.line === 0))}`);
  });

  it('after lifeboat.connect and the inventory, shows a restore lens above gitea, nextcloud, postgres and dns', async () => {
    const api = await labApi();
    await vscode.commands.executeCommand('lifeboat.connect');
    // The explorer reading alpha is what loads the inventory (lenses only read the cache).
    await walk(api.recoveryTree, 'prod', 'alpha', 'gitea');
    const expected = [
      { name: 'gitea', vmid: 121 },
      { name: 'nextcloud', vmid: 122 },
      { name: 'postgres', vmid: 131 },
      { name: 'dns', vmid: 132 },
    ];
    const all = await poll(() => lenses(prod.uri), (l) => l.filter((x) => /VMID \d+/.test(x.title)).length >= 4, 20_000);
    for (const { name, vmid } of expected) {
      const line = lineOf(prod, new RegExp(`^\\s*"${name}"\\s*=`));
      const restore = all.find((l) => l.line === line && l.command === 'lifeboat.restoreFromNewest');
      assert.ok(restore, `restore lens above ${name} (line ${line + 1}): ${show(all)}`);
      assert.match(restore.title, new RegExp(`^\\$\\(history\\) Restore from newest backup \\(VMID ${vmid}, \\d+ (min|h|d) old\\)$`), restore.title);
      assert.deepEqual(restore.args, [{ vmid, node: 'alpha' }], `arguments of the lens above ${name}`);
      const backups = all.find((l) => l.line === line && l.command === 'lifeboat.showBackups');
      assert.ok(backups, `"Show backups" lens above ${name}: ${show(all)}`);
      assert.match(backups.title, /Show backups \(\d+\)/);
      assert.deepEqual(backups.args, [{ vmid }]);
    }
    const top = all.find((l) => l.line === 0);
    assert.ok(top, show(all));
    assert.match(top.title, /Lifeboat: prod — 4 guests, newest backup \d+ (min|h|d) old/, top.title);
    assert.equal(top.command, 'lifeboat.focusExplorer');
    const backupBlock = all.find((l) => l.line === lineOf(prod, /^backup\s*=/));
    assert.ok(backupBlock && backupBlock.command === 'lifeboat.showBackupJobs', `"Show backup jobs" on the backup block: ${show(all)}`);
    // No secret of the file (the API token) ever reaches a title.
    assert.ok(!all.some((l) => l.title.includes('00000000-0000')), 'a lens title shows the API token');
  });

  it('shows the minio, monitoring and backup block lenses on the monitoring tfvars', async () => {
    const doc = await vscode.workspace.openTextDocument(tfvars('monitoring'));
    await vscode.window.showTextDocument(doc);
    const all = await poll(() => lenses(doc.uri), (l) => l.some((x) => x.command === 'lifeboat.checkMinioHealth'), 20_000);
    const at = (re: RegExp, command: string, title: RegExp) => {
      const line = lineOf(doc, re);
      const lens = all.find((l) => l.line === line && l.command === command);
      assert.ok(lens, `${command} on line ${line + 1}: ${show(all)}`);
      assert.match(lens.title, title);
    };
    at(/^minio\s*=/, 'lifeboat.checkMinioHealth', /Check MinIO health/);
    at(/^monitoring\s*=/, 'lifeboat.checkMonitoringHealth', /Check health/);
    at(/^backup\s*=/, 'lifeboat.showBackupJobs', /Show backup jobs/);
    const top = all.find((l) => l.line === 0);
    assert.ok(top && /Lifeboat: monitoring — /.test(top.title), show(all));
  });

  it('turning lifeboat.codeLens.enabled off removes them, on brings them back', async () => {
    assert.ok((await lenses(prod.uri)).length > 0);
    await vscode.workspace.getConfiguration('lifeboat').update('codeLens.enabled', false, vscode.ConfigurationTarget.Global);
    const off = await poll(() => lenses(prod.uri), (l) => l.length === 0, 10_000);
    assert.deepEqual(off.map((l) => l.title), [], 'lenses with the setting off');
    await vscode.workspace.getConfiguration('lifeboat').update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
    const on = await poll(() => lenses(prod.uri), (l) => l.some((x) => x.command === 'lifeboat.restoreFromNewest'), 10_000);
    assert.ok(on.some((x) => /VMID 121/.test(x.title)), show(on));
  });
});
