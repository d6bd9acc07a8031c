import * as assert from 'node:assert/strict';
import { LifeboatError } from '../../../../src/core/errors';
import { backupDay, chooseBackup, isStale, matchGuests, orphanBackups, restoreNodeFor, rpoHoursFor, undeclaredGuests, usableBackups } from '../../../../src/core/inventory/backups';
import { loadInventory } from '../../../../src/core/inventory/load';
import type { Backup, Inventory } from '../../../../src/core/inventory/model';
import type { DeclaredGuest } from '../../../../src/core/model/environment';
import { RecordingLogSink } from '../../../fakes/fakeNodeShell';
import { NODES, homelab } from '../../../fakes/pveHomelab';

function backup(volid: string, ctime: number, over: Partial<Backup> = {}): Backup {
  return {
    volid, node: 'alpha', storage: volid.split(':')[0]!, vmid: 121, type: 'qemu', format: 'vma.zst', compression: 'zstd', ctime,
    sizeBytes: 1000, notes: undefined, protected: false, pbs: false, verification: undefined, ...over,
  };
}

const declared = (name: string, kind: 'vm' | 'container', over: Partial<DeclaredGuest> = {}): DeclaredGuest => ({
  name, kind, environment: 'prod', node: 'alpha', ip: undefined, cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid: undefined,
  range: { start: { line: 0, column: 0 }, end: { line: 0, column: 0 } }, ...over,
});

describe('inventory/backups decisions', () => {
  let inv: Inventory;
  before(async () => {
    inv = await loadInventory({ nodes: NODES, pool: homelab().pool, log: new RecordingLogSink() });
  });

  describe('chooseBackup', () => {
    it('takes the newest backup by default, across storages (dir and PBS)', () => {
      assert.equal(chooseBackup(inv.backups, 121).volid, 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst');
      const pbsOk = backup('pbs:backup/vm/121/2026-11-22T00:30:03Z', 1795307403, { pbs: true, format: 'pbs-vm', verification: 'ok' });
      assert.equal(chooseBackup([...inv.backups, pbsOk], 121).volid, pbsOk.volid, 'a newer PBS snapshot that passed verification wins');
    });

    it('never takes a PBS snapshot that failed verification: the newest other backup instead', () => {
      // 131's newest backup is pbs:backup/ct/131/2026-11-21T00:30:40Z, whose last verification failed.
      assert.equal(inv.backups.filter((b) => b.vmid === 131).sort((a, b) => b.ctime - a.ctime)[0]?.verification, 'failed', 'precondition');
      assert.equal(chooseBackup(inv.backups, 131).volid, 'backups:backup/vzdump-lxc-131-2026_11_20-01_30_04.tar.zst');
      const list = [
        backup('pbs:backup/vm/121/2026-11-22T00:30:03Z', 1795307403, { pbs: true, format: 'pbs-vm', verification: 'failed' }),
        backup('pbs:backup/vm/121/2026-11-21T00:30:03Z', 1795221003, { pbs: true, format: 'pbs-vm', verification: undefined }),
        backup('pbs:backup/vm/121/2026-11-20T00:30:03Z', 1795134603, { pbs: true, format: 'pbs-vm', verification: 'ok' }),
      ];
      assert.equal(chooseBackup(list, 121).volid, 'pbs:backup/vm/121/2026-11-21T00:30:03Z', 'a snapshot never verified is not a failed one');
    });

    it('--date never takes a failed snapshot either: that day has no usable backup', () => {
      const list = [
        backup('pbs:backup/vm/121/2026-11-22T00:30:03Z', 1795307403, { pbs: true, format: 'pbs-vm', verification: 'failed' }),
        backup('pbs:backup/vm/121/2026-11-20T00:30:03Z', 1795134603, { pbs: true, format: 'pbs-vm', verification: 'ok' }),
      ];
      assert.throws(() => chooseBackup(list, 121, '2026-11-22'), (err) => LifeboatError.is(err, 'noBackupOnDate') && err.details.available === '2026-11-20');
    });

    it('every backup of the guest failed its verification → backupCorrupt (with or without a date)', () => {
      const list = [
        backup('pbs:backup/vm/121/2026-11-22T00:30:03Z', 1795307403, { pbs: true, format: 'pbs-vm', verification: 'failed' }),
        backup('pbs:backup/vm/121/2026-11-20T00:30:03Z', 1795134603, { pbs: true, format: 'pbs-vm', verification: 'failed' }),
        backup('backups:backup/vzdump-qemu-122-2026_11_20-13_05_40.vma.zst', 1795190740, { vmid: 122 }),
      ];
      for (const date of [undefined, '2026-11-20']) {
        assert.throws(() => chooseBackup(list, 121, date), (err) => {
          assert.ok(LifeboatError.is(err, 'backupCorrupt'), String(err));
          assert.equal(err.message, 'every backup of 121 failed its last verification');
          assert.equal(err.details.vmid, 121);
          return true;
        });
      }
      const only131 = inv.backups.filter((b) => b.vmid === 131 && b.verification === 'failed');
      assert.equal(only131.length, 1);
      assert.throws(() => chooseBackup(only131, 131), (err) => LifeboatError.is(err, 'backupCorrupt'));
    });

    it('does not depend on the order of the list', () => {
      assert.equal(chooseBackup([...inv.backups].reverse(), 121).volid, 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst');
    });

    it('--date picks the newest backup of that day', () => {
      assert.equal(chooseBackup(inv.backups, 121, '2026-11-20').volid, 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst');
    });

    it('--date uses the node-local day of the vzdump name, not the UTC day of ctime', () => {
      // 2026_11_20-00_30_02 was made at 00:30 in Paris = 23:30 UTC on the 19th; it belongs to the 20th.
      assert.equal(chooseBackup(inv.backups, 121, '2026-11-19').volid, 'backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst');
      assert.equal(chooseBackup(inv.backups, 121, '2026-11-18').volid, 'backups:backup/vzdump-qemu-121-2026_11_18-01_30_02.vma.zst');
      assert.equal(chooseBackup(inv.backups, 121, '2026-11-17').volid, 'pbs:backup/vm/121/2026-11-17T00:30:03Z');
    });

    it('a day without backups → noBackupOnDate listing the days that exist, newest first', () => {
      assert.throws(() => chooseBackup(inv.backups, 121, '2026-11-21'), (err) => {
        assert.ok(LifeboatError.is(err, 'noBackupOnDate'));
        assert.equal(err.details.available, '2026-11-20, 2026-11-19, 2026-11-18, 2026-11-17');
        assert.match(err.message, /no backup of 121 on 2026-11-21; backups exist on 2026-11-20, 2026-11-19/);
        return true;
      });
    });

    it('no backup at all → noBackup (even with a date)', () => {
      assert.throws(() => chooseBackup(inv.backups, 202), (err) => LifeboatError.is(err, 'noBackup') && err.details.vmid === 202);
      assert.throws(() => chooseBackup(inv.backups, 202, '2026-11-20'), (err) => LifeboatError.is(err, 'noBackup'));
    });

    it('an impossible date is refused as invalidValue, not "no backup that day"', () => {
      assert.throws(() => chooseBackup(inv.backups, 121, '2026-02-30'), (err) => LifeboatError.is(err, 'invalidValue'));
    });
  });

  describe('backupDay', () => {
    it('reads the day from the vzdump name even when ctime falls on another UTC day', () => {
      const b = backup('local:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst', Date.UTC(2026, 10, 19, 23, 30, 2) / 1000);
      assert.equal(backupDay(b), '2026-11-20');
    });

    it('PBS snapshots: the day of the snapshot time', () => {
      assert.equal(backupDay(backup('pbs:backup/vm/121/2026-11-17T00:30:03Z', 1794875403, { pbs: true })), '2026-11-17');
    });

    it('an archive with a non-standard name falls back to the day of ctime', () => {
      assert.equal(backupDay(backup('local:backup/vzdump-qemu-web01-manual.vma.zst', Date.UTC(2026, 0, 5, 12) / 1000)), '2026-01-05');
    });
  });

  describe('isStale / rpoHoursFor', () => {
    const now = new Date('2026-11-21T12:00:00Z');
    it('a backup older than the RPO target is stale; a recent one is not; none at all is stale', () => {
      assert.equal(isStale(backup('x', now.getTime() / 1000 - 25 * 3600), 26, now), false);
      assert.equal(isStale(backup('x', now.getTime() / 1000 - 27 * 3600), 26, now), true);
      assert.equal(isStale(undefined, 26, now), true);
    });

    it('a daily schedule allows 26 h; a weekly one a week and 2 h; what cannot be read uses the configured fallback', () => {
      assert.equal(rpoHoursFor('01:30', 48), 26);
      assert.equal(rpoHoursFor('sat 02:00', 200), 170);
      assert.equal(rpoHoursFor(undefined, 48), 48);
      assert.equal(rpoHoursFor('every night', 48), 48);
      assert.equal(rpoHoursFor('2026-12-24 02:00', 48), 48, 'a one-off date is not a recurring schedule');
    });
  });

  describe('matchGuests', () => {
    it('matches declared guests by name and type, keeps declared-but-missing ones, with their backups newest first', () => {
      const m = matchGuests([declared('gitea', 'vm'), declared('postgres', 'container'), declared('wiki', 'vm')], inv);
      assert.deepEqual(m.map((x) => [x.declared?.name, x.guest?.vmid]), [['gitea', 121], ['postgres', 131], ['wiki', undefined]]);
      assert.deepEqual(m[0]?.backups.map((b) => b.volid), [
        'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst',
        'backups:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst',
        'backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst',
        'backups:backup/vzdump-qemu-121-2026_11_18-01_30_02.vma.zst',
        'pbs:backup/vm/121/2026-11-17T00:30:03Z',
      ]);
      assert.deepEqual(m[2]?.backups, []);
    });

    it('a name declared as the wrong kind does not match (a container named gitea is not the VM gitea)', () => {
      const [m] = matchGuests([declared('gitea', 'container')], inv);
      assert.equal(m?.guest, undefined);
    });

    it('an explicit vmid wins over the name; a missing guest with that vmid still shows its backups', () => {
      const m = matchGuests([declared('git', 'vm', { vmid: 121 }), declared('old-db', 'container', { vmid: 131 })], inv);
      assert.equal(m[0]?.guest?.name, 'gitea');
      const gone = matchGuests([declared('ghost', 'vm', { vmid: 999 })], { ...inv, backups: [backup('backups:backup/vzdump-qemu-999-2026_11_20-01_00_00.vma.zst', 1795130000, { vmid: 999 })] });
      assert.equal(gone[0]?.guest, undefined);
      assert.equal(gone[0]?.backups.length, 1);
    });

    it('with the same name on two nodes, the declared node wins', () => {
      const twin = { ...inv.guests[0]!, vmid: 921, node: 'beta' };
      const inv2 = { ...inv, guests: [...inv.guests, twin] };
      assert.equal(matchGuests([declared('gitea', 'vm', { node: 'beta' })], inv2)[0]?.guest?.vmid, 921);
      assert.equal(matchGuests([declared('gitea', 'vm', { node: 'alpha' })], inv2)[0]?.guest?.vmid, 121);
    });

    it('returns one entry per declared guest only (the explorer adds undeclared guests itself)', () => {
      assert.equal(matchGuests([declared('gitea', 'vm')], inv).length, 1);
    });

    it('says where each VMID comes from: the node, or an explicit vmid in tfvars', () => {
      const m = matchGuests([declared('gitea', 'vm'), declared('ghost', 'vm', { vmid: 999 })], inv);
      assert.deepEqual(m.map((x) => [x.vmid, x.vmidSource]), [[121, 'node'], [999, 'tfvars']]);
    });
  });

  describe('a declared guest no node has any more (node dead, guest destroyed)', () => {
    // gitea (121) was destroyed: its backups are still on the shared storage, their notes say "gitea".
    const withoutGitea = () => ({ ...inv, guests: inv.guests.filter((g) => g.vmid !== 121) });

    it('takes its VMID from the notes of the backups no node owns, and carries them, newest first', () => {
      const [m] = matchGuests([declared('gitea', 'vm')], withoutGitea());
      assert.equal(m?.guest, undefined);
      assert.equal(m?.vmid, 121);
      assert.equal(m?.vmidSource, 'backup-notes');
      assert.deepEqual(m?.backups.map((b) => b.volid), [
        'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst',
        'backups:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst',
        'backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst',
        'backups:backup/vzdump-qemu-121-2026_11_18-01_30_02.vma.zst',
        'pbs:backup/vm/121/2026-11-17T00:30:03Z',
      ]);
    });

    it('never takes the VMID of a guest a node runs, nor a backup of the other kind, nor a name inside a longer word', () => {
      // postgres (131) runs: its backups' "postgres" notes name nobody missing.
      assert.equal(matchGuests([declared('postgres', 'container', { node: 'beta' })], { ...inv, guests: inv.guests.map((g) => (g.vmid === 131 ? { ...g, name: 'pg-renamed' } : g)) })[0]?.vmid, undefined);
      assert.equal(matchGuests([declared('gitea', 'container')], withoutGitea())[0]?.vmid, undefined, 'a VM backup is not a container\'s');
      const longer = { ...withoutGitea(), backups: inv.backups.map((b) => (b.vmid === 121 ? { ...b, notes: 'gitea-old' } : b)) };
      assert.equal(matchGuests([declared('gitea', 'vm')], longer)[0]?.vmid, undefined);
      const template = { ...withoutGitea(), backups: inv.backups.map((b) => (b.vmid === 121 ? { ...b, notes: 'homelab, gitea, alpha' } : b)) };
      assert.equal(matchGuests([declared('gitea', 'vm')], template)[0]?.vmid, 121, '{{cluster}}, {{guestname}}, {{node}}');
    });

    it('backups of two VMIDs naming it: no choice made, both VMIDs said', () => {
      const copy = inv.backups.filter((b) => b.vmid === 121).map((b) => ({ ...b, vmid: 921, volid: b.volid.replace('121', '921') }));
      const [m] = matchGuests([declared('gitea', 'vm')], { ...withoutGitea(), backups: [...inv.backups, ...copy] });
      assert.equal(m?.vmid, undefined);
      assert.deepEqual(m?.candidateVmids, [121, 921]);
      assert.deepEqual(m?.backups, []);
    });

    it('notes that name two missing guests name neither', () => {
      const both = { ...withoutGitea(), backups: inv.backups.map((b) => (b.vmid === 121 ? { ...b, notes: 'gitea wiki' } : b)) };
      assert.deepEqual(matchGuests([declared('gitea', 'vm'), declared('wiki', 'vm')], both).map((m) => m.vmid), [undefined, undefined]);
    });

    it('a Terraform state on disk names it by its for_each key or its name, before the notes', () => {
      const noNotes = { ...withoutGitea(), backups: inv.backups.map((b) => (b.vmid === 121 ? { ...b, notes: undefined } : b)) };
      assert.equal(matchGuests([declared('gitea', 'vm')], noNotes)[0]?.vmid, undefined, 'precondition: nothing else names it');
      const state = new Map([['prod', [
        { address: 'module.vms["gitea"].proxmox_virtual_environment_vm.this', vmid: 121, name: 'gitea' },
        { address: 'module.containers["postgres"].proxmox_virtual_environment_container.this', vmid: 131, name: undefined },
      ]]]);
      const [m] = matchGuests([declared('gitea', 'vm')], noNotes, { stateGuests: state });
      assert.deepEqual([m?.vmid, m?.vmidSource, m?.backups.length], [121, 'state', 5]);
      assert.equal(matchGuests([declared('gitea', 'vm', { environment: 'lab' })], noNotes, { stateGuests: state })[0]?.vmid, undefined, 'another environment\'s state');
      assert.equal(matchGuests([declared('gitea', 'container')], noNotes, { stateGuests: state })[0]?.vmid, undefined, 'a VM resource is not a container');
      // The state's VMID is now another guest's: not this one.
      const reused = { ...noNotes, guests: [...noNotes.guests, { ...inv.guests[0]!, vmid: 121, name: 'other' }] };
      assert.equal(matchGuests([declared('gitea', 'vm')], reused, { stateGuests: state })[0]?.vmid, undefined);
    });

    it('orphanBackups: what no node runs and no declared guest claims, by VMID', () => {
      const inv2 = withoutGitea();
      assert.deepEqual(orphanBackups(inv2, matchGuests([declared('gitea', 'vm')], inv2)), [], 'gitea claims its backups');
      const orphans = orphanBackups(inv2, matchGuests([declared('wiki', 'vm')], inv2));
      assert.deepEqual(orphans.map((o) => [o.vmid, o.type, o.backups.length, o.backups[0]?.volid]), [[121, 'qemu', 5, 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst']]);
      assert.deepEqual(orphanBackups(inv, []), [], 'every backup of the fixture belongs to a running guest');
    });

    it('restoreNodeFor: the declared node when it can read the backup, else the node that listed it', () => {
      const shared = inv.backups.find((b) => b.volid.startsWith('backups:'))!;
      const local = { ...shared, volid: 'local:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst', storage: 'local', node: 'alpha' };
      assert.equal(restoreNodeFor('beta', shared, inv), 'beta', 'the shared storage is readable from beta');
      assert.equal(restoreNodeFor('beta', local, inv), 'alpha', 'alpha\'s local storage is not');
      const betaDown = { ...inv, nodes: inv.nodes.map((n) => (n.node === 'beta' ? { ...n, reachable: false } : n)) };
      assert.equal(restoreNodeFor('beta', shared, betaDown), shared.node, 'a node that could not be read');
      assert.equal(restoreNodeFor(undefined, shared, inv), shared.node);
    });
  });

  describe('undeclaredGuests', () => {
    it('the guests no declared guest matches, templates left out, on one node or all', () => {
      const matched = matchGuests([declared('gitea', 'vm'), declared('postgres', 'container')], inv);
      assert.deepEqual(undeclaredGuests(inv, matched).map((g) => g.vmid), [122, 201, 202]);
      assert.deepEqual(undeclaredGuests(inv, matched, 'alpha').map((g) => g.vmid), [122]);
      const withTemplate = { guests: [...inv.guests, { ...inv.guests[0]!, vmid: 9000, name: 'tpl', template: true }] };
      assert.ok(!undeclaredGuests(withTemplate, matched).some((g) => g.vmid === 9000));
    });
  });

  describe('usableBackups', () => {
    it('leaves out what Lifeboat\'s verification or the PBS server found damaged', () => {
      const list = [
        backup('a', 3, { verification: 'failed' }),
        backup('b', 2),
        backup('c', 1),
      ];
      assert.deepEqual(usableBackups(list).map((b) => b.volid), ['b', 'c']);
      assert.deepEqual(usableBackups(list, (v) => (v === 'b' ? 'corrupt' : v === 'c' ? 'ok' : undefined)).map((b) => b.volid), ['c']);
    });
  });
});
