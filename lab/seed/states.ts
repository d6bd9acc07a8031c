/**
 * Realistic Terraform state history for the lab's `tfstate-<env>` buckets: state format v4
 * documents as the bpg/proxmox provider writes them, one lineage per environment, increasing
 * serials, and the accidents a real history has: one version that is not valid JSON (an
 * interrupted write) and one that lost a resource (a `terraform state rm` by mistake). The last
 * version is consistent with the simulated cluster.
 *
 * Pure builders (`buildStateHistory`, `stateDocument`) plus uploaders (`seedStateHistories`,
 * `writeStateVersions`) that tests can call.
 */
import { createHash } from 'node:crypto';
import type * as Minio from 'minio';
import type { ClusterSpec, GuestSpec } from '../pve/spec';
import { STATE_KEY } from '../s3/buckets';

export const TERRAFORM_VERSION = '1.9.8';
export const PROVIDER = 'provider["registry.terraform.io/bpg/proxmox"]';
export const ENVIRONMENTS = ['prod', 'lab', 'monitoring'] as const;
export type EnvName = (typeof ENVIRONMENTS)[number];

/** Which sample guests each environment's Terraform manages, in creation order. */
export const ENV_GUESTS: Readonly<Record<EnvName, readonly string[]>> = {
  prod: ['dns', 'postgres', 'gitea', 'nextcloud'],
  lab: ['k3s-test', 'sandbox'],
  monitoring: ['minio', 'monitoring'],
};

/** The monitoring environment's modules and the guest each one creates. */
export const MONITORING_MODULES: Readonly<Record<string, { guest: string; type: 'qemu' | 'lxc'; resourceName: string }>> = {
  minio: { guest: 'minio', type: 'lxc', resourceName: 'minio' },
  monitoring_stack: { guest: 'monitoring', type: 'qemu', resourceName: 'monitoring' },
};

export interface StateInstance {
  schema_version: number;
  attributes: Record<string, unknown>;
  sensitive_attributes: unknown[];
  private?: string;
  dependencies?: string[];
}

export interface StateResource {
  module?: string;
  mode: 'managed' | 'data';
  type: string;
  name: string;
  provider: string;
  instances: StateInstance[];
}

export interface TerraformState {
  version: 4;
  terraform_version: string;
  serial: number;
  lineage: string;
  outputs: Record<string, { value: unknown; type: unknown; sensitive?: boolean }>;
  resources: StateResource[];
  check_results: null;
}

export type VersionKind = 'ok' | 'invalid-json' | 'lost-resource' | 'current';

export interface StateVersionDoc {
  readonly serial: number;
  readonly kind: VersionKind;
  readonly body: string;
  /** Guests present in this version (by name). */
  readonly guests: readonly string[];
  readonly description: string;
}

export function resourceType(type: 'qemu' | 'lxc'): string {
  return type === 'qemu' ? 'proxmox_virtual_environment_vm' : 'proxmox_virtual_environment_container';
}

/** The Terraform address parts of a guest's resource in an environment. */
export function resourceAddress(env: string, guest: { name: string; type: 'qemu' | 'lxc' }): { module: string; type: string; name: string; address: string } {
  const type = resourceType(guest.type);
  if (env === 'monitoring') {
    const entry = Object.entries(MONITORING_MODULES).find(([, m]) => m.guest === guest.name);
    if (entry) return { module: `module.${entry[0]}`, type, name: entry[1].resourceName, address: `module.${entry[0]}.${type}.${entry[1].resourceName}` };
  }
  const module = guest.type === 'qemu' ? `module.vms["${guest.name}"]` : `module.containers["${guest.name}"]`;
  return { module, type, name: 'this', address: `${module}.${type}.this` };
}

/** A stable UUID-shaped lineage per environment (pure: derived from a seed string). */
export function lineageFor(env: string, seed = 'lifeboat-lab'): string {
  const h = createHash('sha256').update(`${seed}/${env}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function macFor(vmid: number): string {
  const h = createHash('md5').update(`mac/${vmid}`).digest('hex');
  return `BC:24:11:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`.toUpperCase();
}

/** What the bpg provider records for a guest (the attributes Lifeboat and the stand-in read). */
export function guestAttributes(g: GuestSpec, overrides: { memoryMiB?: number; ip?: string } = {}): Record<string, unknown> {
  const ip = overrides.ip ?? g.labAddress;
  const memory = overrides.memoryMiB ?? g.memoryMiB;
  const ipConfig = [{ ipv4: [{ address: `${ip}/24`, gateway: ip.split('.').slice(0, 3).join('.') + '.1' }], ipv6: [] }];
  const common = {
    id: String(g.vmid),
    vm_id: g.vmid,
    node_name: g.node,
    tags: [...(g.tags ?? [])].sort(),
    cpu: [{ cores: g.cores, sockets: 1, type: g.type === 'qemu' ? 'x86-64-v2-AES' : undefined }],
    memory: [{ dedicated: memory, swap: g.type === 'lxc' ? 512 : undefined }],
    started: g.status === 'running',
    protection: g.protection ?? false,
    network_interface: [{ bridge: 'vmbr0', mac_address: macFor(g.vmid), name: g.type === 'lxc' ? 'eth0' : undefined }],
  };
  if (g.type === 'qemu') {
    return {
      ...common,
      name: g.name,
      agent: [{ enabled: g.agent ?? false, timeout: '15m', trim: false, type: 'virtio' }],
      clone: [{ vm_id: 9000, full: true, retries: 1 }],
      disk: g.disks.map((d) => ({ interface: d.key, datastore_id: d.storage, size: d.sizeGiB, file_format: 'raw' })),
      initialization: [{ datastore_id: 'local-lvm', ip_config: ipConfig, user_account: [{ username: 'debian', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnly operator@laptop'] }] }],
      ipv4_addresses: [['127.0.0.1'], [ip]],
      on_boot: true,
    };
  }
  const rootfs = g.disks.find((d) => d.key === 'rootfs');
  return {
    ...common,
    unprivileged: true,
    features: [{ nesting: true }],
    disk: rootfs ? [{ datastore_id: rootfs.storage, size: rootfs.sizeGiB }] : [],
    mount_point: g.disks.filter((d) => d.key.startsWith('mp')).map((d, i) => ({ volume: d.storage, size: `${d.sizeGiB}G`, path: `/mnt/data${i || ''}` })),
    initialization: [{ hostname: g.name, ip_config: ipConfig }],
    operating_system: [{ template_file_id: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst', type: 'debian' }],
    start_on_boot: true,
  };
}

function outputsFor(env: string, guests: readonly GuestSpec[]): TerraformState['outputs'] {
  if (env === 'monitoring') {
    const out: TerraformState['outputs'] = {};
    const minio = guests.find((g) => g.name === 'minio');
    const mon = guests.find((g) => g.name === 'monitoring');
    if (minio) {
      out['minio_endpoint'] = { value: `http://${minio.labAddress}:9000`, type: 'string' };
      out['minio_vm_id'] = { value: minio.vmid, type: 'number' };
    }
    if (mon) {
      out['grafana_url'] = { value: `http://${mon.labAddress}:3000`, type: 'string' };
      out['prometheus_url'] = { value: `http://${mon.labAddress}:9090`, type: 'string' };
      out['monitoring_vm_id'] = { value: mon.vmid, type: 'number' };
    }
    return out;
  }
  const vms = guests.filter((g) => g.type === 'qemu');
  const cts = guests.filter((g) => g.type === 'lxc');
  const obj = (list: readonly GuestSpec[], f: (g: GuestSpec) => unknown, t: string) => ({
    value: Object.fromEntries(list.map((g) => [g.name, f(g)])),
    type: ['object', Object.fromEntries(list.map((g) => [g.name, t]))],
  });
  return {
    vm_ips: obj(vms, (g) => g.labAddress, 'string'),
    vm_ids: obj(vms, (g) => g.vmid, 'number'),
    container_ips: obj(cts, (g) => g.labAddress, 'string'),
    container_ids: obj(cts, (g) => g.vmid, 'number'),
  };
}

/** One state v4 document for `env` holding `guests` (in that order). */
export function stateDocument(env: string, guests: readonly GuestSpec[], serial: number, lineage: string, overrides: Record<string, { memoryMiB?: number }> = {}): TerraformState {
  const resources: StateResource[] = guests.map((g) => {
    const a = resourceAddress(env, g);
    return {
      module: a.module,
      mode: 'managed',
      type: a.type,
      name: a.name,
      provider: PROVIDER,
      instances: [{ schema_version: 0, attributes: guestAttributes(g, overrides[g.name] ?? {}), sensitive_attributes: [], private: 'bnVsbA==' }],
    };
  });
  resources.sort((x, y) => (x.module ?? '').localeCompare(y.module ?? ''));
  return { version: 4, terraform_version: TERRAFORM_VERSION, serial, lineage, outputs: outputsFor(env, guests), resources, check_results: null };
}

export function envGuests(spec: ClusterSpec, env: EnvName): GuestSpec[] {
  return ENV_GUESTS[env].map((name) => {
    const g = spec.guests.find((x) => x.name === name);
    if (!g) throw new Error(`guest ${name} of environment ${env} is not in the cluster spec`);
    return g;
  });
}

const json = (s: TerraformState) => JSON.stringify(s, null, 2) + '\n';

/**
 * The versions of one environment, oldest first: the guests created one by one, a change, an
 * interrupted (invalid JSON) write, a version that lost a resource, its repair, a few refreshes,
 * and the current version (consistent with the cluster). `total` is clamped to 8..20.
 */
export function buildStateHistory(spec: ClusterSpec, env: EnvName, total = env === 'prod' ? 12 : env === 'lab' ? 8 : 9): StateVersionDoc[] {
  const guests = envGuests(spec, env);
  const lineage = lineageFor(env);
  const out: StateVersionDoc[] = [];
  let serial = 0;
  const push = (kind: VersionKind, list: readonly GuestSpec[], description: string, overrides: Record<string, { memoryMiB?: number }> = {}, body?: string) => {
    serial += 1;
    out.push({ serial, kind, body: body ?? json(stateDocument(env, list, serial, lineage, overrides)), guests: list.map((g) => g.name), description });
  };
  // Creation, one guest at a time; the first guest then had half its memory.
  const first = guests[0] as GuestSpec;
  const small = { [first.name]: { memoryMiB: Math.max(256, first.memoryMiB / 2) } };
  for (let i = 1; i <= guests.length; i++) push('ok', guests.slice(0, i), `create ${guests[i - 1]?.name}`, small);
  push('ok', guests, `resize ${first.name} memory`);
  // An interrupted write: the object is cut in the middle.
  const full = json(stateDocument(env, guests, serial + 1, lineage));
  push('invalid-json', guests, 'interrupted write (truncated JSON)', {}, full.slice(0, Math.floor(full.length * 0.6)));
  push('ok', guests, 'refresh');
  // Lost a resource: the last guest was removed from the state by mistake.
  const lost = guests[guests.length - 1] as GuestSpec;
  push('lost-resource', guests.slice(0, -1), `terraform state rm ${resourceAddress(env, lost).address} (by mistake)`);
  while (out.length < Math.min(20, Math.max(8, total)) - 1) push('ok', guests, out.length === 7 ? `import ${lost.name} back` : 'refresh');
  push('current', guests, 'current');
  return out;
}

export interface SeededVersion {
  readonly serial: number;
  readonly kind: VersionKind;
  readonly versionId: string;
  readonly description: string;
  readonly guests: readonly string[];
}

export interface SeededHistory {
  readonly env: EnvName;
  readonly bucket: string;
  readonly key: string;
  readonly lineage: string;
  /** Oldest first; the last one is the current version. */
  readonly versions: readonly SeededVersion[];
}

async function put(client: Minio.Client, bucket: string, key: string, body: string): Promise<string> {
  const r = await client.putObject(bucket, key, Buffer.from(body), Buffer.byteLength(body), { 'Content-Type': 'application/json' });
  return String((r as { versionId?: string | null }).versionId ?? '');
}

/** Uploads the history of every environment to `tfstate-<env>` (buckets must exist, versioned). */
export async function seedStateHistories(client: Minio.Client, spec: ClusterSpec, envs: readonly EnvName[] = ENVIRONMENTS): Promise<SeededHistory[]> {
  // Environments in parallel; the versions of one key strictly in order.
  return Promise.all(envs.map(async (env) => {
    const bucket = `tfstate-${env}`;
    const versions: SeededVersion[] = [];
    for (const v of buildStateHistory(spec, env)) {
      const versionId = await put(client, bucket, STATE_KEY, v.body);
      versions.push({ serial: v.serial, kind: v.kind, versionId, description: v.description, guests: v.guests });
    }
    return { env, bucket, key: STATE_KEY, lineage: lineageFor(env), versions };
  }));
}

/** Writes `count` valid versions of a small state (for paging tests with >1,000 versions). */
export async function writeStateVersions(client: Minio.Client, bucket: string, key: string, count: number, opts: { env?: string; firstSerial?: number; concurrency?: number } = {}): Promise<number> {
  const env = opts.env ?? 'paging';
  const lineage = lineageFor(env);
  const first = opts.firstSerial ?? 1;
  const concurrency = opts.concurrency ?? 8;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const doc: TerraformState = { version: 4, terraform_version: TERRAFORM_VERSION, serial: first + i, lineage, outputs: {}, resources: [], check_results: null };
      await put(client, bucket, key, JSON.stringify(doc));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return count;
}
