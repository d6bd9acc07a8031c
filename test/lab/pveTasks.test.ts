/**
 * Task commands of the simulated node: restore pre-checks and their exact errors, the restore
 * task surviving its CLI being killed, vzdump writing a new real archive and storage accounting,
 * storage-full refusals and injected task faults.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { buildPveBundle, runTool, runToolInProcess, seededStateDir } from '../../lab/pve/testing';
import { createGuest, loadCluster, mutateState, setGuestStatus } from '../../lab/pve/model';
import { clearFaults, injectFault } from '../../lab/pve/control';

process.env.PVE_SIM_TIME_SCALE = '0.02';

const ARCHIVE = 'local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst';

describe('pve simulator: tasks', function () {
  this.timeout(40000);
  let dir: string;

  before(async () => {
    await buildPveBundle();
  });
  beforeEach(async () => {
    dir = await seededStateDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const pveshJson = async <T>(...args: string[]): Promise<T> => {
    const r = await runToolInProcess(dir, 'alpha', 'pvesh', [...args, '--output-format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };

  it('refuses qmrestore onto an existing VMID without --force, and a running one with it', async () => {
    const r = await runTool(dir, 'alpha', 'qmrestore', [ARCHIVE, '121']); // a real process: real exit code
    assert.equal(r.code, 255);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, "unable to restore VM 121 - VM 121 already exists on node 'alpha'\n");
    const ct = await runToolInProcess(dir, 'alpha', 'qmrestore', [ARCHIVE, '131']);
    assert.equal(ct.stderr, "unable to restore VM 131 - CT 131 already exists on node 'alpha'\n");
    const running = await runToolInProcess(dir, 'alpha', 'qmrestore', [ARCHIVE, '121', '--force', '1']);
    assert.deepEqual([running.code, running.stderr], [255, 'unable to restore VM 121 - vm is running\n']);
    const missing = await runToolInProcess(dir, 'alpha', 'qmrestore', ['local:backup/vzdump-qemu-121-2026_02_01-02_00_05.vma.zst', '300']);
    assert.deepEqual([missing.code, missing.stderr], [255, "can't find file 'local:backup/vzdump-qemu-121-2026_02_01-02_00_05.vma.zst'\n"]);
    const pct = await runToolInProcess(dir, 'alpha', 'pct', ['restore', '131', 'backups:backup/vzdump-lxc-131-2026_01_03-02_10_00.tar.zst', '--storage', 'local-lvm']);
    assert.deepEqual([pct.code, pct.stderr], [255, "CT 131 already exists on node 'alpha'\n"]);
    const noRootdir = await runToolInProcess(dir, 'alpha', 'pct', ['restore', '140', 'backups:backup/vzdump-lxc-131-2026_01_03-02_10_00.tar.zst']);
    assert.equal(noRootdir.code, 255);
    assert.match(noRootdir.stderr, /^400 Parameter verification failed\.\nstorage: storage 'local' does not support container directories\n/);
    assert.equal(loadCluster(dir).guests.length, 3, 'nothing changed');
  });

  it('refuses a forced restore onto a protected or locked VM, then overwrites a stopped one (lzo)', async () => {
    const lzo = 'local:backup/vzdump-qemu-201-2026_01_03-03_00_00.vma.lzo';
    assert.equal((await runToolInProcess(dir, 'beta', 'qm', ['set', '201', '--protection', '1'])).code, 0);
    const prot = await runToolInProcess(dir, 'beta', 'qmrestore', [lzo, '201', '--force', '1']);
    assert.deepEqual([prot.code, prot.stderr], [255, 'unable to restore VM 201 - protection mode enabled\n']);
    await runToolInProcess(dir, 'beta', 'qm', ['set', '201', '--delete', 'protection']);
    mutateState(dir, (s) => void (s.guests['201']!.config.lock = 'backup'));
    const locked = await runToolInProcess(dir, 'beta', 'qmrestore', [lzo, '201', '--force', '1']);
    assert.deepEqual([locked.code, locked.stderr], [255, 'unable to restore VM 201 - VM is locked (backup)\n']);
    assert.equal((await runToolInProcess(dir, 'beta', 'qm', ['unlock', '201'])).code, 0);
    const ok = await runToolInProcess(dir, 'beta', 'qmrestore', [lzo, '201', '--force', '1']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^restore vma archive: lzop -d -c \S+\.vma\.lzo \| vma extract /);
    assert.equal(loadCluster(dir).guests.find((g) => g.vmid === 201)!.lock, undefined);
  });

  it('restores a VMA to a new VMID with progress lines and a UPID task log', async () => {
    const r = await runTool(dir, 'alpha', 'qmrestore', [ARCHIVE, '150', '--storage', 'local-lvm', '--unique', '1']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^restore vma archive: zstd -q -d -c \S+vzdump-qemu-121-2026_01_01-02_00_05\.vma\.zst \| vma extract -v -r \/var\/tmp\/vzdumptmp\d+\.fifo - \/var\/tmp\/vzdumptmp\d+$/);
    assert.ok(lines.includes('new volume ID is \'local-lvm:vm-150-disk-0\''));
    assert.equal(lines.filter((l) => /^progress \d+% \(read \d+ bytes, duration \d+ sec\)$/.test(l)).length, 100);
    assert.ok(lines.includes('progress 100% (read 34359738368 bytes, duration 14 sec)'));
    assert.ok(lines.includes('rescan volumes...'));
    assert.ok(!r.stdout.includes('TASK OK'), 'the final TASK line is not echoed');
    const g = loadCluster(dir).guests.find((x) => x.vmid === 150)!;
    assert.equal(g.config.scsi0, 'local-lvm:vm-150-disk-0,iothread=1,size=32G');
    assert.equal(g.status, 'stopped');
    assert.equal(g.lock, undefined);
    assert.notEqual(g.config.net0, loadCluster(dir).guests.find((x) => x.vmid === 121)!.config.net0, '--unique changes the MAC');
    const tasks = await pveshJson<{ upid: string; type: string; status: string }[]>('get', '/nodes/alpha/tasks', '--typefilter', 'qmrestore');
    assert.equal(tasks.length, 1);
    assert.match(tasks[0]!.upid, /^UPID:alpha:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmrestore:150:root@pam:$/);
    assert.equal(tasks[0]!.status, 'OK');
    const log = await pveshJson<{ n: number; t: string }[]>('get', `/nodes/alpha/tasks/${tasks[0]!.upid}/log`, '--limit', '1000');
    assert.equal(log[log.length - 1]!.t, 'TASK OK');
    assert.equal(log[0]!.n, 1);
  });

  it('keeps a restore running when its CLI is killed; pvesh follows it to the end', async () => {
    const script = await buildPveBundle();
    const child = spawn(process.execPath, [script, 'qmrestore', ARCHIVE, '160'], { env: { ...process.env, PVE_SIM_STATE: dir, PVE_SIM_NODE: 'alpha', PVE_SIM_SCRIPT: script, PVE_SIM_TIME_SCALE: '0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => ((seen += b.toString()), /progress 3%/.test(seen) && resolve())));
    child.kill('SIGKILL');
    // Like a real node, the task list shows running tasks only when asked (`--source active|all`).
    assert.deepEqual(await pveshJson<unknown[]>('get', '/nodes/localhost/tasks', '--vmid', '160'), []);
    const [task] = await pveshJson<{ upid: string }[]>('get', '/nodes/localhost/tasks', '--vmid', '160', '--source', 'all');
    const running = await pveshJson<{ status: string; exitstatus?: string }>('get', `/nodes/alpha/tasks/${task!.upid}/status`);
    assert.equal(running.status, 'running');
    assert.equal(loadCluster(dir).guests.find((g) => g.vmid === 160)?.lock, 'create');
    let status = running;
    for (let i = 0; i < 100 && status.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await pveshJson('get', `/nodes/alpha/tasks/${task!.upid}/status`);
    }
    assert.deepEqual([status.status, status.exitstatus], ['stopped', 'OK']);
    const g = loadCluster(dir).guests.find((x) => x.vmid === 160)!;
    assert.equal(g.lock, undefined);
    assert.equal(g.name, 'gitea');
  });

  it('fails a restore of a corrupt archive inside the task (exit 255, VMID cleaned up)', async () => {
    const r = await runToolInProcess(dir, 'alpha', 'qmrestore', ['local:backup/vzdump-qemu-121-2026_01_03-02_00_05.vma.zst', '170']);
    assert.equal(r.code, 255);
    assert.match(r.stdout, /Read error \(39\) : premature end/);
    assert.match(r.stdout, /restore failed - read short extent/);
    assert.match(r.stdout, /^error before or during data restore, some or all disks were not completely restored\. VM 170 state is NOT cleaned up\.$/m);
    assert.match(r.stderr, /^unable to restore VM 170 - command 'set -o pipefail && zstd -q -d -c .* failed: exit code 133\n$/);
    assert.equal((await runToolInProcess(dir, 'alpha', 'qm', ['status', '170'])).code, 2);
  });

  it('reads the config of a truncated container archive but fails its restore in the task', async () => {
    const volid = 'backups:backup/vzdump-lxc-131-2026_01_03-02_10_00.tar.zst';
    await injectFault(dir, { kind: 'corrupt-archive', volid });
    const conf = await runToolInProcess(dir, 'alpha', 'pvesm', ['extractconfig', volid]);
    assert.equal(conf.code, 0, conf.stderr);
    assert.match(conf.stdout, /^hostname: postgres$/m);
    const r = await runToolInProcess(dir, 'alpha', 'pct', ['restore', '141', volid, '--storage', 'local-lvm']);
    assert.equal(r.code, 255);
    assert.match(r.stdout, /^extracting archive '.*vzdump-lxc-131-2026_01_03-02_10_00\.tar\.zst'$/m);
    assert.match(r.stdout, /^tar: /m);
    assert.match(r.stderr, /^unable to restore CT 141 - command 'lxc-usernsexec .* tar xpf - --zstd .* failed: exit code 2\n$/);
    assert.equal((await runToolInProcess(dir, 'alpha', 'pct', ['status', '141'])).code, 2, 'the new CT is removed again');
  });

  it('restores a container with pct restore and starts it', async () => {
    const r = await runToolInProcess(dir, 'alpha', 'pct', ['restore', '140', 'backups:backup/vzdump-lxc-131-2026_01_03-02_10_00.tar.zst', '--storage', 'local-lvm', '--hostname', 'pg-copy', '--start', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^recovering backed-up configuration from 'backups:backup\/vzdump-lxc-131-2026_01_03-02_10_00\.tar\.zst'\n {2}Logical volume "vm-140-disk-0" created\.\n/);
    assert.match(r.stdout, /^Total bytes read: \d+ \(\d+MiB, \d+MiB\/s\)$/m);
    assert.match(r.stdout, /merging backed-up and given configuration\.\.\n$/);
    assert.equal((await runToolInProcess(dir, 'alpha', 'pct', ['status', '140'])).stdout, 'status: running\n');
    const g = loadCluster(dir).guests.find((x) => x.vmid === 140)!;
    assert.equal(g.config.hostname, 'pg-copy');
    assert.equal(g.config.rootfs, 'local-lvm:vm-140-disk-0,size=8G');
  });

  it('vzdump writes a new real archive, side files, and storage avail drops', async () => {
    const before = await pveshJson<{ avail: number; used: number }>('get', '/nodes/alpha/storage/local/status');
    const r = await runToolInProcess(dir, 'alpha', 'vzdump', ['121', '--storage', 'local', '--mode', 'snapshot', '--compress', 'zstd', '--notes-template', '{{guestname}}', '--protected', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^INFO: starting new backup job: vzdump 121 --storage local --mode snapshot --compress zstd --notes-template '\{\{guestname\}\}' --protected 1$/m);
    const m = /^INFO: creating vzdump archive '(.+\/(vzdump-qemu-121-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst))'$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.match(r.stdout, /^INFO: marking backup as protected$/m);
    assert.match(r.stdout, /^INFO: Backup job finished successfully$/m);
    assert.equal(spawnSync('zstd', ['-t', '-q', m[1]!]).status, 0);
    assert.equal(fs.readFileSync(`${m[1]}.notes`, 'utf8'), 'gitea');
    assert.ok(fs.existsSync(`${m[1]}.protected`));
    assert.ok(fs.existsSync(path.join(path.dirname(m[1]!), m[2]!.replace(/\.vma\.zst$/, '.log'))));
    const after = await pveshJson<{ avail: number; used: number }>('get', '/nodes/alpha/storage/local/status');
    assert.ok(after.avail < before.avail - 1024 ** 3, `avail ${before.avail} -> ${after.avail}`);
    const listed = await pveshJson<{ volid: string; protected?: number }[]>('get', '/nodes/alpha/storage/local/content', '--content', 'backup', '--vmid', '121');
    assert.equal(listed.length, 4);
    assert.ok(listed.some((b) => b.volid === `local:backup/${m[2]}` && b.protected === 1));
    assert.equal(loadCluster(dir).guests.find((g) => g.vmid === 121)!.lock, undefined, 'lock released');
  });

  describe('vzdump and the storage\'s retention', () => {
    const withRetention = () => mutateState(dir, (s) => {
      for (const n of s.nodes) n.storages = n.storages.map((st) => (st.id === 'local' ? { ...st, pruneBackups: { 'keep-last': '2' } } : st));
    });
    const listed = async () => (await pveshJson<{ volid: string }[]>('get', '/nodes/alpha/storage/local/content', '--content', 'backup', '--vmid', '121')).map((b) => b.volid).sort();
    const day = (volid: string) => volid.slice('local:backup/vzdump-qemu-121-'.length, 'local:backup/vzdump-qemu-121-'.length + 10);

    it('prunes the guest\'s older backups by the storage\'s retention; protected ones neither go nor count', async () => {
      withRetention();
      const config = await pveshJson<Record<string, unknown>>('get', '/storage/local');
      assert.equal(config['prune-backups'], 'keep-last=2');
      assert.deepEqual((await listed()).map(day), ['2026_01_01', '2026_01_02', '2026_01_03']);
      const r = await runToolInProcess(dir, 'alpha', 'vzdump', ['121', '--storage', 'local', '--mode', 'snapshot', '--compress', 'zstd']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^INFO: prune older backups with retention: keep-last=2$/m);
      assert.match(r.stdout, /^INFO: pruned 1 backup\(s\) not covered by keep-retention policy$/m);
      // Newest first: the new one and 01-03 are the last two; 01-02 is protected; 01-01 goes, with its side files.
      const after = await listed();
      assert.equal(after.length, 3);
      assert.deepEqual(after.map(day).filter((d) => d.startsWith('2026_01_0')), ['2026_01_02', '2026_01_03']);
      const dump = path.join(dir, 'storage', 'alpha', 'local', 'dump');
      assert.ok(!fs.existsSync(path.join(dump, 'vzdump-qemu-121-2026_01_01-02_00_05.vma.zst.notes')));
      assert.ok(!fs.existsSync(path.join(dump, 'vzdump-qemu-121-2026_01_01-02_00_05.log')));
      const beta = await runToolInProcess(dir, 'beta', 'pvesh', ['get', '/nodes/beta/storage/local/content', '--content', 'backup', '--output-format', 'json']);
      assert.equal((JSON.parse(beta.stdout) as unknown[]).length, 1, 'other guests\' backups are not touched');
    });

    it('--remove 0 prunes nothing, and says nothing about pruning', async () => {
      withRetention();
      const seeded = await listed();
      const r = await runToolInProcess(dir, 'alpha', 'vzdump', ['121', '--storage', 'local', '--mode', 'snapshot', '--compress', 'zstd', '--remove', '0', '--protected', '1']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /prune/);
      const after = await listed();
      assert.equal(after.length, 4);
      assert.deepEqual(seeded.filter((v) => !after.includes(v)), []);
    });

    it('a storage without retention keeps everything (no prune lines)', async () => {
      const r = await runToolInProcess(dir, 'alpha', 'vzdump', ['121', '--storage', 'local', '--mode', 'snapshot', '--compress', 'zstd']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /prune/);
      assert.equal((await listed()).length, 4);
    });
  });

  it('vzdump fails with a realistic write error when the storage is full', async () => {
    await injectFault(dir, { kind: 'fill-storage', node: 'alpha', storage: 'local', leaveBytes: 50 * 1024 * 1024 });
    const st = await pveshJson<{ avail: number }>('get', '/nodes/alpha/storage/local/status');
    assert.equal(st.avail, 50 * 1024 * 1024);
    const r = await runToolInProcess(dir, 'alpha', 'vzdump', ['121', '--storage', 'local', '--mode', 'snapshot', '--compress', 'zstd']);
    assert.equal(r.code, 255);
    assert.match(r.stdout, /^ERROR: Backup of VM 121 failed - vma_queue_write: write error - No space left on device$/m);
    assert.match(r.stdout, /^INFO: Backup job finished with errors$/m);
    assert.equal(r.stderr, 'job errors\n');
    const files = fs.readdirSync(path.join(dir, 'storage', 'alpha', 'local', 'dump'));
    assert.equal(files.filter((f) => f.includes('vzdump-qemu-121-') && !f.includes('2026_01_0')).length, 0, 'no partial archive left');
    const restore = await runToolInProcess(dir, 'alpha', 'qmrestore', [ARCHIVE, '180']);
    assert.equal(restore.code, 0, 'local-lvm still has room');
    await injectFault(dir, { kind: 'fill-storage', node: 'alpha', storage: 'local-lvm', leaveBytes: 1024 ** 3 });
    const full = await runToolInProcess(dir, 'alpha', 'qmrestore', [ARCHIVE, '181']);
    assert.equal(full.code, 255);
    assert.match(full.stderr, /^unable to restore VM 181 - lvcreate 'pve\/vm-181-disk-0' error: {3}Volume group "pve" has insufficient free space \(256 extents\): \d+ required\.\n$/);
  });

  it('honours fail-task and refuse-stop faults, destroy protections and locks', async () => {
    await injectFault(dir, { kind: 'refuse-stop', vmid: 121 });
    const stop = await runToolInProcess(dir, 'alpha', 'qm', ['stop', '121']);
    assert.deepEqual([stop.code, stop.stderr], [255, "can't lock file '/var/lock/qemu-server/lock-121.conf' - got timeout\n"]);
    assert.equal((await runToolInProcess(dir, 'alpha', 'qm', ['status', '121'])).stdout, 'status: running\n');
    await clearFaults(dir);
    assert.equal((await runToolInProcess(dir, 'alpha', 'qm', ['stop', '121'])).code, 0);
    assert.equal((await runToolInProcess(dir, 'alpha', 'qm', ['status', '121'])).stdout, 'status: stopped\n');
    await injectFault(dir, { kind: 'fail-task', type: 'qmstart', vmid: 121, message: 'start failed: QEMU exited with code 1' });
    const start = await runToolInProcess(dir, 'alpha', 'qm', ['start', '121']);
    assert.deepEqual([start.code, start.stderr], [255, 'start failed: QEMU exited with code 1\n']);
    const destroy = await runToolInProcess(dir, 'beta', 'qm', ['destroy', '201', '--purge']);
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.equal((await runToolInProcess(dir, 'beta', 'qm', ['status', '201'])).code, 2);
    const running = await runToolInProcess(dir, 'alpha', 'pct', ['destroy', '131']);
    assert.deepEqual([running.code, running.stderr], [255, 'CT 131 is running - destroy failed\n']);
  });

  it('serialises concurrent writers from many processes without losing an update', async () => {
    const jobs: Promise<{ code: number | null }>[] = [];
    for (let i = 0; i < 1; i++) {
      jobs.push(runTool(dir, 'alpha', 'qm', ['set', '121', '--tags', `t${i}`]));
      jobs.push(runTool(dir, 'alpha', 'pct', ['set', '131', `--description`, `d${i}`]));
      jobs.push(runTool(dir, 'beta', 'qm', ['set', '201', '--cores', String(i + 2)]));
    }
    jobs.push(runTool(dir, 'alpha', 'qm', ['set', '121', '--name', 'gitea-renamed']));
    const results = await Promise.all(jobs);
    assert.ok(results.every((r) => r.code === 0));
    const c = loadCluster(dir);
    assert.equal(c.guests.find((g) => g.vmid === 121)!.config.name, 'gitea-renamed');
    assert.equal(c.guests.find((g) => g.vmid === 121)!.config.tags, 't0');
    assert.equal(c.guests.find((g) => g.vmid === 131)!.config.description, 'd0');
    assert.equal(c.guests.find((g) => g.vmid === 201)!.config.cores, '2');
  });

  it('creates guests for the Terraform stand-in and sets their status', async () => {
    await createGuest(dir, { vmid: 302, name: 'minio', type: 'lxc', node: 'beta', status: 'stopped', cores: 2, memoryMiB: 2048, disks: [{ key: 'rootfs', storage: 'local-lvm', sizeGiB: 8 }], address: '10.20.0.52', labAddress: '127.77.0.52', services: [], backups: [] });
    await assert.rejects(createGuest(dir, { vmid: 302, name: 'x', type: 'qemu', node: 'beta', status: 'stopped', cores: 1, memoryMiB: 512, disks: [], address: '10.20.0.53', labAddress: '127.77.0.53', services: [], backups: [] }), /CT 302 already exists on node 'beta'/);
    assert.equal((await runToolInProcess(dir, 'beta', 'pct', ['status', '302'])).stdout, 'status: stopped\n');
    await setGuestStatus(dir, 302, 'running');
    assert.equal((await runToolInProcess(dir, 'beta', 'pct', ['status', '302'])).stdout, 'status: running\n');
    assert.match((await runToolInProcess(dir, 'beta', 'pct', ['config', '302'])).stdout, /^rootfs: local-lvm:vm-302-disk-0,size=8G$/m);
  });

  it('a slow fault delays every command', async () => {
    await injectFault(dir, { kind: 'slow', delayMs: 400 });
    const t = Date.now();
    const r = await runToolInProcess(dir, 'alpha', 'qm', ['status', '121']);
    assert.equal(r.code, 0);
    assert.ok(Date.now() - t >= 400, 'slowed');
  });
});
