import * as assert from 'node:assert/strict';
import { LifeboatError } from '../../../../src/core/errors';
import { english } from '../../../../src/core/procedure/message';
import { runPlan } from '../../../../src/core/procedure/engine';
import { planGuestRestore, restoreAftermath } from '../../../../src/core/restore/guestRestore';
import { fail } from '../../../fakes/fakeNodeShell';
import { fixtureJson, json, taskListAnswer, tasksCommand } from '../../../fakes/pveHomelab';
import { isReadOnly, restoreScenario } from '../../../fakes/restoreScenario';

const NEWEST_121 = 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst';
const CT_131 = 'backups:backup/vzdump-lxc-131-2026_11_20-01_30_04.tar.zst';
/** The newest backup of 131: a PBS snapshot whose last verification failed (content-pbs.json). */
const PBS_FAILED_131 = 'pbs:backup/ct/131/2026-11-21T00:30:40Z';
const GiB = 1024 ** 3;

const reason = (r: string) => (err: unknown) => {
  assert.ok(LifeboatError.is(err), `expected a LifeboatError, got ${String(err)}`);
  assert.equal(err.reason, r, err.message);
  return true;
};

describe('restore/planGuestRestore', () => {
  describe('in place on a running VM', () => {
    it('plans check-archive, stop, safety-point, restore, start, reachability — in that order', async () => {
      const s = await restoreScenario();
      const { plan, facts } = await planGuestRestore({ vmid: 121 }, s.deps);
      assert.deepEqual(plan.steps.map((x) => x.id), ['recheck', 'check-archive', 'stop', 'safety-point', 'restore', 'start', 'reachability']);
      assert.equal(facts.backup.volid, NEWEST_121);
      assert.equal(facts.inPlace, true);
      assert.equal(facts.node, 'alpha');
      assert.equal(facts.type, 'qemu');
      assert.equal(facts.archivePath, '/mnt/pve/backups/dump/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst');
      assert.equal(facts.neededBytes, 40 * GiB, 'the disks in the archive (#qmdump#map / size=), not the CD-ROM');
      assert.equal(facts.safetyStorage, 'backups', 'the backup storage with the most room');
    });

    it('shows the exact commands: integrity test, shutdown, vzdump safety point, qmrestore --force 1, start', async () => {
      const s = await restoreScenario();
      const { plan } = await planGuestRestore({ vmid: 121 }, s.deps);
      const cmd = (id: string) => plan.steps.find((x) => x.id === id)?.commands ?? [];
      assert.deepEqual(cmd('check-archive'), ['test -s /mnt/pve/backups/dump/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst && zstd -q -t /mnt/pve/backups/dump/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst']);
      assert.equal(cmd('stop')[0], 'qm shutdown 121 --timeout 60');
      assert.equal(cmd('safety-point').length, 2);
      assert.match(cmd('safety-point')[0] ?? '', /^setsid nohup vzdump 121 --storage backups --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template 'Lifeboat safety point before restore' > \/tmp\/lifeboat-restore-121-[a-z0-9]+-safety\.log 2>&1 < \/dev\/null & echo \$!$/);
      assert.equal(cmd('safety-point')[1], 'pvesh get /nodes/alpha/tasks/<UPID>/status   # followed until it ends');
      assert.match(cmd('restore')[0] ?? '', new RegExp(`^setsid nohup qmrestore ${NEWEST_121} 121 --force 1 > /tmp/lifeboat-restore-121-[a-z0-9]+\\.log 2>&1 < /dev/null & echo \\$!$`));
      assert.equal(cmd('restore')[1], 'pvesh get /nodes/alpha/tasks/<UPID>/status   # followed until it ends');
      const planId = /lifeboat-(restore-121-[a-z0-9]+)\.log/.exec(cmd('restore')[0] ?? '')?.[1];
      assert.ok(planId && (cmd('safety-point')[0] ?? '').includes(`/tmp/lifeboat-${planId}-safety.log`), 'the safety point has a log of its own, named after the plan');
      assert.ok(!(cmd('restore')[0] ?? '').includes('--unique'));
      assert.deepEqual(cmd('start'), ['qm start 121']);
      const all = plan.steps.flatMap((x) => x.commands).join('\n');
      assert.ok(all.indexOf('vzdump 121') < all.indexOf('qmrestore'), 'the safety point comes before the overwrite');
    });

    it('says what will be destroyed, warns that the guest stops, and marks the destructive steps', async () => {
      const s = await restoreScenario();
      const { plan } = await planGuestRestore({ vmid: 121 }, s.deps);
      assert.deepEqual(plan.destroys.map(english), ['The current disks and configuration of VM 121 (gitea) are overwritten']);
      assert.deepEqual(plan.warnings.map(english), ['VM 121 is running: it will be stopped (services down until the restore ends)']);
      assert.deepEqual(plan.steps.filter((x) => x.destructive).map((x) => x.id), ['stop', 'restore']);
      assert.match(english(plan.nextSteps[0]!), /terraform plan in environments\/prod/);
      assert.equal(english(plan.nextSteps[1]!), 'Once the guest is confirmed good, delete the safety point (it is protected, so no pruning removes it): pvesh set /nodes/alpha/storage/backups/content/<safety point> --protected 0 && pvesh delete /nodes/alpha/storage/backups/content/<safety point>');
    });

    it('planning only reads: every command sent is a pvesh get or pvesm path', async () => {
      const s = await restoreScenario();
      await planGuestRestore({ vmid: 121 }, s.deps);
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
      assert.deepEqual(s.alpha.unmatched, []);
    });
  });

  describe('to a new VMID', () => {
    it('no stop, no safety point, --unique 1, no --force; the original is not touched', async () => {
      const s = await restoreScenario();
      const { plan, facts } = await planGuestRestore({ vmid: 121, targetId: 921 }, s.deps);
      assert.deepEqual(plan.steps.map((x) => x.id), ['recheck', 'check-archive', 'restore', 'link-down', 'start', 'reachability'], 'the link stays down unless asked otherwise');
      assert.equal(facts.inPlace, false);
      assert.equal(facts.safetyStorage, undefined);
      const all = plan.steps.flatMap((x) => x.commands).join('\n');
      assert.match(all, new RegExp(`qmrestore ${NEWEST_121} 921 --unique 1 >`));
      assert.ok(!all.includes('--force'));
      assert.ok(!/\b121\b/.test(all.replace(/vzdump-qemu-121-/g, '')), `the commands mention 121 only as the backup's name:\n${all}`);
      assert.deepEqual(plan.destroys, []);
      assert.deepEqual(plan.warnings, [], 'no clash: the link stays down');
      assert.deepEqual(facts.originalAddresses, ['10.20.0.21']);
      assert.ok(plan.nextSteps.map(english).includes('The copy 921 runs with its network link down: give it an address of its own before bringing the link up (qm set 921 --net0 …,link_down=0).'));
    });

    it('with the link up on request (linkDown: false), the plan warns of the clash and names --link-down', async () => {
      const s = await restoreScenario();
      const { plan } = await planGuestRestore({ vmid: 121, targetId: 921, linkDown: false }, s.deps);
      assert.ok(!plan.steps.some((x) => x.id === 'link-down'));
      assert.deepEqual(plan.warnings.map(english), ['The copy keeps the network configuration of 121 (address 10.20.0.21) and starts with its link up: the two will clash on the network. Leave the link down instead (--link-down in the CLI).']);
    });

    it('with linkDown, a step leaves the copy\'s network link down before it starts', async () => {
      const s = await restoreScenario();
      const { plan } = await planGuestRestore({ vmid: 121, targetId: 921, linkDown: true }, s.deps);
      assert.deepEqual(plan.steps.map((x) => x.id), ['recheck', 'check-archive', 'restore', 'link-down', 'start', 'reachability']);
      assert.deepEqual(plan.warnings, []);
    });

    it('refuses a target id that is already used (vmidInUse), before sending anything', async () => {
      const s = await restoreScenario();
      await assert.rejects(planGuestRestore({ vmid: 121, targetId: 122 }, s.deps), reason('vmidInUse'));
      await assert.rejects(planGuestRestore({ vmid: 121, targetId: '201' }, s.deps), (err) => reason('vmidInUse')(err) && /201.*k3s-test.*beta/.test((err as Error).message));
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
    });

    it('refuses a malformed target id', async () => {
      const s = await restoreScenario();
      await assert.rejects(planGuestRestore({ vmid: 121, targetId: 'abc' }, s.deps), reason('invalidValue'));
    });

    it('target storage too small for the archive\'s disks → storageFull', async () => {
      const s = await restoreScenario({ alphaStorages: (rows) => rows.map((r) => (r.storage === 'local-lvm' ? { ...r, avail: 10 * GiB } : r)) });
      await assert.rejects(planGuestRestore({ vmid: 121, targetId: 921 }, s.deps), (err) => reason('storageFull')(err) && /local-lvm on alpha has 10\.0 GiB free; the backup's disks need 40\.0 GiB/.test((err as Error).message));
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
    });

    it('--storage that does not hold VM disks → storageMissing', async () => {
      const s = await restoreScenario();
      await assert.rejects(planGuestRestore({ vmid: 121, targetId: 921, storage: 'backups' }, s.deps), reason('storageMissing'));
      await assert.rejects(planGuestRestore({ vmid: 121, targetId: 921, storage: 'nope' }, s.deps), reason('storageMissing'));
    });
  });

  it('a container restores with pct restore <vmid> <volid> (argument order differs from qmrestore)', async () => {
    const s = await restoreScenario();
    const { plan, facts } = await planGuestRestore({ vmid: 131, date: '2026-11-20' }, s.deps);
    assert.equal(facts.type, 'lxc');
    assert.equal(facts.backup.volid, CT_131);
    assert.deepEqual(plan.steps.map((x) => x.id), ['recheck', 'check-archive', 'stop', 'safety-point', 'restore', 'start', 'reachability']);
    const all = plan.steps.flatMap((x) => x.commands).join('\n');
    assert.match(all, new RegExp(`setsid nohup pct restore 131 ${CT_131} --storage local-lvm --force 1 >`));
    assert.match(all, /^pct shutdown 131 --timeout 60$/m);
    assert.match(all, /^pct start 131$/m);
    assert.match(all, /lxc\/131\/interfaces/);
  });

  describe('refusals that change nothing', () => {
    it('--date with no backup that day → noBackupOnDate naming the days that exist', async () => {
      const s = await restoreScenario();
      await assert.rejects(planGuestRestore({ vmid: 121, date: '2026-11-21' }, s.deps), (err) => reason('noBackupOnDate')(err) && (err as LifeboatError).details.available === '2026-11-20, 2026-11-19, 2026-11-18, 2026-11-17');
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
    });

    it('--date picks the newest backup of that day', async () => {
      const s = await restoreScenario();
      const { facts } = await planGuestRestore({ vmid: 121, date: '2026-11-19' }, s.deps);
      assert.equal(facts.backup.volid, 'backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst');
    });

    it('a guest never backed up → noBackup, and only read commands were sent to any node', async () => {
      const s = await restoreScenario();
      await assert.rejects(planGuestRestore({ vmid: 202 }, s.deps), reason('noBackup'));
      await assert.rejects(planGuestRestore({ vmid: 555 }, s.deps), reason('noBackup'));
      assert.deepEqual([...s.alpha.commands, ...s.beta.commands].filter((c) => !isReadOnly(c)), []);
    });

    it('no backup storage with room for the safety point → storageFull before any change', async () => {
      const s = await restoreScenario({ alphaStorages: (rows) => rows.map((r) => (String(r.content).includes('backup') ? { ...r, avail: 1 * GiB } : r)) });
      await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), (err) => reason('storageFull')(err) && /no backup storage on alpha has room for a safety backup of 121/.test((err as Error).message));
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
    });

    it('a locked guest → guestLocked', async () => {
      const s = await restoreScenario({ resources: (rows) => rows.map((r) => (r.vmid === 121 ? { ...r, lock: 'backup' } : r)) });
      await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), (err) => reason('guestLocked')(err) && /locked \(backup\)/.test((err as Error).message));
    });

    it('a restore task running for that VMID on the node → restoreInProgress', async () => {
      const s = await restoreScenario();
      s.alpha.on(tasksCommand('alpha'), json([
        { id: '121', node: 'alpha', pid: 1, pstart: 2, starttime: 1795280000, type: 'qmrestore', upid: 'UPID:alpha:00000001:00000002:6B01CC80:qmrestore:121:root@pam:', user: 'root@pam' },
        ...fixtureJson<unknown[]>('tasks-alpha.json'),
      ]));
      await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), (err) => reason('restoreInProgress')(err) && /UPID:alpha:00000001/.test((err as Error).message));
    });

    it('a finished restore task for that VMID does not block', async () => {
      const s = await restoreScenario();
      s.alpha.on(tasksCommand('alpha'), json([
        { endtime: 1795280100, id: '121', node: 'alpha', pid: 1, pstart: 2, starttime: 1795280000, status: 'OK', type: 'qmrestore', upid: 'UPID:alpha:00000001:00000002:6B01CC80:qmrestore:121:root@pam:', user: 'root@pam' },
      ]));
      await planGuestRestore({ vmid: 121 }, s.deps);
    });

    it('a restore of the same VMID already running in this process → restoreInProgress', async () => {
      const s = await restoreScenario();
      s.deps.activeRestores.add(121);
      await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), reason('restoreInProgress'));
      await assert.rejects(planGuestRestore({ vmid: 131, targetId: 121 }, s.deps), (err) => LifeboatError.is(err), 'the target id counts, whatever the source');
    });

    it('an empty archive → backupCorrupt', async () => {
      const s = await restoreScenario({ backupsContent: (rows) => rows.map((r) => (String(r.volid).endsWith('13_05_40.vma.zst') ? { ...r, size: 0 } : r)) });
      await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), (err) => reason('backupCorrupt')(err) && /backup backups:backup\/vzdump-qemu-121-2026_11_20-13_05_40\.vma\.zst is empty \(0 bytes\)/.test((err as Error).message));
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
    });

    it('the newest backup is a PBS snapshot that failed verification → the next good backup is chosen', async () => {
      const s = await restoreScenario();
      assert.equal(s.inventory.backups.filter((b) => b.vmid === 131).sort((a, b) => b.ctime - a.ctime)[0]?.volid, PBS_FAILED_131, 'precondition: the newest backup of 131 failed its verification');
      const { facts, plan } = await planGuestRestore({ vmid: 131 }, s.deps);
      assert.equal(facts.backup.volid, CT_131);
      assert.ok(!plan.steps.flatMap((x) => x.commands).some((c) => c.includes('ct/131/2026-11-21T00:30:40Z')), 'the failed snapshot is in no command');
    });

    it('a PBS snapshot that failed verification, asked for by name → backupCorrupt', async () => {
      const s = await restoreScenario();
      await assert.rejects(planGuestRestore({ vmid: 131, volid: PBS_FAILED_131 }, s.deps), (err) => reason('backupCorrupt')(err) && /failed its last PBS verification/.test((err as Error).message));
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
    });

    it('every backup of the guest failed its PBS verification → backupCorrupt, nothing changed', async () => {
      const s = await restoreScenario({ backupsContent: (rows) => rows.filter((r) => r.vmid !== 131), alphaLocalContent: (rows) => rows.filter((r) => r.vmid !== 131) });
      assert.deepEqual(s.inventory.backups.filter((b) => b.vmid === 131).map((b) => [b.volid, b.verification]), [[PBS_FAILED_131, 'failed']], 'precondition: its only backup failed verification');
      await assert.rejects(planGuestRestore({ vmid: 131 }, s.deps), (err) => reason('backupCorrupt')(err) && /every backup of 131 failed its last verification/.test((err as Error).message));
      assert.deepEqual(s.alpha.commands.filter((c) => !isReadOnly(c)), []);
    });

    it('a backup of the other kind for the same VMID → vmidInUse (a VM is not overwritten with a container)', async () => {
      const s = await restoreScenario({ backupsContent: (rows) => [...rows, { content: 'backup', ctime: 1795190000, format: 'tar.zst', size: 1000, subtype: 'lxc', vmid: 121, volid: 'backups:backup/vzdump-lxc-121-2026_11_20-17_00_00.tar.zst' }] });
      await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), reason('vmidInUse'));
    });

    it('a node that cannot be reached now is refused with hostUnreachable (whatever the cached inventory says)', async () => {
      const s = await restoreScenario();
      const down = (node: string) => ({ node, exec: async () => { throw new LifeboatError('hostUnreachable', 'ssh root@10.20.0.10: connect ECONNREFUSED', { node }); } });
      await assert.rejects(planGuestRestore({ vmid: 121 }, { ...s.deps, shell: down }), (err) => reason('hostUnreachable')(err) && /node alpha could not be read: .*ECONNREFUSED/.test((err as Error).message));
    });

    it('a node the cached inventory could not read is read again, and planned from if it answers now', async () => {
      const s = await restoreScenario();
      const inventory = { ...s.inventory, nodes: s.inventory.nodes.map((n) => (n.node === 'alpha' ? { ...n, reachable: false, storages: [], error: { reason: 'hostUnreachable', message: 'ECONNREFUSED' } } : n)) };
      const { facts } = await planGuestRestore({ vmid: 121 }, { ...s.deps, inventory });
      assert.equal(facts.node, 'alpha');
      assert.equal(facts.safetyStorage, 'backups');
    });

    it('a hostile file name in a listing never becomes a backup: left out with a warning, the newest valid backup is restored, no command carries it', async () => {
      const hostile = 'local:backup/vzdump-qemu-121-2026_01_02-03_04_05.vma.zst;rm -rf /';
      const s = await restoreScenario({ backupsContent: (rows) => [...rows, { content: 'backup', ctime: 1795200000, format: 'vma.zst', size: 2262892544, subtype: 'qemu', vmid: 121, volid: hostile }] });
      assert.deepEqual(s.inventory.backups.filter((b) => b.volid.includes('rm -rf')), [], 'the hostile row is not in the inventory');
      assert.equal(s.log.grep(`warn: alpha: ignoring ${JSON.stringify(hostile)} on backups: not a vzdump backup name`).length, 1);
      assert.equal(s.log.grep(`warn: beta: ignoring ${JSON.stringify(hostile)} on backups: not a vzdump backup name`).length, 1, 'each node that lists it says so');
      const { plan, facts } = await planGuestRestore({ vmid: 121 }, s.deps);
      assert.equal(facts.backup.volid, NEWEST_121, 'the newest valid backup, although the hostile row was newer');
      assert.deepEqual(plan.steps.flatMap((x) => x.commands).filter((c) => c.includes('rm -rf') || c.includes(';rm')), []);
      await assert.rejects(planGuestRestore({ vmid: 121, volid: hostile }, s.deps), (err) => reason('noBackup')(err) && (err as Error).message === `backup ${hostile} is not visible from node alpha`);
      s.markPlanned();
      const report = await runPlan(plan, { signal: new AbortController().signal, log: s.log, aftermath: (f) => restoreAftermath(facts, f) });
      assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error?.message])));
      assert.ok(s.runCommands().some((c) => c.includes(`qmrestore ${NEWEST_121} 121 --force 1 `)));
      const sent = [...s.alpha.commands, ...s.beta.commands];
      assert.deepEqual(sent.filter((c) => c.includes('rm -rf') || c.includes(';rm') || c.includes('2026_01_02-03_04_05')), []);
    });

    it('the archive path the node prints is data: quoted as one argument in the integrity check', async () => {
      const s = await restoreScenario();
      const path = '/mnt/pve/my backups/dump/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst;touch pwned';
      s.alpha.on(/^pvesm path /, { stdout: `${path}\n` });
      const { plan } = await planGuestRestore({ vmid: 121 }, s.deps);
      assert.deepEqual(plan.steps.find((x) => x.id === 'check-archive')?.commands, [`test -s '${path}' && zstd -q -t '${path}'`]);
    });

    it('malformed request values are refused before anything is read', async () => {
      const s = await restoreScenario();
      const before = s.alpha.commands.length;
      await assert.rejects(planGuestRestore({ vmid: 'abc' }, s.deps), reason('invalidValue'));
      await assert.rejects(planGuestRestore({ vmid: 121, date: '2026-02-30' }, s.deps), reason('invalidValue'));
      await assert.rejects(planGuestRestore({ vmid: 121, node: 'alpha;reboot' }, s.deps), reason('invalidValue'));
      await assert.rejects(planGuestRestore({ vmid: 121, storage: 'local lvm' }, s.deps), reason('invalidValue'));
      assert.equal(s.alpha.commands.length, before);
    });
  });

  describe('found by these tests, fixed since', () => {
    // Was a bug: `pvesh get /nodes/<node>/tasks` lists finished tasks only on a real node (API default
    // `source=archive`), so a running restore was invisible. This fake answers like real PVE.
    it('sees a running restore on a node that lists running tasks only with --source all|active', async () => {
      const s = await restoreScenario();
      const running = { id: '121', node: 'alpha', pid: 1, pstart: 2, starttime: 1795280000, type: 'qmrestore', upid: 'UPID:alpha:00000001:00000002:6B01CC80:qmrestore:121:root@pam:', user: 'root@pam' };
      s.alpha.on(tasksCommand('alpha'), taskListAnswer(() => [running, ...fixtureJson<Record<string, unknown>[]>('tasks-alpha.json')], { realSource: true }));
      await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), reason('restoreInProgress'));
    });

    // Was a bug: the first disk's storage was passed as --storage, sending every disk of a VM there.
    it('a VM with disks on two storages goes back disk by disk (no --storage), each storage checked for room', async () => {
      const conf = 'name: gitea\nscsi0: local-lvm:vm-121-disk-0,size=40G\nscsi1: tank:vm-121-disk-1,size=100G\n#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:\n#qmdump#map:scsi1:drive-scsi1:tank:raw:\n\n';
      const tank = { active: 1, avail: 900 * GiB, content: 'images,rootdir', enabled: 1, shared: 0, storage: 'tank', total: 1000 * GiB, type: 'zfspool', used: 100 * GiB };
      const s = await restoreScenario({ alphaStorages: (rows) => [...rows, tank] });
      s.alpha.on(/extractconfig --volume \S*qemu-121/, json(conf));
      const { plan } = await planGuestRestore({ vmid: 121, targetId: 921 }, s.deps);
      const restore = plan.steps.find((x) => x.id === 'restore')?.commands[0] ?? '';
      assert.match(restore, new RegExp(`qmrestore ${NEWEST_121} 921 --unique 1 >`));
      const small = await restoreScenario({ alphaStorages: (rows) => [...rows, { ...tank, avail: 50 * GiB }] });
      small.alpha.on(/extractconfig --volume \S*qemu-121/, json(conf));
      await assert.rejects(planGuestRestore({ vmid: 121, targetId: 921 }, small.deps), (err) => reason('storageFull')(err) && /tank on alpha has 50\.0 GiB free; the backup's disks need 100\.0 GiB/.test((err as Error).message));
    });

    // Was a bug: an in-place restore on another node than the guest's was planned.
    it('refuses an in-place restore on a node where the guest does not live', async () => {
      const s = await restoreScenario();
      await assert.rejects(planGuestRestore({ vmid: 121, node: 'beta' }, s.deps), (err) => reason('vmidInUse')(err) && /lives on alpha, not on beta/.test((err as Error).message));
      assert.deepEqual(s.beta.commands.filter((c) => !isReadOnly(c)), []);
    });

    // Was a bug: a failed extractconfig was swallowed and the space check silently skipped.
    it('an archive whose config cannot be read: the plan warns that the room was not checked', async () => {
      const s = await restoreScenario({ declared: [] });
      s.alpha.on(/extractconfig --volume \S*qemu-121/, fail("unable to find configuration data 'qemu-server.conf'", 255));
      const { plan } = await planGuestRestore({ vmid: 121, targetId: 921 }, s.deps);
      assert.equal(plan.warnings.length, 1);
      assert.match(english(plan.warnings[0]!), /could not be read .*unable to find configuration data.*room on the target storage was not checked/);
    });
  });

  describe('a declared guest no node has any more (its node died, or it was destroyed)', () => {
    // Was a gap: its tfvars entry was only found by an explicit VMID or a running guest's name, so
    // the plan had no tfvars address and the report could not name the environment to plan in.
    it('is matched to its tfvars entry through the notes of its backups: address and environment known', async () => {
      const s = await restoreScenario({ resources: (rows) => rows.filter((r) => r['vmid'] !== 121) });
      const { plan, facts } = await planGuestRestore({ vmid: 121, node: 'alpha' }, s.deps);
      assert.equal(facts.inPlace, true);
      assert.equal(facts.existing, undefined);
      assert.equal(facts.declared?.name, 'gitea');
      assert.equal(facts.declared?.ip, '10.20.0.21');
      assert.ok(!plan.steps.some((x) => x.id === 'safety-point'), 'nothing to make a safety point of');
      assert.match(plan.summary.map((x) => `${english(x.label)}: ${x.value}`).join('\n'), /Guest: 121 \(gitea\) on alpha/);
    });
  });
});
