import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { EnvironmentConfig } from '../../../../src/core/model/environment';
import type { Backup, BackupJob, Guest, Inventory } from '../../../../src/core/inventory/model';
import type { StateStore, StoredVersion } from '../../../../src/core/ports';
import {
  checkArchivePath, emptyManifest, integrityLine, readManifest, verifyBackups, verifyJson, verifyLines, verifyMarkdown, writeManifest,
  type VerifyDeps, type VerifyManifest,
} from '../../../../src/core/verify';
import { english } from '../../../../src/core/procedure/message';
import { declaredGuests } from '../../../../src/core/config/discovery';
import { FakeNodeShell, FakeProbe, RecordingLogSink } from '../../../fakes/fakeNodeShell';

const NOW = new Date('2026-11-23T12:00:00Z');
const hours = (h: number) => Math.floor(NOW.getTime() / 1000 - h * 3600);
const range = (line: number) => ({ start: { line, column: 2 }, end: { line, column: 10 } });

function env(name: string, guests: [string, 'vm' | 'container', number, string?][], extra: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    name, dir: `/repo/envs/${name}`, tfvarsPath: `/repo/envs/${name}/terraform.tfvars`, backendPath: undefined, endpoint: undefined, defaultNode: 'alpha', apiToken: undefined,
    nodes: [{ name: 'alpha', host: '10.0.0.10', source: 'default_node' }],
    guests: guests.map(([g, kind, line, ip]) => ({ name: g, kind, environment: name, node: 'alpha', ip, cores: 1, memoryMiB: 512, diskGiB: 8, tags: [], vmid: undefined, range: range(line) })),
    backup: { enabled: true, schedule: '01:30', storage: 'backups', mode: 'snapshot', compress: 'zstd', retention: {}, range: range(40) },
    minio: undefined, monitoring: undefined, backend: { type: 's3', bucket: `tfstate-${name}`, key: 'terraform.tfstate', region: 'us-east-1', endpoint: 'http://10.0.0.52:9000', usePathStyle: true, useLockfile: true, range: undefined },
    modules: [], blocks: {},
    ...extra,
  };
}

function guest(vmid: number, name: string, type: 'qemu' | 'lxc', status = 'running', node = 'alpha'): Guest {
  return { vmid, type, name, node, status, lock: undefined, template: false, maxdiskBytes: 8 << 30, tags: [] };
}

function backup(vmid: number, type: 'qemu' | 'lxc', ageH: number, extra: Partial<Backup> = {}): Backup {
  const d = new Date((hours(ageH)) * 1000);
  const stamp = d.toISOString().slice(0, 19).replace(/-/g, '_').replace('T', '-').replace(/:/g, '_');
  const format = type === 'qemu' ? 'vma.zst' : 'tar.zst';
  return { volid: `backups:backup/vzdump-${type}-${vmid}-${stamp}.${format}`, node: 'alpha', storage: 'backups', vmid, type, format, compression: 'zstd', ctime: hours(ageH), sizeBytes: 1000, notes: undefined, protected: false, pbs: false, verification: undefined, ...extra };
}

const job = (id: string, vmids: number[], enabled = true): BackupJob => ({ id, schedule: '01:30', enabled, storage: 'backups', vmids, exclude: [], node: undefined, mode: 'snapshot' });

function inventory(guests: Guest[], backups: Backup[], jobs: BackupJob[]): Inventory {
  return {
    loadedAt: NOW,
    nodes: [{ node: 'alpha', reachable: true, error: undefined, storages: [{ node: 'alpha', id: 'backups', type: 'nfs', content: ['backup'], active: true, shared: true, totalBytes: 1, usedBytes: 0, availBytes: 1 }], unreadableStorages: [] }],
    guests, backups: [...backups].sort((a, b) => b.ctime - a.ctime), jobs,
  };
}

const pathOf = (volid: string) => `/mnt/pve/backups/dump/${volid.split('/').pop()}`;
const hashOf = (volid: string, salt = '') => createHash('sha256').update(volid + salt).digest('hex');

/** A node whose archives all exist; `corrupt` fail their integrity test; `salt` changes checksums. */
function node(opts: { corrupt?: string[]; missing?: string[]; salt?: Record<string, string>; delayMs?: number } = {}): FakeNodeShell & { inFlight: number; maxInFlight: number } {
  const shell = new FakeNodeShell('alpha') as FakeNodeShell & { inFlight: number; maxInFlight: number };
  shell.inFlight = 0;
  shell.maxInFlight = 0;
  const slow = async <T>(v: T): Promise<T> => {
    shell.inFlight++;
    shell.maxInFlight = Math.max(shell.maxInFlight, shell.inFlight);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
    shell.inFlight--;
    return v;
  };
  shell.on(/^pvesm path /, (cmd) => {
    const volid = cmd.slice('pvesm path '.length);
    if (opts.missing?.includes(volid)) return slow({ code: 255, stderr: `unable to parse volume ID '${volid}'\n` });
    return slow({ stdout: `${pathOf(volid)}\n` });
  });
  shell.on(/^stat -c '%s %Y' /, (cmd) => {
    const file = /sha256sum (\S+)$/.exec(cmd)![1]!;
    const volid = `backups:backup/${path.basename(file)}`;
    return slow({ stdout: `1234 1700000000\n${hashOf(volid, opts.salt?.[volid])}  ${file}\n` });
  });
  shell.on(/^(zstd|gzip|lzop|vma|tar) /, (cmd) => {
    const bad = opts.corrupt?.some((v) => cmd.includes(path.basename(pathOf(v))));
    return slow(bad ? { code: 1, stderr: `${pathOf('x/y')} : 12%\r${pathOf('x/y')} : Read error (39) : premature end\n` } : { code: 0 });
  });
  return shell;
}

function store(bucket: string, versions: { id: string; body: string; latest?: boolean }[]): StateStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    endpoint: 'http://10.0.0.52:9000', bucket, key: 'terraform.tfstate', reads,
    versioning: async () => 'Enabled',
    listVersions: async () => versions.map((v, i): StoredVersion => ({ versionId: v.id, lastModified: new Date(NOW.getTime() - i * 1000), size: v.body.length, isLatest: v.latest ?? i === 0, isDeleteMarker: false })),
    read: async (id) => {
      reads.push(id ?? 'current');
      return Buffer.from(versions.find((v) => v.id === id)!.body);
    },
    write: async () => undefined,
    readLock: async () => undefined,
    health: async () => ({ ok: true }),
  };
}

const goodState = JSON.stringify({ version: 4, terraform_version: '1.9.8', serial: 3, lineage: 'l', outputs: {}, resources: [] });

describe('verify/verifyBackups (core, fake node)', () => {
  const prod = env('prod', [['gitea', 'vm', 5, '10.0.0.21'], ['nextcloud', 'vm', 12, '10.0.0.22'], ['postgres', 'container', 20]]);
  const lab = env('lab', [['sandbox', 'vm', 7, '10.0.0.42'], ['k3s-test', 'vm', 3]], { backup: { enabled: false, schedule: '03:00', storage: 'local', mode: 'stop', compress: 'lzo', retention: {}, range: range(30) } });
  const guests = [guest(121, 'gitea', 'qemu'), guest(122, 'nextcloud', 'qemu'), guest(131, 'postgres', 'lxc'), guest(201, 'k3s-test', 'qemu'), guest(202, 'sandbox', 'qemu', 'stopped')];
  const corrupt = backup(122, 'qemu', 10);
  const backups = [backup(121, 'qemu', 10), backup(121, 'qemu', 34, { protected: true, notes: 'before upgrade' }), corrupt, backup(122, 'qemu', 34), backup(131, 'lxc', 10), backup(201, 'qemu', 720)];
  const jobs = [job('backup-prod', [121, 122, 131]), job('backup-lab', [201, 202], false)];

  const deps = (shell: FakeNodeShell, manifest: VerifyManifest = emptyManifest(), more: Partial<VerifyDeps> = {}): VerifyDeps => ({
    environments: [prod, lab], inventory: inventory(guests, backups, jobs), shell: () => shell, probe: new FakeProbe(['10.0.0.21']), log: new RecordingLogSink(),
    manifest, rpoFallbackHours: 26, now: () => NOW, ...more,
  });

  it('names the corrupt archive and the never-backed-up guest (errors, exit 2), with stale, disabled-job and coverage warnings at their tfvars lines', async () => {
    const shell = node({ corrupt: [corrupt.volid] });
    const r = await verifyBackups({ full: false, reread: false }, deps(shell));
    assert.equal(r.exitCode, 2);
    const c = r.findings.find((f) => f.code === 'archive-corrupt')!;
    assert.equal(c.volid, corrupt.volid);
    assert.equal(c.guest, 'nextcloud');
    assert.equal(c.file, prod.tfvarsPath);
    assert.equal(c.range?.start.line, 12);
    assert.match(english(c.message), /Read error \(39\) : premature end/);
    assert.doesNotMatch(english(c.message), /12%/);
    const never = r.findings.find((f) => f.code === 'never-backed-up')!;
    assert.equal(never.guest, 'sandbox');
    assert.equal(never.range?.start.line, 7);
    assert.equal(never.severity, 'error');
    assert.ok(r.findings.some((f) => f.code === 'stale' && f.vmid === 201 && f.severity === 'warning'));
    assert.ok(r.findings.some((f) => f.code === 'job-disabled' && f.environment === 'lab' && f.range?.start.line === 30));
    assert.ok(r.findings.some((f) => f.code === 'backup-disabled' && f.environment === 'lab'));
    assert.ok(r.findings.some((f) => f.code === 'not-covered' && f.vmid === 201));
    assert.ok(!r.findings.some((f) => f.code === 'stale' && f.vmid === 121), 'a 10 h old backup is within the 26 h RPO');
    assert.equal(r.findings[0]!.severity, 'error', 'worst first');
    assert.equal(r.archives.length, backups.length);
    assert.equal(r.archives.filter((a) => a.verdict === 'ok').length, backups.length - 1);
    // The exact commands: pvesm path, stat + sha256sum, the compression test and the structure read — all quoted by shell.ts.
    assert.ok(shell.commands.includes(`zstd -q -t ${pathOf(corrupt.volid)} && zstd -q -d -c ${pathOf(corrupt.volid)} | vma verify -`));
    assert.ok(shell.commands.some((c) => c === `stat -c '%s %Y' ${pathOf(corrupt.volid)} && sha256sum ${pathOf(corrupt.volid)}`));
    assert.deepEqual(shell.unmatched, []);
  });

  it('a recent Lifeboat safety point does not hide a stale guest', async () => {
    const safety = backup(201, 'qemu', 1, { notes: 'Lifeboat safety point before restore' });
    const inv = inventory(guests, [...backups, safety], jobs);
    const r = await verifyBackups({ full: false, reread: false, vmid: 201 }, deps(node(), emptyManifest(), { inventory: inv }));
    assert.ok(r.findings.some((f) => f.code === 'stale' && f.vmid === 201 && /720 h old/.test(english(f.message))));
  });

  it('the RPO of a guest comes from its job when the backup block has no schedule: a weekly job\'s 80 h old backup is not stale', async () => {
    const noSchedule = env('prod', [['gitea', 'vm', 5, '10.0.0.21']], { backup: { enabled: true, schedule: undefined, storage: 'backups', mode: 'snapshot', compress: 'zstd', retention: {}, range: range(40) } });
    const weekly = { ...job('backup-prod', [121]), schedule: 'sun 01:30' };
    const inv = inventory([guest(121, 'gitea', 'qemu')], [backup(121, 'qemu', 80)], [weekly]);
    const r = await verifyBackups({ full: false, reread: false }, deps(node(), emptyManifest(), { environments: [noSchedule], inventory: inv }));
    assert.ok(!r.findings.some((f) => f.code === 'stale'), JSON.stringify(r.findings.map((f) => english(f.message))));
    const daily = inventory([guest(121, 'gitea', 'qemu')], [backup(121, 'qemu', 80)], [job('backup-prod', [121])]);
    const r2 = await verifyBackups({ full: false, reread: false }, deps(node(), emptyManifest(), { environments: [noSchedule], inventory: daily }));
    assert.ok(r2.findings.some((f) => f.code === 'stale' && f.vmid === 121), 'a daily job\'s 80 h old backup is stale');
  });

  it('a guest whose newest backup is fine and covered by an enabled job is ok; --vmid scopes findings (exit 0)', async () => {
    const r = await verifyBackups({ full: false, reread: false, vmid: 121 }, deps(node()));
    assert.equal(r.exitCode, 0, JSON.stringify(r.findings.map((f) => english(f.message))));
    assert.ok(r.findings.some((f) => f.code === 'guest-ok' && f.vmid === 121));
    assert.ok(r.archives.every((a) => a.vmid === 121));
    const protectedOne = r.archives.find((a) => a.protected)!;
    assert.equal(protectedOne.notes, 'before upgrade');
  });

  it('quick mode reads the structure of every new archive (vma verify - / tar -tf -), once: an unchanged archive that passed is not read again, one only compression-tested by an older run is', async () => {
    const manifest = emptyManifest();
    const first = node();
    await verifyBackups({ full: false, reread: false }, deps(first, manifest));
    const vm = pathOf(backups[0]!.volid);
    const ct = pathOf(backups[4]!.volid);
    assert.ok(first.commands.includes(`zstd -q -t ${vm} && zstd -q -d -c ${vm} | vma verify -`), first.commands.join('\n'));
    assert.ok(first.commands.includes(`zstd -q -t ${ct} && zstd -q -d -c ${ct} | tar -tf - > /dev/null`));
    assert.ok(Object.values(manifest.archives).every((e) => e.full), 'the manifest records that the structure was read');
    const second = node();
    await verifyBackups({ full: false, reread: false }, deps(second, manifest));
    assert.equal(second.count(/^zstd /), 0, 'nothing new: nothing read again');
    // An entry from an older Lifeboat that only ran the compression test is read once more.
    const key = Object.keys(manifest.archives).find((k) => k.endsWith(backups[0]!.volid))!;
    manifest.archives[key] = { ...manifest.archives[key]!, full: false };
    const third = node();
    await verifyBackups({ full: false, reread: false }, deps(third, manifest));
    assert.deepEqual(third.commands.filter((c) => /^zstd /.test(c)), [`zstd -q -t ${vm} && zstd -q -d -c ${vm} | vma verify -`]);
    // --full re-reads everything.
    const full = node();
    await verifyBackups({ full: true, reread: false }, deps(full, manifest));
    assert.equal(full.count(/^zstd /), backups.length);
  });

  it('the manifest: a second run hashes but does not re-test unchanged archives; a changed checksum is an error (bit rot)', async () => {
    const manifest = emptyManifest();
    await verifyBackups({ full: false, reread: false }, deps(node({ corrupt: [corrupt.volid] }), manifest));
    assert.equal(Object.keys(manifest.archives).length, backups.length);
    assert.equal(manifest.archives[corrupt.volid]?.verdict, 'corrupt');

    const second = node({ corrupt: [corrupt.volid] });
    const r2 = await verifyBackups({ full: false, reread: false }, deps(second, manifest));
    assert.equal(r2.archives.filter((a) => a.verdict === 'unchanged').length, backups.length - 1);
    assert.equal(second.count(/^zstd /), 1, 'only the archive that failed before is tested again');

    const rotten = backups[0]!.volid;
    const third = node({ salt: { [rotten]: 'flipped bit' } });
    const r3 = await verifyBackups({ full: false, reread: false }, deps(third, manifest));
    const changed = r3.findings.find((f) => f.code === 'archive-changed')!;
    assert.equal(changed.volid, rotten);
    assert.equal(changed.severity, 'error');
    assert.equal(r3.archives.find((a) => a.volid === rotten)?.checksum, 'changed');
    assert.equal(r3.exitCode, 2);

    assert.match(english(changed.message), /--reread --vmid 121/, 'the finding says how to accept a change');

    // Still reported on the next run: the first verified checksum stays the reference.
    const fourth = node({ salt: { [rotten]: 'flipped bit' } });
    const r4 = await verifyBackups({ full: false, reread: false }, deps(fourth, manifest));
    assert.ok(r4.findings.some((f) => f.code === 'archive-changed' && f.volid === rotten && f.severity === 'error'), 'bit rot is reported again');
    assert.equal(r4.exitCode, 2);
    assert.equal(manifest.archives[rotten]!.sha256, hashOf(rotten), 'the reference checksum is kept');
    assert.equal(manifest.archives[rotten]!.changedSha256, hashOf(rotten, 'flipped bit'));

    // The operator re-reads on purpose: the archive passes, its new checksum becomes the reference.
    const reread = node({ salt: { [rotten]: 'flipped bit' } });
    const r5 = await verifyBackups({ full: false, reread: true }, deps(reread, manifest));
    assert.equal(reread.count(/^zstd /), backups.length, '--reread tests every archive again');
    const accepted = r5.findings.find((f) => f.code === 'archive-changed')!;
    assert.equal(accepted.severity, 'warning');
    assert.equal(r5.archives.find((a) => a.volid === rotten)?.checksum, 'accepted');
    assert.equal(manifest.archives[rotten]!.sha256, hashOf(rotten, 'flipped bit'));
    const after = await verifyBackups({ full: false, reread: false }, deps(node({ salt: { [rotten]: 'flipped bit' } }), manifest));
    assert.ok(!after.findings.some((f) => f.code === 'archive-changed'));
    assert.equal(after.archives.find((a) => a.volid === rotten)?.verdict, 'unchanged');
  });

  it('a changed archive that fails its check is not accepted by --reread: the reference stays', async () => {
    const manifest = emptyManifest();
    const rotten = backups[0]!.volid;
    await verifyBackups({ full: false, reread: false }, deps(node(), manifest));
    const r = await verifyBackups({ full: false, reread: true }, deps(node({ salt: { [rotten]: 'x' }, corrupt: [rotten] }), manifest));
    assert.ok(r.findings.some((f) => f.code === 'archive-changed' && f.severity === 'error' && f.volid === rotten));
    assert.equal(manifest.archives[rotten]!.sha256, hashOf(rotten));
  });

  it('a corrupt newest archive does not count as recent: the age is the last good one\'s', async () => {
    // nextcloud 122: newest (10 h) corrupt, the one before 34 h old: older than the 26 h RPO.
    const r = await verifyBackups({ full: false, reread: false, vmid: 122 }, deps(node({ corrupt: [corrupt.volid] })));
    const stale = r.findings.find((f) => f.code === 'stale' && f.vmid === 122)!;
    assert.ok(stale, JSON.stringify(r.findings.map((f) => english(f.message))));
    assert.match(english(stale.message), /failed its check; the last good backup is 34 h old, older than the 26 h/);
    assert.equal(stale.volid, backups[3]!.volid);
    // Within the RPO, it is still said.
    const recentGood = backup(122, 'qemu', 20);
    const inv = inventory(guests, [...backups, recentGood], jobs);
    const r2 = await verifyBackups({ full: false, reread: false, vmid: 122 }, deps(node({ corrupt: [corrupt.volid] }), emptyManifest(), { inventory: inv }));
    assert.match(english(r2.findings.find((f) => f.code === 'newest-failed')!.message), /the last good backup is 20 h old/);
    assert.ok(!r2.findings.some((f) => f.code === 'stale' && f.vmid === 122));
    // Nothing passed: an error.
    const r3 = await verifyBackups({ full: false, reread: false, vmid: 122 }, deps(node({ corrupt: [corrupt.volid, backups[3]!.volid] })));
    assert.equal(r3.findings.find((f) => f.code === 'no-good-backup')?.severity, 'error');
  });

  it('--full probes running guests on port 22', async () => {
    const shell = node();
    const probe = new FakeProbe(['10.0.0.21']);
    const r = await verifyBackups({ full: true, reread: false, environment: 'prod' }, deps(shell, emptyManifest(), { probe }));
    assert.ok(r.findings.some((f) => f.code === 'reachable' && f.guest === 'gitea'));
    assert.ok(r.findings.some((f) => f.code === 'unreachable' && f.guest === 'nextcloud' && f.severity === 'warning'));
    assert.ok(!r.findings.some((f) => f.environment === 'lab'), '--env prod leaves the lab environment out');
  });

  it('missing and empty archives are errors; PBS snapshots report their verification state', async () => {
    const missing = backups[3]!;
    const pbsOk = { ...backup(131, 'lxc', 5), volid: 'pbs:backup/ct/131/2026-11-23T07:00:00Z', storage: 'pbs', format: 'pbs-ct', pbs: true, verification: 'ok' as const };
    const pbsBad = { ...backup(131, 'lxc', 6), volid: 'pbs:backup/ct/131/2026-11-23T06:00:00Z', storage: 'pbs', format: 'pbs-ct', pbs: true, verification: 'failed' as const };
    const pbsNever = { ...backup(131, 'lxc', 7), volid: 'pbs:backup/ct/131/2026-11-23T05:00:00Z', storage: 'pbs', format: 'pbs-ct', pbs: true };
    const shell = node({ missing: [missing.volid] });
    shell.on(new RegExp(`^stat .*${path.basename(pathOf(backups[4]!.volid)).replace(/\./g, '\\.')}`), { stdout: `0 1700000000\n${'e'.repeat(64)}  x\n` });
    const inv = inventory(guests, [...backups, pbsOk, pbsBad, pbsNever], jobs);
    const r = await verifyBackups({ full: false, reread: false }, deps(shell, emptyManifest(), { inventory: inv }));
    assert.ok(r.findings.some((f) => f.code === 'archive-missing' && f.volid === missing.volid));
    assert.ok(r.findings.some((f) => f.code === 'archive-empty' && f.volid === backups[4]!.volid));
    assert.ok(r.findings.some((f) => f.code === 'pbs-failed' && f.severity === 'error'));
    assert.ok(r.findings.some((f) => f.code === 'pbs-unverified' && f.severity === 'warning'));
    assert.equal(r.archives.find((a) => a.volid === pbsOk.volid)?.verdict, 'pbs-ok');
    assert.ok(!shell.commands.some((c) => c.includes('pbs:')), 'nothing is run on the node for a PBS snapshot');
  });

  it('checks at most 2 archives at a time per node, reports progress, and stops cleanly when cancelled', async () => {
    const shell = node({ delayMs: 5 });
    const progress: number[] = [];
    await verifyBackups({ full: false, reread: false }, deps(shell, emptyManifest(), { onProgress: (p) => progress.push(p.done) }));
    assert.ok(shell.maxInFlight <= 2, `max in flight ${shell.maxInFlight}`);
    assert.ok(shell.maxInFlight === 2, 'two checks do run side by side');
    assert.deepEqual(progress, [0, 1, 2, 3, 4, 5, 6]);

    const controller = new AbortController();
    const slow = node({ delayMs: 5 });
    const run = verifyBackups({ full: false, reread: false }, deps(slow, emptyManifest(), { signal: controller.signal, onProgress: (p) => { if (p.done === 1) controller.abort(); } }));
    const r = await run;
    assert.equal(r.cancelled, true);
    assert.ok(r.exitCode >= 1);
    assert.ok(r.archives.length < backups.length);
  });

  it('every state version is read once and validated; invalid history is a warning, an invalid current state an error', async () => {
    const s = store('tfstate-prod', [{ id: 'v3', body: goodState }, { id: 'v2', body: '{"version": 4, "serial": 2, "lin' }, { id: 'v1', body: goodState }]);
    const manifest = emptyManifest();
    const r = await verifyBackups({ full: false, reread: false, environment: 'prod' }, deps(node(), manifest, { stateStore: () => s }));
    assert.ok(r.findings.some((f) => f.code === 'state-invalid' && english(f.message).includes('v2')));
    assert.ok(!r.findings.some((f) => f.code === 'state-current-invalid'));
    assert.deepEqual(s.reads, ['v3', 'v2', 'v1']);
    await verifyBackups({ full: false, reread: false, environment: 'prod' }, deps(node(), manifest, { stateStore: () => s }));
    assert.deepEqual(s.reads, ['v3', 'v2', 'v1'], 'version ids are immutable: known ones are not read again');

    const bad = store('tfstate-prod', [{ id: 'v9', body: 'not json' }]);
    const r2 = await verifyBackups({ full: false, reread: false, environment: 'prod' }, deps(node(), emptyManifest(), { stateStore: () => bad }));
    assert.ok(r2.findings.some((f) => f.code === 'state-current-invalid' && f.severity === 'error'));
  });

  it('an empty state bucket, or a delete marker on top, is "no current state": an error, never "0 of 0 valid"', async () => {
    const empty = store('tfstate-prod', []);
    const r = await verifyBackups({ full: false, reread: false, environment: 'prod' }, deps(node(), emptyManifest(), { stateStore: () => empty }));
    const none = r.findings.find((f) => f.code === 'state-no-current')!;
    assert.equal(none.severity, 'error');
    assert.match(english(none.message), /No current state for prod: .*tfstate-prod\/terraform\.tfstate holds no version at all/);
    assert.ok(!r.findings.some((f) => f.code === 'state-ok'), JSON.stringify(r.findings.map((f) => english(f.message))));
    assert.equal(r.exitCode, 2);

    const deleted = store('tfstate-prod', [{ id: 'v2', body: goodState }, { id: 'v1', body: goodState }]);
    const listed = await deleted.listVersions();
    deleted.listVersions = async () => [{ versionId: 'dm', lastModified: NOW, size: 0, isLatest: true, isDeleteMarker: true }, ...listed.map((v) => ({ ...v, isLatest: false }))];
    const r2 = await verifyBackups({ full: false, reread: false, environment: 'prod' }, deps(node(), emptyManifest(), { stateStore: () => deleted }));
    assert.match(english(r2.findings.find((f) => f.code === 'state-no-current')!.message), /is a delete marker .*2 older version\(s\) kept/);
    assert.ok(!r2.findings.some((f) => f.code === 'state-ok'));
  });

  it('state versions not verified (no credentials, or no store) is a warning that says how to give them, never silence', async () => {
    const r = await verifyBackups({ full: false, reread: false, environment: 'prod', vmid: undefined }, deps(node(), emptyManifest(), { stateStore: () => undefined }));
    const w = r.findings.find((f) => f.code === 'state-not-verified')!;
    assert.equal(w.severity, 'warning');
    assert.match(english(w.message), /not verified: no S3 credentials\. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    assert.equal(r.exitCode >= 1, true);
    const r2 = await verifyBackups({ full: false, reread: false, environment: 'prod' }, deps(node(), emptyManifest(), { stateStore: () => ({ unavailable: 'invalid endpoint' }) }));
    assert.match(english(r2.findings.find((f) => f.code === 'state-not-verified')!.message), /invalid endpoint/);
  });

  it('renders a table, Markdown and JSON with tfvars lines (one-based)', async () => {
    const r = await verifyBackups({ full: false, reread: false }, deps(node({ corrupt: [corrupt.volid] })));
    const t = (m: string, ...a: (string | number | boolean)[]) => english({ text: m, args: a.map(String) });
    const lines = verifyLines(r, t);
    assert.ok(lines.some((l) => /^ERROR\s+prod \/ nextcloud 122 \/ alpha\s+Archive .* is CORRUPT/.test(l)), lines.join('\n'));
    assert.match(lines.at(-1)!, /errors found — 2 error\(s\)/);
    const md = verifyMarkdown(r, t, (f) => path.relative('/repo', f));
    assert.match(md, /envs\/prod\/terraform\.tfvars:13/);
    const j = verifyJson(r);
    assert.equal(j.status, 'errors');
    assert.equal(j.findings.find((f) => f.code === 'never-backed-up')?.line, 8);
  });
});

describe('verify/declaredGuests', () => {
  it('the monitoring VM and the MinIO container of the monitoring environment are declared guests, at their blocks', () => {
    const m = env('monitoring', [], {
      monitoring: { vmIp: '10.0.0.51/24', nodes: [], retentionDays: 30, grafanaAdminPassword: undefined, range: range(12) },
      minio: { ip: '10.0.0.52', port: 9000, consolePort: 9001, rootUser: 'admin', rootPassword: undefined, buckets: [], range: range(26) },
    });
    const guests = declaredGuests(m);
    assert.deepEqual(guests.map((g) => [g.name, g.kind, g.ip, g.range.start.line]), [['monitoring', 'vm', '10.0.0.51', 12], ['minio', 'container', '10.0.0.52', 26]]);
    assert.equal(declaredGuests({ ...m, guests: [{ ...guests[0]!, ip: '1.2.3.4' }] }).filter((g) => g.name === 'monitoring').length, 1, 'an explicit declaration wins');
  });
});

describe('verify/commands and manifest', () => {
  it('the archive path from the node is one absolute path, quoted when it needs to be', () => {
    assert.equal(checkArchivePath('/var/lib/vz/dump/a.vma.zst\n'), '/var/lib/vz/dump/a.vma.zst');
    assert.throws(() => checkArchivePath('relative/a.vma'), /not one absolute file path/);
    assert.throws(() => checkArchivePath('/a\n/b'), /not one absolute file path/);
    assert.equal(integrityLine('vma.zst', "/d/it's.vma.zst"), `zstd -q -t '/d/it'\\''s.vma.zst' && zstd -q -d -c '/d/it'\\''s.vma.zst' | vma verify -`);
    assert.equal(integrityLine('vma', '/d/a.vma'), 'vma verify /d/a.vma');
    assert.equal(integrityLine('tar.gz', '/d/a.tar.gz'), 'gzip -t /d/a.tar.gz && gzip -d -c /d/a.tar.gz | tar -tf - > /dev/null');
    assert.equal(integrityLine('vma.lzo', '/d/a.vma.lzo'), 'lzop -t /d/a.vma.lzo && lzop -d -c /d/a.vma.lzo | vma verify -');
    assert.equal(integrityLine('tar', '/d/a.tar'), 'tar -tf /d/a.tar > /dev/null');
  });

  it('reads back what it wrote; an unreadable manifest is reported and replaced', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lifeboat-manifest-'));
    assert.deepEqual((await readManifest(root)).manifest, emptyManifest());
    const m = emptyManifest();
    m.archives['a'] = { volid: 'a', node: 'alpha', size: 1, mtime: 2, ctime: 3, sha256: 'f'.repeat(64), verdict: 'ok', full: false, verifiedAt: NOW.toISOString() };
    const file = await writeManifest(root, m);
    assert.deepEqual((await readManifest(root)).manifest, m);
    assert.ok(readFileSync(file, 'utf8').endsWith('\n'));
    writeFileSync(file, '{ broken');
    const again = await readManifest(root);
    assert.deepEqual(again.manifest, emptyManifest());
    assert.match(again.problem ?? '', /not a manifest/);
  });
});
