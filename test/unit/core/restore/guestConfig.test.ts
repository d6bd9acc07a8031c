import * as assert from 'node:assert/strict';
import { disksOf, parseConfigText, sizeToBytes, staticAddress } from '../../../../src/core/restore/guestConfig';
import { fixture } from '../../../fakes/pveHomelab';

const GiB = 1024 ** 3;

describe('restore/guestConfig (the config inside an archive)', () => {
  it('reads the disks of a VMA config, skipping the CD-ROM, with storage and size', () => {
    const text = fixture('extractconfig-qemu-121.conf');
    const config = parseConfigText(text);
    assert.equal(config.name, 'gitea');
    assert.deepEqual(disksOf(config, text), [{ key: 'scsi0', storage: 'local-lvm', sizeBytes: 40 * GiB }]);
  });

  it('a container\'s rootfs and mount points are disks', () => {
    const config = parseConfigText(`${fixture('extractconfig-lxc-131.conf')}mp0: local-lvm:vm-131-disk-1,mp=/var/lib/postgresql,size=100G\n`);
    assert.deepEqual(disksOf(config).map((d) => [d.key, d.storage, d.sizeBytes]), [['rootfs', 'local-lvm', 30 * GiB], ['mp0', 'local-lvm', 100 * GiB]]);
  });

  it('stops at the first snapshot section', () => {
    const config = parseConfigText('memory: 2048\nscsi0: local-lvm:vm-1-disk-0,size=8G\n\n[before-upgrade]\nmemory: 1024\nscsi0: local-lvm:vm-1-disk-0,size=4G\n');
    assert.equal(config.memory, '2048');
    assert.equal(config.scsi0, 'local-lvm:vm-1-disk-0,size=8G');
  });

  it('a #qmdump#map line fills in the storage of a disk whose volume has none', () => {
    const text = 'scsi0: vm-121-disk-0,size=32G\n#qmdump#map:scsi0:drive-scsi0:local-zfs:raw:\n';
    assert.deepEqual(disksOf(parseConfigText(text), text), [{ key: 'scsi0', storage: 'local-zfs', sizeBytes: 32 * GiB }]);
  });

  it('sizes are binary units', () => {
    assert.equal(sizeToBytes('32G'), 32 * GiB);
    assert.equal(sizeToBytes('512M'), 512 * 1024 ** 2);
    assert.equal(sizeToBytes('4T'), 4 * 1024 ** 4);
    assert.equal(sizeToBytes('1.5G'), 1.5 * GiB);
    assert.equal(sizeToBytes('lots'), 0);
  });

  it('the static address: cloud-init ipconfig0 for a VM, net0 ip= for a container; none for dhcp', () => {
    assert.equal(staticAddress({ ipconfig0: 'ip=10.20.0.21/24,gw=10.20.0.1' }), '10.20.0.21');
    assert.equal(staticAddress({ net0: 'name=eth0,bridge=vmbr0,firewall=1,gw=10.20.0.1,hwaddr=BC:24:11:AA:BB:CC,ip=10.20.0.31/24,type=veth' }), '10.20.0.31');
    assert.equal(staticAddress({ ipconfig0: 'ip=dhcp' }), undefined);
    assert.equal(staticAddress({ net0: 'virtio=BC:24:11:12:34:56,bridge=vmbr0,firewall=1' }), undefined);
    assert.equal(staticAddress({ net0: 'name=eth0,ip6=fd00::5/64,gw6=fd00::1' }), undefined, 'ip6= is not ip=');
  });
});
