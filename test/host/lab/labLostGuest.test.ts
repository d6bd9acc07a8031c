// A guest destroyed on its node, on the simulated homelab (issues 4, 7 and 8): postgres (131, notes
// "postgres" on its backups) and dns (132, backups without notes) are destroyed with `pct destroy`;
// their backups stay on the storages. The explorer shows postgres "missing — restorable from backup"
// with VMID 131 and its backups, and dns's backups under "Backups without a guest"; the CodeLens
// offers the restore of 131; verify-backups says guest-missing (a warning), not "no backup exists";
// `lifeboat restore-vm 131 --dry-run` plans the restore. The after hook brings both back with the
// node's own `pct restore` (whatever failed), so the suites that follow find the lab as it was.
// (A real Lifeboat restore of a lost guest runs in test/integration/restoreVm.test.ts, through the CLI.)
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { RecoveryTreeProvider } from '../../../src/extension/views/recoveryTree';
import { poll } from '../suite/helpers';
import { clusterGuests, labApi, restoreContainerOnNode, rows, ssh, walk, type Row } from './labHelpers';

const run = promisify(execFile);
const AGE = String.raw`\d+ (min|h|d) ago`;

function workspaceRoot(): string {
  return vscode.workspace.workspaceFolders![0]!.uri.fsPath;
}

/** The lifeboat CLI of .lab/bin (the extension host inherits .lab/env), in the lab's workspace. */
async function lifeboat(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('lifeboat', args, { cwd: workspaceRoot(), env: process.env, encoding: 'utf8', timeout: 300_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The volids of a guest's backups as the node lists them (shared `backups` and alpha's `local`). */
function backupsOnAlpha(vmid: number): string[] {
  return ssh('alpha', `pvesm list backups --vmid ${vmid}; pvesm list local --vmid ${vmid}`)
    .split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter((v) => v.includes(`-${vmid}-`));
}

interface Lens { line: number; title: string; command: string; args: unknown[] }

async function lenses(uri: vscode.Uri): Promise<Lens[]> {
  const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
  return found.map((l) => ({ line: l.range.start.line, title: l.command?.title ?? '', command: l.command?.command ?? '', args: l.command?.arguments ?? [] }));
}

describe('lab: a guest destroyed on its node, its backups still on the storage', function () {
  this.timeout(600_000);
  let tree: RecoveryTreeProvider;
  const destroyed = [131, 132];

  /** The prod/alpha rows once the inventory shows `label` as `expect` says. */
  async function alphaRows(until: (r: Row[]) => boolean): Promise<Row[]> {
    const alpha = await walk(tree, 'prod', 'alpha');
    return poll(() => rows(tree, alpha.element), until, 45_000);
  }

  before(async () => {
    tree = (await labApi()).recoveryTree;
    tree.setFilter(undefined);
    const before = clusterGuests('alpha');
    for (const vmid of destroyed) assert.ok(before.some((g) => g.vmid === vmid), `${vmid} exists on alpha before the test`);
    for (const vmid of destroyed) {
      const g = before.find((x) => x.vmid === vmid)!;
      ssh('alpha', `${g.status === 'running' ? `pct stop ${vmid} && ` : ''}pct destroy ${vmid}`);
    }
    await poll(() => clusterGuests('alpha'), (g) => !g.some((x) => destroyed.includes(x.vmid)), 60_000);
    assert.ok(backupsOnAlpha(131).length > 0 && backupsOnAlpha(132).length > 0, 'destroying a guest keeps its backups');
    await vscode.commands.executeCommand('lifeboat.refresh');
  });

  after(async () => {
    // Whatever happened above: bring back what is still missing, so the next suites find the lab as it was.
    for (const vmid of destroyed) {
      if (!clusterGuests('alpha').some((g) => g.vmid === vmid)) restoreContainerOnNode('alpha', vmid);
    }
    await poll(() => clusterGuests('alpha'), (g) => destroyed.every((v) => g.some((x) => x.vmid === v && x.status === 'running')), 60_000);
    await vscode.commands.executeCommand('lifeboat.refresh');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows postgres as "missing — restorable from backup" with VMID 131 from its backups\' notes, its backups and the restore menus', async () => {
    const guests = await alphaRows((r) => r.some((x) => x.label === 'postgres' && x.description.includes('missing')));
    const postgres = guests.find((g) => g.label === 'postgres')!;
    assert.match(postgres.description, new RegExp(`^131 · LXC · missing — restorable from backup · newest ${AGE}$`), postgres.description);
    assert.equal(postgres.contextValue, 'lifeboat.guest.missing.restorable');
    assert.match(String(postgres.item.tooltip), /VMID 131, from the notes of its backups/);
    assert.equal(postgres.item.id, 'env/prod/node/alpha/guest/declared:postgres');
    const el = postgres.element;
    assert.ok(el.kind === 'guest');
    assert.deepEqual([el.vmid, el.vmidSource, el.node], [131, 'backup-notes', 'alpha']);
    // What the restore commands read from a guest item: `guest?.vmid ?? declared?.vmid` on `node`.
    assert.deepEqual([el.guest, el.declared?.vmid], [undefined, 131]);
    const backups = (await rows(tree, el)).filter((r) => r.contextValue.startsWith('lifeboat.backup'));
    const onNode = backupsOnAlpha(131);
    assert.deepEqual(backups.map((b) => (b.element.kind === 'backup' ? b.element.backup.volid : '')).sort(), [...onNode].sort(), 'every backup of 131 the node lists');
  });

  it('lists dns (no notes on its backups) as not found, and its backups under "Backups without a guest" on alpha', async () => {
    const guests = await alphaRows((r) => r.some((x) => x.label === 'Backups without a guest'));
    const dns = guests.find((g) => g.label === 'dns');
    assert.equal(dns?.description, 'LXC · not found on any node');
    assert.equal(dns?.contextValue, 'lifeboat.guest.missing');
    const group = guests.find((g) => g.label === 'Backups without a guest')!;
    assert.equal(group.item.id, 'env/prod/node/alpha/orphans');
    const vmids = await rows(tree, group.element);
    const v132 = vmids.find((v) => v.label === 'VMID 132');
    assert.ok(v132, JSON.stringify(vmids.map((v) => v.label)));
    assert.match(v132.description, new RegExp(`^LXC · .*\\d+ backup\\(s\\) · newest ${AGE}$`), v132.description);
    const backups = await rows(tree, v132.element);
    assert.ok(backups.every((b) => /^lifeboat\.backup/.test(b.contextValue)), 'each one can be restored (its own menu)');
    assert.deepEqual(backups.map((b) => (b.element.kind === 'backup' ? b.element.backup.volid : '')).sort(), backupsOnAlpha(132).sort());
  });

  it('the CodeLens above postgres restores VMID 131 on alpha; the summary counts the missing guests', async () => {
    const uri = vscode.Uri.file(path.join(workspaceRoot(), 'infrastructure/proxmox/environments/prod/terraform.tfvars'));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const line = doc.getText().split('\n').findIndex((l) => /^\s*"postgres"\s*=/.test(l));
    const all = await poll(() => lenses(uri), (l) => l.some((x) => x.line === line && /VMID 131/.test(x.title) && x.command === 'lifeboat.restoreFromNewest'), 30_000);
    const show = JSON.stringify(all.map((l) => `${l.line + 1}: ${l.title}`), null, 1);
    const restore = all.find((l) => l.line === line && l.command === 'lifeboat.restoreFromNewest');
    assert.ok(restore, show);
    assert.match(restore.title, /^\$\(history\) Restore from newest backup \(VMID 131, \d+ (min|h|d) old\)$/);
    assert.deepEqual(restore.args, [{ vmid: 131, node: 'alpha' }]);
    assert.ok(all.some((l) => l.line === line && /Not found on any node \(VMID 131, named in its backups' notes\)/.test(l.title)), show);
    const top = all.find((l) => l.line === 0)!;
    assert.match(top.title, /^\$\(warning\) Lifeboat: prod — 4 guests, 1 not found on any node, 1 missing, restorable from backup/, top.title);
  });

  it('lifeboat verify-backups --vmid 131: guest-missing with its newest backup (a warning, exit 1), not "no backup of it exists"', async () => {
    const r = await lifeboat('verify-backups', '--vmid', '131', '--json');
    const result = JSON.parse(r.stdout) as { exitCode: number; findings: { code: string; severity: string; guest?: string; message: string }[] };
    const codes = result.findings.filter((f) => f.guest === 'postgres' || f.code.startsWith('guest')).map((f) => `${f.severity} ${f.code}: ${f.message}`);
    assert.ok(result.findings.some((f) => f.code === 'guest-missing' && f.severity === 'warning' && f.guest === 'postgres'), codes.join('\n'));
    assert.ok(!result.findings.some((f) => f.code === 'never-backed-up'), codes.join('\n'));
    assert.equal(r.code, 1, `exit code (${r.stderr})`);
  });

  it('lifeboat restore-vm 131 --dry-run plans its restore from the newest backup as a new guest on alpha, overwriting nothing', async () => {
    const r = await lifeboat('restore-vm', '131', '--node', 'alpha', '--dry-run');
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const out = `${r.stdout}\n${r.stderr}`;
    const postgres = (await alphaRows((x) => x.some((g) => g.label === 'postgres'))).find((g) => g.label === 'postgres')!;
    // The newest regular backup (a restore never picks a Lifeboat safety point when another exists).
    const newest = postgres.element.kind === 'guest' ? postgres.element.backups.find((b) => !(b.notes ?? '').startsWith('Lifeboat safety point'))?.volid : undefined;
    assert.ok(newest, 'the explorer\'s newest backup of postgres');
    assert.ok(out.includes(`pct restore 131 ${newest} `), `the plan restores ${newest}:\n${out}`);
    assert.match(out, /Target: CT 131 \(new\)/);
    assert.doesNotMatch(out, /This will destroy or overwrite/);
  });

  it('once the node has it again, the explorer shows postgres as a running guest', async () => {
    restoreContainerOnNode('alpha', 131);
    await poll(() => clusterGuests('alpha').find((g) => g.vmid === 131), (g) => g?.status === 'running', 60_000);
    await vscode.commands.executeCommand('lifeboat.refresh');
    const guests = await alphaRows((x) => x.some((g) => g.label === 'postgres' && g.description.startsWith('131 · LXC · running')));
    const postgres = guests.find((g) => g.label === 'postgres')!;
    assert.match(postgres.contextValue, /^lifeboat\.guest\.exists\.running/);
    assert.equal(postgres.item.id, 'env/prod/node/alpha/guest/131');
  });
});
