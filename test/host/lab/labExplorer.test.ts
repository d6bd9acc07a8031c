// The Recovery explorer on the simulated homelab (issue 4): environment → node → guests read over
// SSH → backups, flags, filter. Read-only: nothing here changes the lab.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RecoveryTreeProvider } from '../../../src/extension/views/recoveryTree';
import { poll } from '../suite/helpers';
import { child, clusterGuests, labApi, rows, ssh, walk, type Row } from './labHelpers';

/** "2026-11-23 01:30 UTC" */
const DATE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC$/;
const AGE = String.raw`\d+ (min|h|d) ago`;
const SIZE = String.raw`\d+(\.\d)? (GiB|MiB|KiB)`;

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
      assert.match(b.item.id ?? '', /^backup\/(backups|local):backup\/vzdump-qemu-121-\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}\.vma\.(zst|gz|lzo)$/);
    }
    const nightly = backups.filter((b) => b.description.includes(' · backups'));
    assert.ok(nightly.length >= 14, 'the nightly backups on the shared storage "backups"');
    // Safety points are protected too (vzdump --protected 1): the seeded protected one is the other.
    const protectedOnes = backups.filter((b) => b.contextValue.includes('protected') && !b.description.startsWith('safety point · '));
    assert.equal(protectedOnes.length, 1, `one protected backup: ${JSON.stringify(protectedOnes.map((b) => b.label))}`);
    assert.equal(protectedOnes[0]?.label, nightly[nightly.length - 1]?.label, 'the oldest nightly backup is the protected one');
    // What the tree shows is what the node has: each backup item is a volume on alpha.
    const onNode = ssh('alpha', 'pvesm list backups --vmid 121; pvesm list local --vmid 121');
    for (const b of backups) assert.ok(onNode.includes((b.item.id ?? '').replace(/^backup\//, '')), `${b.item.id} is not on alpha:\n${onNode}`);
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
