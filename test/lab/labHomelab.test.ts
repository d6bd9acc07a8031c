import * as assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { asNumber, asString, entry, objectEntries, parseHcl, type HclBody } from '../../src/core/config/hcl';
import { defaultHomelab, labAddressOf, nightlyTimes } from '../../lab/homelab';
import { loadCluster } from '../../lab/pve/model';
import { seedCluster } from '../../lab/pve/seed';
import { tempStateDir } from '../../lab/pve/testing';

const SAMPLE = path.resolve(__dirname, '..', '..', '..', 'shared', 'examples', 'homelab', 'infrastructure', 'proxmox', 'environments');
const NOW = new Date('2026-03-15T12:00:00Z');

async function tfvars(env: string): Promise<HclBody> {
  const doc = await parseHcl(readFileSync(path.join(SAMPLE, env, 'terraform.tfvars'), 'utf8'));
  assert.equal(doc.errors.length, 0);
  return doc.body;
}
const attr = (b: HclBody, k: string) => entry(b.attributes, k)?.value;

describe('lab: default homelab spec', () => {
  const spec = defaultHomelab({ now: NOW });

  it('is a pure function of its options', () => {
    assert.deepEqual(defaultHomelab({ now: NOW }), spec);
  });

  it('has the sample nodes with loopback twins', () => {
    assert.deepEqual(spec.nodes.map((n) => [n.name, n.address, n.labAddress]), [
      ['alpha', '10.20.0.10', '127.20.0.10'], ['beta', '10.20.0.11', '127.20.0.11'], ['gamma', '10.20.0.12', '127.20.0.12'],
    ]);
    for (const n of spec.nodes) {
      assert.deepEqual(n.storages.map((s) => `${s.id}:${s.type}`), ['local:dir', 'local-lvm:lvmthin', 'backups:nfs']);
      assert.equal(n.storages.find((s) => s.id === 'backups')?.shared, true);
    }
  });

  for (const env of ['prod', 'lab']) {
    it(`matches the ${env} tfvars guests (name, type, node, ip, cores, memory)`, async () => {
      const body = await tfvars(env);
      const node = asString(attr(body, 'default_node'));
      const endpoint = asString(attr(body, 'proxmox_endpoint')) ?? '';
      assert.equal(spec.nodes.find((n) => n.name === node)?.address, new URL(endpoint).hostname);
      for (const [key, type] of [['vms', 'qemu'], ['containers', 'lxc']] as const) {
        for (const g of objectEntries(attr(body, key))) {
          const e = objectEntries(g.value);
          const guest = spec.guests.find((x) => x.name === g.key);
          assert.ok(guest, `guest ${g.key} in the spec`);
          assert.equal(guest.type, type);
          assert.equal(guest.node, node);
          assert.equal(guest.address, asString(entry(e, 'ip')?.value));
          assert.equal(guest.labAddress, labAddressOf(guest.address));
          assert.equal(guest.cores, asNumber(entry(e, 'cores')?.value));
          assert.equal(guest.memoryMiB, asNumber(entry(e, 'memory')?.value));
        }
      }
    });
  }

  it('matches the monitoring tfvars (monitoring VM, minio container, node list)', async () => {
    const body = await tfvars('monitoring');
    const mon = objectEntries(attr(body, 'monitoring'));
    const vm = objectEntries(entry(mon, 'vm')?.value);
    const minio = objectEntries(attr(body, 'minio'));
    const g301 = spec.guests.find((g) => g.vmid === 301);
    const g302 = spec.guests.find((g) => g.vmid === 302);
    assert.equal(g301?.address, asString(entry(vm, 'ip')?.value));
    assert.equal(g301?.cores, asNumber(entry(vm, 'cores')?.value));
    assert.equal(g302?.address, asString(entry(minio, 'ip')?.value));
    assert.equal(g302?.memoryMiB, asNumber(entry(minio, 'memory_mb')?.value));
    const proxy = g302?.services.find((s) => s.kind === 'tcp-proxy');
    assert.deepEqual(proxy, { kind: 'tcp-proxy', port: asNumber(entry(minio, 'port')?.value), target: { host: '127.0.0.1', port: 19010 } });
    const ports = g301?.services.map((s) => s.port).sort((a, b) => a - b);
    assert.deepEqual(ports, [22, 3000, 9090, 9093]);
    const nodes = (entry(mon, 'proxmox_nodes')?.value as unknown as { items: unknown[] }).items.map((i) => objectEntries(i as never));
    assert.deepEqual(nodes.map((n) => [asString(entry(n, 'name')?.value), asString(entry(n, 'ip')?.value)]), spec.nodes.map((n) => [n.name, n.address]));
  });

  it('has VMIDs, nodes and an ssh banner as in the sample README', () => {
    assert.deepEqual(spec.guests.map((g) => `${g.vmid} ${g.name} ${g.type} ${g.node}`), [
      '121 gitea qemu alpha', '122 nextcloud qemu alpha', '131 postgres lxc alpha', '132 dns lxc alpha',
      '201 k3s-test qemu beta', '202 sandbox qemu beta', '301 monitoring qemu gamma', '302 minio lxc gamma',
    ]);
    for (const g of spec.guests) assert.ok(g.services.some((s) => s.kind === 'ssh-banner' && s.port === 22), `${g.name} ssh banner`);
  });

  it('has backup jobs matching the tfvars backup blocks', async () => {
    for (const env of ['prod', 'lab', 'monitoring']) {
      const b = objectEntries(attr(await tfvars(env), 'backup'));
      const job = spec.jobs.find((j) => j.id === `backup-${env}`);
      assert.ok(job, `job backup-${env}`);
      assert.equal(job.schedule, asString(entry(b, 'schedule')?.value));
      assert.equal(job.storage, asString(entry(b, 'storage')?.value));
      assert.equal(job.mode, asString(entry(b, 'mode')?.value));
      assert.equal(job.compress, asString(entry(b, 'compress')?.value));
      const enabled = entry(b, 'enabled')?.value;
      assert.equal(job.enabled, enabled?.kind === 'bool' && enabled.value);
      const keepDaily = asNumber(entry(objectEntries(entry(b, 'retention')?.value), 'keep_daily')?.value);
      assert.equal(job.pruneBackups?.['keep-daily'], String(keepDaily));
    }
  });

  it('has 14 days of nightly backups with the realistic mix', () => {
    const by = (name: string) => spec.guests.find((g) => g.name === name)!;
    for (const name of ['gitea', 'nextcloud', 'postgres', 'monitoring', 'minio']) assert.equal(by(name).backups.length, 14, name);
    for (const b of by('gitea').backups) assert.deepEqual([b.storage, b.compress, b.time.slice(11, 16)], ['backups', 'zstd', '01:30']);
    for (const b of by('monitoring').backups) assert.deepEqual([b.storage, b.compress, b.time.slice(11, 16)], ['local', 'zstd', '02:15']);
    assert.equal(by('sandbox').backups.length, 0, 'one guest never backed up');
    const nc = by('nextcloud').backups;
    assert.equal(nc[nc.length - 1]?.corrupt, true, 'newest nextcloud archive corrupt');
    assert.equal(nc.filter((b) => b.corrupt).length, 1);
    assert.equal(spec.guests.flatMap((g) => g.backups).filter((b) => b.protected).length, 1, 'one protected backup');
    assert.ok(by('gitea').backups.every((b) => b.notes?.startsWith('gitea')), 'notes from {{guestname}}');
    const k3s = by('k3s-test').backups;
    assert.ok(k3s.length > 0 && k3s.every((b) => Date.parse(b.time + 'Z') < NOW.getTime() - 20 * 86400000), 'k3s-test only old backups');
    assert.equal(spec.jobs.find((j) => j.id === 'backup-lab')?.enabled, false);
    for (const g of spec.guests) for (const b of g.backups) assert.ok(Date.parse(b.time + 'Z') < NOW.getTime(), `${g.name} ${b.time} before now`);
    const days = new Set(by('postgres').backups.map((b) => b.time.slice(0, 10)));
    assert.equal(days.size, 14, 'one per night');
  });

  it('computes nightly times strictly before now, oldest first', () => {
    assert.deepEqual(nightlyTimes(new Date('2026-03-15T01:00:00Z'), '01:30', 2), ['2026-03-13T01:30:00', '2026-03-14T01:30:00']);
    assert.deepEqual(nightlyTimes(new Date('2026-03-15T02:00:00Z'), '01:30', 1, 5), ['2026-03-15T01:30:05']);
  });

  it('scales to 3 x 100 x 30 consistently', () => {
    const big = defaultHomelab({ now: NOW, scale: { nodes: 3, guests: 100, backups: 30 } });
    assert.equal(big.nodes.length, 3);
    assert.equal(big.guests.length, 100);
    assert.equal(new Set(big.guests.map((g) => g.vmid)).size, 100);
    assert.equal(new Set(big.guests.map((g) => g.labAddress)).size, 100);
    for (const g of big.guests) {
      assert.ok(big.nodes.some((n) => n.name === g.node));
      if (g.name.startsWith('bench-')) assert.equal(g.backups.length, 30);
    }
    const jobVmids = new Set(big.jobs.flatMap((j) => j.vmids ?? []));
    for (const g of big.guests.filter((x) => x.name.startsWith('bench-'))) assert.ok(jobVmids.has(g.vmid));
    // Thin disks fit their storage on each node.
    for (const n of big.nodes) {
      const used = big.guests.filter((g) => g.node === n.name).flatMap((g) => g.disks).reduce((s, d) => s + d.sizeGiB * 1024 ** 3, 0);
      assert.ok(used < (n.storages.find((s) => s.id === 'local-lvm')?.totalBytes ?? 0));
    }
    const five = defaultHomelab({ now: NOW, scale: { nodes: 5, guests: 20, backups: 3 } });
    assert.deepEqual(five.nodes.map((n) => n.name), ['alpha', 'beta', 'gamma', 'delta', 'epsilon']);
  });

  it('seeds storages with room to spare: the nightly jobs the tfvars declare could really run', async () => {
    const dir = tempStateDir();
    try {
      await seedCluster(dir, spec, NOW);
      for (const n of loadCluster(dir).nodes) {
        for (const st of n.storages) assert.ok(st.used / st.total < 0.9, `${n.name}/${st.id} is ${Math.round((st.used / st.total) * 100)}% full`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
