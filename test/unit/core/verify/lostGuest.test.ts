// verify-backups and a declared guest no node has any more (issue 8, with the inventory's matching of
// issue 4): its backups are still on the storage, their notes name it — "guest-missing" with the
// newest one (a warning: restorable), not "no backup of it exists" (an error).
import * as assert from 'node:assert/strict';
import type { Backup, Inventory } from '../../../../src/core/inventory/model';
import type { EnvironmentConfig } from '../../../../src/core/model/environment';
import { english } from '../../../../src/core/procedure/message';
import { emptyManifest, verifyBackups, type VerifyDeps } from '../../../../src/core/verify';
import { FakeNodeShell, FakeProbe, RecordingLogSink } from '../../../fakes/fakeNodeShell';

const NOW = new Date('2026-11-23T12:00:00Z');
const at = (hoursAgo: number) => Math.floor(NOW.getTime() / 1000 - hoursAgo * 3600);
const range = (line: number) => ({ start: { line, column: 2 }, end: { line, column: 10 } });

const prod: EnvironmentConfig = {
  name: 'prod', dir: '/repo/envs/prod', tfvarsPath: '/repo/envs/prod/terraform.tfvars', backendPath: undefined, endpoint: undefined, defaultNode: 'alpha', apiToken: undefined,
  nodes: [{ name: 'alpha', host: '10.0.0.10', source: 'default_node' }],
  guests: [
    { name: 'gitea', kind: 'vm', environment: 'prod', node: 'alpha', ip: undefined, cores: 1, memoryMiB: 512, diskGiB: 8, tags: [], vmid: undefined, range: range(5) },
    { name: 'wiki', kind: 'vm', environment: 'prod', node: 'alpha', ip: undefined, cores: 1, memoryMiB: 512, diskGiB: 8, tags: [], vmid: undefined, range: range(9) },
  ],
  backup: { enabled: true, schedule: '01:30', storage: 'backups', mode: 'snapshot', compress: 'zstd', retention: {}, range: range(40) },
  minio: undefined, monitoring: undefined, backend: { type: 'local', commentedOut: undefined }, modules: [], blocks: {},
};

function backup(vmid: number, hoursAgo: number, notes: string | undefined): Backup {
  const stamp = new Date(at(hoursAgo) * 1000).toISOString().slice(0, 19).replace(/-/g, '_').replace('T', '-').replace(/:/g, '_');
  return { volid: `backups:backup/vzdump-qemu-${vmid}-${stamp}.vma.zst`, node: 'alpha', storage: 'backups', vmid, type: 'qemu', format: 'vma.zst', compression: 'zstd', ctime: at(hoursAgo), sizeBytes: 1000, notes, protected: false, pbs: false, verification: undefined };
}

// gitea (121) was destroyed; its two backups ("gitea" notes) are on the shared storage. wiki never existed.
const inventory: Inventory = {
  loadedAt: NOW,
  nodes: [{ node: 'alpha', reachable: true, error: undefined, storages: [{ node: 'alpha', id: 'backups', type: 'nfs', content: ['backup'], active: true, shared: true, totalBytes: 1, usedBytes: 0, availBytes: 1 }], unreadableStorages: [] }],
  guests: [],
  backups: [backup(121, 10, 'gitea'), backup(121, 34, 'gitea')],
  jobs: [{ id: 'backup-prod', schedule: '01:30', enabled: true, storage: 'backups', vmids: [121], exclude: [], node: undefined, mode: 'snapshot' }],
};

function node(): FakeNodeShell {
  const shell = new FakeNodeShell('alpha');
  shell.on(/^pvesm path /, (cmd) => ({ stdout: `/mnt/pve/backups/dump/${cmd.split('/').pop()}\n` }));
  shell.on(/^stat -c '%s %Y' /, (cmd) => ({ stdout: `1234 1700000000\n${'a'.repeat(64)}  ${/sha256sum (\S+)$/.exec(cmd)![1]}\n` }));
  shell.on(/^zstd /, () => ({ code: 0 }));
  return shell;
}

const deps = (): VerifyDeps => ({
  environments: [prod], inventory, shell: () => node(), probe: new FakeProbe(), log: new RecordingLogSink(), manifest: emptyManifest(), rpoFallbackHours: 26, now: () => NOW,
});

describe('verify-backups: a declared guest no node has, with backups that name it', () => {
  it('reports guest-missing (warning) with its VMID and newest backup, and never-backed-up only for the guest without any', async () => {
    const r = await verifyBackups({ full: false, reread: false }, deps());
    const gitea = r.findings.filter((f) => f.guest === 'gitea' && f.code !== 'archive-ok');
    const missing = gitea.find((f) => f.code === 'guest-missing');
    assert.ok(missing, JSON.stringify(r.findings.map((f) => [f.code, f.guest])));
    assert.equal(missing.severity, 'warning');
    assert.equal(missing.vmid, 121);
    assert.equal(missing.range?.start.line, 5);
    assert.match(english(missing.message), /^gitea is declared but no node has it; its newest backup is from 2026-11-23 02:00/);
    assert.ok(!gitea.some((f) => f.code === 'never-backed-up'), 'gitea has backups');
    assert.equal(r.findings.find((f) => f.guest === 'wiki')?.code, 'never-backed-up');
    assert.equal(r.exitCode, 2, 'wiki is an error');
  });

  it('checks the lost guest\'s archives as its own, also with --env and --vmid', async () => {
    for (const request of [{ environment: 'prod' }, { vmid: 121 }]) {
      const r = await verifyBackups({ full: false, reread: false, ...request }, deps());
      assert.equal(r.archives.length, 2, JSON.stringify(request));
      assert.ok(r.archives.every((a) => a.verdict === 'ok'));
      assert.ok(r.findings.some((f) => f.code === 'guest-missing' && f.guest === 'gitea'), JSON.stringify(request));
    }
  });
});
