import * as assert from 'node:assert/strict';
import { z } from 'zod';
import {
  AgentInterfacesSchema, BackupContentSchema, BackupJobSchema, ClusterResourceSchema, GuestConfigSchema, LxcInterfacesSchema,
  StorageStatusSchema, TaskListSchema, TaskLogSchema, TaskStatusSchema, parseJson,
} from '../../../../src/core/proxmox/records';
import { fixture } from '../../../fakes/pveHomelab';

describe('proxmox/records (parsing recorded pvesh output)', () => {
  it('cluster resources: VMs and containers with flags as booleans', () => {
    const rows = parseJson(z.array(ClusterResourceSchema), fixture('cluster-resources-vm.json'));
    assert.deepEqual(rows.map((r) => [r.id, r.type, r.vmid, r.name, r.node, r.status]), [
      ['qemu/121', 'qemu', 121, 'gitea', 'alpha', 'running'],
      ['qemu/122', 'qemu', 122, 'nextcloud', 'alpha', 'running'],
      ['lxc/131', 'lxc', 131, 'postgres', 'alpha', 'running'],
      ['qemu/201', 'qemu', 201, 'k3s-test', 'beta', 'running'],
      ['qemu/202', 'qemu', 202, 'sandbox', 'beta', 'stopped'],
    ]);
    assert.equal(rows[0]?.template, false);
    assert.equal(rows[0]?.maxdisk, 40 * 1024 ** 3);
  });

  it('a just-restored guest with only id/node/status/type/vmid still parses', () => {
    const [r] = parseJson(z.array(ClusterResourceSchema), '[{"id":"qemu/200","node":"pve","status":"unknown","type":"qemu","vmid":200}]');
    assert.equal(r?.vmid, 200);
    assert.equal(r?.name, undefined);
  });

  it('flags are lenient: 1, "1" and true mean yes; 0, "0" mean no', () => {
    const parse = (v: unknown) => StorageStatusSchema.parse({ type: 'dir', shared: v }).shared;
    assert.equal(parse(1), true);
    assert.equal(parse('1'), true);
    assert.equal(parse(true), true);
    assert.equal(parse(0), false);
    assert.equal(parse('0'), false);
  });

  it('numbers given as strings are read as numbers; garbage is refused', () => {
    assert.equal(StorageStatusSchema.parse({ type: 'dir', avail: '81088032768' }).avail, 81088032768);
    assert.throws(() => StorageStatusSchema.parse({ type: 'dir', avail: 'lots' }));
  });

  it('node storages: sizes and the shared NFS/PBS storages', () => {
    const rows = parseJson(z.array(StorageStatusSchema), fixture('storage-alpha.json'));
    const byId = Object.fromEntries(rows.map((r) => [r.storage, r]));
    assert.equal(byId.local?.avail, 81088032768);
    assert.equal(byId.local?.shared, false);
    assert.equal(byId.backups?.shared, true);
    assert.equal(byId.pbs?.type, 'pbs');
    assert.equal(byId['local-lvm']?.content, 'images,rootdir');
  });

  it('backup listings: protected, notes, and PBS verification / encryption', () => {
    const dir = parseJson(z.array(BackupContentSchema), fixture('content-backups.json'));
    const oldest = dir.find((b) => b.volid.endsWith('2026_11_18-01_30_02.vma.zst'));
    assert.equal(oldest?.protected, true);
    assert.equal(oldest?.notes, 'gitea - before 1.22 upgrade');
    assert.equal(dir.find((b) => b.volid.endsWith('2026_11_19-01_30_02.vma.zst'))?.protected, undefined);
    const pbs = parseJson(z.array(BackupContentSchema), fixture('content-pbs.json'));
    assert.deepEqual(pbs.map((b) => [b.volid, b.format, b.verification?.state]), [
      ['pbs:backup/ct/131/2026-11-21T00:30:40Z', 'pbs-ct', 'failed'],
      ['pbs:backup/vm/121/2026-11-17T00:30:03Z', 'pbs-vm', 'ok'],
    ]);
    assert.equal(pbs[1]?.encrypted, '1');
  });

  it('a listing row with approximate-size instead of size parses', () => {
    const [r] = parseJson(z.array(BackupContentSchema), '[{"content":"backup","ctime":1795131002,"format":"vma.zst","approximate-size":123,"subtype":"qemu","vmid":121,"volid":"local:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst"}]');
    assert.equal(r?.size, undefined);
    assert.equal(r?.['approximate-size'], 123);
  });

  it('a listing row without ctime is refused (the age of a backup must be known)', () => {
    assert.throws(() => parseJson(z.array(BackupContentSchema), '[{"volid":"local:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst","format":"vma.zst"}]'));
  });

  it('backup jobs: enabled 0/1, vmid as a string list, extra fields kept', () => {
    const jobs = parseJson(z.array(BackupJobSchema), fixture('backup-jobs.json'));
    assert.deepEqual(jobs.map((j) => [j.id, j.enabled, j.vmid, j.schedule]), [
      ['backup-lab', false, '201,202', '03:00'],
      ['backup-prod', true, '121,122,131', '01:30'],
    ]);
    assert.deepEqual((jobs[1] as Record<string, unknown>)['prune-backups'], { 'keep-daily': '7', 'keep-monthly': '2', 'keep-weekly': '4' });
  });

  it('tasks: list, status (running, OK, error text) and log lines', () => {
    const list = parseJson(TaskListSchema, fixture('tasks-alpha.json'));
    assert.equal(list.length, 3);
    assert.equal(list[0]?.id, '', 'a job-wide vzdump has an empty id');
    assert.equal(parseJson(TaskStatusSchema, fixture('task-status-running.json')).status, 'running');
    assert.equal(parseJson(TaskStatusSchema, fixture('task-status-ok.json')).exitstatus, 'OK');
    assert.match(parseJson(TaskStatusSchema, fixture('task-status-error.json')).exitstatus ?? '', /^unable to restore VM 121 - /);
    const log = parseJson(TaskLogSchema, fixture('task-log-ok.json'));
    assert.equal(log[0]?.n, 1);
    assert.equal(log.at(-1)?.t, 'TASK OK');
    assert.throws(() => parseJson(TaskStatusSchema, '{"upid":"x","status":"finished"}'), 'an unknown task status is not guessed');
  });

  it('agent and container interfaces; a stopped container prints nothing', () => {
    const agent = parseJson(AgentInterfacesSchema, fixture('agent-interfaces-121.json'));
    assert.deepEqual(agent.result.map((i) => i.name), ['lo', 'ens18', 'docker0']);
    const lxc = parseJson(LxcInterfacesSchema, fixture('lxc-interfaces-131.json'));
    assert.equal(lxc?.[1]?.['ip-addresses']?.[0]?.['ip-address'], '10.20.0.31');
    assert.equal(parseJson(LxcInterfacesSchema, ''), null);
  });

  it('guest config: numbers become strings', () => {
    const c = parseJson(GuestConfigSchema, fixture('config-qemu-121.json'));
    assert.equal(c.cores, '2');
    assert.equal(c.ipconfig0, 'ip=10.20.0.21/24,gw=10.20.0.1');
  });

  it('a non-JSON answer is an error, not an empty result', () => {
    assert.throws(() => parseJson(z.array(ClusterResourceSchema), 'no \'get\' handler for \'/cluster/resourcez\''));
  });
});
