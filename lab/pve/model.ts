/**
 * The cluster model kept in `<stateDir>/cluster.json` and the helpers other lab code uses
 * (`loadCluster`, `createGuest`, `setGuestStatus`). Backup archives are NOT in this document:
 * they are real files in the storage directories, listed by scanning them like Proxmox does;
 * the document only records their *logical* size (what a real archive of that guest would weigh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackupJobSpec, GuestServiceSpec, GuestSpec, GuestType, StorageSpec } from './spec';
import { readJson, updateJson } from './store';
import { backupsOf, type BackupFile } from './archive';
import { activeFaults } from './faults';

export const GiB = 1024 ** 3;
export const STATE_FILE = 'cluster.json';

export interface StorageState extends StorageSpec {
  /** The real directory backing the storage (its `dump/` holds the archives); absolute in memory, relative to the state dir on disk. */
  readonly path: string;
}

export interface NodeState {
  readonly name: string;
  readonly address: string;
  readonly labAddress: string;
  storages: StorageState[];
  /** Epoch ms the node "booted" (uptime). */
  readonly bootedAt: number;
}

/** What the lab knows about a guest beyond its Proxmox config: where it really answers. */
export interface GuestIdentity {
  readonly address: string;
  readonly labAddress: string;
  readonly services: readonly GuestServiceSpec[];
}

export interface GuestState {
  vmid: number;
  type: GuestType;
  node: string;
  status: 'running' | 'stopped';
  /** The Proxmox config (`key: value`), including `lock` while locked. */
  config: Record<string, string>;
  /** Epoch ms of the last start (uptime, guest agent readiness, service boot delay). */
  startedAt?: number;
  /** Where the guest answers in the lab; absent = it has no reachable services. */
  identity?: GuestIdentity;
}

export interface ClusterState {
  version: 1;
  clusterName: string;
  createdAt: number;
  nodes: NodeState[];
  guests: Record<string, GuestState>;
  jobs: BackupJobSpec[];
  /** Logical sizes of archives, by path relative to the state dir. */
  archives: Record<string, { size: number }>;
  /** Lab identities by the guest's tfvars address (so a restored guest answers where it should). */
  identities: Record<string, GuestIdentity>;
  /** Per-guest fraction of the disks that holds data (drives archive sizes and thin usage). */
  dataFraction: Record<string, number>;
}

export function statePath(stateDir: string): string {
  return path.join(stateDir, STATE_FILE);
}

/**
 * Storage paths are stored relative to the state dir (so a state dir can be copied or moved) and
 * made absolute in memory.
 */
function absolutize(state: ClusterState, stateDir: string): void {
  const root = path.resolve(stateDir);
  for (const n of state.nodes) n.storages = n.storages.map((s) => ({ ...s, path: path.resolve(root, s.path) }));
}

function relativize(state: ClusterState, stateDir: string): void {
  const root = path.resolve(stateDir);
  for (const n of state.nodes) n.storages = n.storages.map((s) => ({ ...s, path: path.relative(root, s.path) }));
}

/** Serialises a state for `cluster.json` (storage paths relative). */
export function serializeState(state: ClusterState, stateDir: string): string {
  const copy = JSON.parse(JSON.stringify(state)) as ClusterState;
  relativize(copy, stateDir);
  return JSON.stringify(copy, null, 1);
}

export function readState(stateDir: string): ClusterState {
  const state = readJson<ClusterState | null>(statePath(stateDir), null);
  if (!state) throw new Error(`no simulated cluster in '${stateDir}' (seedCluster first)`);
  absolutize(state, stateDir);
  return state;
}

/** Read-modify-write of the model under the state lock. */
export function mutateState<R>(stateDir: string, fn: (state: ClusterState) => R): R {
  if (!fs.existsSync(statePath(stateDir))) throw new Error(`no simulated cluster in '${stateDir}' (seedCluster first)`);
  return updateJson<ClusterState, R>(statePath(stateDir), null as unknown as ClusterState, (doc) => {
    absolutize(doc, stateDir);
    try {
      return fn(doc);
    } finally {
      relativize(doc, stateDir);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Guest configs

/** A deterministic Proxmox-style MAC (`BC:24:11` is Proxmox' OUI) for a vmid and NIC. */
export function macFor(vmid: number, salt = 0): string {
  const h = Math.imul(vmid + 1, 2654435761) ^ Math.imul(salt + 17, 40503);
  const bytes = [0xbc, 0x24, 0x11, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

function gatewayOf(address: string): string {
  const parts = address.split('.');
  return [...parts.slice(0, 3), '1'].join('.');
}

function uuidFrom(seed: number): string {
  const hex = Array.from({ length: 32 }, (_, i) => ((Math.imul(seed + i * 7919, 2654435761) >>> 24) & 0xf).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The Proxmox config of a freshly created guest, as `qm config` / `pct config` would show it. */
export function configFromSpec(g: GuestSpec): Record<string, string> {
  const c: Record<string, string> = {};
  const tags = g.tags && g.tags.length > 0 ? g.tags.join(';') : undefined;
  if (g.type === 'qemu') {
    if (g.agent) c.agent = '1';
    const firstDisk = g.disks[0]?.key ?? 'scsi0';
    c.boot = `order=${firstDisk};net0`;
    c.cores = String(g.cores);
    c.cpu = 'x86-64-v2-AES';
    c.ipconfig0 = `ip=${g.address}/24,gw=${gatewayOf(g.address)}`;
    c.memory = String(g.memoryMiB);
    c.name = g.name;
    c.net0 = `virtio=${macFor(g.vmid)},bridge=vmbr0,firewall=1`;
    c.onboot = '1';
    c.ostype = 'l26';
    c.scsihw = 'virtio-scsi-single';
    c.smbios1 = `uuid=${uuidFrom(g.vmid)}`;
    c.sockets = '1';
    c.vmgenid = uuidFrom(g.vmid * 31 + 7);
    g.disks.forEach((d, i) => {
      c[d.key] = `${d.storage}:vm-${g.vmid}-disk-${i},iothread=1,size=${d.sizeGiB}G`;
    });
  } else {
    c.arch = 'amd64';
    c.cores = String(g.cores);
    c.features = 'nesting=1';
    c.hostname = g.name;
    c.memory = String(g.memoryMiB);
    c.net0 = `name=eth0,bridge=vmbr0,firewall=1,gw=${gatewayOf(g.address)},hwaddr=${macFor(g.vmid)},ip=${g.address}/24,type=veth`;
    c.onboot = '1';
    c.ostype = 'debian';
    g.disks.forEach((d, i) => {
      c[d.key] = d.key === 'rootfs' ? `${d.storage}:vm-${g.vmid}-disk-${i},size=${d.sizeGiB}G` : `${d.storage}:vm-${g.vmid}-disk-${i},mp=/mnt/${d.key},size=${d.sizeGiB}G`;
    });
    c.swap = '512';
    c.unprivileged = '1';
  }
  if (g.protection) c.protection = '1';
  if (tags) c.tags = tags;
  return c;
}

export interface DiskRef {
  key: string;
  storage: string;
  volname: string;
  sizeBytes: number;
}

const DISK_KEY = /^(scsi|virtio|sata|ide|efidisk|tpmstate|mp|unused)\d+$|^rootfs$/;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(s);
  if (!m) return 0;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: GiB, T: 1024 * GiB }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Math.round(Number(m[1]) * mult);
}

/** The disks of a config (`scsi0: local-lvm:vm-100-disk-0,size=32G`), CD-ROMs and `none` excluded. */
export function disksOf(config: Record<string, string>): DiskRef[] {
  const out: DiskRef[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!DISK_KEY.test(key)) continue;
    if (/media=cdrom/.test(value)) continue;
    const [vol, ...opts] = value.split(',');
    if (!vol || vol === 'none' || !vol.includes(':')) continue;
    const [storage, volname] = vol.split(':', 2) as [string, string];
    const size = opts.find((o) => o.startsWith('size='));
    out.push({ key, storage, volname, sizeBytes: size ? parseSize(size.slice(5)) : 0 });
  }
  return out;
}

export function guestName(g: GuestState): string {
  return (g.type === 'qemu' ? g.config.name : g.config.hostname) ?? `${g.type === 'qemu' ? 'VM' : 'CT'} ${g.vmid}`;
}

/** Deterministic share of a guest's disks that holds data (0.12 .. 0.30). */
export function defaultDataFraction(vmid: number): number {
  return 0.12 + ((vmid * 7) % 10) * 0.02;
}

/** Thin/dir image storages only hold what was written: used bytes of a guest's disk there. */
export function diskUsage(state: ClusterState, g: GuestState, d: DiskRef): number {
  return Math.round(d.sizeBytes * (state.dataFraction[String(g.vmid)] ?? defaultDataFraction(g.vmid)));
}

// ---------------------------------------------------------------------------------------------
// Storage accounting

export interface StorageUsage {
  total: number;
  used: number;
  avail: number;
}

export function findStorage(state: ClusterState, node: string, id: string): StorageState | undefined {
  return state.nodes.find((n) => n.name === node)?.storages.find((s) => s.id === id);
}

/**
 * Used bytes = the spec's base usage + the logical size of every file in the storage's `dump/`
 * (recorded size for archives the simulator wrote, real size otherwise) + the data of guest disks
 * on it. A `fill-storage` fault raises `used` so that only `leaveBytes` remain.
 */
export function storageUsage(stateDir: string, state: ClusterState, node: string, storage: StorageState): StorageUsage {
  let used = storage.baseUsedBytes ?? 0;
  for (const b of backupsOf(stateDir, state, storage)) used += b.size + b.sideBytes;
  for (const g of Object.values(state.guests)) {
    if (!storage.shared && g.node !== node) continue;
    for (const d of disksOf(g.config)) if (d.storage === storage.id) used += diskUsage(state, g, d);
  }
  for (const f of activeFaults(stateDir)) {
    if (f.kind === 'fill-storage' && f.storage === storage.id && (storage.shared || f.node === node)) used = Math.max(used, storage.totalBytes - f.leaveBytes);
  }
  used = Math.min(used, storage.totalBytes);
  return { total: storage.totalBytes, used, avail: storage.totalBytes - used };
}

export type { BackupFile };

// ---------------------------------------------------------------------------------------------
// Public helpers for the rest of the lab

export interface ClusterSnapshot {
  readonly clusterName: string;
  readonly nodes: readonly {
    readonly name: string;
    readonly address: string;
    readonly labAddress: string;
    readonly storages: readonly (StorageState & StorageUsage)[];
  }[];
  readonly guests: readonly (GuestState & { readonly name: string; readonly lock?: string })[];
  readonly jobs: readonly BackupJobSpec[];
  /** Every backup archive on every storage (shared storages listed once). */
  readonly backups: readonly (BackupFile & { readonly storage: string; readonly node?: string })[];
}

/** A read-only snapshot of the cluster: nodes with storage usage, guests, jobs, backups. */
export function loadCluster(stateDir: string): ClusterSnapshot {
  const state = readState(stateDir);
  const seenShared = new Set<string>();
  const backups: (BackupFile & { storage: string; node?: string })[] = [];
  for (const n of state.nodes) {
    for (const s of n.storages) {
      if (!s.content.includes('backup')) continue;
      if (s.shared) {
        if (seenShared.has(s.id)) continue;
        seenShared.add(s.id);
      }
      for (const b of backupsOf(stateDir, state, s)) backups.push(s.shared ? { ...b, storage: s.id } : { ...b, storage: s.id, node: n.name });
    }
  }
  return {
    clusterName: state.clusterName,
    nodes: state.nodes.map((n) => ({ name: n.name, address: n.address, labAddress: n.labAddress, storages: n.storages.map((s) => ({ ...s, ...storageUsage(stateDir, state, n.name, s) })) })),
    guests: Object.values(state.guests)
      .sort((a, b) => a.vmid - b.vmid)
      .map((g) => ({ ...g, name: guestName(g), ...(g.config.lock ? { lock: g.config.lock } : {}) })),
    jobs: state.jobs,
    backups,
  };
}

/**
 * Creates a guest (the Terraform stand-in's `apply`): config built from the spec, status as given.
 * Its `backups` are ignored (use seedCluster for history). Fails if the VMID is taken.
 */
export async function createGuest(stateDir: string, guest: GuestSpec): Promise<void> {
  mutateState(stateDir, (state) => {
    const existing = state.guests[String(guest.vmid)];
    if (existing) throw new Error(`${existing.type === 'qemu' ? 'VM' : 'CT'} ${guest.vmid} already exists on node '${existing.node}'`);
    if (!state.nodes.some((n) => n.name === guest.node)) throw new Error(`no such cluster node '${guest.node}'`);
    addGuest(state, guest, Date.now());
  });
}

/** Adds a guest from its spec to a state document (seed and createGuest). */
export function addGuest(state: ClusterState, guest: GuestSpec, now: number): void {
  const identity: GuestIdentity = { address: guest.address, labAddress: guest.labAddress, services: guest.services };
  state.identities[guest.address] = identity;
  state.dataFraction[String(guest.vmid)] = defaultDataFraction(guest.vmid);
  state.guests[String(guest.vmid)] = {
    vmid: guest.vmid,
    type: guest.type,
    node: guest.node,
    status: guest.status,
    config: configFromSpec(guest),
    ...(guest.status === 'running' ? { startedAt: now } : {}),
    identity,
  };
}

/** Sets a guest's power state directly (no task), e.g. for tests or the Terraform stand-in. */
export async function setGuestStatus(stateDir: string, vmid: number, status: 'running' | 'stopped'): Promise<void> {
  mutateState(stateDir, (state) => {
    const g = state.guests[String(vmid)];
    if (!g) throw new Error(`guest ${vmid} does not exist`);
    g.status = status;
    if (status === 'running') g.startedAt = Date.now();
    else delete g.startedAt;
  });
}

/** The address a config says the guest has (cloud-init `ipconfig0` or CT `net0 ip=`). */
export function configAddress(config: Record<string, string>): string | undefined {
  const m = /(?:^|,)ip=(\d+\.\d+\.\d+\.\d+)/.exec(config.ipconfig0 ?? config.net0 ?? '');
  return m?.[1];
}
