import * as assert from 'node:assert/strict';
import { CancelledError } from '../../../../src/core/errors';
import { loadInventory } from '../../../../src/core/inventory/load';
import { RecordingLogSink, fail, json } from '../../../fakes/fakeNodeShell';
import { NODES, fixtureJson, homelab, pveshGet } from '../../../fakes/pveHomelab';

const GAMMA = { name: 'gamma', host: '10.20.0.12' };

describe('inventory/loadInventory against fake nodes', () => {
  it('merges guests from every node without duplicates (every node answers /cluster/resources for the whole cluster)', async () => {
    const { pool } = homelab();
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    assert.deepEqual(inv.guests.map((g) => [g.vmid, g.type, g.name, g.node, g.status]), [
      [121, 'qemu', 'gitea', 'alpha', 'running'],
      [122, 'qemu', 'nextcloud', 'alpha', 'running'],
      [131, 'lxc', 'postgres', 'alpha', 'running'],
      [201, 'qemu', 'k3s-test', 'beta', 'running'],
      [202, 'qemu', 'sandbox', 'beta', 'stopped'],
    ]);
    assert.deepEqual(inv.guests[0]?.tags, ['git', 'critical']);
    assert.equal(inv.guests[0]?.maxdiskBytes, 40 * 1024 ** 3);
  });

  it('lists the backups of every backup storage of every node, a shared storage once, newest first', async () => {
    const { pool, alpha, beta } = homelab();
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    const volids = inv.backups.map((b) => b.volid);
    assert.equal(new Set(volids).size, volids.length, 'no backup listed twice');
    assert.equal(inv.backups.length, 12);
    assert.equal(inv.backups.filter((b) => b.storage === 'backups').length, 7, 'the shared NFS storage counted once, not once per node');
    assert.deepEqual(inv.backups.filter((b) => b.storage === 'local').map((b) => [b.node, b.vmid]), [
      ['beta', 201], ['beta', 201], ['alpha', 131],
    ]);
    const ctimes = inv.backups.map((b) => b.ctime);
    assert.deepEqual(ctimes, [...ctimes].sort((a, b) => b - a), 'newest first');
    // Only storages that hold backups are listed; local-lvm (images,rootdir) is not asked.
    assert.equal(alpha.count(/storage\/local-lvm\/content/), 0);
    assert.equal(alpha.count(/storage\/pbs\/content/), 1);
    assert.equal(beta.count(/storage\/backups\/content/), 1);
    assert.deepEqual([...alpha.unmatched, ...beta.unmatched], []);
  });

  it('maps listing rows to backups: type, compression, protection, PBS verification', async () => {
    const { pool } = homelab();
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    const by = (v: string) => inv.backups.find((b) => b.volid === v);
    const protectedOne = by('backups:backup/vzdump-qemu-121-2026_11_18-01_30_02.vma.zst');
    assert.deepEqual([protectedOne?.type, protectedOne?.compression, protectedOne?.protected, protectedOne?.pbs], ['qemu', 'zstd', true, false]);
    assert.deepEqual([by('local:backup/vzdump-lxc-131-2026_10_01-18_42_10.tar.gz')?.type, by('local:backup/vzdump-lxc-131-2026_10_01-18_42_10.tar.gz')?.compression], ['lxc', 'gzip']);
    assert.equal(by('local:backup/vzdump-qemu-201-2026_11_01-03_00_07.vma.lzo')?.compression, 'lzo');
    const pbsCt = by('pbs:backup/ct/131/2026-11-21T00:30:40Z');
    assert.deepEqual([pbsCt?.type, pbsCt?.pbs, pbsCt?.verification, pbsCt?.compression], ['lxc', true, 'failed', 'pbs']);
    assert.equal(by('pbs:backup/vm/121/2026-11-17T00:30:03Z')?.verification, 'ok');
    assert.equal(by('backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst')?.verification, undefined, 'never verified');
  });

  it('reads storages with free space and the backup jobs', async () => {
    const { pool } = homelab();
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    const alpha = inv.nodes.find((n) => n.node === 'alpha');
    assert.deepEqual(alpha?.storages.map((s) => [s.id, s.shared, s.content.includes('backup')]), [
      ['local-lvm', false, false], ['local', false, true], ['backups', true, true], ['pbs', true, true],
    ]);
    assert.equal(alpha?.storages.find((s) => s.id === 'local')?.availBytes, 81088032768);
    assert.deepEqual(inv.jobs.map((j) => [j.id, j.enabled, j.vmids, j.storage]), [
      ['backup-lab', false, [201, 202], 'local'],
      ['backup-prod', true, [121, 122, 131], 'backups'],
    ]);
  });

  it('reports an unreachable node while the others load', async () => {
    const { pool } = homelab();
    pool.unreachable('gamma');
    const log = new RecordingLogSink();
    const inv = await loadInventory({ nodes: [...NODES, GAMMA], pool, log });
    const gamma = inv.nodes.find((n) => n.node === 'gamma');
    assert.equal(gamma?.reachable, false);
    assert.equal(gamma?.error?.reason, 'hostUnreachable');
    assert.match(gamma?.error?.message ?? '', /ECONNREFUSED/);
    assert.deepEqual(inv.nodes.filter((n) => n.reachable).map((n) => n.node), ['alpha', 'beta']);
    assert.equal(inv.guests.length, 5);
    assert.equal(inv.backups.length, 12);
    assert.equal(log.grep(/warn: gamma: not read \(hostUnreachable\)/).length, 1);
  });

  it('a node whose pvesh fails is reported with the command and its stderr', async () => {
    const { pool, beta } = homelab();
    beta.on(pveshGet('/nodes/beta/storage'), fail("ipcc_send_rec[1] failed: Connection refused\nUnable to load access control list: Connection refused"));
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    const b = inv.nodes.find((n) => n.node === 'beta');
    assert.equal(b?.reachable, false);
    assert.equal(b?.error?.reason, 'remoteCommandFailed');
    assert.match(b?.error?.message ?? '', /pvesh get \/nodes\/beta\/storage --output-format json failed on beta \(exit 255\): ipcc_send_rec/);
    assert.equal(inv.nodes.find((n) => n.node === 'alpha')?.reachable, true);
  });

  it('output that is not the expected JSON is unexpectedOutput, not an empty list', async () => {
    const { pool, alpha } = homelab();
    alpha.on(pveshGet('/cluster/resources', '--type', 'vm'), { stdout: 'VMID NAME STATUS\n121 gitea running\n' });
    const inv = await loadInventory({ nodes: [NODES[0]], pool, log: new RecordingLogSink() });
    assert.equal(inv.nodes[0]?.error?.reason, 'unexpectedOutput');
    assert.equal(inv.guests.length, 0);
  });

  it('cancellation rejects with CancelledError instead of reporting nodes as unreachable', async () => {
    const { pool, alpha } = homelab();
    const ac = new AbortController();
    alpha.on(pveshGet('/cluster/resources', '--type', 'vm'), () => new Promise(() => undefined));
    const p = loadInventory({ nodes: NODES, pool, log: new RecordingLogSink(), signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    await assert.rejects(p, (err) => CancelledError.is(err));
  });

  it('skips listing rows it cannot attribute to a guest type', async () => {
    const { pool, beta } = homelab();
    beta.on(pveshGet('/nodes/beta/storage/local/content', '--content', 'backup'), json([
      ...fixtureJson<unknown[]>('content-local-beta.json'),
      { content: 'backup', ctime: 1793584900, format: 'tar.zst', size: 1000, subtype: 'unknown', volid: 'local:backup/vzdump-something.tar.zst' },
    ]));
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    assert.equal(inv.backups.length, 12);
    assert.ok(!inv.backups.some((b) => b.volid.includes('something')));
  });

  it('drops listing rows whose volid is not a vzdump or PBS volid, with a warning naming each', async () => {
    const { pool, beta } = homelab();
    const hostile = [
      'local:backup/vzdump-qemu-201-2026_01_02-03_04_05.vma.zst;rm -rf /',
      'local:backup/vzdump-qemu-201-2026_01_02-03_04_05.vma.zst $(reboot)',
      'local:backup/../../etc/shadow',
      'local:backup/vzdump-qemu-201-manual.vma.zst',
    ];
    beta.on(pveshGet('/nodes/beta/storage/local/content', '--content', 'backup'), json([
      ...fixtureJson<unknown[]>('content-local-beta.json'),
      ...hostile.map((volid, i) => ({ content: 'backup', ctime: 1795300000 + i, format: 'vma.zst', size: 1000, subtype: 'qemu', vmid: 201, volid })),
    ]));
    const log = new RecordingLogSink();
    const inv = await loadInventory({ nodes: NODES, pool, log });
    assert.equal(inv.backups.length, 12, 'the valid backups only');
    assert.deepEqual(inv.backups.filter((b) => hostile.includes(b.volid) || b.ctime >= 1795300000), []);
    for (const volid of hostile) {
      assert.deepEqual(log.grep(volid), [`warn: beta: ignoring ${JSON.stringify(volid)} on local: not a vzdump backup name`]);
    }
    assert.equal(inv.nodes.find((n) => n.node === 'beta')?.reachable, true, 'the node is read all the same');
  });

  // Was a bug (fixed): backups were de-duplicated by volid across nodes, so `local:backup/X` on alpha and on
  // beta (e.g. a dump copied from beta to alpha) became one, attributed to whichever node answered first.
  it('keeps the same file name on two nodes\' local storages as two backups', async () => {
    const { pool, alpha } = homelab();
    alpha.on(pveshGet('/nodes/alpha/storage/local/content', '--content', 'backup'), json([
      ...fixtureJson<unknown[]>('content-local-alpha.json'),
      ...fixtureJson<unknown[]>('content-local-beta.json').slice(1), // copied from beta
    ]));
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    const copies = inv.backups.filter((b) => b.volid === 'local:backup/vzdump-qemu-201-2026_11_02-03_00_05.vma.lzo');
    assert.deepEqual(copies.map((b) => b.node).sort(), ['alpha', 'beta']);
  });

  // Was a bug (fixed): one backup storage whose listing failed made the whole node "not read".
  it('a backup storage that cannot be listed does not hide the node\'s guests and other backups', async () => {
    const { pool, alpha } = homelab();
    alpha.on(pveshGet('/nodes/alpha/storage/pbs/content', '--content', 'backup'), fail("pbs: error fetching datastores - 500 Can't connect to 10.20.0.60:8007 (Connection refused)"));
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    assert.equal(inv.nodes.find((n) => n.node === 'alpha')?.reachable, true);
    assert.ok(inv.backups.some((b) => b.volid === 'local:backup/vzdump-lxc-131-2026_10_01-18_42_10.tar.gz'), 'alpha\'s local backups still listed');
    assert.equal(inv.guests.length, 5);
    const alphaInv = inv.nodes.find((n) => n.node === 'alpha');
    assert.deepEqual(alphaInv?.unreadableStorages.map((u) => u.storage), ['pbs']);
    assert.match(alphaInv?.unreadableStorages[0]?.message ?? '', /Connection refused/);
    assert.ok(!inv.backups.some((b) => b.storage === 'pbs'));
  });

  // Was a bug (fixed): the listing command was built outside the per-storage error handling, so a
  // storage id Lifeboat refuses to put on a command line made the whole node "not read".
  it('a backup storage whose id is not a valid storage id is reported alone; the node still loads', async () => {
    const { pool, alpha } = homelab();
    const storages = fixtureJson<Record<string, unknown>[]>('storage-alpha.json');
    alpha.on(pveshGet('/nodes/alpha/storage'), json([...storages, { ...storages.find((x) => String(x['content']).includes('backup'))!, storage: 'usb;reboot' }]));
    const inv = await loadInventory({ nodes: NODES, pool, log: new RecordingLogSink() });
    const alphaInv = inv.nodes.find((n) => n.node === 'alpha');
    assert.equal(alphaInv?.reachable, true);
    assert.deepEqual(alphaInv?.unreadableStorages.map((u) => u.storage), ['usb;reboot']);
    assert.equal(inv.guests.length, 5);
    assert.ok(!alpha.commands.some((c) => c.includes('reboot')), 'the refused id never reached the node');
  });
});
