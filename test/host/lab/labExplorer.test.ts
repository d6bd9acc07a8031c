// The Recovery explorer on the simulated homelab (issue 4): environment → node → guests read over
// SSH → backups, flags (stale, corrupt, protected, never backed up), filter, "Load more", and unique
// item ids when two environments share a node. Nothing here changes the lab's nodes (a verification
// reads them; a second environment is written into the workspace and removed).
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RecoveryTreeProvider } from '../../../src/extension/views/recoveryTree';
import { poll } from '../suite/helpers';
import { child, clusterGuests, labApi, rows, ssh, walk, type Row } from './labHelpers';

const iconOf = (r: Row) => (r.item.iconPath instanceof vscode.ThemeIcon ? r.item.iconPath.id : '?');

/** "2026-11-23 01:30 UTC" */
const DATE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC$/;
const AGE = String.raw`\d+ (min|h|d) ago`;
const SIZE = String.raw`\d+(\.\d)? (GiB|MiB|KiB)`;
/** The volid of a backup row (its element carries the inventory's backup). */
const volidOf = (r: Row) => (r.element.kind === 'backup' ? r.element.backup.volid : `not a backup: ${r.label}`);

describe('lab: Recovery explorer', () => {
  let tree: RecoveryTreeProvider;

  before(async () => {
    tree = (await labApi()).recoveryTree;
    tree.setFilter(undefined);
  });

  after(() => tree.setFilter(undefined));

  it('lists the environments lab, monitoring and prod; prod has node alpha', async () => {
    const top = await poll(() => rows(tree), (r) => ['lab', 'monitoring', 'prod'].every((e) => r.some((x) => x.label === e)), 20_000);
    assert.deepEqual(top.map((r) => r.label).sort(), ['lab', 'monitoring', 'prod']);
    const alpha = await walk(tree, 'prod', 'alpha');
    assert.equal(alpha.description, '127.20.0.10');
    assert.match(alpha.contextValue, /^lifeboat\.node/);
  });

  it('expands prod → alpha: gitea, nextcloud, postgres, dns with their VMIDs and status', async () => {
    const alpha = await walk(tree, 'prod', 'alpha');
    const guests = await poll(() => rows(tree, alpha.element), (r) => r.some((x) => x.label === 'dns'), 45_000);
    const cluster = clusterGuests('alpha');
    for (const [name, vmid, kind] of [['gitea', 121, 'VM'], ['nextcloud', 122, 'VM'], ['postgres', 131, 'LXC'], ['dns', 132, 'LXC']] as const) {
      const row = guests.find((g) => g.label === name);
      assert.ok(row, `${name} under prod/alpha: ${JSON.stringify(guests.map((g) => g.label))}`);
      const status = cluster.find((g) => g.vmid === vmid)?.status ?? '?';
      assert.match(row.description, new RegExp(`^${vmid} · ${kind} · ${status}( · locked \\(\\w+\\))? · newest ${AGE}$`), `${name}: ${row.description}`);
      assert.match(row.contextValue, /^lifeboat\.guest\.exists/, `${name}: ${row.contextValue}`);
      assert.equal(row.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    }
    // The declared gitea once; a copy restored to a new VMID (another suite makes 921) is listed apart.
    assert.equal(guests.filter((g) => g.label === 'gitea' && g.description.startsWith('121 · ')).length, 1, 'gitea 121 once');
  });

  it('expands gitea: its backups newest first, dated, with age, size, format and storage; the oldest is protected', async () => {
    const gitea = await walk(tree, 'prod', 'alpha', 'gitea');
    const backups = (await rows(tree, gitea.element)).filter((r) => r.contextValue.startsWith('lifeboat.backup'));
    assert.ok(backups.length >= 14, `${backups.length} backups of gitea (the lab seeds 14 nightly ones)`);
    const dates = backups.map((b) => DATE.exec(b.label)?.[1] ?? `not a date: ${b.label}`);
    assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first');
    for (const b of backups) {
      // Lifeboat's own safety points (left by earlier restores of 121) say so first.
      assert.match(b.description, new RegExp(`^(safety point · )?${AGE} · ${SIZE} · vma\\.(zst|gz|lzo) · (backups|local)( · .+)?$`), `${b.label}: ${b.description}`);
      // Ids carry the environment and the node: the same backup can be listed under two environments.
      assert.match(b.item.id ?? '', /^env\/prod\/node\/alpha\/guest\/121\/backup\/(backups|local):backup\/vzdump-qemu-121-\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}\.vma\.(zst|gz|lzo)$/);
    }
    const nightly = backups.filter((b) => b.description.includes(' · backups'));
    assert.ok(nightly.length >= 14, 'the nightly backups on the shared storage "backups"');
    // Safety points are protected too (vzdump --protected 1): the seeded protected one is the other.
    const protectedOnes = backups.filter((b) => b.contextValue.includes('protected') && !b.description.startsWith('safety point · '));
    assert.equal(protectedOnes.length, 1, `one protected backup: ${JSON.stringify(protectedOnes.map((b) => b.label))}`);
    assert.equal(protectedOnes[0]?.label, nightly[nightly.length - 1]?.label, 'the oldest nightly backup is the protected one');
    // What the tree shows is what the node has: each backup item is a volume on alpha.
    const onNode = ssh('alpha', 'pvesm list backups --vmid 121; pvesm list local --vmid 121');
    for (const b of backups) assert.ok(onNode.includes(volidOf(b)), `${b.item.id} is not on alpha:\n${onNode}`);
  });

  it('flags sandbox (lab → beta) as never backed up', async () => {
    const sandbox = await walk(tree, 'lab', 'beta', 'sandbox');
    assert.match(sandbox.contextValue, /never/, sandbox.contextValue);
    assert.match(sandbox.description, /^202 · VM · stopped · never backed up$/, sandbox.description);
    const children = await rows(tree, sandbox.element);
    assert.deepEqual(children.map((c) => c.label), ['No backup on any storage']);
    const k3s = await child(tree, (await walk(tree, 'lab', 'beta')).element, 'k3s-test');
    assert.match(k3s.description, /^201 · VM · \w+ · newest /, k3s.description);
  });

  it('flags k3s-test (lab → beta) as stale: its newest backup is older than the lab\'s 26 h RPO (backup block "03:00")', async () => {
    const k3s = await walk(tree, 'lab', 'beta', 'k3s-test');
    assert.match(k3s.contextValue, /^lifeboat\.guest\.exists(\.running)?\.stale$/, k3s.contextValue);
    assert.match(k3s.description, /newest \d+ d ago$/, k3s.description);
    assert.equal(iconOf(k3s), 'warning');
    assert.match(String(k3s.item.tooltip), /Older than the 26 h recovery point objective/);
    const backups = (await rows(tree, k3s.element)).filter((r) => r.contextValue.startsWith('lifeboat.backup'));
    assert.match(backups[0]?.contextValue ?? '', /stale/, 'its newest backup is flagged too');
    assert.ok(backups.slice(1).every((b) => !b.contextValue.includes('stale')), 'only the newest');
  });

  it('after a verification, nextcloud\'s newest archive (damaged in the lab) is CORRUPT; the guest still has intact ones', async () => {
    await vscode.commands.executeCommand('lifeboat.verifyBackups', { env: 'prod', full: false });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const nextcloud = await walk(tree, 'prod', 'alpha', 'nextcloud');
    const backups = (await rows(tree, nextcloud.element)).filter((r) => r.contextValue.startsWith('lifeboat.backup'));
    const corrupt = backups.filter((b) => b.contextValue.includes('corrupt'));
    assert.equal(corrupt.length, 1, JSON.stringify(backups.map((b) => `${b.label} ${b.contextValue}`)));
    const nightly = backups.filter((b) => b.element.kind === 'backup' && !(b.element.backup.notes ?? '').startsWith('Lifeboat safety point'));
    assert.equal(corrupt[0]?.label, nightly[0]?.label, 'the newest nightly one');
    assert.match(corrupt[0]?.description ?? '', /^CORRUPT · /);
    assert.equal(iconOf(corrupt[0]!), 'error');
    // Only its newest is damaged: nextcloud is not "only corrupt backups", its newest intact one counts.
    assert.doesNotMatch(nextcloud.contextValue, /corrupt/);
    assert.match(nextcloud.description, /· newest \d+ (min|h|d) ago$/);
  });

  it('pages long backup lists: "Load more… (N older)" adds the next page until every backup is shown', async () => {
    const gitea = await walk(tree, 'prod', 'alpha', 'gitea');
    const all = gitea.element.kind === 'guest' ? gitea.element.backups.length : 0;
    assert.ok(all >= 14, `${all} backups of gitea`);
    // The page is 50 backups; the lab has about 14 per guest, so the test lowers it.
    tree.pageSize = 5;
    try {
      tree.setFilter(undefined);
      const page = async () => rows(tree, (await walk(tree, 'prod', 'alpha', 'gitea')).element);
      let shown = await page();
      assert.equal(shown.filter((r) => r.contextValue.startsWith('lifeboat.backup')).length, 5);
      for (let pages = 1; ; pages++) {
        const more = shown.find((r) => r.element.kind === 'loadMore');
        const backups = shown.filter((r) => r.contextValue.startsWith('lifeboat.backup'));
        if (!more) {
          assert.equal(backups.length, all, 'every backup once the last page is shown');
          assert.ok(pages > 2, `${pages} pages`);
          break;
        }
        assert.equal(more.label, `Load more… (${all - backups.length} older)`);
        assert.equal(more.item.command?.command, 'lifeboat.loadMoreBackups');
        await vscode.commands.executeCommand(more.item.command.command, ...(more.item.command.arguments ?? []));
        shown = await page();
        assert.equal(shown.filter((r) => r.contextValue.startsWith('lifeboat.backup')).length, Math.min(all, backups.length + 5));
      }
      const labels = shown.filter((r) => r.contextValue.startsWith('lifeboat.backup')).map((r) => r.label);
      assert.deepEqual(labels, [...labels].sort().reverse(), 'still newest first');
    } finally {
      tree.pageSize = 50;
    }
  });

  it('two environments on one node: every item id is unique (VS Code refuses an id registered twice)', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const envs = path.join(root, 'infrastructure/proxmox/environments');
    const staging = path.join(envs, 'staging');
    // A second environment on alpha declaring the same guests as prod (a copy of prod's tfvars).
    const prodText = await fs.readFile(path.join(envs, 'prod/terraform.tfvars'), 'utf8');
    assert.match(prodText, /environment\s*=\s*"prod"/);
    await fs.mkdir(staging, { recursive: true });
    try {
      await fs.writeFile(path.join(staging, 'terraform.tfvars'), prodText.replace(/environment\s*=\s*"prod"/, 'environment = "staging"'));
      await vscode.commands.executeCommand('lifeboat.refresh');
      await poll(() => rows(tree), (r) => r.some((x) => x.label === 'staging'), 20_000);
      const ids: string[] = [];
      const collect = async (row: Row, depth: number): Promise<void> => {
        if (row.item.id) ids.push(row.item.id);
        if (depth === 0 || row.item.collapsibleState === vscode.TreeItemCollapsibleState.None) return;
        for (const c of await rows(tree, row.element)) await collect(c, depth - 1);
      };
      for (const env of ['prod', 'staging']) {
        const alpha = await walk(tree, env, 'alpha');
        await poll(() => rows(tree, alpha.element), (r) => r.some((x) => x.label === 'gitea'), 45_000);
        await collect(alpha, 2);
      }
      const giteaBackups = ids.filter((id) => /\/guest\/121\/backup\//.test(id));
      assert.ok(giteaBackups.some((id) => id.startsWith('env/prod/')) && giteaBackups.some((id) => id.startsWith('env/staging/')), 'gitea\'s backups under both');
      const seen = new Set<string>();
      const twice = ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
      assert.deepEqual(twice, [], `${ids.length} ids`);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
      await vscode.commands.executeCommand('lifeboat.refresh');
      await poll(() => rows(tree), (r) => !r.some((x) => x.label === 'staging'), 20_000);
    }
  });

  it('filters by VMID through the provider (setFilter) and clears with lifeboat.clearFilter', async () => {
    const alpha = await walk(tree, 'prod', 'alpha');
    const beta = await walk(tree, 'lab', 'beta');
    const guestLabels = async (node: Row) => (await rows(tree, node.element)).filter((r) => r.contextValue.startsWith('lifeboat.guest')).map((r) => r.label);
    try {
      tree.setFilter('121');
      assert.equal(tree.filter, '121');
      assert.deepEqual(await guestLabels(alpha), ['gitea'], 'prod/alpha filtered on 121');
      assert.deepEqual(await guestLabels(beta), [], 'lab/beta filtered on 121');
      tree.setFilter(' 20 ');
      assert.deepEqual((await guestLabels(beta)).sort(), ['k3s-test', 'sandbox'], 'VMIDs 201 and 202 match "20"');
      tree.setFilter('SANDBOX');
      assert.deepEqual(await guestLabels(beta), ['sandbox'], 'by name, case-insensitive');
      await vscode.commands.executeCommand('lifeboat.clearFilter');
      assert.equal(tree.filter, undefined, 'lifeboat.clearFilter');
      const all = await guestLabels(alpha);
      for (const name of ['gitea', 'nextcloud', 'postgres', 'dns']) assert.ok(all.includes(name), `${name} back after clearing: ${JSON.stringify(all)}`);
    } finally {
      tree.setFilter(undefined);
    }
  });
});
