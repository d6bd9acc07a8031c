// How guests and backups look in the Recovery explorer (src/extension/views/presentation.ts, which
// imports no vscode): labels, descriptions, icons, colours and the flags the context menus read.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Backup, DeclaredGuest, Guest, OrphanBackups } from '../../../src/core';
import {
  BACKUP_PAGE, age, backupLook, guestLook, matchesFilter, orphanGroupLook, orphanLook, restrictedLook, type ItemLook,
} from '../../../src/extension/views/presentation';
import { ContextValues } from '../../../src/extension/views/contextValues';

const root = path.resolve(__dirname, '../../..');
const NOW = new Date('2026-11-23T12:00:00Z');
const hoursAgo = (h: number) => Math.floor(NOW.getTime() / 1000 - h * 3600);
/** English, as vscode.l10n.t renders without a translation. */
const t = (text: string, ...args: (string | number | boolean)[]) => text.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));

const declared = (name: string, kind: 'vm' | 'container' = 'vm'): DeclaredGuest => ({
  name, kind, environment: 'prod', node: 'alpha', ip: undefined, cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid: undefined,
  range: { start: { line: 4, column: 2 }, end: { line: 4, column: 9 } },
});
const guest = (over: Partial<Guest> = {}): Guest => ({ vmid: 121, type: 'qemu', name: 'gitea', node: 'alpha', status: 'running', lock: undefined, template: false, maxdiskBytes: 1, tags: [], ...over });
const backup = (h: number, over: Partial<Backup> = {}): Backup => ({
  volid: `backups:backup/vzdump-qemu-121-${h}.vma.zst`, node: 'alpha', storage: 'backups', vmid: 121, type: 'qemu', format: 'vma.zst', compression: 'zstd',
  ctime: hoursAgo(h), sizeBytes: 3 * 1024 ** 3, notes: undefined, protected: false, pbs: false, verification: undefined, ...over,
});

/** The context value the tree sets, and whether a package.json menu on guest items shows for it. */
async function guestMenu(look: ItemLook, command: string): Promise<boolean> {
  const manifest = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as { contributes: { menus: Record<string, { command: string; when?: string; group?: string }[]> } };
  const entry = manifest.contributes.menus['view/item/context']!.find((m) => m.command === command && m.group !== 'inline' && /lifeboat\\\\?\.guest/.test(m.when ?? ''));
  assert.ok(entry, `a guest menu entry for ${command}`);
  const re = /viewItem =~ \/(.+)\//.exec(entry.when!)![1]!;
  return new RegExp(re).test([ContextValues.guest, ...look.flags].join('.'));
}

describe('Recovery explorer presentation', () => {
  it('age: minutes, hours under two days, then days', () => {
    assert.equal(age(hoursAgo(0.5), NOW, t), '30 min ago');
    assert.equal(age(hoursAgo(6), NOW, t), '6 h ago');
    assert.equal(age(hoursAgo(47), NOW, t), '47 h ago');
    assert.equal(age(hoursAgo(72), NOW, t), '3 d ago');
  });

  describe('guests', () => {
    it('a running guest with a recent backup: VMID, kind, status, newest age; restore menus', async () => {
      const look = guestLook({ declared: declared('gitea'), guest: guest(), backups: [backup(6), backup(30)] }, 26, NOW, t);
      assert.equal(look.description, '121 · VM · running · newest 6 h ago');
      assert.deepEqual(look.flags, ['exists', 'running']);
      assert.equal(look.icon, 'vm-running');
      assert.equal(look.color, undefined);
      assert.ok(await guestMenu(look, 'lifeboat.restoreFromNewest'));
      assert.ok(await guestMenu(look, 'lifeboat.restoreGuestToNewId'));
    });

    it('stale beyond the RPO: warning icon and colour, the RPO in the tooltip', () => {
      const look = guestLook({ declared: declared('postgres', 'container'), guest: guest({ vmid: 131, type: 'lxc', name: 'postgres' }), backups: [backup(100)] }, 26, NOW, t);
      assert.deepEqual([look.flags, look.icon, look.color], [['exists', 'running', 'stale'], 'warning', 'list.warningForeground']);
      assert.match(look.tooltip, /Older than the 26 h recovery point objective/);
      assert.equal(guestLook({ declared: undefined, guest: guest(), backups: [backup(100)] }, 170, NOW, t).flags.includes('stale'), false, 'within a weekly job\'s 170 h');
    });

    it('never backed up: error icon and colour', () => {
      const look = guestLook({ declared: declared('sandbox'), guest: guest({ vmid: 202, name: 'sandbox', status: 'stopped' }), backups: [] }, 26, NOW, t);
      assert.equal(look.description, '202 · VM · stopped · never backed up');
      assert.deepEqual([look.flags, look.icon, look.color], [['exists', 'never'], 'error', 'errorForeground']);
    });

    it('only corrupt backups (PBS verification failed, or Lifeboat\'s verify said corrupt): an error, not a healthy newest', () => {
      const pbsFailed = guestLook({ declared: declared('gitea'), guest: guest(), backups: [backup(1, { verification: 'failed' })] }, 26, NOW, t);
      assert.deepEqual([pbsFailed.flags, pbsFailed.icon, pbsFailed.color], [['exists', 'running', 'corrupt'], 'error', 'errorForeground']);
      assert.equal(pbsFailed.description, '121 · VM · running · only corrupt backups');
      const b = backup(1);
      const verified = guestLook({ declared: declared('gitea'), guest: guest(), backups: [b] }, 26, NOW, t, (v) => (v === b.volid ? 'corrupt' : undefined));
      assert.ok(verified.flags.includes('corrupt'));
      // The newest is corrupt, an older one is intact: that one is the newest that counts.
      const older = guestLook({ declared: declared('gitea'), guest: guest(), backups: [b, backup(30)] }, 26, NOW, t, (v) => (v === b.volid ? 'corrupt' : undefined));
      assert.equal(older.description, '121 · VM · running · newest 30 h ago');
      assert.deepEqual(older.flags, ['exists', 'running', 'stale']);
    });

    it('a declared guest no node has, its VMID unknown: "not found on any node", no restore menu', async () => {
      const look = guestLook({ declared: declared('dns', 'container'), guest: undefined, backups: [] }, 26, NOW, t);
      assert.equal(look.description, 'LXC · not found on any node');
      assert.deepEqual([look.flags, look.icon], [['missing'], 'question']);
      assert.equal(await guestMenu(look, 'lifeboat.restoreFromNewest'), false);
    });

    it('a lost guest whose VMID Lifeboat resolved, with backups: "missing — restorable", the restore menus, where the VMID came from', async () => {
      const look = guestLook({ declared: declared('gitea'), guest: undefined, backups: [backup(6), backup(30)], vmid: 121, vmidSource: 'backup-notes', candidateVmids: [] }, 26, NOW, t);
      assert.equal(look.description, '121 · VM · missing — restorable from backup · newest 6 h ago');
      assert.deepEqual([look.flags, look.icon, look.color], [['missing', 'restorable'], 'history', 'list.warningForeground']);
      assert.match(look.tooltip, /gitea is declared in environment prod but no node has it\./);
      assert.match(look.tooltip, /VMID 121, from the notes of its backups/);
      assert.match(look.tooltip, /lifeboat restore-vm 121/);
      assert.ok(await guestMenu(look, 'lifeboat.restoreFromNewest'));
      assert.ok(await guestMenu(look, 'lifeboat.restoreGuestToNewId'));
      assert.ok(await guestMenu(look, 'lifeboat.showBackups'));
      assert.match(guestLook({ declared: declared('gitea'), guest: undefined, backups: [backup(6)], vmid: 121, vmidSource: 'state' }, 26, NOW, t).tooltip, /from the Terraform state on disk/);
    });

    it('a lost guest whose backups are all corrupt, or that has none: an error and no restore menu', async () => {
      const corrupt = guestLook({ declared: declared('gitea'), guest: undefined, backups: [backup(6, { verification: 'failed' })], vmid: 121, vmidSource: 'tfvars' }, 26, NOW, t);
      assert.equal(corrupt.description, '121 · VM · missing — only corrupt backups');
      assert.deepEqual([corrupt.flags, corrupt.color], [['missing', 'corrupt'], 'errorForeground']);
      assert.equal(await guestMenu(corrupt, 'lifeboat.restoreFromNewest'), false);
      const none = guestLook({ declared: declared('gitea'), guest: undefined, backups: [], vmid: 121, vmidSource: 'state' }, 26, NOW, t);
      assert.equal(none.description, '121 · VM · missing — no backup');
      assert.deepEqual(none.flags, ['missing', 'never']);
    });

    it('a lost guest named by backups under two VMIDs: both said, none chosen', () => {
      const look = guestLook({ declared: declared('gitea'), guest: undefined, backups: [], candidateVmids: [121, 921] }, 26, NOW, t);
      assert.equal(look.description, 'VM · not found on any node · backups under VMIDs 121, 921');
      assert.match(look.tooltip, /Backups without a guest/);
    });
  });

  describe('backups', () => {
    it('date label; age, size, format, storage and notes; the newest beyond the RPO is stale', () => {
      const look = backupLook(backup(30, { notes: 'gitea' }), true, 26, NOW, t);
      assert.match(look.label, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
      assert.equal(look.description, '30 h ago · 3.0 GiB · vma.zst · backups · gitea');
      assert.deepEqual([look.flags, look.icon, look.color], [['stale'], 'warning', 'list.warningForeground']);
      assert.deepEqual(backupLook(backup(30), false, 26, NOW, t).flags, [], 'only the newest can be stale');
    });

    it('protected: a lock; corrupt (verification): CORRUPT first, error colour, do-not-restore tooltip', () => {
      const prot = backupLook(backup(3, { protected: true }), true, 26, NOW, t);
      assert.deepEqual([prot.flags, prot.icon], [['protected'], 'lock']);
      const bad = backupLook(backup(3, { protected: true }), true, 26, NOW, t, 'corrupt');
      assert.equal(bad.description.split(' · ')[0], 'CORRUPT');
      assert.deepEqual([bad.flags, bad.icon, bad.color], [['corrupt', 'protected'], 'error', 'errorForeground']);
      assert.match(bad.tooltip, /do not restore from it/);
      const pbs = backupLook(backup(3, { verification: 'failed', pbs: true }), true, 26, NOW, t);
      assert.deepEqual([pbs.flags, pbs.icon], [['failedVerification'], 'error']);
      assert.equal(backupLook(backup(3), true, 26, NOW, t, 'ok').icon, 'verified');
    });

    it('a Lifeboat safety point says so, with a shield', () => {
      const look = backupLook(backup(3, { notes: 'Lifeboat safety point before restore of 121' }), false, 26, NOW, t);
      assert.equal(look.description.split(' · ')[0], 'safety point');
      assert.equal(look.icon, 'shield');
      assert.ok(!look.description.includes('Lifeboat safety point before'), 'the note is not repeated');
    });
  });

  describe('backups without a guest', () => {
    const orphan: OrphanBackups = { vmid: 150, type: 'lxc', backups: [backup(6, { vmid: 150, type: 'lxc', notes: 'old-wiki' }), backup(30, { vmid: 150, type: 'lxc' })] };

    it('the group counts VMIDs and backups; each VMID is named by its newest notes', () => {
      assert.equal(orphanGroupLook([orphan], t).description, '1 VMID, 2 backup(s)');
      assert.equal(orphanGroupLook([orphan, { ...orphan, vmid: 151 }], t).description, '2 VMIDs, 4 backup(s)');
      const look = orphanLook(orphan, NOW, t);
      assert.equal(look.label, 'VMID 150');
      assert.equal(look.description, 'LXC · old-wiki · 2 backup(s) · newest 6 h ago');
      assert.match(look.tooltip, /lifeboat restore-vm 150/);
    });
  });

  it('Restricted Mode: says restores are disabled and how to change it', () => {
    const look = restrictedLook(t);
    assert.equal(look.label, 'Restricted Mode: restores are disabled');
    assert.equal(look.description, 'Manage Workspace Trust');
    assert.match(look.tooltip, /until you trust the folder/);
  });

  it('filter: name or VMID, case-insensitive, trimmed; 50 backups a page', () => {
    assert.ok(matchesFilter(' GIT ', 'gitea', 121));
    assert.ok(matchesFilter('12', 'gitea', 121));
    assert.ok(!matchesFilter('postgres', 'gitea', 121));
    assert.ok(matchesFilter(undefined, undefined, undefined));
    assert.equal(BACKUP_PAGE, 50);
  });
});
