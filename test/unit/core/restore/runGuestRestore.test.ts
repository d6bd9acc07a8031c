import * as assert from 'node:assert/strict';
import { LifeboatError } from '../../../../src/core/errors';
import { runPlan } from '../../../../src/core/procedure/engine';
import { english } from '../../../../src/core/procedure/message';
import { planGuestRestore, restoreAftermath, type GuestRestoreRequest } from '../../../../src/core/restore/guestRestore';
import { fail, json } from '../../../fakes/fakeNodeShell';
import { fixtureJson, pveshGet } from '../../../fakes/pveHomelab';
import {
  CT_SAFETY_UPID, LAUNCH_EPOCH, PBS_SAFETY_SNAPSHOT, RESTORE_UPID, SAFETY_UPID, SAFETY_VOLID, declaredGuest, isReadOnly, restoreScenario, taskCommand, vzdumpFailedLog,
  type Scenario, type ScenarioOptions,
} from '../../../fakes/restoreScenario';

const NEWEST_121 = 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst';
/** The safety point's vzdump, launched detached from the SSH session like the restore. */
const SAFETY_LAUNCH_121 = new RegExp(String.raw`^date \+%s; setsid nohup vzdump 121 --storage backups --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template 'Lifeboat safety point before restore' > /tmp/lifeboat-restore-121-\w+-safety\.log 2>&1 < /dev/null & echo \$!$`);
const VZDUMP_121 = /^date \+%s; setsid nohup vzdump 121 /;
const RESTORE_STATUS = taskCommand(RESTORE_UPID, 'status');
const RESTORE_LOG = taskCommand(RESTORE_UPID, 'log');
/** A failed step's reason and English message (JSON and logs), without the sentence it carries for translation. */
const englishOf = (error: { reason: string; message: string } | undefined) => error && { reason: error.reason, message: error.message };

async function run(request: GuestRestoreRequest, s: Scenario, signal = new AbortController().signal) {
  const { plan, facts } = await planGuestRestore(request, s.deps);
  s.markPlanned();
  const report = await runPlan(plan, { signal, log: s.log, aftermath: (f) => restoreAftermath(facts, f) });
  return { plan, facts, report };
}

async function scenario(options?: ScenarioOptions) {
  return restoreScenario(options);
}

describe('restore: running a guest-restore plan against a fake node', () => {
  it('in place: stops, makes the safety point, launches the restore detached, follows its task to TASK OK, starts, checks the address', async () => {
    const s = await scenario();
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error?.message])));
    assert.deepEqual(report.steps.map((x) => [x.id, x.status]), [
      ['recheck', 'done'], ['check-archive', 'done'], ['stop', 'done'], ['safety-point', 'done'], ['restore', 'done'], ['start', 'done'], ['reachability', 'done'],
    ]);
    assert.equal(report.facts.safetyPoint, SAFETY_VOLID);
    assert.equal(report.facts.safetyTask, SAFETY_UPID);
    assert.equal(report.facts.restoreTask, RESTORE_UPID);
    assert.equal(report.facts.address, '10.20.0.21');
    assert.equal(report.facts.reachability, 'tcp/22 ok, ping ok');
    assert.equal(report.changed, true);
    assert.deepEqual(report.aftermath, []);
    assert.equal(english(report.steps[3]!.detail!), `Safety point ${SAFETY_VOLID}, protected so that no backup pruning removes it; once the guest is confirmed good, delete it with: pvesh set /nodes/alpha/storage/backups/content/${SAFETY_VOLID} --protected 0 && pvesh delete /nodes/alpha/storage/backups/content/${SAFETY_VOLID}`);
    assert.equal(english(report.steps[4]!.detail!), `Task ${RESTORE_UPID} ended: OK`);

    const cmds = s.runCommands();
    const at = (re: RegExp) => cmds.findIndex((c) => re.test(c));
    const last = (re: RegExp) => cmds.reduce((found, c, i) => (re.test(c) ? i : found), -1);
    assert.ok(at(/^test -s /) < at(/^qm shutdown 121/), 'integrity check first');
    assert.equal(cmds.filter((c) => /vzdump 121 /.test(c)).length, 1, 'one vzdump, and only in its detached form');
    assert.ok(at(/^qm shutdown 121/) < at(SAFETY_LAUNCH_121), 'stopped before the safety point');
    assert.ok(at(SAFETY_LAUNCH_121) < at(taskCommand(SAFETY_UPID, 'log')), 'the vzdump task is found in the task list, then followed');
    assert.match(cmds[at(taskCommand(SAFETY_UPID, 'log'))]!, / --start 0 /, 'its log is read from the start');
    assert.ok(cmds.some((c) => taskCommand(SAFETY_UPID, 'log').test(c) && !c.includes(' --start 0 ')), 'and resumed where it stopped');
    assert.ok(last(taskCommand(SAFETY_UPID, 'status')) < at(/qmrestore /), 'the safety point has ended before the overwrite');
    assert.ok(!cmds.slice(at(/qmrestore /)).some((c) => c.includes(SAFETY_UPID)), 'the vzdump task is not read after it ended');
    assert.match(cmds[at(/qmrestore /)]!, new RegExp(`^date \\+%s; setsid nohup qmrestore ${NEWEST_121} 121 --force 1 > /tmp/lifeboat-restore-121-\\w+\\.log 2>&1 < /dev/null & echo \\$!$`));
    assert.ok(at(RESTORE_LOG) > at(/qmrestore /), 'the restore task is followed after its launch');
    assert.match(cmds[at(RESTORE_LOG)]!, / --start 0 /, 'the task log is followed from the start');
    assert.ok(cmds.some((c) => RESTORE_LOG.test(c) && c.includes('/log --start 9 ')), 'then resumed where it stopped');
    assert.ok(at(/^qm start 121$/) > last(RESTORE_STATUS));
    assert.deepEqual(s.alpha.unmatched, []);
    assert.deepEqual(s.deps.activeRestores, new Set(), 'the in-process lock is released');
  });

  it('streams the task log and its progress', async () => {
    const s = await scenario();
    const { plan, facts } = await planGuestRestore({ vmid: 121 }, s.deps);
    const fractions: number[] = [];
    await runPlan(plan, { signal: new AbortController().signal, log: s.log, aftermath: (f) => restoreAftermath(facts, f), onProgress: (p) => { if (p.stepId === 'restore' && p.fraction !== undefined) fractions.push(p.fraction); } });
    assert.deepEqual(fractions, [0.01, 0.5, 1]);
    assert.equal(s.log.grep("info:   new volume ID is 'local-lvm:vm-121-disk-0'").length, 1);
    assert.equal(s.log.grep('TASK OK').length, 0, 'the end marker is not a log line');
  });

  it('streams the safety point\'s vzdump task log and its progress, each line once', async () => {
    const s = await scenario();
    const { plan, facts } = await planGuestRestore({ vmid: 121 }, s.deps);
    const fractions: number[] = [];
    const report = await runPlan(plan, { signal: new AbortController().signal, log: s.log, aftermath: (f) => restoreAftermath(facts, f), onProgress: (p) => { if (p.stepId === 'safety-point' && p.fraction !== undefined) fractions.push(p.fraction); } });
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(fractions, [0.5, 1]);
    assert.equal(s.log.grep("info:   INFO: creating vzdump archive '/mnt/pve/backups/dump/vzdump-qemu-121-2026_11_21-18_09_48.vma.zst'").length, 1);
    assert.equal(s.log.grep('info:   INFO: Backup job finished successfully').length, 1);
    assert.equal(s.log.grep(/started vzdump on alpha \(pid 419870\), waiting for its task/).length, 1);
  });

  it('holds the in-process lock while the restore runs, so a second plan for the same VMID is refused', async () => {
    const s = await scenario();
    let second: unknown;
    s.alpha.on(/^kill -0 420001 /, async () => {
      second = await planGuestRestore({ vmid: 121 }, s.deps).then(() => 'planned', (err: unknown) => err);
      return { stdout: 'alive\n' };
    });
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'succeeded');
    assert.ok(LifeboatError.is(second, 'restoreInProgress'), `second plan: ${String(second)}`);
  });

  it('a connection lost while following the task → re-attached, the task completes (fact reattached)', async () => {
    const s = await scenario();
    s.alpha.dropOn(RESTORE_LOG, 1, 2);
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'succeeded');
    assert.equal(report.facts.reattached, '1');
    assert.equal(report.facts.restored, 'true');
    assert.equal(s.log.grep(/warn: lost the connection to alpha while following UPID:alpha:000668A1.* \(2\/3\)/).length, 1);
    assert.equal(s.runCommands().filter((c) => /qmrestore /.test(c)).length, 1, 'the restore is not launched twice');
  });

  it('a connection lost while following the safety point\'s vzdump task → re-attached, the backup completes, then the restore', async () => {
    const s = await scenario();
    s.alpha.dropOn(taskCommand(SAFETY_UPID, 'log'), 1, 2);
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error?.message])));
    assert.equal(report.facts.safetyPoint, SAFETY_VOLID);
    assert.equal(s.log.grep(/warn: lost the connection to alpha while following UPID:alpha:0006681E:.*:vzdump:121:.* \(2\/3\)/).length, 1);
    assert.equal(s.runCommands().filter((c) => VZDUMP_121.test(c)).length, 1, 'the backup is not launched twice');
    assert.equal(s.log.grep("info:   INFO: creating vzdump archive '/mnt/pve/backups/dump/vzdump-qemu-121-2026_11_21-18_09_48.vma.zst'").length, 1, 'the log resumes where it stopped');
  });

  it('more connection losses than allowed → failed, and the report says the task may still be running', async () => {
    const s = await scenario();
    s.alpha.dropOn(RESTORE_LOG, 1, 2, 3, 4, 5, 6);
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((x) => x.id === 'restore')?.error?.reason, 'connectionLost');
    const aftermath = report.aftermath.map(english);
    assert.ok(aftermath.some((m) => m.includes(`The restore task ${RESTORE_UPID} may still be running on alpha`)), aftermath.join('\n'));
    assert.ok(aftermath.some((m) => m.includes(SAFETY_VOLID)));
  });

  it('a task ending in TASK ERROR → failed with the error text; the aftermath names the safety point and the exact command to return to it', async () => {
    const s = await scenario();
    s.alpha.on(RESTORE_STATUS, json(fixtureJson('task-status-error.json')));
    s.alpha.on(RESTORE_LOG, json(fixtureJson('task-log-error.json')));
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.deepEqual(report.steps.map((x) => [x.id, x.status]), [
      ['recheck', 'done'], ['check-archive', 'done'], ['stop', 'done'], ['safety-point', 'done'], ['restore', 'failed'], ['start', 'not-run'], ['reachability', 'not-run'],
    ]);
    const err = report.steps.find((x) => x.id === 'restore')?.error;
    assert.equal(err?.reason, 'taskFailed');
    assert.match(err?.message ?? '', /^unable to restore VM 121 - command .* failed: exit code 133$/);
    assert.deepEqual(report.aftermath.map(english), [
      `The restore task ${RESTORE_UPID} ended with an error on alpha: ${err?.message}. Proxmox leaves a half-restored guest as it is: do not start it.`,
      `The guest as it was before is saved in ${SAFETY_VOLID}; to return to it: qmrestore ${SAFETY_VOLID} 121 --force 1`,
    ]);
    assert.ok(!s.runCommands().some((c) => /^qm start 121$/.test(c)), 'a half-restored guest is not started');
  });

  // Was a bug (fixed): after TASK ERROR the aftermath said the task "may still be running".
  it('after TASK ERROR, the aftermath does not claim the task may still be running', async () => {
    const s = await scenario();
    s.alpha.on(RESTORE_STATUS, json(fixtureJson('task-status-error.json')));
    s.alpha.on(RESTORE_LOG, json(fixtureJson('task-log-error.json')));
    const { report } = await run({ vmid: 121 }, s);
    assert.ok(!report.aftermath.map(english).some((m) => m.includes('may still be running')));
  });

  it('a pre-check error of qmrestore (no task created) → taskFailed with its message, nothing started', async () => {
    const s = await scenario();
    // qmrestore refuses before creating a task: its launch answers, but no task ever appears.
    s.alpha.on(/^date \+%s; setsid nohup qmrestore /, { stdout: `${LAUNCH_EPOCH}\n420001\n` });
    s.alpha.on(/^kill -0 420001 /, { stdout: 'gone\n' });
    s.alpha.on(/^cat \/tmp\/lifeboat-restore-121-\w+\.log$/, { stdout: 'unable to restore VM 121 - VM is locked (backup)\n' });
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((x) => x.id === 'safety-point')?.status, 'done');
    assert.deepEqual(report.steps.find((x) => x.id === 'restore')?.error, { reason: 'taskFailed', message: 'unable to restore VM 121 - VM is locked (backup)' });
    assert.ok(!s.runCommands().some((c) => /^qm start /.test(c)), 'nothing started');
  });

  it('the vzdump task ends in error → the guest is started again, status failed, the restore step not-run, nothing overwritten', async () => {
    const s = await scenario({ safetyTask: { log: () => vzdumpFailedLog(), exitstatus: 'job errors' } });
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.deepEqual(report.steps.map((x) => [x.id, x.status]), [
      ['recheck', 'done'], ['check-archive', 'done'], ['stop', 'done'], ['safety-point', 'failed'], ['restore', 'not-run'], ['start', 'not-run'], ['reachability', 'not-run'],
    ]);
    assert.equal(report.steps[3]?.error?.reason, 'safetyPointFailed');
    assert.equal(report.steps[3]?.error?.message, 'the safety backup failed: job errors');
    assert.equal(report.facts.safetyTask, SAFETY_UPID);
    assert.equal(report.facts.safetyPoint, undefined);
    assert.equal(s.log.grep("info:   ERROR: Backup of VM 121 failed - unable to create temporary directory '/mnt/pve/backups/dump/vzdump-qemu-121-2026_11_21-18_09_48.tmp' at /usr/share/perl5/PVE/VZDump.pm line 1018.").length, 1, 'the task\'s error is in the log');
    const cmds = s.runCommands();
    assert.ok(!cmds.some((c) => c.includes('qmrestore')), 'no overwrite without a safety point');
    assert.ok(cmds.findIndex((c) => taskCommand(SAFETY_UPID, 'status').test(c)) >= 0, 'the task was followed to its end');
    assert.equal(cmds.at(-1), 'qm start 121', 'started again right after the failure');
    assert.equal(report.facts.restartedAfterFailure, 'true');
    assert.deepEqual(report.aftermath.map(english), ['VM 121 was started again as it was; nothing was overwritten.']);
  });

  it('the vzdump task ends OK but its log names no archive → a failed safety point, the guest started again', async () => {
    const s = await scenario({ safetyTask: { log: (lines) => lines.filter((l) => !/creating vzdump archive/.test(l)) } });
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    const step = report.steps.find((x) => x.id === 'safety-point');
    assert.equal(step?.status, 'failed');
    assert.deepEqual(englishOf(step?.error), { reason: 'safetyPointFailed', message: 'the safety backup ended without naming its archive' });
    assert.equal(report.steps.find((x) => x.id === 'restore')?.status, 'not-run');
    const cmds = s.runCommands();
    assert.ok(!cmds.some((c) => c.includes('qmrestore')));
    assert.equal(cmds.at(-1), 'qm start 121');
    assert.deepEqual(report.aftermath.map(english), [
      `The safety backup task ${SAFETY_UPID} ended OK but Lifeboat did not read its archive name: it is on backups with the note "Lifeboat safety point before restore", protected. Delete it if you do not need it.`,
      'VM 121 was started again as it was; nothing was overwritten.',
    ]);
  });

  it('vzdump cannot be launched (the node refuses the command) → a failed safety point, the guest started again', async () => {
    const s = await scenario();
    s.alpha.on(VZDUMP_121, fail('bash: line 1: setsid: command not found', 127));
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    const step = report.steps.find((x) => x.id === 'safety-point');
    assert.equal(step?.error?.reason, 'safetyPointFailed');
    assert.equal(step?.error?.message, "the safety backup failed: could not start vzdump 121 --storage backups --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template 'Lifeboat safety point before restore' on alpha: bash: line 1: setsid: command not found");
    const cmds = s.runCommands();
    assert.ok(!cmds.some((c) => c.includes('qmrestore') || c.includes('/tasks/UPID:')), 'no task followed, nothing overwritten');
    assert.equal(cmds.at(-1), 'qm start 121');
    assert.deepEqual(report.aftermath.map(english), ['VM 121 was started again as it was; nothing was overwritten.']);
  });

  it('vzdump refuses before creating a task (its log read back) → a failed safety point with that message', async () => {
    const s = await scenario();
    s.alpha.on(VZDUMP_121, { stdout: `${LAUNCH_EPOCH - 12}\n419870\n` });
    s.alpha.on(/^kill -0 419870 /, { stdout: 'gone\n' });
    s.alpha.on(/^cat \/tmp\/lifeboat-restore-121-\w+-safety\.log$/, { stdout: "ERROR: Backup of VM 121 failed - VM is locked (snapshot)\n" });
    const { report } = await run({ vmid: 121 }, s);
    const step = report.steps.find((x) => x.id === 'safety-point');
    assert.deepEqual(englishOf(step?.error), { reason: 'safetyPointFailed', message: 'the safety backup failed: ERROR: Backup of VM 121 failed - VM is locked (snapshot)' });
    // The operator's sentence, with the node's own words as its argument.
    assert.deepEqual(step?.error?.text, { text: 'the safety backup failed: {0}', args: ['ERROR: Backup of VM 121 failed - VM is locked (snapshot)'] });
    assert.ok(!s.runCommands().some((c) => c.includes('qmrestore')));
    assert.equal(s.runCommands().at(-1), 'qm start 121');
  });

  it('a guest that was not running is not started after a failed safety point', async () => {
    const s = await scenario({ resources: (rows) => rows.map((r) => (r.vmid === 121 ? { ...r, status: 'stopped' } : r)), safetyTask: { log: () => vzdumpFailedLog(), exitstatus: 'job errors' } });
    const { report } = await run({ vmid: 121 }, s);
    assert.deepEqual(report.steps.map((x) => [x.id, x.status]), [
      ['recheck', 'done'], ['check-archive', 'done'], ['safety-point', 'failed'], ['restore', 'not-run'], ['start', 'not-run'], ['reachability', 'not-run'],
    ]);
    assert.equal(report.steps[2]?.error?.reason, 'safetyPointFailed');
    assert.ok(!s.runCommands().some((c) => /^qm start /.test(c) || c.includes('qmrestore')));
    assert.deepEqual(report.aftermath.map(english), ['Nothing was changed.']);
  });

  it('the connection is lost while following the vzdump task and comes back → a failed safety point, the guest started again', async () => {
    const s = await scenario();
    s.alpha.dropOn(taskCommand(SAFETY_UPID, 'log'), 1, 2, 3, 4, 5, 6);
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.deepEqual(englishOf(report.steps.find((x) => x.id === 'safety-point')?.error), { reason: 'safetyPointFailed', message: 'the safety backup failed: the connection to alpha was lost' });
    assert.equal(s.log.grep(/warn: lost the connection to alpha while following UPID:alpha:0006681E:.* \(4\/3\)/).length, 1, 'the allowed reconnections were tried first');
    assert.ok(!s.runCommands().some((c) => c.includes('qmrestore')));
    // Before starting the guest again, its backup task is asked once more: it has ended (OK).
    assert.ok(taskCommand(SAFETY_UPID, 'status').test(s.runCommands().at(-2) ?? ''));
    assert.equal(s.runCommands().at(-1), 'qm start 121');
    assert.deepEqual(report.aftermath.map(english), [
      `The safety backup task ${SAFETY_UPID} ended OK but Lifeboat did not read its archive name: it is on backups with the note "Lifeboat safety point before restore", protected. Delete it if you do not need it.`,
      'VM 121 was started again as it was; nothing was overwritten.',
    ]);
  });

  // Was a bug (fixed): a safety point that failed while its vzdump task still ran started the guest
  // in the middle of its backup.
  it('the connection is lost while following the vzdump task and the task still runs → the guest is NOT started again; the report says when to', async () => {
    const s = await scenario();
    s.alpha.dropOn(taskCommand(SAFETY_UPID, 'log'), 1, 2, 3, 4, 5, 6);
    s.alpha.on(taskCommand(SAFETY_UPID, 'status'), json({ ...fixtureJson<Record<string, unknown>>('task-status-running.json'), type: 'vzdump', upid: SAFETY_UPID }));
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((x) => x.id === 'safety-point')?.error?.reason, 'safetyPointFailed');
    assert.ok(!s.runCommands().some((c) => /^qm start /.test(c) || c.includes('qmrestore')), 'neither started nor overwritten');
    assert.equal(s.log.grep('warn: not starting 121 again: its safety backup may still be running on alpha').length, 1);
    assert.deepEqual(report.aftermath.map(english), [
      `The safety backup task ${SAFETY_UPID} may still be running on alpha and keeps 121 locked until it ends. Follow it with: pvesh get /nodes/alpha/tasks/${SAFETY_UPID}/status`,
      'VM 121 was stopped and not overwritten; once the safety backup has ended, start it again with: qm start 121',
    ]);
  });

  it('the connection is lost for good during the safety point → failed, and the report says the guest is stopped and how to start it', async () => {
    const s = await scenario();
    s.alpha.dropOn(taskCommand(SAFETY_UPID, 'log'), 1, 2, 3, 4, 5, 6);
    s.alpha.dropOn('qm start 121', 0);
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((x) => x.id === 'safety-point')?.status, 'failed');
    assert.ok(!s.runCommands().some((c) => c.includes('qmrestore')));
    assert.equal(report.facts.restartedAfterFailure, undefined);
    assert.ok(report.aftermath.map(english).includes('VM 121 was stopped and not overwritten; start it again with: qm start 121'), report.aftermath.map(english).join('\n'));
  });

  // Every safety-point failure is `safetyPointFailed`, even when starting the guest again fails too.
  it('the connection is lost for good during the safety point → the step still fails with safetyPointFailed', async () => {
    const s = await scenario();
    s.alpha.dropOn(taskCommand(SAFETY_UPID, 'log'), 1, 2, 3, 4, 5, 6);
    s.alpha.dropOn('qm start 121', 0);
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.steps.find((x) => x.id === 'safety-point')?.error?.reason, 'safetyPointFailed');
    assert.match(report.steps.find((x) => x.id === 'safety-point')?.error?.message ?? '', /^the safety backup failed: the connection to alpha was lost/);
  });

  // The vzdump task runs detached on purpose and locks the guest until it ends: the report says so.
  it('a safety point left running (cancelled while following it) is named in the report with how to follow it', async () => {
    const s = await scenario();
    const ac = new AbortController();
    s.alpha.on(taskCommand(SAFETY_UPID, 'status'), () => { ac.abort(); return json({ ...fixtureJson<Record<string, unknown>>('task-status-running.json'), type: 'vzdump', upid: SAFETY_UPID }); });
    const { report } = await run({ vmid: 121 }, s, ac.signal);
    assert.equal(report.status, 'cancelled');
    const aftermath = report.aftermath.map(english);
    assert.ok(aftermath.some((m) => m.includes(SAFETY_UPID) && m.includes(`pvesh get /nodes/alpha/tasks/${SAFETY_UPID}/status`)), aftermath.join('\n'));
  });

  it('cancelled while following the vzdump task → cancelled, nothing overwritten; the guest stays stopped and the report says how to start it', async () => {
    const s = await scenario();
    const ac = new AbortController();
    s.alpha.on(taskCommand(SAFETY_UPID, 'status'), () => { ac.abort(); return json({ ...fixtureJson<Record<string, unknown>>('task-status-running.json'), type: 'vzdump', upid: SAFETY_UPID }); });
    const { report } = await run({ vmid: 121 }, s, ac.signal);
    assert.equal(report.status, 'cancelled');
    assert.deepEqual(report.steps.map((x) => x.status), ['done', 'done', 'done', 'cancelled', 'not-run', 'not-run', 'not-run']);
    assert.deepEqual(report.steps[3]?.error, { reason: 'cancelled', message: 'cancelled by the operator' });
    assert.equal(report.facts.safetyTask, SAFETY_UPID);
    const cmds = s.runCommands();
    assert.ok(!cmds.some((c) => c.includes('qmrestore') || /^qm start /.test(c)), 'neither overwritten nor restarted');
    assert.ok(report.aftermath.map(english).includes('VM 121 was stopped and not overwritten; once the safety backup has ended, start it again with: qm start 121'), report.aftermath.map(english).join('\n'));
    assert.deepEqual(s.deps.activeRestores, new Set(), 'the in-process lock is released on cancel');
  });

  it('a corrupt archive stops the run at the integrity check: nothing stopped, "Nothing was changed."', async () => {
    const s = await scenario();
    s.alpha.on(/^test -s /, { code: 1, stderr: '/mnt/pve/backups/dump/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst : Read error (39) : premature end \n' });
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.equal(report.steps[1]?.error?.reason, 'backupCorrupt');
    assert.match(report.steps[1]?.error?.message ?? '', /premature end/);
    assert.equal(report.changed, false);
    assert.deepEqual(report.aftermath.map(english), ['Nothing was changed.']);
    assert.deepEqual(s.runCommands().filter((c) => !/^test -s /.test(c) && !isReadOnly(c)), []);
  });

  it('cancelled during the check, before the destructive steps → cancelled, nothing sent after the check', async () => {
    const s = await scenario();
    const ac = new AbortController();
    s.alpha.on(/^test -s /, () => { ac.abort(); return { code: 0 }; });
    const { report } = await run({ vmid: 121 }, s, ac.signal);
    assert.equal(report.status, 'cancelled');
    assert.deepEqual(report.steps.map((x) => x.status), ['done', 'cancelled', 'not-run', 'not-run', 'not-run', 'not-run', 'not-run']);
    assert.deepEqual(report.aftermath.map(english), ['Nothing was changed.']);
    assert.equal(report.changed, false);
    assert.deepEqual(s.runCommands().filter((c) => !/^test -s /.test(c) && !isReadOnly(c)), []);
  });

  it('cancelled while following the restore → cancelled; the report says the task may still run and where the safety point is', async () => {
    const s = await scenario();
    const ac = new AbortController();
    s.alpha.on(RESTORE_STATUS, () => { ac.abort(); return json(fixtureJson('task-status-running.json')); });
    const { report } = await run({ vmid: 121 }, s, ac.signal);
    assert.equal(report.status, 'cancelled');
    assert.deepEqual(report.steps.map((x) => x.status), ['done', 'done', 'done', 'done', 'cancelled', 'not-run', 'not-run']);
    assert.equal(report.changed, true);
    assert.deepEqual(report.aftermath.map(english), [
      `The restore task ${RESTORE_UPID} may still be running on alpha: it cannot be stopped halfway safely. Follow it with: pvesh get /nodes/alpha/tasks/${RESTORE_UPID}/status`,
      `The guest as it was before is saved in ${SAFETY_VOLID}; to return to it: qmrestore ${SAFETY_VOLID} 121 --force 1`,
    ]);
    assert.deepEqual(s.deps.activeRestores, new Set(), 'the in-process lock is released on cancel');
  });

  // Was a bug (fixed): two plans for the same VMID made before either ran both passed planning, and the
  // second run stopped the guest again and launched a second qmrestore --force over the first.
  it('a second run for the same VMID while the first runs is refused before changing anything', async () => {
    const s = await scenario();
    const first = await planGuestRestore({ vmid: 121 }, s.deps);
    const second = await planGuestRestore({ vmid: 121 }, s.deps);
    let secondReport: Awaited<ReturnType<typeof runPlan>> | undefined;
    let sentBySecond: string[] = [];
    s.alpha.on(/^kill -0 420001 /, async () => {
      if (!secondReport) {
        const before = s.alpha.commands.length;
        secondReport = await runPlan(second.plan, { signal: new AbortController().signal, log: s.log, aftermath: (f) => restoreAftermath(second.facts, f) });
        sentBySecond = s.alpha.commands.slice(before);
      }
      return { stdout: 'alive\n' };
    });
    const firstReport = await runPlan(first.plan, { signal: new AbortController().signal, log: s.log, aftermath: (f) => restoreAftermath(first.facts, f) });
    assert.equal(firstReport.status, 'succeeded');
    assert.equal(secondReport?.status, 'failed');
    assert.equal(secondReport?.changed, false);
    assert.equal(secondReport?.steps[0]?.error?.reason, 'restoreInProgress');
    assert.deepEqual(secondReport?.aftermath.map(english), ['Nothing was changed.']);
    assert.deepEqual(sentBySecond, []);
    assert.equal(s.runCommands().filter((c) => / qmrestore /.test(c)).length, 1);
  });

  it('a guest that no longer exists is recreated from its backup: no stop, no safety point, no --force', async () => {
    const s = await scenario({ resources: (rows) => rows.filter((r) => r.vmid !== 121) });
    const { plan, report } = await run({ vmid: 121 }, s);
    assert.deepEqual(plan.steps.map((x) => x.id), ['recheck', 'check-archive', 'restore', 'start', 'reachability']);
    assert.deepEqual(plan.destroys, []);
    assert.equal(report.status, 'succeeded');
    const launch = s.runCommands().find((c) => / qmrestore /.test(c)) ?? '';
    assert.match(launch, new RegExp(`setsid nohup qmrestore ${NEWEST_121} 121 > `));
  });

  it('a guest that does not shut down in time is stopped hard, with a warning in the log', async () => {
    const s = await scenario();
    s.alpha.on('qm shutdown 121 --timeout 60', { code: 255, stderr: 'VM quit/powerdown failed - got timeout\n' });
    s.alpha.on('qm stop 121', { code: 0 });
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'succeeded');
    const cmds = s.runCommands();
    assert.ok(cmds.indexOf('qm stop 121') > cmds.indexOf('qm shutdown 121 --timeout 60'));
    assert.ok(cmds.indexOf('qm stop 121') < cmds.findIndex((c) => SAFETY_LAUNCH_121.test(c)));
    assert.equal(s.log.grep(/warn: shutdown of 121 did not complete \(VM quit\/powerdown failed - got timeout\); stopping it/).length, 1);
  });

  it('a guest that cannot be stopped at all: failed at the stop step, nothing overwritten', async () => {
    const s = await scenario();
    s.alpha.on('qm shutdown 121 --timeout 60', { code: 255, stderr: 'VM quit/powerdown failed - got timeout\n' });
    s.alpha.on('qm stop 121', { code: 255, stderr: "can't lock file '/var/lock/qemu-server/lock-121.conf' - got timeout\n" });
    const { report } = await run({ vmid: 121 }, s);
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((x) => x.id === 'stop')?.status, 'failed');
    assert.match(report.steps.find((x) => x.id === 'stop')?.error?.message ?? '', /qm stop 121 failed on alpha \(exit 255\): can't lock file/);
    assert.ok(!s.runCommands().some((c) => c.includes('vzdump ') || c.includes('qmrestore')));
    assert.deepEqual(report.aftermath.map(english), ['VM 121 was not overwritten; its stop did not complete, so it may be running or stopped: check with qm status 121, and start it if needed with: qm start 121']);
  });

  describe('a protected guest', () => {
    const protectedConfig = () => json({ ...fixtureJson<Record<string, unknown>>('config-qemu-121.json'), protection: 1 });

    it('the plan lifts the protection just before the overwrite and sets it again right after, and says so', async () => {
      const s = await scenario();
      s.alpha.on(pveshGet('/nodes/alpha/qemu/121/config'), protectedConfig());
      const { plan } = await planGuestRestore({ vmid: 121 }, s.deps);
      assert.deepEqual(plan.steps.map((x) => x.id), ['recheck', 'check-archive', 'stop', 'safety-point', 'lift-protection', 'restore', 'protect-again', 'start', 'reachability']);
      assert.deepEqual(plan.steps.find((x) => x.id === 'lift-protection')?.commands, ['qm set 121 --protection 0']);
      assert.deepEqual(plan.steps.find((x) => x.id === 'protect-again')?.commands, ['qm set 121 --protection 1']);
      assert.ok(plan.warnings.map(english).includes('VM 121 is protected: the plan lifts the protection to overwrite it and sets it again afterwards'));
    });

    it('runs in that order; a failed restore leaves a report saying the protection is off and how to set it', async () => {
      const s = await scenario();
      s.alpha.on(pveshGet('/nodes/alpha/qemu/121/config'), protectedConfig());
      s.alpha.on(/^qm set 121 --protection [01]$/, { code: 0 });
      const ok = await run({ vmid: 121 }, s);
      assert.equal(ok.report.status, 'succeeded');
      const cmds = s.runCommands();
      const at = (re: RegExp) => cmds.findIndex((c) => re.test(c));
      assert.ok(at(SAFETY_LAUNCH_121) >= 0 && at(SAFETY_LAUNCH_121) < at(/^qm set 121 --protection 0$/), 'the safety point is made while still protected');
      assert.ok(cmds.reduce((found, c, i) => (taskCommand(SAFETY_UPID, 'status').test(c) ? i : found), -1) < at(/^qm set 121 --protection 0$/), 'and has ended before the protection is lifted');
      assert.ok(at(/^qm set 121 --protection 0$/) < at(/ qmrestore /));
      assert.ok(at(/ qmrestore /) < at(/^qm set 121 --protection 1$/));

      const bad = await scenario();
      bad.alpha.on(pveshGet('/nodes/alpha/qemu/121/config'), protectedConfig());
      bad.alpha.on(/^qm set 121 --protection [01]$/, { code: 0 });
      bad.alpha.on(RESTORE_STATUS, json(fixtureJson('task-status-error.json')));
      bad.alpha.on(RESTORE_LOG, json(fixtureJson('task-log-error.json')));
      const failed = await run({ vmid: 121 }, bad);
      assert.equal(failed.report.status, 'failed');
      assert.ok(!bad.runCommands().includes('qm set 121 --protection 1'));
      assert.ok(failed.report.aftermath.map(english).includes('The protection of VM 121 was lifted and not set again: qm set 121 --protection 1'), failed.report.aftermath.map(english).join('\n'));
    });

    it('an unprotected guest gets no protection steps', async () => {
      const s = await scenario();
      const { plan } = await planGuestRestore({ vmid: 121 }, s.deps);
      assert.ok(!plan.steps.some((x) => /protect/.test(x.id)));
    });
  });

  // Was a bug (fixed): a restore to a NEW VMID whose task ended in error left a half-restored guest 921
  // on the node (Proxmox: "VM 921 state is NOT cleaned up"), and the aftermath never named it nor how to
  // remove it. Safety rule 7: a failure "clearly says what changed and how to undo it".
  it('a failed restore to a new VMID says the half-restored copy exists and how to remove it', async () => {
    const s = await scenario();
    const upid = RESTORE_UPID.replace(':121:', ':921:');
    s.alpha.on(taskCommand(upid, 'status'), json({ ...fixtureJson<object>('task-status-error.json'), id: '921', upid, exitstatus: 'unable to restore VM 921 - boom' }));
    s.alpha.on(taskCommand(upid, 'log'), json([]));
    const { report } = await run({ vmid: 121, targetId: 921 }, s);
    assert.equal(report.status, 'failed');
    assert.deepEqual(report.aftermath.map(english), [
      `The restore task ${upid} ended with an error on alpha: unable to restore VM 921 - boom. Proxmox leaves a half-restored guest as it is: do not start it.`,
      'A half-restored copy 921 may exist on alpha; 121 was not touched. Remove the copy with: qm destroy 921',
    ]);
    assert.deepEqual(s.runCommands().filter((c) => /^(qm (shutdown|stop|start|destroy) |.*vzdump )/.test(c)), [], 'nothing else touched, nothing destroyed on its own');
  });

  describe('reachability', () => {
    it('uses the guest agent\'s address first (skipping lo and docker0)', async () => {
      const s = await scenario();
      const { report } = await run({ vmid: 121 }, s);
      assert.equal(report.facts.address, '10.20.0.21');
      assert.deepEqual(s.probe.probes, ['tcp 10.20.0.21:22', 'ping 10.20.0.21']);
    });

    it('then the config\'s static address, then the tfvars ip — in that order', async () => {
      const s = await scenario({ open: ['10.20.0.99'], declared: [declaredGuest('gitea', 'vm', { ip: '10.20.0.99' })] });
      s.alpha.on(pveshGet('/nodes/alpha/qemu/121/agent/network-get-interfaces'), fail('QEMU guest agent is not running', 255));
      s.alpha.on(pveshGet('/nodes/alpha/qemu/121/config'), json({ ...fixtureJson<Record<string, unknown>>('config-qemu-121.json'), ipconfig0: 'ip=10.20.0.121/24,gw=10.20.0.1' }));
      const { report } = await run({ vmid: 121 }, s);
      assert.equal(report.status, 'succeeded');
      assert.deepEqual(s.probe.probes, ['tcp 10.20.0.121:22', 'tcp 10.20.0.99:22', 'ping 10.20.0.99']);
      assert.equal(report.facts.address, '10.20.0.99');
    });

    it('a container\'s interfaces give its address', async () => {
      const s = await scenario();
      const { report } = await run({ vmid: 131, date: '2026-11-20' }, s);
      assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error?.message])));
      assert.equal(report.facts.address, '10.20.0.31');
      assert.equal(report.facts.safetyPoint, 'backups:backup/vzdump-lxc-131-2026_11_21-18_09_48.tar.zst');
      assert.equal(report.facts.safetyTask, CT_SAFETY_UPID);
      assert.ok(s.runCommands().some((c) => /^date \+%s; setsid nohup vzdump 131 --storage backups --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template 'Lifeboat safety point before restore' > \/tmp\/lifeboat-restore-131-\w+-safety\.log 2>&1 < \/dev\/null & echo \$!$/.test(c)));
      assert.ok(s.runCommands().some((c) => /^date \+%s; setsid nohup pct restore 131 backups:backup\/vzdump-lxc-131-2026_11_20-01_30_04\.tar\.zst --storage local-lvm --force 1 /.test(c)));
    });

    it('no answer within the boot timeout → failed with unreachableAfterRestore, listing the addresses tried; the restore itself is recorded done', async () => {
      const s = await scenario({ open: [] });
      const { report } = await run({ vmid: 121 }, s);
      assert.equal(report.status, 'failed');
      const last = report.steps.at(-1);
      assert.equal(last?.error?.reason, 'unreachableAfterRestore');
      assert.match(last?.error?.message ?? '', /did not answer on port 22 \(10\.20\.0\.21\)/);
      assert.equal(report.steps.find((x) => x.id === 'restore')?.status, 'done');
      assert.equal(report.facts.reachability, 'failed');
    });
  });

  describe('to a new VMID', () => {
    it('restores with --unique 1, never stops or backs up the original', async () => {
      const s = await scenario({ open: ['10.20.0.21'] });
      s.alpha.on(pveshGet('/nodes/alpha/qemu/921/config'), json(fixtureJson('config-qemu-121.json')));
      s.alpha.on(/^qm set 921 --net0 /, { code: 0 });
      const { report } = await run({ vmid: 121, targetId: 921 }, s);
      assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error?.message])));
      const cmds = s.runCommands();
      assert.ok(cmds.some((c) => new RegExp(`setsid nohup qmrestore ${NEWEST_121} 921 --unique 1 >`).test(c)));
      assert.deepEqual(cmds.filter((c) => /^(qm (shutdown|stop|start) 121|vzdump)/.test(c)), []);
      assert.ok(cmds.includes('qm start 921'));
      assert.equal(report.facts.safetyPoint, undefined);
    });

    // Was a bug (fixed): the copy's config (= the original's) and the original's tfvars entry gave
    // 10.20.0.21, where the running original answered, and the report said the copy was reachable.
    it('with the link up, an address the original holds is never taken as the copy answering', async () => {
      const s = await scenario({ open: ['10.20.0.21'] });
      s.alpha.on(pveshGet('/nodes/alpha/qemu/921/agent/network-get-interfaces'), json(fixtureJson('agent-interfaces-121.json')));
      s.alpha.on(pveshGet('/nodes/alpha/qemu/921/config'), json(fixtureJson('config-qemu-121.json')));
      const { plan, report } = await run({ vmid: 121, targetId: 921, linkDown: false }, s);
      assert.ok(!plan.steps.some((x) => x.id === 'link-down'));
      assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((x) => [x.id, x.status, x.error?.message])));
      assert.deepEqual(s.probe.probes, [], 'the original\'s address is not probed');
      assert.equal(report.facts.address, undefined);
      assert.equal(report.facts.reachability, "not checked: the copy has the original's address 10.20.0.21");
      assert.equal(english(report.steps.at(-1)!.detail!), 'Not checked: the copy has the address 10.20.0.21 of the original, which answers there; the copy cannot be told apart. Leave its link down and give it an address of its own.');
    });

    it('with the link up, an address of its own (DHCP, new MAC) is probed', async () => {
      const s = await scenario({ open: ['10.20.0.121'] });
      const dhcp = { ...fixtureJson<Record<string, unknown>>('config-qemu-121.json'), ipconfig0: 'ip=dhcp' };
      s.alpha.on(pveshGet('/nodes/alpha/qemu/921/config'), json(dhcp));
      const agent = JSON.parse(JSON.stringify(fixtureJson('agent-interfaces-121.json')).replaceAll('10.20.0.21', '10.20.0.121')) as unknown;
      s.alpha.on(pveshGet('/nodes/alpha/qemu/921/agent/network-get-interfaces'), json(agent));
      const { report } = await run({ vmid: 121, targetId: 921, linkDown: false }, s);
      assert.equal(report.status, 'succeeded');
      assert.equal(report.facts.address, '10.20.0.121');
      assert.deepEqual(s.probe.probes, ['tcp 10.20.0.121:22', 'ping 10.20.0.121']);
    });

    it('with linkDown, sets link_down=1 on net0 and does not probe the network', async () => {
      const s = await scenario();
      s.alpha.on(pveshGet('/nodes/alpha/qemu/921/config'), json(fixtureJson('config-qemu-121.json')));
      s.alpha.on(/^qm set 921 --net0 /, { code: 0 });
      const { report } = await run({ vmid: 121, targetId: 921, linkDown: true }, s);
      assert.equal(report.status, 'succeeded');
      assert.ok(s.runCommands().includes('qm set 921 --net0 virtio=BC:24:11:12:34:56,bridge=vmbr0,firewall=1,link_down=1'));
      assert.equal(report.facts.reachability, 'not checked: network link left down');
      assert.deepEqual(s.probe.probes, []);
    });
  });

  // Was a bug (fixed): a PBS safety point was recorded as "vm/121/<time>Z", and the aftermath then threw
  // invalidValue out of runPlan, so a failed restore produced no report at all.
  it('a safety point on PBS is recorded as a full PBS volid, and a failed restore still yields a report', async () => {
    const s = await scenario({ alphaStorages: (rows) => rows.map((r) => (r.storage === 'pbs' ? { ...r, avail: 5 * 1024 ** 4 } : r)) });
    s.alpha.on(RESTORE_STATUS, json(fixtureJson('task-status-error.json')));
    s.alpha.on(RESTORE_LOG, json(fixtureJson('task-log-error.json')));
    const { report } = await run({ vmid: 121 }, s);
    assert.ok(s.runCommands().some((c) => /^date \+%s; setsid nohup vzdump 121 --storage pbs /.test(c)), 'the safety point went to PBS');
    assert.equal(s.log.grep(`info:   INFO: creating Proxmox Backup Server archive '${PBS_SAFETY_SNAPSHOT}'`).length, 1);
    assert.equal(report.facts.safetyPoint, `pbs:backup/${PBS_SAFETY_SNAPSHOT}`);
    assert.equal(report.status, 'failed');
    assert.ok(report.aftermath.map(english).some((m) => m.includes(`qmrestore pbs:backup/${PBS_SAFETY_SNAPSHOT} 121 --force 1`)), report.aftermath.map(english).join('\n'));
  });
});
