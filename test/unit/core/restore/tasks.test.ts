import * as assert from 'node:assert/strict';
import { CancelledError, LifeboatError } from '../../../../src/core/errors';
import { restoreCommand } from '../../../../src/core/proxmox/commands';
import { followTask, launchTask, type TaskTiming } from '../../../../src/core/restore/tasks';
import { FakeNodeShell, RecordingLogSink, connectionLost, instantSleep, json } from '../../../fakes/fakeNodeShell';
import { fixtureJson, taskListAnswer, tasksCommand } from '../../../fakes/pveHomelab';

const UPID = 'UPID:alpha:000668A1:00989299:6B01D068:qmrestore:121:root@pam:';
const SINCE = 1795281000;
const timing: TaskTiming = { pollMs: 10, appearTimeoutMs: 60_000, reconnectAttempts: 2 };
const spec = restoreCommand('qemu', 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst', 121, { force: true });
const task = (over: Record<string, unknown> = {}) => ({ id: '121', node: 'alpha', pid: 420001, pstart: 9999001, starttime: SINCE, type: 'qmrestore', upid: UPID, user: 'root@pam', ...over });

function launchOpts(log = new RecordingLogSink()) {
  return { node: 'alpha', vmid: 121, taskTypes: ['qmrestore'], logFile: '/tmp/lifeboat-x.log', signal: new AbortController().signal, log, sleep: instantSleep(), timing };
}

function followOpts(extra: Partial<Parameters<typeof followTask>[2]> = {}) {
  return { node: 'alpha', signal: new AbortController().signal, log: new RecordingLogSink(), sleep: instantSleep(), timing, ...extra };
}

describe('restore/tasks', () => {
  describe('launchTask', () => {
    it('starts the command detached and returns the task it created, ignoring older tasks of the same guest', async () => {
      const shell = new FakeNodeShell('alpha')
        .on(/^date \+%s; setsid nohup qmrestore /, { stdout: `${SINCE}\n420001\n` })
        .on(tasksCommand('alpha'),
          json([task({ starttime: SINCE - 3600, upid: 'UPID:alpha:00000001:00000002:6B01C258:qmrestore:121:root@pam:', status: 'OK', endtime: SINCE - 3500 })]),
          json([task(), task({ starttime: SINCE - 3600, upid: 'UPID:alpha:00000001:00000002:6B01C258:qmrestore:121:root@pam:', status: 'OK', endtime: SINCE - 3500 })]))
        .on(/^kill -0 420001 /, { stdout: 'alive\n' });
      const t = await launchTask(shell, spec, launchOpts());
      assert.equal(t.upid, UPID);
      assert.equal(shell.commands[0], `date +%s; setsid nohup qmrestore backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst 121 --force 1 > /tmp/lifeboat-x.log 2>&1 < /dev/null & echo $!`);
    });

    it('a command that exits without creating a task → taskFailed with what it printed', async () => {
      const shell = new FakeNodeShell('alpha')
        .on(/^date \+%s; /, { stdout: `${SINCE}\n420001\n` })
        .on(tasksCommand('alpha'), json([]))
        .on(/^kill -0 420001 /, { stdout: 'gone\n' })
        .on("cat /tmp/lifeboat-x.log", { stdout: "unable to restore VM 121 - VM 121 already exists on node 'alpha'\n" });
      await assert.rejects(launchTask(shell, spec, launchOpts()), (err) => LifeboatError.is(err, 'taskFailed') && err.message === "unable to restore VM 121 - VM 121 already exists on node 'alpha'");
    });

    it('a task that never appears while the process runs → taskFailed after the appear timeout', async () => {
      const shell = new FakeNodeShell('alpha')
        .on(/^date \+%s; /, { stdout: `${SINCE}\n420001\n` })
        .on(tasksCommand('alpha'), json([]))
        .on(/^kill -0 420001 /, { stdout: 'alive\n' });
      await assert.rejects(launchTask(shell, spec, { ...launchOpts(), timing: { ...timing, appearTimeoutMs: 0 } }), (err) => LifeboatError.is(err, 'taskFailed') && /no task appeared/.test(err.message));
    });

    it('a launch that fails outright → remoteCommandFailed', async () => {
      const shell = new FakeNodeShell('alpha').on(/^date \+%s; /, { code: 127, stderr: 'setsid: command not found\n' });
      await assert.rejects(launchTask(shell, spec, launchOpts()), (err) => LifeboatError.is(err, 'remoteCommandFailed') && /setsid: command not found/.test(err.message));
    });

    // Was a bug (fixed): without `--source all` a real node lists finished tasks only, so the running
    // restore never appeared and launchTask gave up with "no task appeared". This fake answers like real PVE.
    it('finds a running task on a node that lists only finished tasks unless asked for --source all', async () => {
      const shell = new FakeNodeShell('alpha')
        .on(/^date \+%s; /, { stdout: `${SINCE}\n420001\n` })
        .on(tasksCommand('alpha'), taskListAnswer(() => [task()], { realSource: true }))
        .on(/^kill -0 420001 /, { stdout: 'alive\n' });
      const t = await launchTask(shell, spec, { ...launchOpts(), timing: { ...timing, appearTimeoutMs: 0 } });
      assert.equal(t.upid, UPID);
    });
  });

  describe('launchTask and a lost connection', () => {
    it('the launch\'s answer is lost: the log file shows it ran; only a task started since (node clock) is taken, and onLaunched says the pid is unknown', async () => {
      const launched: unknown[] = [];
      const old = task({ starttime: SINCE - 3600, upid: 'UPID:alpha:00000001:00000002:6B01C258:qmrestore:121:root@pam:', status: 'OK', endtime: SINCE - 3500 });
      const shell = new FakeNodeShell('alpha')
        .on(/^date \+%s; setsid nohup /, connectionLost('alpha'))
        .on('date +%s; test -e /tmp/lifeboat-x.log && echo started || echo absent', connectionLost('alpha'), { stdout: `${SINCE + 2}\nstarted\n` })
        .on(tasksCommand('alpha'), json([old]), json([task(), old]));
      const t = await launchTask(shell, spec, { ...launchOpts(), onLaunched: (l) => launched.push(l) });
      assert.equal(t.upid, UPID);
      assert.deepEqual(launched, [{ logFile: '/tmp/lifeboat-x.log', pid: undefined }]);
      assert.equal(shell.count(/^kill -0 /), 0, 'no pid to ask about');
      assert.equal(shell.count(/^date \+%s; setsid nohup /), 1, 'never launched twice');
    });

    it('the launch\'s answer is lost and no log file exists: not started, said so; onLaunched not called', async () => {
      let called = false;
      const shell = new FakeNodeShell('alpha')
        .on(/^date \+%s; setsid nohup /, connectionLost('alpha'))
        .on(/^date \+%s; test -e /, { stdout: `${SINCE}\nabsent\n` });
      await assert.rejects(launchTask(shell, spec, { ...launchOpts(), onLaunched: () => { called = true; } }), (err) => LifeboatError.is(err, 'connectionLost') && /it was not started$/.test(err.message));
      assert.equal(called, false);
    });

    it('connection losses while looking for the task are ridden out, up to reconnectAttempts in a row', async () => {
      const shell = new FakeNodeShell('alpha')
        .on(/^date \+%s; /, { stdout: `${SINCE}\n420001\n` })
        .on(tasksCommand('alpha'), connectionLost('alpha'), connectionLost('alpha'), json([task()]));
      assert.equal((await launchTask(shell, spec, launchOpts())).upid, UPID);
      const never = new FakeNodeShell('alpha').on(/^date \+%s; /, { stdout: `${SINCE}\n420001\n` }).on(tasksCommand('alpha'), connectionLost('alpha'));
      await assert.rejects(launchTask(never, spec, launchOpts()), (err) => LifeboatError.is(err, 'connectionLost'));
      assert.equal(never.count(tasksCommand('alpha')), timing.reconnectAttempts + 1);
    });
  });

  describe('followTask', () => {
    const logOk = fixtureJson<{ n: number; t: string }[]>('task-log-ok.json');

    it('follows the log page by page and resolves with OK', async () => {
      const lines: string[] = [];
      const shell = new FakeNodeShell('alpha')
        .on(/\/log --start 0 /, json(logOk.slice(0, 5)))
        .on(/\/log --start 5 /, json(logOk.slice(5)))
        .on(/\/status /, json(fixtureJson('task-status-running.json')), json(fixtureJson('task-status-ok.json')));
      const done = await followTask(shell, UPID, followOpts({ onLine: (l) => lines.push(l) }));
      assert.deepEqual(done, { exitstatus: 'OK', reattached: 0 });
      assert.deepEqual(lines, logOk.slice(0, -1).map((l) => l.t), 'every line once, in order, without TASK OK');
    });

    it('WARNINGS is a success; an error exit status rejects with taskFailed and its text', async () => {
      const warn = new FakeNodeShell('alpha').on(/\/log /, json([])).on(/\/status /, json({ ...fixtureJson<object>('task-status-ok.json'), exitstatus: 'WARNINGS: 2' }));
      assert.equal((await followTask(warn, UPID, followOpts())).exitstatus, 'WARNINGS: 2');
      const bad = new FakeNodeShell('alpha').on(/\/log /, json([])).on(/\/status /, json(fixtureJson('task-status-error.json')));
      await assert.rejects(followTask(bad, UPID, followOpts()), (err) => LifeboatError.is(err, 'taskFailed') && /^unable to restore VM 121/.test(err.message));
      const odd = new FakeNodeShell('alpha').on(/\/log /, json([])).on(/\/status /, json({ upid: UPID, status: 'stopped' }));
      await assert.rejects(followTask(odd, UPID, followOpts()), (err) => LifeboatError.is(err, 'taskFailed') && err.message === 'unexpected status');
    });

    it('rides out connection losses, resumes the log where it stopped, and counts the re-attachment', async () => {
      const lines: string[] = [];
      const reattaches: number[] = [];
      const shell = new FakeNodeShell('alpha')
        .on(/\/log --start 0 /, json(logOk.slice(0, 5)))
        .on(/\/log --start 5 /, connectionLost('alpha'), connectionLost('alpha'), json(logOk.slice(5)))
        .on(/\/status /, json(fixtureJson('task-status-running.json')), json(fixtureJson('task-status-ok.json')));
      const done = await followTask(shell, UPID, followOpts({ onLine: (l) => lines.push(l), onReattach: (n) => reattaches.push(n) }));
      assert.deepEqual(done, { exitstatus: 'OK', reattached: 1 });
      assert.deepEqual(reattaches, [1]);
      assert.equal(lines.length, logOk.length - 1, 'no line lost or repeated');
    });

    it('gives up after reconnectAttempts consecutive losses with connectionLost', async () => {
      const shell = new FakeNodeShell('alpha').on(/\/log /, connectionLost('alpha'));
      await assert.rejects(followTask(shell, UPID, followOpts()), (err) => LifeboatError.is(err, 'connectionLost'));
      assert.equal(shell.count(/\/log /), timing.reconnectAttempts + 1);
    });

    it('other remote errors are not retried', async () => {
      const shell = new FakeNodeShell('alpha').on(/\/log /, { code: 255, stderr: "no such task\n" });
      await assert.rejects(followTask(shell, UPID, followOpts()), (err) => LifeboatError.is(err, 'remoteCommandFailed'));
      assert.equal(shell.count(/\/log /), 1);
    });

    it('cancellation stops following (the task keeps running on the node)', async () => {
      const ac = new AbortController();
      const shell = new FakeNodeShell('alpha')
        .on(/\/log /, json([]))
        .on(/\/status /, () => { ac.abort(); return json(fixtureJson('task-status-running.json')); });
      await assert.rejects(followTask(shell, UPID, followOpts({ signal: ac.signal })), (err) => CancelledError.is(err));
    });

    // Was a bug (fixed): an empty log is answered [{"n":1,"t":"no content"}] (the lab simulator does this,
    // as PVE's dump_logfile does as far as I know); it was streamed as a line and hid the real first line.
    it('a "no content" placeholder is not shown and does not hide the real first line', async () => {
      const lines: string[] = [];
      const shell = new FakeNodeShell('alpha')
        .on(/\/log --start (\d+) /, (cmd) => json(logOk.slice(Number(/--start (\d+)/.exec(cmd)?.[1]))))
        .on(/\/log --start 0 /, json([{ n: 1, t: 'no content' }]), json(logOk))
        .on(/\/status /, json(fixtureJson('task-status-running.json')), json(fixtureJson('task-status-ok.json')));
      await followTask(shell, UPID, followOpts({ onLine: (l) => lines.push(l) }));
      assert.equal(lines[0], logOk[0]?.t);
      assert.ok(!lines.includes('no content'));
    });
  });
});
