import * as assert from 'node:assert/strict';
import { LAUNCH_EPOCH, RESTORE_UPID, SAFETY_EPOCH, SAFETY_UPID, restoreScenario, taskCommand, vzdumpLog } from '../../../fakes/restoreScenario';
import { checkUpid } from '../../../../src/core/proxmox/validate';

const safetyLaunch = "date +%s; setsid nohup vzdump 121 --storage backups --mode snapshot --compress zstd --remove 0 --protected 1 --notes-template 'Lifeboat safety point before restore' > /tmp/lifeboat-restore-121-abc-safety.log 2>&1 < /dev/null & echo $!";
const restoreLaunch = 'date +%s; setsid nohup qmrestore backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst 121 --force 1 > /tmp/lifeboat-restore-121-abc.log 2>&1 < /dev/null & echo $!';
const tasks = 'pvesh get /nodes/alpha/tasks --source all --vmid 121 --output-format json';
const log = (upid: string, start: number) => `pvesh get /nodes/alpha/tasks/${upid}/log --start ${start} --limit 500 --output-format json`;
const status = (upid: string) => `pvesh get /nodes/alpha/tasks/${upid}/status --output-format json`;

describe('fakes/restoreScenario: the node runs two tasks, each with its own UPID, log and status', () => {
  it('UPIDs are well-formed and carry the type, the VMID and the start time', () => {
    assert.equal(checkUpid(SAFETY_UPID), SAFETY_UPID);
    assert.equal(checkUpid(RESTORE_UPID), RESTORE_UPID);
    assert.equal(parseInt(SAFETY_UPID.split(':')[4]!, 16), SAFETY_EPOCH);
    assert.equal(parseInt(RESTORE_UPID.split(':')[4]!, 16), LAUNCH_EPOCH);
    assert.ok(SAFETY_EPOCH < LAUNCH_EPOCH, 'the safety point starts before the restore');
  });

  it('serves the vzdump task then the restore task, answering log and status by UPID', async () => {
    const s = await restoreScenario();
    const exec = async (c: string) => (await s.alpha.exec(c)).stdout;
    const rows = async () => (JSON.parse(await exec(tasks)) as { upid: string; status?: string }[]).filter((t) => t.upid === SAFETY_UPID || t.upid === RESTORE_UPID);

    assert.equal(await exec(safetyLaunch), `${SAFETY_EPOCH}\n419870\n`);
    assert.deepEqual(await rows(), [], 'not yet listed on the first look');
    assert.deepEqual((await rows()).map((t) => [t.upid, t.status]), [[SAFETY_UPID, undefined]], 'then listed, running');
    const first = JSON.parse(await exec(log(SAFETY_UPID, 0))) as { n: number; t: string }[];
    assert.equal(first.at(-1)?.t, 'INFO:  50% (20.0 GiB of 40.0 GiB) in 4s, read: 5.0 GiB/s, write: 0 B/s', 'half-way on the first read');
    const rest = JSON.parse(await exec(log(SAFETY_UPID, first.length))) as { n: number; t: string }[];
    assert.deepEqual([...first, ...rest].map((l) => l.t), vzdumpLog('qemu'));
    assert.deepEqual([...first, ...rest].map((l) => l.n), vzdumpLog('qemu').map((_, i) => i + 1));
    assert.ok(vzdumpLog('qemu').includes("INFO: creating vzdump archive '/mnt/pve/backups/dump/vzdump-qemu-121-2026_11_21-18_09_48.vma.zst'"));
    assert.equal(JSON.parse(await exec(status(SAFETY_UPID))).status, 'running');
    const ended = JSON.parse(await exec(status(SAFETY_UPID))) as Record<string, unknown>;
    assert.deepEqual([ended.status, ended.exitstatus, ended.type, ended.upid, ended.id], ['stopped', 'OK', 'vzdump', SAFETY_UPID, '121']);

    assert.equal(await exec(restoreLaunch), `${LAUNCH_EPOCH}\n420001\n`);
    await rows();
    assert.deepEqual((await rows()).map((t) => [t.upid, t.status]), [[RESTORE_UPID, undefined], [SAFETY_UPID, 'OK']], 'newest first; the vzdump task is listed as finished');
    const restoreFirst = JSON.parse(await exec(log(RESTORE_UPID, 0))) as { n: number; t: string }[];
    assert.equal(restoreFirst.length, 9, 'the restore log has its own read count');
    assert.equal(JSON.parse(await exec(status(RESTORE_UPID))).status, 'running', 'and its own status sequence');
    assert.equal(JSON.parse(await exec(status(SAFETY_UPID))).exitstatus, 'OK', 'the vzdump task stays ended');
  });

  it('an unknown UPID is answered like a node that has no such task', async () => {
    const s = await restoreScenario();
    const r = await s.alpha.exec(status(RESTORE_UPID));
    assert.equal(r.code, 255);
    assert.match(r.stderr, /unable to open file .*No such file or directory/);
  });

  it('taskCommand matches the reads of one task only', () => {
    assert.ok(taskCommand(SAFETY_UPID, 'log').test(log(SAFETY_UPID, 12)));
    assert.ok(!taskCommand(SAFETY_UPID, 'log').test(log(RESTORE_UPID, 12)));
    assert.ok(taskCommand(RESTORE_UPID, 'status').test(status(RESTORE_UPID)));
    assert.ok(!taskCommand(RESTORE_UPID, 'status').test(status(SAFETY_UPID)));
    assert.ok(!taskCommand(RESTORE_UPID, 'status').test(log(RESTORE_UPID, 0)));
  });
});
