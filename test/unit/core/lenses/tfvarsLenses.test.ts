import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { english, outlineTfvars, parseHcl, tfvarsLenses, type Inventory, type LensContext } from '../../../../src/core';

const prodTfvars = path.resolve(__dirname, '../../../fixtures/homelab/infrastructure/proxmox/environments/prod/terraform.tfvars');
const monitoringTfvars = path.resolve(__dirname, '../../../fixtures/homelab/infrastructure/proxmox/environments/monitoring/terraform.tfvars');
const now = new Date('2026-11-23T08:00:00Z');
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
  const lenses = tfvarsLenses({ outline, inventory: undefined, loading: false, rpoHours: 26, now, available: new Set(['lifeboat.restoreFromNewest']), ...over });
  const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle));
  return { text, lenses, lineOf };
}

describe('CodeLens placement on terraform.tfvars', () => {
  it('puts a restore lens on each guest entry with its VMID and backup age, from the cached inventory', async () => {
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: inventory() });
    const gitea = lenses.filter((l) => l.line === lineOf('"gitea" = {'));
    assert.deepEqual(gitea.map((l) => english(l.title)), ['Restore from newest backup (VMID 121, 6 h old)', 'Show backups (2)']);
    assert.deepEqual(gitea[0]?.args, [{ vmid: 121, node: 'alpha' }]);
    assert.equal(gitea[0]?.command, 'lifeboat.restoreFromNewest');
  });

  it('warns where a guest has no backup, a stale one, or is not on any node', async () => {
    const { lenses, lineOf } = await lensesFor(prodTfvars, { inventory: inventory() });
    const titles = (needle: string) => lenses.filter((l) => l.line === lineOf(needle)).map((l) => english(l.title));
    assert.deepEqual(titles('"nextcloud" = {'), ['No backup of 122 on any storage']);
    assert.ok(titles('"postgres" = {').includes('Newest backup older than 26 h'));
    assert.deepEqual(titles('"dns" = {'), ['Not found on any node']);
    const top = lenses.filter((l) => l.line === 0).map((l) => english(l.title));
    assert.deepEqual(top, ['Lifeboat: prod — 4 guests, 1 never backed up']);
  });

  it('says "connect to see backups" and still offers restores while nothing is known, without waiting', async () => {
    const { lenses, lineOf } = await lensesFor(prodTfvars);
    assert.equal(english(lenses[0]!.title), 'Lifeboat: prod — connect to see backups');
    const gitea = lenses.find((l) => l.line === lineOf('"gitea" = {'));
    assert.deepEqual([english(gitea!.title), gitea!.args], ['Restore from newest backup…', [{ name: 'gitea', environment: 'prod' }]]);
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
    const lenses = tfvarsLenses({ outline, inventory: undefined, loading: false, rpoHours: 26, now, available: new Set() });
    assert.deepEqual(lenses.filter((l) => l.kind === 'guest').map((l) => l.line), [3, 5]);
  });
});
