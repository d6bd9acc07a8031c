import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as fsSync from 'node:fs';
import { english, lensTitle, msg, outlineTfvars, parseHcl, tfvarsLenses, type Inventory, type LensContext, type LensSpec } from '../../../../src/core';

const prodTfvars = path.resolve(__dirname, '../../../fixtures/homelab/infrastructure/proxmox/environments/prod/terraform.tfvars');
const monitoringTfvars = path.resolve(__dirname, '../../../fixtures/homelab/infrastructure/proxmox/environments/monitoring/terraform.tfvars');
const now = new Date('2026-11-23T08:00:00Z');
/** A lens title in English (what vscode.l10n.t renders without a translation). */
const title = (l: Pick<LensSpec, 'title'>) => lensTitle(l, (text, ...args) => english(msg(text, ...args)));
const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

function inventory(): Inventory {
  const guest = (vmid: number, name: string, type: 'qemu' | 'lxc') => ({ vmid, name, type, node: 'alpha', status: 'running', lock: undefined, template: false, maxdiskBytes: 1, tags: [] });
  const backup = (vmid: number, type: 'qemu' | 'lxc', iso: string) => ({ volid: `backups:backup/vzdump-${type}-${vmid}-x`, node: 'alpha', storage: 'backups', vmid, type, format: 'vma.zst', compression: 'zstd' as const, ctime: at(iso), sizeBytes: 10, notes: undefined, protected: false, pbs: false, verification: undefined });
  return {
    loadedAt: now,
    nodes: [],
    guests: [guest(121, 'gitea', 'qemu'), guest(122, 'nextcloud', 'qemu'), guest(131, 'postgres', 'lxc')],
    backups: [backup(121, 'qemu', '2026-11-23T02:00:00Z'), backup(121, 'qemu', '2026-11-22T02:00:00Z'), backup(131, 'lxc', '2026-11-19T01:30:00Z')],
    jobs: [],
  };
}

async function lensesFor(file: string, over: Partial<LensContext> = {}) {
  const text = await fs.readFile(file, 'utf8');
  const outline = outlineTfvars(await parseHcl(text), path.basename(path.dirname(file)));
  const lenses = tfvarsLenses({ outline, inventory: undefined, loading: false, rpoFallbackHours: 26, schedule: '01:30', now, available: new Set(['lifeboat.restoreFromNewest']), ...over });
  const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle));
  return { text, lenses, lineOf };
}

describe('CodeLens placement on terraform.tfvars', () => {
  it('puts a restore lens on each guest entry with its VMID and backup age, from the cached inventory', async () => {
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: inventory() });
    const gitea = lenses.filter((l) => l.line === lineOf('"gitea" = {'));
    assert.deepEqual(gitea.map((l) => title(l)), ['Restore from newest backup (VMID 121, 6 h old)', 'Show backups (2)']);
    assert.deepEqual(gitea[0]?.args, [{ vmid: 121, node: 'alpha' }]);
    assert.equal(gitea[0]?.command, 'lifeboat.restoreFromNewest');
  });

  it('warns where a guest has no backup, a stale one, or is not on any node', async () => {
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: inventory() });
    const titles = (needle: string) => lenses.filter((l) => l.line === lineOf(needle)).map((l) => title(l));
    assert.deepEqual(titles('"nextcloud" = {'), ['No backup of 122 on any storage']);
    assert.ok(titles('"postgres" = {').includes('Newest backup older than 26 h'));
    assert.deepEqual(titles('"dns" = {'), ['Not found on any node']);
    const top = lenses.filter((l) => l.line === 0);
    // Every kind of trouble, including the guest no node has (it used to say nothing of dns).
    assert.deepEqual(top.map((l) => title(l)), ['Lifeboat: prod — 4 guests, 1 not found on any node, 1 never backed up, 1 with a stale backup']);
    assert.deepEqual([top[0]?.icon, top[0]?.kind], ['warning', 'warning']);
  });

  it('says "connect to see backups" and still offers restores while nothing is known, without waiting', async () => {
    const { lenses, lineOf } = await lensesFor(prodTfvars);
    assert.equal(title(lenses[0]!), 'Lifeboat: prod — connect to see backups');
    const gitea = lenses.find((l) => l.line === lineOf('"gitea" = {'));
    assert.deepEqual([title(gitea!), gitea!.args], ['Restore from newest backup…', [{ name: 'gitea', environment: 'prod' }]]);
  });

  it('puts the backup lenses on the backup block and leaves out procedures that do not exist yet', async () => {
    const { lenses, lineOf } = await lensesFor(prodTfvars);
    const backup = lenses.filter((l) => l.line === lineOf('backup = {')).map((l) => l.command);
    assert.deepEqual(backup, ['lifeboat.showBackupJobs']);
    const withVerify = await lensesFor(prodTfvars, { available: new Set(['lifeboat.verifyBackups']) });
    assert.ok(withVerify.lenses.some((l) => l.command === 'lifeboat.verifyBackups' && l.line === lineOf('backup = {')));
  });

  it('puts MinIO and monitoring lenses on their blocks and never a secret in a title', async () => {
    const { lenses, lineOf, text } = await lensesFor(monitoringTfvars, { available: new Set(['lifeboat.rebuildMinio', 'lifeboat.rebuildMonitoring']) });
    const minio = lenses.filter((l) => l.line === lineOf('minio = {')).map((l) => l.command);
    assert.deepEqual(minio, ['lifeboat.checkMinioHealth', 'lifeboat.rebuildMinio']);
    const monitoring = lenses.filter((l) => l.line === lineOf('monitoring = {')).map((l) => l.command);
    assert.deepEqual(monitoring, ['lifeboat.checkMonitoringHealth', 'lifeboat.rebuildMonitoring']);
    const all = JSON.stringify(lenses);
    for (const secret of ['00000000-0000-0000-0000-00000000000a', 'MINIO_ROOT_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']) assert.ok(!all.includes(secret), secret);
    assert.ok(text.includes('00000000-0000-0000-0000-00000000000a'));
  });

  it('a guest whose only backup is corrupt gets a warning and no restore lens; the summary says so', async () => {
    const inv = inventory();
    // 131's only backup failed its PBS verification…
    const pbs = { ...inv, backups: inv.backups.map((b) => (b.vmid === 131 ? { ...b, verification: 'failed' as const, ctime: at('2026-11-23T07:00:00Z') } : b)) };
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: pbs });
    const postgres = lenses.filter((l) => l.line === lineOf('"postgres" = {'));
    assert.deepEqual(postgres.map((l) => [title(l), l.command]), [
      ['Every backup of 131 is corrupt: nothing to restore from', 'lifeboat.showBackups'],
      ['Show backups (1)', 'lifeboat.showBackups'],
    ]);
    assert.match(title(lenses[0]!), /1 with only corrupt backups/);
    // …or Lifeboat's own verification found it corrupt (the verdicts the explorer shows).
    const verdict = await lensesFor(prodTfvars, { inventory: inv, verdictOf: (v) => (v === 'backups:backup/vzdump-lxc-131-x' ? 'corrupt' : undefined) });
    assert.ok(!verdict.lenses.some((l) => l.line === lineOf('"postgres" = {') && l.command === 'lifeboat.restoreFromNewest'));
  });

  it('when the newest backup is corrupt and an older one intact, the restore lens names that one (volid) and a warning says why', async () => {
    const inv = inventory();
    const newest = inv.backups.find((b) => b.vmid === 121)!;
    const older = { ...newest, volid: 'backups:backup/vzdump-qemu-121-older', ctime: at('2026-11-22T02:00:00Z') };
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: { ...inv, backups: [newest, older, ...inv.backups.filter((b) => b.vmid !== 121)] }, verdictOf: (v) => (v === newest.volid ? 'corrupt' : undefined) });
    const gitea = lenses.filter((l) => l.line === lineOf('"gitea" = {'));
    assert.deepEqual(gitea.map((l) => title(l)), ['Restore from newest intact backup (VMID 121, 30 h old)', 'Show backups (2)', 'Newest backup is corrupt (1 of 2 intact)', 'Newest backup older than 26 h']);
    assert.deepEqual(gitea[0]?.args, [{ vmid: 121, node: 'alpha', volid: older.volid }]);
  });

  it('a guest no node has, whose backups name it: a restore lens with the resolved VMID, on a node that can read the backup', async () => {
    const inv = inventory();
    // gitea was destroyed; its backups (notes "gitea") are on the shared storage, listed from beta.
    const lost: Inventory = {
      ...inv,
      nodes: [{ node: 'alpha', reachable: false, error: { reason: 'hostUnreachable', message: 'down' }, storages: [], unreadableStorages: [] }],
      guests: inv.guests.filter((g) => g.vmid !== 121),
      backups: inv.backups.map((b) => (b.vmid === 121 ? { ...b, notes: 'gitea', node: 'beta' } : b)),
    };
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: lost });
    const gitea = lenses.filter((l) => l.line === lineOf('"gitea" = {'));
    assert.deepEqual(gitea.map((l) => title(l)), ['Not found on any node (VMID 121, named in its backups\' notes)', 'Restore from newest backup (VMID 121, 6 h old)', 'Show backups (2)']);
    assert.deepEqual(gitea[1]?.args, [{ vmid: 121, node: 'beta' }], 'alpha (its declared node) is down: the node that listed the backup');
    assert.match(title(lenses[0]!), /1 missing, restorable from backup/);
  });

  it('takes the RPO from the Proxmox job when the backup block has no schedule', async () => {
    const inv = { ...inventory(), jobs: [{ id: 'backup-prod', schedule: 'sun 01:30', enabled: true, storage: 'backups', vmids: [121, 122, 131], exclude: [], node: undefined, mode: 'snapshot' }] };
    const weekly = await lensesFor(prodTfvars, { inventory: inv, schedule: undefined });
    assert.ok(!weekly.lenses.some((l) => /older than/.test(title(l))), 'a 4-day-old backup is within a weekly job\'s 170 h');
    const daily = await lensesFor(prodTfvars, { inventory: inv, schedule: '01:30' });
    assert.ok(daily.lenses.some((l) => l.line === daily.lineOf('"postgres" = {') && title(l) === 'Newest backup older than 26 h'));
  });

  it('reads right in French: units and the singular are translated', async () => {
    const fr = JSON.parse(fsSync.readFileSync(path.resolve(__dirname, '../../../../l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
    const french = (l: Pick<LensSpec, 'title'>) => lensTitle(l, (text, ...args) => {
      assert.ok(text in fr, `no French for ${text}`);
      return english(msg(fr[text]!, ...args));
    });
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: inventory() });
    const postgres = lenses.find((l) => l.line === lineOf('"postgres" = {') && l.command === 'lifeboat.restoreFromNewest')!;
    assert.equal(french(postgres), 'Restaurer depuis la sauvegarde la plus récente (VMID 131, âgée de 4 j)');
    const one = outlineTfvars(await parseHcl('environment = "solo"\nvms = {\n  "gitea" = {}\n}\n'), 'solo');
    const single = tfvarsLenses({ outline: one, inventory: inventory(), loading: false, rpoFallbackHours: 26, schedule: '01:30', now, available: new Set() });
    assert.equal(french(single[0]!), 'Lifeboat : solo — 1 invité, sauvegarde la plus récente âgée de 6 h');
    assert.equal(title(single[0]!), 'Lifeboat: solo — 1 guest, newest backup 6 h old');
  });

  it('follows positions in tricky HCL: comments, a commented-out guest, nested maps', async () => {
    const text = [
      '# vms = { "old" = {} }',
      'vms = {',
      '  # "ghost" = { ip = "1.2.3.4" }',
      '  "web" = { ip = "10.0.0.5", extra = { nested = { deep = true } } }',
      '  /* "also-ghost" = {} */',
      '  "db" = {',
      '    ip = "10.0.0.6"',
      '  }',
      '}',
    ].join('\n');
    const outline = outlineTfvars(await parseHcl(text), 'edge');
    const lenses = tfvarsLenses({ outline, inventory: undefined, loading: false, rpoFallbackHours: 26, now, available: new Set() });
    assert.deepEqual(lenses.filter((l) => l.kind === 'guest').map((l) => l.line), [3, 5]);
  });
});
