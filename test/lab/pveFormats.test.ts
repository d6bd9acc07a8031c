/**
 * The simulated Proxmox node against the reference formats (../shared/reference/proxmox.md):
 * pvesh JSON shapes and key order, storage listings, vzdump names, real archive integrity with
 * the Debian tools, the emulated `vma`, and the exact errors/exit codes.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildPveBundle, runTool, runToolInProcess, seededStateDir } from '../../lab/pve/testing';
import { loadCluster } from '../../lab/pve/model';
import { seedCluster } from '../../lab/pve/seed';
import { listTasks } from '../../lab/pve/tasks';
import { smallSpec, tempStateDir } from '../../lab/pve/testing';
import { injectFault } from '../../lab/pve/control';

process.env.PVE_SIM_TIME_SCALE = '0.02';

const VZDUMP_NAME = /^vzdump-(qemu|lxc)-([1-9][0-9]{2,8})-(\d{4})_(\d{2})_(\d{2})-(\d{2})_(\d{2})_(\d{2})\.(vma|tar)(\.(zst|gz|lzo))?$/;

describe('pve simulator: formats and archives', function () {
  this.timeout(30000);
  let dir: string;

  before(async () => {
    await buildPveBundle();
  });
  beforeEach(async () => {
    dir = await seededStateDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const pvesh = (...args: string[]) => runToolInProcess(dir, 'alpha', 'pvesh', args);
  const dumpOf = (node: string, storage: string) => path.join(dir, 'storage', node, storage, 'dump');

  it('seeds the state layout: model, per-node and shared dump dirs, logical sizes', async () => {
    const fresh = tempStateDir();
    try {
      await seedCluster(fresh, smallSpec(), new Date('2026-01-04T10:00:00Z'));
      assert.ok(fs.existsSync(path.join(fresh, 'cluster.json')));
      assert.equal(fs.readdirSync(path.join(fresh, 'storage', 'alpha', 'local', 'dump')).filter((f) => f.endsWith('.vma.zst')).length, 3);
      assert.equal(fs.readdirSync(path.join(fresh, 'storage', 'shared', 'backups', 'dump')).filter((f) => /\.tar\.(gz|zst)$/.test(f)).length, 2);
      const c = loadCluster(fresh);
      assert.deepEqual(c.guests.map((g) => [g.vmid, g.type, g.node, g.status]), [[121, 'qemu', 'alpha', 'running'], [131, 'lxc', 'alpha', 'running'], [201, 'qemu', 'beta', 'stopped']]);
      assert.equal(c.backups.length, 6);
      const local = c.nodes[0]!.storages.find((s) => s.id === 'local')!;
      const archives = c.backups.filter((b) => b.storage === 'local' && b.node === 'alpha').reduce((n, b) => n + b.size, 0);
      assert.ok(local.used >= 12 * 1024 ** 3 + archives, 'used = base + logical archive sizes');
      const tasks = listTasks(fresh, 'alpha');
      assert.ok(tasks.length >= 3 && tasks.every((t) => t.type === 'vzdump' && t.status === 'stopped' && t.exitstatus === 'OK'), 'nightly job runs in the task history');
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('lists /cluster/resources --type vm as compact sorted JSON in VMID string order', async () => {
    const r = await pvesh('get', '/cluster/resources', '--type', 'vm', '--output-format', 'json');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.endsWith('\n') && !r.stdout.slice(0, -1).includes('\n'), 'one line');
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(list.map((e) => e.id), ['qemu/121', 'lxc/131', 'qemu/201']);
    const vm = list[0]!;
    assert.deepEqual(Object.keys(vm), [...Object.keys(vm)].sort(), 'keys sorted');
    for (const k of ['cpu', 'disk', 'diskread', 'diskwrite', 'id', 'maxcpu', 'maxdisk', 'maxmem', 'mem', 'memhost', 'name', 'netin', 'netout', 'node', 'status', 'template', 'type', 'uptime', 'vmid']) assert.ok(k in vm, `qemu entry has ${k}`);
    assert.equal(vm.type, 'qemu');
    assert.equal(vm.vmid, 121);
    assert.equal(vm.template, 0);
    assert.equal(vm.maxdisk, 32 * 1024 ** 3);
    assert.equal(list[1]!.type, 'lxc');
    assert.ok(!('memhost' in list[1]!));
    assert.equal(list[2]!.status, 'stopped');
    assert.equal(list[2]!.node, 'beta');
  });

  it('pretty-prints like JSON::XS (3-space indent, "key" : value)', async () => {
    const r = await pvesh('get', '/cluster/backup', '--output-format', 'json-pretty');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[\n {3}\{\n {6}"comment" : "nightly",\n/);
    const jobs = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(jobs[0]!.vmid, '121,131');
    assert.equal(jobs[0]!.enabled, 1);
    assert.deepEqual(jobs[0]!['prune-backups'], { 'keep-daily': '7' });
  });

  it('lists storage content with the reference fields, real names, notes and protection', async () => {
    const r = await pvesh('get', '/nodes/localhost/storage/local/content', '--content', 'backup', '--output-format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(rows.length, 3);
    assert.deepEqual(Object.keys(rows[0]!), ['content', 'ctime', 'format', 'notes', 'size', 'subtype', 'vmid', 'volid']);
    assert.equal(rows[0]!.volid, 'local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst');
    assert.equal(rows[0]!.ctime, Date.UTC(2026, 0, 1, 2, 0, 5) / 1000);
    assert.equal(rows[0]!.format, 'vma.zst');
    assert.equal(rows[0]!.notes, 'gitea');
    assert.equal(rows[1]!.protected, 1);
    assert.ok(!('protected' in rows[0]!));
    const real = fs.statSync(path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_01-02_00_05.vma.zst')).size;
    assert.ok((rows[0]!.size as number) > 100 * real, 'the logical size is reported, not the small real file');
    for (const f of fs.readdirSync(dumpOf('alpha', 'local')).filter((f) => /\.(zst|gz|lzo|vma|tar)$/.test(f))) assert.match(f, VZDUMP_NAME);
    const filtered = JSON.parse((await pvesh('get', '/nodes/alpha/storage/backups/content', '--content', 'backup', '--vmid', '131', '--output-format', 'json')).stdout) as Record<string, unknown>[];
    assert.deepEqual(filtered.map((x) => x.format), ['tar.gz', 'tar.zst']);
    assert.ok(filtered.every((x) => x.subtype === 'lxc' && x.vmid === 131));
    const unknown = await pvesh('get', '/nodes/alpha/storage/nope/content', '--output-format', 'json');
    assert.equal(unknown.code, 255);
    assert.equal(unknown.stderr, "storage 'nope' does not exist\n");
  });

  it('writes side files: .log without the archive extension, .notes, .protected', () => {
    const files = fs.readdirSync(dumpOf('alpha', 'local'));
    assert.ok(files.includes('vzdump-qemu-121-2026_01_01-02_00_05.log'));
    assert.ok(files.includes('vzdump-qemu-121-2026_01_01-02_00_05.vma.zst.notes'));
    assert.ok(files.includes('vzdump-qemu-121-2026_01_02-02_00_05.vma.zst.protected'));
    const log = fs.readFileSync(path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_01-02_00_05.log'), 'utf8');
    assert.match(log, /^2026-01-01 02:00:05 INFO: Starting Backup of VM 121 \(qemu\)$/m);
  });

  it('makes real compressed archives: zstd -t passes on a good one and fails on a corrupt one', () => {
    const good = spawnSync('zstd', ['-t', '-q', path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_01-02_00_05.vma.zst')]);
    assert.equal(good.status, 0, good.stderr.toString());
    const bad = spawnSync('zstd', ['-t', path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_03-02_00_05.vma.zst')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr.toString(), /premature end/);
    assert.equal(spawnSync('gzip', ['-t', path.join(dumpOf('shared', 'backups'), 'vzdump-lxc-131-2026_01_02-02_10_00.tar.gz')]).status, 0);
    assert.equal(spawnSync('lzop', ['-t', path.join(dumpOf('beta', 'local'), 'vzdump-qemu-201-2026_01_03-03_00_00.vma.lzo')]).status, 0);
  });

  it('makes real container tars with ./etc/vzdump/pct.conf first', () => {
    const r = spawnSync('tar', ['-tf', path.join(dumpOf('shared', 'backups'), 'vzdump-lxc-131-2026_01_03-02_10_00.tar.zst')]);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString().split('\n')[0], './etc/vzdump/pct.conf');
    const conf = spawnSync('tar', ['-xpOf', path.join(dumpOf('shared', 'backups'), 'vzdump-lxc-131-2026_01_02-02_10_00.tar.gz'), './etc/vzdump/pct.conf']);
    assert.match(conf.stdout.toString(), /^hostname: postgres$/m);
  });

  it('emulates vma verify/list/config on the real VMA, from stdin too', async () => {
    const script = await buildPveBundle();
    const pipe = (file: string, cmd: string): ReturnType<typeof spawnSync> => spawnSync('/bin/sh', ['-c', `zstd -q -d -c '${file}' | '${process.execPath}' '${script}' vma ${cmd}`]);
    const good = path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_01-02_00_05.vma.zst');
    const ok = pipe(good, 'verify -v -');
    assert.equal(ok.status, 0, ok.stderr.toString());
    assert.match(ok.stdout.toString(), /^CFG: size: \d+ name: qemu-server\.conf\nDEV: dev_id=1 size: \d+ devname: drive-scsi0\nCTIME: Thu Jan {2}1 02:00:06 2026\n/);
    assert.match(ok.stdout.toString(), /^progress 100% \(read \d+ bytes, duration \d+ sec\)$/m);
    assert.match(ok.stdout.toString(), /^total bytes read \d+, sparse bytes \d+ \([\d.]+%\)$/m);
    const bad = pipe(path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_03-02_00_05.vma.zst'), 'verify -');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr.toString(), /\*\* \(vma:\d+\): ERROR \*\*: .*verify failed - read short extent/);
    const conf = pipe(good, 'config -');
    assert.match(conf.stdout.toString(), /^name: gitea$/m);
    assert.match(conf.stdout.toString(), /^#qmdump#map:scsi0:drive-scsi0:local-lvm:raw:$/m);
    const notVma = spawnSync(process.execPath, [script, 'vma', 'verify', path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_01-02_00_05.log')]);
    assert.match(notVma.stderr.toString(), /verify failed - not a vma file - wrong magic number/);
    const usage = spawnSync(process.execPath, [script, 'vma', 'frob']);
    assert.equal(usage.status, 1);
    assert.match(usage.stderr.toString(), /^usage: vma command \[command options\]/);
  });

  it('a corrupt-archive fault really damages the file', async () => {
    const file = path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_01-02_00_05.vma.zst');
    await injectFault(dir, { kind: 'corrupt-archive', volid: 'local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst', node: 'alpha' });
    assert.equal(spawnSync('zstd', ['-t', '-q', file]).status, 1);
  });

  it('answers qm status like Proxmox, including rc 2 for a missing VMID', async () => {
    const ok = await runToolInProcess(dir, 'alpha', 'qm', ['status', '121']);
    assert.deepEqual([ok.code, ok.stdout], [0, 'status: running\n']);
    const missing = await runTool(dir, 'alpha', 'qm', ['status', '999']); // a real process: real exit code
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, "Configuration file 'nodes/alpha/qemu-server/999.conf' does not exist\n");
    const ctAsVm = await runToolInProcess(dir, 'alpha', 'qm', ['status', '131']);
    assert.equal(ctAsVm.code, 2);
    const otherNode = await runToolInProcess(dir, 'alpha', 'pct', ['status', '201']);
    assert.equal(otherNode.stderr, "Configuration file 'nodes/alpha/lxc/201.conf' does not exist\n");
    const bad = await runToolInProcess(dir, 'alpha', 'qm', ['frobnicate']);
    assert.equal(bad.code, 255);
    assert.match(bad.stderr, /unknown command 'qm frobnicate'/);
  });

  it('prints qm list / pct list / pvesm status in their column formats', async () => {
    const qm = await runToolInProcess(dir, 'alpha', 'qm', ['list']);
    assert.equal(qm.stdout.split('\n')[0], '      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       ');
    assert.match(qm.stdout.split('\n')[1]!, /^ {7}121 gitea {16}running {4}2048 {14}32\.00 \d+ +$/);
    const pct = await runToolInProcess(dir, 'alpha', 'pct', ['list']);
    assert.equal(pct.stdout.split('\n')[1], '131        running                 postgres            ');
    const st = await runToolInProcess(dir, 'alpha', 'pvesm', ['status']);
    assert.equal(st.stdout.split('\n')[0], 'Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %');
    assert.match(st.stdout, /^local {13}dir {5}active {7}104857600 +\d+ +\d+ +\d+\.\d\d%$/m);
  });

  it('extracts configs (pvesm extractconfig, pvesh extractconfig) and rejects unknown paths', async () => {
    const vm = await runToolInProcess(dir, 'alpha', 'pvesm', ['extractconfig', 'local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst']);
    assert.equal(vm.code, 0, vm.stderr);
    assert.match(vm.stdout, /^scsi0: local-lvm:vm-121-disk-0,iothread=1,size=32G$/m);
    assert.ok(vm.stdout.endsWith(':raw:\n\n'), 'one extra blank line');
    const ct = await pvesh('get', '/nodes/localhost/vzdump/extractconfig', '--volume', 'backups:backup/vzdump-lxc-131-2026_01_03-02_10_00.tar.zst', '--output-format', 'json');
    assert.match(JSON.parse(ct.stdout) as string, /^hostname: postgres$/m);
    const none = await pvesh('get', '/nodes/alpha/nope');
    assert.deepEqual([none.code, none.stderr], [255, "no 'get' handler for '/nodes/alpha/nope'\n"]);
    const nf = await runTool(dir, 'alpha', 'frob', []);
    assert.deepEqual([nf.code, nf.stderr], [127, 'bash: frob: command not found\n']);
  });

  it('refuses to delete a protected archive and deletes an unprotected one with its side files', async () => {
    const prot = await pvesh('delete', '/nodes/alpha/storage/local/content/local:backup/vzdump-qemu-121-2026_01_02-02_00_05.vma.zst');
    assert.equal(prot.code, 255);
    assert.equal(prot.stderr, `cannot remove protected archive '${path.join(dumpOf('alpha', 'local'), 'vzdump-qemu-121-2026_01_02-02_00_05.vma.zst')}'\n`);
    const ok = await pvesh('delete', '/nodes/alpha/storage/local/content/local:backup/vzdump-qemu-121-2026_01_01-02_00_05.vma.zst');
    assert.equal(ok.code, 0, ok.stderr);
    const left = fs.readdirSync(dumpOf('alpha', 'local')).filter((f) => f.includes('2026_01_01'));
    assert.deepEqual(left, []);
    assert.equal(loadCluster(dir).backups.filter((b) => b.vmid === 121).length, 2);
  });

  it('reports guest agent and container interfaces from the config', async () => {
    process.env.PVE_SIM_TIME_SCALE = '0';
    try {
      const vm = await pvesh('get', '/nodes/alpha/qemu/121/agent/network-get-interfaces', '--output-format', 'json');
      assert.equal(vm.code, 0, vm.stderr);
      const ens = (JSON.parse(vm.stdout) as { result: { name: string; 'ip-addresses': { 'ip-address': string }[]; 'hardware-address': string }[] }).result[1]!;
      assert.equal(ens.name, 'ens18');
      assert.equal(ens['ip-addresses'][0]!['ip-address'], '10.20.0.21');
      assert.match(ens['hardware-address'], /^bc:24:11(:[0-9a-f]{2}){3}$/);
      const ct = JSON.parse((await pvesh('get', '/nodes/alpha/lxc/131/interfaces', '--output-format', 'json')).stdout) as { name: string; inet?: string }[];
      assert.equal(ct[1]!.inet, '10.20.0.31/24');
      const stopped = await runToolInProcess(dir, 'beta', 'pvesh', ['get', '/nodes/beta/qemu/201/agent/network-get-interfaces']);
      assert.equal(stopped.code, 255);
      assert.equal(stopped.stderr, 'No QEMU guest agent configured\n');
    } finally {
      process.env.PVE_SIM_TIME_SCALE = '0.02';
    }
  });
});
