/**
 * The default simulated homelab, derived from the sample operator repository
 * (`../shared/examples/homelab`): three nodes, eight guests, 14 days of nightly backups with a
 * realistic mix, and the backup jobs of the tfvars `backup` blocks. A pure function: same input,
 * same cluster. The scale knob (N nodes × M guests × K backups) grows it consistently.
 */
import type { BackupJobSpec, BackupSpec, ClusterSpec, Compression, GuestServiceSpec, GuestSpec, NodeSpec, StorageSpec } from './pve/spec';

export interface HomelabScale {
  readonly nodes: number;
  readonly guests: number;
  readonly backups: number;
}

export interface HomelabOptions {
  readonly scale?: HomelabScale;
  /** The lab's "now": backups are the nightly runs strictly before it. Default: the current time. */
  readonly now?: Date;
}

/** Where the lab's S3 server (radosgw) really listens; the minio guest proxies to it. */
export const S3_BACKEND = { host: '127.0.0.1', port: 19010 } as const;
/** The port every node's SSH server listens on, at the node's labAddress. */
export const LAB_SSH_PORT = 19022;

const GiB = 1024 ** 3;
const TiB = 1024 * GiB;

/** 10.20.0.X -> 127.20.0.X (the loopback twin where the lab really listens). */
export function labAddressOf(address: string): string {
  const parts = address.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${address}`);
  return ['127', ...parts.slice(1)].join('.');
}

function nodeStorages(totalScale: number): StorageSpec[] {
  return [
    { id: 'local', type: 'dir', content: ['iso', 'vztmpl', 'backup'], totalBytes: 600 * GiB * totalScale, baseUsedBytes: 12 * GiB },
    { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], totalBytes: 800 * GiB * totalScale, baseUsedBytes: 0 },
    // The retention of the prod backup job, also set on the storage (vzdump run by hand prunes by it).
    { id: 'backups', type: 'nfs', content: ['backup'], totalBytes: 2 * TiB * totalScale, baseUsedBytes: 310 * GiB, shared: true, pruneBackups: { 'keep-daily': '7', 'keep-weekly': '4', 'keep-monthly': '2' } },
  ];
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DDTHH:MM:SS` in UTC (the lab's nodes run in UTC). */
function isoLocal(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/**
 * The start times of the last `count` nightly runs at `hh:mm` (plus `offsetSeconds`, vzdump
 * works through a job's guests one after the other) strictly before `now`, oldest first.
 * `skipDays` drops the most recent runs (e.g. a disabled job's guest only has old backups).
 */
export function nightlyTimes(now: Date, hhmm: string, count: number, offsetSeconds = 0, skipDays = 0): string[] {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m, 0) + offsetSeconds * 1000);
  if (day.getTime() >= now.getTime()) day.setUTCDate(day.getUTCDate() - 1);
  day.setUTCDate(day.getUTCDate() - skipDays);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(day);
    d.setUTCDate(d.getUTCDate() - i);
    out.push(isoLocal(d));
  }
  return out.reverse();
}

function backups(times: readonly string[], storage: string, compress: Compression, extra: (index: number, newest: boolean) => Partial<BackupSpec> = () => ({})): BackupSpec[] {
  return times.map((time, i) => ({ time, storage, compress, ...extra(i, i === times.length - 1) }));
}

const ssh: GuestServiceSpec = { kind: 'ssh-banner', port: 22 };

function prometheusTargets(nodes: readonly NodeSpec[]): string {
  return JSON.stringify({
    status: 'success',
    data: {
      activeTargets: nodes.map((n) => ({
        labels: { instance: `${n.address}:9100`, job: 'node' },
        scrapeUrl: `http://${n.address}:9100/metrics`,
        health: 'up',
        lastError: '',
      })),
      droppedTargets: [],
    },
  });
}

function monitoringServices(nodes: readonly NodeSpec[]): GuestServiceSpec[] {
  return [
    ssh,
    {
      kind: 'http', port: 9090, name: 'Prometheus', routes: {
        '/-/ready': { status: 200, body: 'Prometheus Server is Ready.\n', contentType: 'text/plain; charset=utf-8' },
        '/-/healthy': { status: 200, body: 'Prometheus Server is Healthy.\n', contentType: 'text/plain; charset=utf-8' },
        '/api/v1/targets': { status: 200, body: prometheusTargets(nodes), contentType: 'application/json' },
      },
    },
    {
      kind: 'http', port: 3000, name: 'Grafana', routes: {
        '/api/health': { status: 200, body: JSON.stringify({ commit: '3a1e2f1b7c', database: 'ok', version: '11.3.0' }), contentType: 'application/json' },
      },
    },
    {
      kind: 'http', port: 9093, name: 'Alertmanager', routes: {
        '/-/healthy': { status: 200, body: 'OK', contentType: 'text/plain; charset=utf-8' },
        '/-/ready': { status: 200, body: 'OK', contentType: 'text/plain; charset=utf-8' },
      },
    },
  ];
}

const minioServices: GuestServiceSpec[] = [ssh, { kind: 'tcp-proxy', port: 9000, target: { host: S3_BACKEND.host, port: S3_BACKEND.port } }];

/** Deterministic pseudo-random sequence for the scaled guests (no Math.random: pure function). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const NODE_NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];

export function defaultHomelab(opts: HomelabOptions = {}): ClusterSpec {
  const now = opts.now ?? new Date();
  const scale = opts.scale;
  const nodeCount = Math.max(3, scale?.nodes ?? 3);
  const storageScale = scale ? Math.max(1, Math.ceil(((scale.guests / 8) * Math.max(scale.backups, 14)) / 14)) : 1;
  const nodes: NodeSpec[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const address = `10.20.0.${10 + i}`;
    nodes.push({ name: NODE_NAMES[i] ?? `pve${String(i + 1).padStart(2, '0')}`, address, labAddress: labAddressOf(address), storages: nodeStorages(storageScale) });
  }
  const nightly = scale?.backups ?? 14;

  const guest = (g: Omit<GuestSpec, 'labAddress'>): GuestSpec => ({ ...g, labAddress: labAddressOf(g.address) });
  const prodTimes = (i: number) => nightlyTimes(now, '01:30', nightly, 2 + i * 95);
  const monTimes = (i: number) => nightlyTimes(now, '02:15', nightly, 2 + i * 80);

  const guests: GuestSpec[] = [
    guest({
      vmid: 121, name: 'gitea', type: 'qemu', node: 'alpha', status: 'running', cores: 2, memoryMiB: 4096, agent: true,
      disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 40 }], address: '10.20.0.21', tags: ['git', 'critical'], protection: true,
      services: [ssh],
      // Notes from the job's `{{guestname}}` template; the oldest one is protected (kept before a major upgrade).
      backups: backups(prodTimes(0), 'backups', 'zstd', (i) => (i === 0 ? { notes: 'gitea - before 1.22 upgrade', protected: true } : { notes: 'gitea' })),
    }),
    guest({
      vmid: 122, name: 'nextcloud', type: 'qemu', node: 'alpha', status: 'running', cores: 4, memoryMiB: 8192, agent: true,
      disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 200 }], address: '10.20.0.22', tags: ['files'],
      services: [ssh],
      // The newest archive is really damaged: an integrity check must fail on it.
      backups: backups(prodTimes(1), 'backups', 'zstd', (_i, newest) => (newest ? { corrupt: true, notes: 'nextcloud' } : { notes: 'nextcloud' })),
    }),
    guest({
      vmid: 131, name: 'postgres', type: 'lxc', node: 'alpha', status: 'running', cores: 2, memoryMiB: 2048,
      disks: [{ key: 'rootfs', storage: 'local-lvm', sizeGiB: 30 }], address: '10.20.0.31', tags: ['db', 'critical'],
      services: [ssh],
      backups: backups(prodTimes(2), 'backups', 'zstd', () => ({ notes: 'postgres' })),
    }),
    guest({
      vmid: 132, name: 'dns', type: 'lxc', node: 'alpha', status: 'running', cores: 1, memoryMiB: 256,
      disks: [{ key: 'rootfs', storage: 'local-lvm', sizeGiB: 4 }], address: '10.20.0.32',
      services: [ssh],
      // One old manual gzip backup on `local` from before the job existed, then the nightly ones (no notes).
      backups: [
        { time: nightlyTimes(now, '18:42', 1, 0, nightly + 6)[0] as string, storage: 'local', compress: 'gzip', notes: 'manual before upgrade to bookworm' },
        ...backups(prodTimes(3), 'backups', 'zstd'),
      ],
    }),
    guest({
      vmid: 201, name: 'k3s-test', type: 'qemu', node: 'beta', status: 'running', cores: 2, memoryMiB: 4096, agent: false,
      disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 30 }], address: '10.20.0.41', tags: ['k8s'],
      services: [ssh],
      // The lab job is disabled: only old backups from before it was turned off.
      backups: backups(nightlyTimes(now, '03:00', 2, 2, 30), 'local', 'lzo'),
    }),
    guest({
      vmid: 202, name: 'sandbox', type: 'qemu', node: 'beta', status: 'stopped', cores: 1, memoryMiB: 1024, agent: false,
      disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 10 }], address: '10.20.0.42',
      services: [ssh],
      backups: [], // never backed up
    }),
    guest({
      vmid: 301, name: 'monitoring', type: 'qemu', node: 'gamma', status: 'running', cores: 2, memoryMiB: 4096, agent: true,
      disks: [{ key: 'scsi0', storage: 'local-lvm', sizeGiB: 30 }, { key: 'scsi1', storage: 'local-lvm', sizeGiB: 50 }], address: '10.20.0.51', tags: ['monitoring'],
      services: monitoringServices(nodes),
      backups: backups(monTimes(0), 'local', 'zstd'),
    }),
    guest({
      vmid: 302, name: 'minio', type: 'lxc', node: 'gamma', status: 'running', cores: 1, memoryMiB: 1024,
      disks: [{ key: 'rootfs', storage: 'local-lvm', sizeGiB: 8 }, { key: 'mp0', storage: 'local-lvm', sizeGiB: 100 }], address: '10.20.0.52', tags: ['minio', 'critical'],
      services: minioServices,
      backups: backups(monTimes(1), 'local', 'zstd', (i) => (i === nightly - 2 ? { notes: 'minio' } : {})),
    }),
  ];

  const jobs: BackupJobSpec[] = [
    {
      id: 'backup-prod', schedule: '01:30', storage: 'backups', enabled: true, mode: 'snapshot', compress: 'zstd',
      vmids: [121, 122, 131, 132], pruneBackups: { 'keep-daily': '7', 'keep-weekly': '4', 'keep-monthly': '2' }, comment: 'prod (terraform)',
    },
    {
      id: 'backup-lab', schedule: '03:00', storage: 'local', enabled: false, mode: 'stop', compress: 'lzo', node: 'beta',
      vmids: [201, 202], pruneBackups: { 'keep-daily': '2' }, comment: 'lab (terraform) - lab guests are disposable',
    },
    {
      id: 'backup-monitoring', schedule: '02:15', storage: 'local', enabled: true, mode: 'snapshot', compress: 'zstd', node: 'gamma',
      vmids: [301, 302], pruneBackups: { 'keep-daily': '7' }, comment: 'monitoring (terraform)',
    },
  ];

  return { clusterName: 'homelab', nodes, guests: scaleGuests(guests, nodes, scale, now), jobs: scaleJobs(jobs, scale, guests.length) };
}

function scaleGuests(base: GuestSpec[], nodes: readonly NodeSpec[], scale: HomelabScale | undefined, now: Date): GuestSpec[] {
  if (!scale || scale.guests <= base.length) return base;
  const rand = lcg(20260101);
  const out = [...base];
  const extra = scale.guests - base.length;
  for (let i = 0; i < extra; i++) {
    const node = nodes[i % nodes.length] as NodeSpec;
    const type = i % 3 === 2 ? 'lxc' : 'qemu';
    const vmid = 1000 + i;
    const address = `10.20.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;
    const sizeGiB = 8 + Math.floor(rand() * 24);
    const storage = i % 2 === 0 ? 'backups' : 'local';
    const hhmm = storage === 'backups' ? '01:30' : '02:15';
    out.push({
      vmid, name: `bench-${String(i + 1).padStart(3, '0')}`, type, node: node.name, status: i % 10 === 9 ? 'stopped' : 'running',
      cores: 1 + (i % 4), memoryMiB: 512 * (1 + (i % 8)), agent: type === 'qemu',
      disks: [{ key: type === 'qemu' ? 'scsi0' : 'rootfs', storage: 'local-lvm', sizeGiB }],
      address, labAddress: labAddressOf(address), tags: ['bench'],
      services: [ssh],
      backups: backups(nightlyTimes(now, hhmm, scale.backups, 2 + (i % 40) * 60), storage, 'zstd', (j) => (j % 5 === 0 ? { notes: `bench-${String(i + 1).padStart(3, '0')}` } : {})),
    });
  }
  return out;
}

function scaleJobs(jobs: BackupJobSpec[], scale: HomelabScale | undefined, baseCount: number): BackupJobSpec[] {
  if (!scale || scale.guests <= baseCount) return jobs;
  const extra = Array.from({ length: scale.guests - baseCount }, (_, i) => i);
  return [
    ...jobs,
    { id: 'backup-bench-nfs', schedule: '01:30', storage: 'backups', enabled: true, mode: 'snapshot', compress: 'zstd', vmids: extra.filter((i) => i % 2 === 0).map((i) => 1000 + i), comment: 'bench guests' },
    { id: 'backup-bench-local', schedule: '02:15', storage: 'local', enabled: true, mode: 'snapshot', compress: 'zstd', vmids: extra.filter((i) => i % 2 === 1).map((i) => 1000 + i), comment: 'bench guests' },
  ];
}
