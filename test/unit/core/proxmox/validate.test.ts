import * as assert from 'node:assert/strict';
import { LifeboatError } from '../../../../src/core/errors';
import { checkNodeName, checkStorageId, checkUpid, checkVolid, parseDay, parseVmid } from '../../../../src/core/proxmox/validate';

const invalid = (err: unknown) => LifeboatError.is(err, 'invalidValue');

describe('proxmox/validate (every value that reaches a node)', () => {
  describe('VMIDs', () => {
    it('accepts 100..999999999, as numbers or text', () => {
      assert.equal(parseVmid(100), 100);
      assert.equal(parseVmid('121'), 121);
      assert.equal(parseVmid('999999999'), 999999999);
    });

    for (const bad of ['abc', '99', '0100', '1e3', '-121', '1000000000', '12.5', '121;reboot', '', '0x79']) {
      it(`refuses ${JSON.stringify(bad)} with invalidValue`, () => assert.throws(() => parseVmid(bad), invalid));
    }
    for (const bad of [99, -121, 1e3 + 0.5, NaN, Infinity, 1e10]) {
      it(`refuses the number ${bad}`, () => assert.throws(() => parseVmid(bad), invalid));
    }

    it('names the field and what was expected, for the operator', () => {
      try {
        parseVmid('abc', 'target VMID');
        assert.fail('accepted abc');
      } catch (err) {
        assert.ok(LifeboatError.is(err, 'invalidValue'));
        assert.match(err.message, /target VMID "abc" is not valid: expected a number from 100 to 999999999/);
        assert.equal(err.details.field, 'target VMID');
      }
    });

    it("refuses ' 121' and '121\\n' (no silent trimming)", () => {
      assert.throws(() => parseVmid(' 121'), invalid);
      assert.throws(() => parseVmid('121\n'), invalid);
    });
  });

  describe('storage ids', () => {
    for (const ok of ['local', 'local-lvm', 'backups', 'pbs', 'nfs.backup_2', 'Backup01']) {
      it(`accepts ${ok}`, () => assert.equal(checkStorageId(ok), ok));
    }
    for (const bad of ['', 'l', '1local', 'local lvm', 'local;rm', 'local/../x', '-local', 'local-', '$(id)', 'lo:cal']) {
      it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => checkStorageId(bad), invalid));
    }
  });

  describe('node names', () => {
    for (const ok of ['alpha', 'pve', 'pve-01', 'a', 'NODE2']) {
      it(`accepts ${ok}`, () => assert.equal(checkNodeName(ok), ok));
    }
    for (const bad of ['', '-alpha', 'alpha-', 'alpha.lan', 'alpha beta', 'alpha;id', '../alpha', 'a'.repeat(64)]) {
      it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => checkNodeName(bad), invalid));
    }
  });

  describe('backup volume ids', () => {
    const good = [
      'local:backup/vzdump-qemu-100-2026_01_02-03_04_05.vma.zst',
      'local:backup/vzdump-lxc-101-2026_01_02-03_05_00.tar.zst',
      'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst',
      'local:backup/vzdump-qemu-201-2026_11_01-03_00_07.vma.lzo',
      'local:backup/vzdump-lxc-131-2026_10_01-18_42_10.tar.gz',
      'local:backup/vzdump-qemu-100-2026_01_02-03_04_05.vma',
      'local:backup/vzdump-openvz-100-2016_01_02-03_04_05.tgz',
      'local:backup/vzdump-lxc-100-2026_01_02-03_04_05.tar.bz2',
      'pbs:backup/vm/100/2026-01-02T03:04:05Z',
      'pbs:backup/ct/101/2026-01-02T03:04:05Z',
      'pbs-par2:backup/vm/1002/2026-10-04T00:30:03Z',
    ];
    for (const ok of good) {
      it(`accepts ${ok}`, () => assert.equal(checkVolid(ok), ok));
    }
    const bad = [
      'local:backup/../../etc/passwd',
      'local:backup/vzdump-qemu-121-2026_01_02-03_04_05.vma.zst;rm -rf /',
      'local:backup/vzdump-qemu-121-2026_01_02-03_04_05.vma.zst\nrm -rf /',
      'local:backup/vzdump qemu-121-2026_01_02-03_04_05.vma.zst',
      'local:backup/vzdump-qemu-121-2026_01_02-03_04_05 (copy).vma.zst',
      'local:backup/vzdump-qemu-121-$(id).vma.zst',
      'local:backup/vzdump-qemu-99-2026_01_02-03_04_05.vma.zst',
      'local:backup/vzdump-qemu-121-2026_01_02-03_04_05.vma.xz',
      'local:iso/debian.iso',
      '/var/lib/vz/dump/vzdump-qemu-121-2026_01_02-03_04_05.vma.zst',
      'local:backup/sub/vzdump-qemu-121-2026_01_02-03_04_05.vma.zst',
      'pbs:backup/vm/100/2026-01-02T03:04:05Z;id',
      'pbs:backup/vm/../2026-01-02T03:04:05Z',
      'pbs:backup/host/100/2026-01-02T03:04:05Z',
      '',
    ];
    for (const b of bad) {
      it(`refuses ${JSON.stringify(b)}`, () => assert.throws(() => checkVolid(b), invalid));
    }
  });

  describe('UPIDs', () => {
    it('accepts the reference formats, including a token user', () => {
      assert.ok(checkUpid('UPID:pve:0012A3F4:0456B789:695735A5:qmrestore:200:root@pam:'));
      assert.ok(checkUpid('UPID:alpha:000668A1:00989299:6B01D068:vzrestore:131:root@pam!lifeboat:'));
      assert.ok(checkUpid('UPID:alpha:00061EE2:00973F77:6AFF9488:vzdump::root@pam:'), 'a job-wide vzdump has an empty id');
    });
    for (const bad of [
      'UPID:pve:0012A3F4:0456B789:695735A5:qmrestore:200:root@pam', // no trailing colon
      'UPID:pve:0012a3f4:0456B789:695735A5:qmrestore:200:root@pam:', // lower-case hex
      'UPID:pve:0012A3F4:0456B789:695735A5:qmrestore:200 ;reboot:root@pam:',
      'UPID:pve/../x:0012A3F4:0456B789:695735A5:qmrestore:200:root@pam:',
      'UPID:pve:0012A3F4:0456B789:695735A5:qmrestore:200:root@pam:$(id)',
      '',
    ]) {
      it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => checkUpid(bad), invalid));
    }
  });

  describe('days (--date)', () => {
    it('accepts a real calendar day', () => {
      assert.deepEqual(parseDay('2026-11-20'), { year: 2026, month: 11, day: 20 });
      assert.deepEqual(parseDay('2028-02-29'), { year: 2028, month: 2, day: 29 });
    });
    for (const bad of ['2026-02-30', '2026-02-29', '2026-13-01', '2026-00-10', '2026-1-5', '26-01-05', '2026/01/05', '05-01-2026', '2026-01-05T00:00', 'yesterday', '']) {
      it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseDay(bad), invalid));
    }
  });
});
