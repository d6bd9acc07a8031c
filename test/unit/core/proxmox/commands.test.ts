import * as assert from 'node:assert/strict';
import { LifeboatError } from '../../../../src/core/errors';
import { guest, pvesh, quickIntegrityCommand, restoreCommand, volumePath, vzdumpCommand } from '../../../../src/core/proxmox/commands';
import { commandLine } from '../../../../src/core/proxmox/shell';

const VMA = 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst';
const TAR = 'backups:backup/vzdump-lxc-131-2026_11_20-01_30_04.tar.zst';
const invalid = (err: unknown) => LifeboatError.is(err, 'invalidValue');

describe('proxmox/commands (commands as data)', () => {
  describe('restore', () => {
    it('qmrestore takes the archive first, then the VMID', () => {
      assert.deepEqual(restoreCommand('qemu', VMA, 121, { force: true }), { program: 'qmrestore', args: [VMA, '121', '--force', '1'] });
    });

    it('pct restore takes the VMID first, then the archive', () => {
      assert.deepEqual(restoreCommand('lxc', TAR, 131, { force: true, storage: 'local-lvm' }), { program: 'pct', args: ['restore', '131', TAR, '--storage', 'local-lvm', '--force', '1'] });
    });

    it('to a new VMID: --unique 1 and no --force', () => {
      const spec = restoreCommand('qemu', VMA, 921, { force: false, unique: true, storage: 'local-lvm' });
      assert.equal(commandLine(spec), `qmrestore ${VMA} 921 --storage local-lvm --unique 1`);
      assert.ok(!spec.args.includes('--force'));
    });

    it('a PBS snapshot is a valid archive', () => {
      assert.equal(commandLine(restoreCommand('qemu', 'pbs:backup/vm/121/2026-11-17T00:30:03Z', 121, { force: true })), 'qmrestore pbs:backup/vm/121/2026-11-17T00:30:03Z 121 --force 1');
    });

    it('refuses a hostile volid, a bad VMID and a bad storage before building anything', () => {
      assert.throws(() => restoreCommand('qemu', `${VMA};rm -rf /`, 121, { force: true }), invalid);
      assert.throws(() => restoreCommand('qemu', VMA, 99, { force: true }), invalid);
      assert.throws(() => restoreCommand('lxc', TAR, 131, { force: false, storage: 'local lvm' }), invalid);
    });
  });

  describe('safety point (vzdump)', () => {
    it('backs up to the chosen storage, snapshot mode, zstd, pruning nothing, protected, with the notes as one quoted argument', () => {
      const spec = vzdumpCommand(121, 'backups', 'Lifeboat safety point before restore');
      assert.deepEqual(spec.args, ['121', '--storage', 'backups', '--mode', 'snapshot', '--compress', 'zstd', '--remove', '0', '--protected', '1', '--notes-template', 'Lifeboat safety point before restore']);
      assert.equal(commandLine(spec), `vzdump 121 --storage backups --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template 'Lifeboat safety point before restore'`);
    });

    it('refuses notes that vzdump would read as a template or a second line', () => {
      assert.throws(() => vzdumpCommand(121, 'backups', 'before {{guestname}}'));
      assert.throws(() => vzdumpCommand(121, 'backups', 'line\nrm -rf /'));
      assert.throws(() => vzdumpCommand(121, 'back ups', 'ok'), invalid);
    });
  });

  describe('quick integrity check by format', () => {
    const p = '/mnt/pve/backups/dump/x';
    const cases: [string, string][] = [
      ['vma.zst', `zstd -q -t ${p}`],
      ['tar.zst', `zstd -q -t ${p}`],
      ['vma.gz', `gzip -t ${p}`],
      ['tar.gz', `gzip -t ${p}`],
      ['tgz', `gzip -t ${p}`],
      ['vma.lzo', `lzop -t ${p}`],
      ['tar.lzo', `lzop -t ${p}`],
      ['vma', `vma verify ${p}`],
      ['tar', `tar -tf ${p}`],
    ];
    for (const [format, line] of cases) {
      it(`${format} → ${line.split(' ')[0]}`, () => assert.equal(commandLine(quickIntegrityCommand(format, p)), line));
    }

    it('quotes an archive path with spaces as one argument', () => {
      assert.equal(commandLine(quickIntegrityCommand('vma.zst', '/mnt/pve/my backups/dump/a.vma.zst')), `zstd -q -t '/mnt/pve/my backups/dump/a.vma.zst'`);
    });
  });

  describe('reads and guest commands', () => {
    it('builds the pvesh reads of the reference, JSON output', () => {
      assert.equal(commandLine(pvesh.clusterResources('vm')), 'pvesh get /cluster/resources --type vm --output-format json');
      assert.equal(commandLine(pvesh.nodeStorages('alpha')), 'pvesh get /nodes/alpha/storage --output-format json');
      assert.equal(commandLine(pvesh.backupContent('alpha', 'backups', 121)), 'pvesh get /nodes/alpha/storage/backups/content --content backup --vmid 121 --output-format json');
      assert.equal(commandLine(pvesh.taskLog('alpha', 'UPID:alpha:000668A1:00989299:6B01D068:qmrestore:121:root@pam:', 14)), 'pvesh get /nodes/alpha/tasks/UPID:alpha:000668A1:00989299:6B01D068:qmrestore:121:root@pam:/log --start 14 --limit 500 --output-format json');
      assert.equal(commandLine(pvesh.extractConfig('alpha', VMA)), `pvesh get /nodes/alpha/vzdump/extractconfig --volume ${VMA} --output-format json`);
      assert.equal(commandLine(volumePath(VMA)), `pvesm path ${VMA}`);
    });

    it('validates path parts so a node name or UPID cannot escape its path', () => {
      assert.throws(() => pvesh.nodeStorages('alpha/../x'), invalid);
      assert.throws(() => pvesh.storageStatus('alpha', '../../etc'), invalid);
      assert.throws(() => pvesh.taskStatus('alpha', 'UPID:x;id'), invalid);
      assert.throws(() => pvesh.guestConfig('alpha', 'qemu', 12), invalid);
    });

    it('qm for VMs, pct for containers', () => {
      assert.equal(commandLine(guest.stop('qemu', 121)), 'qm stop 121');
      assert.equal(commandLine(guest.start('lxc', 131)), 'pct start 131');
      assert.equal(commandLine(guest.shutdown('qemu', 121, 60)), 'qm shutdown 121 --timeout 60');
    });

    it('takes the network link down by adding or replacing link_down', () => {
      assert.equal(commandLine(guest.setLinkDown('qemu', 921, 'virtio=BC:24:11:12:34:56,bridge=vmbr0,firewall=1')), 'qm set 921 --net0 virtio=BC:24:11:12:34:56,bridge=vmbr0,firewall=1,link_down=1');
      assert.equal(commandLine(guest.setLinkDown('qemu', 921, 'virtio=BC:24:11:12:34:56,bridge=vmbr0,link_down=0')), 'qm set 921 --net0 virtio=BC:24:11:12:34:56,bridge=vmbr0,link_down=1');
      assert.throws(() => guest.setLinkDown('qemu', 921, "virtio=x,bridge=vmbr0' ; reboot"));
    });
  });
});
