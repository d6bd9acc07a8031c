/**
 * What a guest restore leaves behind when it does not go to the end, and how it copes with the
 * node changing under it: a cancel with the real sleep, a failure or a cancel at every step (the
 * report's aftermath), connection losses around a launch, a plan made from a stale inventory, a
 * damaged backup with an older one to offer, and the room the replaced disks give back.
 */
import * as assert from 'node:assert/strict';
import { LifeboatError } from '../../../../src/core/errors';
import { runPlan } from '../../../../src/core/procedure/engine';
import { english } from '../../../../src/core/procedure/message';
import type { Sleep } from '../../../../src/core/ports';
import { planGuestRestore, restoreAftermath, type GuestRestoreRequest } from '../../../../src/core/restore/guestRestore';
import { sleep as realSleep } from '../../../../src/adapters/net/probe';
import { fail, json } from '../../../fakes/fakeNodeShell';
import { fixture, fixtureJson, pveshGet, tasksCommand } from '../../../fakes/pveHomelab';
import { RESTORE_UPID, SAFETY_UPID, SAFETY_VOLID, restoreScenario, taskCommand, type Scenario } from '../../../fakes/restoreScenario';

const NEWEST_121 = 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst';
const RESOURCES = pveshGet('/cluster/resources', '--type', 'vm');
const VZDUMP_121 = /^date \+%s; setsid nohup vzdump 121 /;
const QMRESTORE = /^date \+%s; setsid nohup qmrestore /;
const running = (upid: string, type: string) => json({ ...fixtureJson<Record<string, unknown>>('task-status-running.json'), type, upid });

/** Plans, lets the test arrange the run (`arrange`), then runs. */
async function run(s: Scenario, request: GuestRestoreRequest, arrange: (ac: AbortController) => void = () => undefined) {
  const { plan, facts } = await planGuestRestore(request, s.deps);
  s.markPlanned();
  const ac = new AbortController();
  arrange(ac);
  const report = await runPlan(plan, { signal: ac.signal, log: s.log, aftermath: (f) => restoreAftermath(facts, f) });
  return { plan, facts, report, aftermath: report.aftermath.map(english) };
}

const protectedConfig = () => json({ ...fixtureJson<Record<string, unknown>>('config-qemu-121.json'), protection: 1 });

describe('restore: cancellation with the real sleep', () => {
  // Was a bug (fixed): the real sleep rejected with a DOMException; a cancel while waiting for the
  // vzdump task read "failed / internal: This operation was aborted" and the guest was started again
  // while its backup still ran. The fakes' sleep threw CancelledError and hid it.
  it('a cancel while waiting on the safety point\'s vzdump task → cancelled, the guest is not started again', async () => {
    let armed = false;
    const s = await restoreScenario();
    const { report, aftermath } = await run(s, { vmid: 121 }, (ac) => {
      (s.deps as { sleep: Sleep }).sleep = (ms, signal) => {
        const waiting = realSleep(ms, signal);
        if (armed) queueMicrotask(() => ac.abort());
        return waiting;
      };
      s.alpha.on(taskCommand(SAFETY_UPID, 'status'), () => { armed = true; return running(SAFETY_UPID, 'vzdump'); });
    });
    assert.equal(report.status, 'cancelled', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error])));
    const step = report.steps.find((x) => x.id === 'safety-point');
    assert.deepEqual([step?.status, step?.error], ['cancelled', { reason: 'cancelled', message: 'cancelled by the operator' }]);
    assert.ok(!s.runCommands().some((c) => /^qm start /.test(c) || c.includes('qmrestore')), 'neither started again nor overwritten');
    assert.deepEqual(aftermath, [
      `The safety backup task ${SAFETY_UPID} may still be running on alpha and keeps 121 locked until it ends. Follow it with: pvesh get /nodes/alpha/tasks/${SAFETY_UPID}/status`,
      'VM 121 was stopped and not overwritten; once the safety backup has ended, start it again with: qm start 121',
    ]);
  });

  it('a cancel while waiting for the restored guest to answer → cancelled; the report says it was overwritten and how to go back', async () => {
    const s = await restoreScenario({ open: [] });
    (s.deps as { timing: object }).timing = { ...s.deps.timing, bootTimeoutMs: 60_000 };
    const { report, aftermath } = await run(s, { vmid: 121 }, (ac) => {
      (s.deps as { sleep: Sleep }).sleep = (ms, signal) => {
        const waiting = realSleep(ms, signal);
        if (s.probe.probes.length > 0) queueMicrotask(() => ac.abort());
        return waiting;
      };
    });
    assert.equal(report.status, 'cancelled', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error])));
    assert.equal(report.steps.at(-1)?.status, 'cancelled');
    assert.deepEqual(aftermath, [
      `VM 121 was overwritten with the backup ${NEWEST_121} and started.`,
      'Its network check did not complete: check that it answers before relying on it.',
      `The guest as it was before is saved in ${SAFETY_VOLID}; to return to it: qm stop 121 && qmrestore ${SAFETY_VOLID} 121 --force 1`,
    ]);
  });
});

describe('restore: the aftermath of a failure or a cancel at every step', () => {
  // In place on a running, protected VM: every step the plan can have.
  const inPlace = {
    recheck: RESOURCES,
    'check-archive': /^test -s /,
    stop: /^qm (shutdown|stop) 121/,
    'safety-point': VZDUMP_121,
    'lift-protection': /^qm set 121 --protection 0$/,
    restore: QMRESTORE,
    'protect-again': /^qm set 121 --protection 1$/,
    start: /^qm start 121$/,
    reachability: pveshGet('/nodes/alpha/qemu/121/agent/network-get-interfaces'),
  } as const;
  const safety = `A safety point was made: ${SAFETY_VOLID} (protected; delete it if you do not need it: pvesh set /nodes/alpha/storage/backups/content/${SAFETY_VOLID} --protected 0 && pvesh delete /nodes/alpha/storage/backups/content/${SAFETY_VOLID})`;
  const back = (stop: boolean) => `The guest as it was before is saved in ${SAFETY_VOLID}; to return to it: ${stop ? 'qm stop 121 && ' : ''}qmrestore ${SAFETY_VOLID} 121 --force 1`;
  const stopped = 'VM 121 was stopped and not overwritten; start it again with: qm start 121';
  const lifted = 'The protection of VM 121 was lifted and not set again: qm set 121 --protection 1';
  const overwritten = `VM 121 was overwritten with the backup ${NEWEST_121}.`;
  const notStarted = 'The backup was restored but the guest is not started: qm start 121';
  const expected: Record<keyof typeof inPlace, { failed: string[]; cancelled: string[] }> = {
    recheck: { failed: ['Nothing was changed.'], cancelled: ['Nothing was changed.'] },
    'check-archive': { failed: ['Nothing was changed.'], cancelled: ['Nothing was changed.'] },
    stop: {
      failed: ['VM 121 was not overwritten; its stop did not complete, so it may be running or stopped: check with qm status 121, and start it if needed with: qm start 121'],
      cancelled: ['VM 121 was not overwritten; its stop did not complete, so it may be running or stopped: check with qm status 121, and start it if needed with: qm start 121'],
    },
    'safety-point': {
      failed: ['VM 121 was started again as it was; nothing was overwritten.'],
      cancelled: [
        'The safety backup of 121 may have been started on alpha just before the cancel (output in <log>): if it runs, it keeps 121 locked until it ends. Check with: pvesh get /nodes/alpha/tasks --source active --vmid 121',
        'VM 121 was stopped and not overwritten; once the safety backup has ended, start it again with: qm start 121',
      ],
    },
    'lift-protection': { failed: [safety, stopped], cancelled: [safety, stopped] },
    restore: {
      failed: [safety, lifted, stopped],
      cancelled: [
        'The restore of 121 may have been started on alpha just before the cancel (output in <log>): if it runs, it cannot be stopped halfway safely. Check with: pvesh get /nodes/alpha/tasks --source active --vmid 121',
        back(false), lifted,
      ],
    },
    'protect-again': { failed: [overwritten, notStarted, back(false), lifted], cancelled: [overwritten, notStarted, back(false), lifted] },
    start: { failed: [overwritten, notStarted, back(false)], cancelled: [overwritten, notStarted, back(false)] },
    reachability: {
      failed: [`VM 121 was overwritten with the backup ${NEWEST_121} and started.`, 'It did not answer on the network in time: check its console before relying on it.', back(true)],
      cancelled: [`VM 121 was overwritten with the backup ${NEWEST_121} and started.`, 'Its network check did not complete: check that it answers before relying on it.', back(true)],
    },
  };

  for (const [stepId, match] of Object.entries(inPlace) as [keyof typeof inPlace, string | RegExp][]) {
    for (const how of ['failed', 'cancelled'] as const) {
      it(`${how} at ${stepId}`, async () => {
        const s = await restoreScenario(how === 'failed' && stepId === 'reachability' ? { open: [] } : {});
        s.alpha.on(pveshGet('/nodes/alpha/qemu/121/config'), protectedConfig());
        s.alpha.on(/^qm set 121 --protection [01]$/, { code: 0 });
        const { report, aftermath } = await run(s, { vmid: 121 }, (ac) => {
          if (how === 'failed') {
            if (stepId !== 'reachability') s.alpha.on(match, fail('boom'));
          } else {
            s.alpha.on(match, () => { ac.abort(); return { code: 0, stdout: '[]' }; });
          }
        });
        assert.deepEqual(report.steps.map((x) => x.id), Object.keys(inPlace));
        const step = report.steps.find((x) => x.id === stepId);
        assert.equal(step?.status, how, JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error])));
        assert.equal(report.status, how);
        assert.deepEqual(aftermath.map((m) => m.replace(/\/tmp\/lifeboat-restore-121-\w+(-safety)?\.log/, '<log>')), expected[stepId][how]);
        if (report.steps.findIndex((x) => x.id === 'restore') <= report.steps.findIndex((x) => x.id === stepId) && !(stepId === 'restore' && how === 'failed')) {
          assert.ok(!aftermath.some((m) => /Nothing was (overwritten|changed)/.test(m)), 'never "nothing was overwritten" once the restore may have run');
        }
      });
    }
  }

  it('a copy whose link could not be taken down: the report says to take it down before starting it, or to remove it', async () => {
    const s = await restoreScenario();
    s.alpha.on(pveshGet('/nodes/alpha/qemu/921/config'), json(fixtureJson('config-qemu-121.json')));
    const { report, aftermath } = await run(s, { vmid: 121, targetId: 921 }, () => { s.alpha.on(/^qm set 921 --net0 /, fail('unable to parse network options')); });
    assert.equal(report.steps.find((x) => x.id === 'link-down')?.status, 'failed');
    assert.deepEqual(aftermath, [
      `The copy 921 was restored from the backup ${NEWEST_121}; 121 was not touched. Remove the copy with: qm destroy 921`,
      'The copy 921 is not started and its network link is not down yet: take it down before you start it (qm set 921 --net0 <its net0>,link_down=1), or remove the copy.',
    ]);
  });

  // Seen on the lab: a copy of the protected gitea is protected too, and `qm destroy` refuses it.
  it('a copy of a protected guest: how to remove it lifts the protection first', async () => {
    const s = await restoreScenario();
    s.alpha.on(/^pvesh get \/nodes\/alpha\/vzdump\/extractconfig --volume \S*qemu-121/, json(`${fixture('extractconfig-qemu-121.conf')}protection: 1\n`));
    const { plan, facts, aftermath } = await run(s, { vmid: 121, targetId: 921, linkDown: false }, () => { s.alpha.on('qm start 921', fail('start failed')); });
    assert.equal(facts.copyProtected, true);
    assert.equal(english(plan.steps.find((x) => x.id === 'restore')!.effect!), 'A new guest 921; remove it with: qm stop 921 && qm set 921 --protection 0 && qm destroy 921');
    assert.equal(aftermath[0], `The copy 921 was restored from the backup ${NEWEST_121}; 121 was not touched. Remove the copy with: qm set 921 --protection 0 && qm destroy 921`);
  });

  it('a copy that was restored and started but whose check failed: how to remove it (stopped first)', async () => {
    const s = await restoreScenario({ open: [] });
    s.alpha.on(pveshGet('/nodes/alpha/qemu/921/config'), json({ ...fixtureJson<Record<string, unknown>>('config-qemu-121.json'), ipconfig0: 'ip=10.20.0.99/24' }));
    const { report, aftermath } = await run(s, { vmid: 121, targetId: 921, linkDown: false });
    assert.equal(report.steps.at(-1)?.error?.reason, 'unreachableAfterRestore');
    assert.deepEqual(aftermath, [
      `The copy 921 was restored from the backup ${NEWEST_121} and started; 121 was not touched. Remove the copy with: qm stop 921 && qm destroy 921`,
      'It did not answer on the network in time: check its console before relying on it.',
    ]);
  });
});

describe('restore: connection losses around a launch', () => {
  const launched = (log: string) => `The restore of 121 was started on alpha (output in ${log}) but Lifeboat lost track of its task: it may still be running, and cannot be stopped halfway safely. Check with: pvesh get /nodes/alpha/tasks --source active --vmid 121`;

  it('the answer of the restore\'s launch is lost: after reconnecting, its log file shows it started; its task is found and followed', async () => {
    const s = await restoreScenario({ loseLaunchAnswer: 'restore' });
    const { report } = await run(s, { vmid: 121 });
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error])));
    assert.equal(report.facts.restoreTask, RESTORE_UPID);
    assert.match(report.facts.restoreLaunched ?? '', /^\/tmp\/lifeboat-restore-121-\w+\.log$/);
    assert.equal(report.facts.restorePid, undefined, 'its pid was never read');
    assert.equal(s.runCommands().filter((c) => QMRESTORE.test(c)).length, 1, 'launched once');
    assert.ok(s.runCommands().some((c) => /^date \+%s; test -e \/tmp\/lifeboat-restore-121-\w+\.log && echo started \|\| echo absent$/.test(c)));
  });

  it('the answer of the safety point\'s launch is lost: the same for its vzdump task', async () => {
    const s = await restoreScenario({ loseLaunchAnswer: 'safety' });
    const { report } = await run(s, { vmid: 121 });
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error])));
    assert.equal(report.facts.safetyTask, SAFETY_UPID);
    assert.equal(report.facts.safetyPoint, SAFETY_VOLID);
    assert.equal(s.runCommands().filter((c) => VZDUMP_121.test(c)).length, 1);
  });

  it('a launch whose connection dropped before the node ran it: nothing launched, said so; the guest is stopped, the safety point kept', async () => {
    const s = await restoreScenario();
    const { report, aftermath } = await run(s, { vmid: 121 }, () => {
      s.alpha.dropOn(QMRESTORE, 0);
    });
    const step = report.steps.find((x) => x.id === 'restore');
    assert.equal(step?.error?.reason, 'connectionLost');
    assert.match(step?.error?.message ?? '', /the node shows no sign that it ran \(no \/tmp\/lifeboat-restore-121-\w+\.log\): it was not started$/);
    assert.equal(report.facts.restoreLaunched, undefined);
    assert.deepEqual(aftermath.slice(1), ['VM 121 was stopped and not overwritten; start it again with: qm start 121']);
    assert.match(aftermath[0] ?? '', /^A safety point was made: /);
  });

  it('the connection drops while looking for the restore\'s task: ridden out, the task found, the restore completes', async () => {
    const s = await restoreScenario();
    // Task-list reads after planning: 0-1 find the safety point's task, 2-… the restore's.
    const { report } = await run(s, { vmid: 121 }, () => { s.alpha.dropOn(tasksCommand('alpha'), 2, 3); });
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error])));
    assert.equal(s.log.grep(/warn: lost the connection to alpha while looking for the task of qmrestore \(2\/3\)/).length, 1);
    assert.equal(s.runCommands().filter((c) => QMRESTORE.test(c)).length, 1);
  });

  // Was a bug (fixed): a drop there failed the step before restoreTask was recorded, and the report said
  // "VM 121 was stopped and not overwritten; start it again" while qmrestore ran on the node.
  it('the connection is lost for good while looking for the restore\'s task: the report says it was started and how to check', async () => {
    const s = await restoreScenario();
    const { report, aftermath } = await run(s, { vmid: 121 }, () => { s.alpha.dropOn(tasksCommand('alpha'), 2, 3, 4, 5, 6, 7); });
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((x) => x.id === 'restore')?.error?.reason, 'connectionLost');
    const log = report.facts.restoreLaunched!;
    assert.equal(report.facts.restorePid, '420001');
    assert.deepEqual(aftermath, [launched(log), back()]);
    assert.ok(!aftermath.some((m) => /not overwritten|Nothing was/.test(m)));
  });

  it('cancelled while looking for the restore\'s task: cancelled, and the report says it was started', async () => {
    const s = await restoreScenario();
    const { report, aftermath } = await run(s, { vmid: 121 }, (ac) => {
      s.alpha.on(/^kill -0 420001 /, () => { ac.abort(); return { stdout: 'alive\n' }; });
    });
    assert.equal(report.status, 'cancelled');
    assert.deepEqual(aftermath, [launched(report.facts.restoreLaunched!), back()]);
  });

  function back(): string {
    return `The guest as it was before is saved in ${SAFETY_VOLID}; to return to it: qmrestore ${SAFETY_VOLID} 121 --force 1`;
  }
});

describe('restore: planned from what the node says now, checked again before changing anything', () => {
  const withStatus = (status: string, extra: Record<string, unknown> = {}) => json(fixtureJson<Record<string, unknown>[]>('cluster-resources-vm.json').map((r) => (r.vmid === 121 ? { ...r, status, ...extra } : r)));

  it('the cached inventory says running, the node says stopped now: no stop step', async () => {
    const s = await restoreScenario();
    s.alpha.on(RESOURCES, withStatus('stopped'));
    assert.equal(s.inventory.guests.find((g) => g.vmid === 121)?.status, 'running', 'the cached inventory');
    const { plan, facts } = await planGuestRestore({ vmid: 121 }, s.deps);
    assert.equal(facts.existing?.status, 'stopped');
    assert.ok(!plan.steps.some((x) => x.id === 'stop'));
  });

  it('the cached inventory says stopped, the node says running now: a stop step', async () => {
    const s = await restoreScenario({ resources: (rows) => rows.map((r) => (r.vmid === 121 ? { ...r, status: 'stopped' } : r)) });
    s.alpha.on(RESOURCES, withStatus('running'));
    const { plan } = await planGuestRestore({ vmid: 121 }, s.deps);
    assert.ok(plan.steps.some((x) => x.id === 'stop'));
  });

  it('the free space is the node\'s now, not the cached one', async () => {
    const s = await restoreScenario();
    s.alpha.on(pveshGet('/nodes/alpha/storage'), json(fixtureJson<Record<string, unknown>[]>('storage-alpha.json').map((r) => (r.storage === 'local-lvm' ? { ...r, avail: 1024 ** 3 } : r))));
    await assert.rejects(planGuestRestore({ vmid: 121, targetId: 921 }, s.deps), (err) => LifeboatError.is(err, 'storageFull') && /local-lvm on alpha has 1\.0 GiB free/.test(err.message));
  });

  for (const [what, answer, pattern] of [
    ['started since the plan', () => withStatus('running'), /guest 121 is now running; it was stopped when the plan was made/],
    ['locked since the plan', () => withStatus('stopped', { lock: 'backup' }), /guest 121 is now locked \(backup\)/],
    ['gone since the plan', () => json(fixtureJson<Record<string, unknown>[]>('cluster-resources-vm.json').filter((r) => r.vmid !== 121)), /guest 121 no longer exists/],
  ] as const) {
    it(`a guest ${what} → the run stops at its first step, nothing changed`, async () => {
      const s = await restoreScenario({ resources: (rows) => rows.map((r) => (r.vmid === 121 ? { ...r, status: 'stopped' } : r)) });
      const { plan, report, aftermath } = await run(s, { vmid: 121 }, () => { s.alpha.on(RESOURCES, answer()); });
      assert.ok(!plan.steps.some((x) => x.id === 'stop'), 'planned for a stopped guest');
      assert.equal(report.steps[0]?.id, 'recheck');
      assert.equal(report.steps[0]?.error?.reason, 'planOutdated');
      assert.match(report.steps[0]?.error?.message ?? '', pattern);
      assert.match(report.steps[0]?.error?.message ?? '', /nothing was changed; plan the restore again$/);
      assert.deepEqual(aftermath, ['Nothing was changed.']);
      assert.deepEqual(s.runCommands().filter((c) => !/^pvesh get /.test(c)), []);
    });
  }

  it('a new VMID taken since the plan → refused at the first step', async () => {
    const s = await restoreScenario();
    const { report } = await run(s, { vmid: 121, targetId: 921 }, () => {
      s.alpha.on(RESOURCES, json([...fixtureJson<Record<string, unknown>[]>('cluster-resources-vm.json'), { id: 'qemu/921', type: 'qemu', vmid: 921, node: 'alpha', name: 'someone-else', status: 'stopped' }]));
    });
    assert.match(report.steps[0]?.error?.message ?? '', /^VMID 921 is now used by someone-else on alpha/);
    assert.ok(!s.runCommands().some((c) => QMRESTORE.test(c)));
  });
});

describe('restore: a damaged backup names the previous one', () => {
  const NIGHTLY_20 = 'backups:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst';
  const NIGHTLY_19 = 'backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst';
  const corruptCheck = (s: Scenario) => () => { s.alpha.on(/^test -s /, { code: 1, stderr: 'premature end\n' }); };

  it('the integrity check fails → the error names the previous backup and the --date that picks it', async () => {
    const s = await restoreScenario({ backupsContent: (rows) => rows.filter((r) => r.volid !== NEWEST_121) });
    const { report } = await run(s, { vmid: 121 }, corruptCheck(s));
    const err = report.steps.find((x) => x.id === 'check-archive')?.error;
    assert.equal(err?.reason, 'backupCorrupt');
    assert.match(err?.message ?? '', new RegExp(`^integrity check of ${NIGHTLY_20} failed \\(exit 1\\): premature end; the previous backup is ${NIGHTLY_19} \\(2026-11-19 00:30 UTC\\): restore it with --date 2026-11-19$`));
    assert.equal(report.facts.previousBackup, NIGHTLY_19);
    assert.equal(report.facts.previousBackupDay, '2026-11-19');
  });

  it('a previous backup of the same day is named, without a --date that would pick the damaged one again', async () => {
    const s = await restoreScenario();
    const { report } = await run(s, { vmid: 121 }, corruptCheck(s));
    assert.match(report.steps.find((x) => x.id === 'check-archive')?.error?.message ?? '', new RegExp(`premature end; the previous backup is ${NIGHTLY_20} \\(2026-11-19 23:30 UTC\\)$`));
    assert.equal(report.facts.previousBackup, NIGHTLY_20);
    assert.equal(report.facts.previousBackupDay, undefined);
  });

  it('an empty newest backup refused at planning carries the previous one in its details', async () => {
    const s = await restoreScenario({ backupsContent: (rows) => rows.filter((r) => r.volid !== NEWEST_121).map((r) => (r.volid === NIGHTLY_20 ? { ...r, size: 0 } : r)) });
    await assert.rejects(planGuestRestore({ vmid: 121 }, s.deps), (err) => LifeboatError.is(err, 'backupCorrupt')
      && err.details.previousVolid === NIGHTLY_19 && err.details.previousDay === '2026-11-19'
      && /is empty \(0 bytes\); the previous backup is /.test(err.message));
  });

  it('without an older usable backup, it says so', async () => {
    const s = await restoreScenario({
      backupsContent: (rows) => rows.filter((r) => r.vmid !== 121 || r.volid === NEWEST_121),
      alphaStorages: (rows) => rows.filter((r) => r.storage !== 'pbs'),
    });
    const { report } = await run(s, { vmid: 121 }, corruptCheck(s));
    assert.match(report.steps.find((x) => x.id === 'check-archive')?.error?.message ?? '', /premature end; no older usable backup was found$/);
    assert.equal(report.facts.previousBackup, undefined);
  });
});

describe('restore: room on the target storage', () => {
  // Was a bug (fixed): the old disks' whole size was counted as coming back on every target storage.
  it('the replaced disks give their room back only on the storage that holds them', async () => {
    const GiB = 1024 ** 3;
    const s = await restoreScenario({ alphaStorages: (rows) => [...rows.map((r) => (r.storage === 'local-lvm' ? { ...r, avail: 10 * GiB } : r)), { active: 1, avail: 10 * GiB, content: 'images', enabled: 1, shared: 0, storage: 'fast', total: 100 * GiB, type: 'lvmthin', used: 90 * GiB }] });
    // In place on local-lvm: 10 GiB free + the 40 GiB disk it replaces there ≥ 40 GiB.
    await planGuestRestore({ vmid: 121 }, s.deps);
    // In place onto another storage: nothing comes back there.
    await assert.rejects(planGuestRestore({ vmid: 121, storage: 'fast' }, s.deps), (err) => LifeboatError.is(err, 'storageFull') && /storage fast on alpha has 10\.0 GiB free; the backup's disks need 40\.0 GiB/.test(err.message));
  });
});

