/**
 * Turns the parsed HCL of one environment folder (terraform.tfvars, backend.tf, *.tf) into an
 * EnvironmentConfig. Pure: the caller reads the files; tests feed text directly.
 */
import {
  asBool, asNumber, asString, asStringList, entry, findPlaceholder, objectEntries, parseHcl,
  type HclBlock, type HclDocument, type HclEntry, type HclValue, type Range,
} from './hcl';
import type {
  BackendConfig, BackupSettings, DeclaredGuest, EnvironmentConfig, GuestKind, MinioSettings,
  MonitoringSettings, ProxmoxNodeRef, S3Backend,
} from '../model/environment';
import { Secret, isSecretKey } from '../model/secret';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvironmentSources {
  /** Folder name of the environment; used when tfvars has no `environment = "..."`. */
  readonly folderName: string;
  readonly dir: string;
  readonly tfvarsPath: string;
  readonly tfvars: HclDocument;
  readonly backendPath: string | undefined;
  readonly backendText: string | undefined;
  /** Other `*.tf` files of the folder, for `module` blocks. */
  readonly terraformFiles: readonly HclDocument[];
  readonly env: Env;
}

/** Reads a value that may be a secret: placeholders resolve from `env`, literals are wrapped. */
export function readSecret(value: HclValue | undefined, env: Env): Secret | undefined {
  const text = asString(value);
  if (text === undefined) return undefined;
  const placeholder = findPlaceholder(text);
  if (placeholder) return Secret.fromEnvironment(placeholder.envVar, placeholder.required, env);
  return Secret.literal(text);
}

export function hostOf(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  try {
    return new URL(endpoint).hostname.replace(/^\[|\]$/g, '') || undefined;
  } catch {
    return undefined;
  }
}

export async function readEnvironment(src: EnvironmentSources): Promise<EnvironmentConfig> {
  const top = src.tfvars.body.attributes;
  const name = asString(entry(top, 'environment')?.value) ?? src.folderName;
  const endpoint = asString(entry(top, 'proxmox_endpoint')?.value);
  const defaultNode = asString(entry(top, 'default_node')?.value);
  const monitoring = readMonitoring(entry(top, 'monitoring'), src.env);

  const nodes: ProxmoxNodeRef[] = [];
  if (defaultNode) nodes.push({ name: defaultNode, host: hostOf(endpoint), source: 'default_node' });
  for (const n of monitoring?.nodes ?? []) {
    if (!nodes.some((existing) => existing.name === n.name)) nodes.push({ name: n.name, host: n.ip, source: 'proxmox_nodes' });
  }

  const blocks: Record<string, Range> = {};
  for (const attr of top) blocks[attr.key] = attr.keyRange;

  return {
    name,
    dir: src.dir,
    tfvarsPath: src.tfvarsPath,
    backendPath: src.backendPath,
    endpoint,
    defaultNode,
    apiToken: readSecret(entry(top, 'proxmox_api_token')?.value, src.env),
    nodes,
    guests: [
      ...readGuests(entry(top, 'vms')?.value, 'vm', name, defaultNode),
      ...readGuests(entry(top, 'containers')?.value, 'container', name, defaultNode),
    ],
    backup: readBackup(entry(top, 'backup')),
    minio: readMinio(entry(top, 'minio'), src.env),
    monitoring,
    backend: src.backendText === undefined ? { type: 'local', commentedOut: undefined } : await readBackend(src.backendText),
    modules: src.terraformFiles.flatMap((doc) => doc.body.blocks.filter((b) => b.type === 'module').map((b) => b.labels[0] ?? '')).filter(Boolean),
    blocks,
  };
}

/** What an editor needs from a tfvars text alone (no folder, no network): guests and block keys. */
export interface TfvarsOutline {
  readonly environment: string | undefined;
  readonly defaultNode: string | undefined;
  readonly guests: readonly DeclaredGuest[];
  /** Top-level keys and where they are (`minio`, `monitoring`, `backup`, `vms`…). */
  readonly blocks: Readonly<Record<string, Range>>;
}

export function outlineTfvars(doc: HclDocument, folderName: string): TfvarsOutline {
  const top = doc.body.attributes;
  const environment = asString(entry(top, 'environment')?.value) ?? folderName;
  const defaultNode = asString(entry(top, 'default_node')?.value);
  const blocks: Record<string, Range> = {};
  for (const attr of top) blocks[attr.key] = attr.keyRange;
  return {
    environment,
    defaultNode,
    guests: [
      ...readGuests(entry(top, 'vms')?.value, 'vm', environment, defaultNode),
      ...readGuests(entry(top, 'containers')?.value, 'container', environment, defaultNode),
    ],
    blocks,
  };
}

function readGuests(value: HclValue | undefined, kind: GuestKind, environment: string, defaultNode: string | undefined): DeclaredGuest[] {
  return objectEntries(value).map((e) => {
    const fields = objectEntries(e.value);
    const field = (...keys: string[]) => keys.map((k) => entry(fields, k)?.value).find((v) => v !== undefined);
    return {
      name: e.key,
      kind,
      environment,
      node: asString(field('node', 'target_node', 'node_name')) ?? defaultNode,
      ip: stripPrefix(asString(field('ip', 'ip_address', 'address'))),
      cores: asNumber(field('cores', 'cpu_cores')),
      memoryMiB: asNumber(field('memory', 'memory_mb')),
      diskGiB: asNumber(field('disk', 'disk_size', 'disk_size_gb')),
      tags: asStringList(field('tags')),
      vmid: asNumber(field('vmid', 'vm_id')),
      range: e.keyRange,
    };
  });
}

/** `10.20.0.21/24` → `10.20.0.21`. */
function stripPrefix(ip: string | undefined): string | undefined {
  return ip?.split('/')[0];
}

function readBackup(e: HclEntry | undefined): BackupSettings | undefined {
  if (!e || e.value.kind !== 'object') return undefined;
  const fields = e.value.entries;
  const retention: Record<string, number> = {};
  for (const r of objectEntries(entry(fields, 'retention')?.value)) {
    const n = asNumber(r.value);
    if (n !== undefined) retention[r.key] = n;
  }
  return {
    enabled: asBool(entry(fields, 'enabled')?.value),
    schedule: asString(entry(fields, 'schedule')?.value),
    storage: asString(entry(fields, 'storage')?.value),
    mode: asString(entry(fields, 'mode')?.value),
    compress: asString(entry(fields, 'compress')?.value),
    retention,
    range: e.keyRange,
  };
}

function readMinio(e: HclEntry | undefined, env: Env): MinioSettings | undefined {
  if (!e || e.value.kind !== 'object') return undefined;
  const fields = e.value.entries;
  return {
    ip: asString(entry(fields, 'ip')?.value),
    port: asNumber(entry(fields, 'port')?.value) ?? 9000,
    consolePort: asNumber(entry(fields, 'console_port')?.value),
    rootUser: asString(entry(fields, 'root_user')?.value),
    rootPassword: readSecret(entry(fields, 'root_password')?.value, env),
    buckets: asStringList(entry(fields, 'buckets')?.value),
    range: e.keyRange,
  };
}

function readMonitoring(e: HclEntry | undefined, env: Env): MonitoringSettings | undefined {
  if (!e || e.value.kind !== 'object') return undefined;
  const fields = e.value.entries;
  const list = entry(fields, 'proxmox_nodes')?.value;
  const nodes = list?.kind === 'tuple'
    ? list.items.map((item) => {
        const f = objectEntries(item);
        const secretKey = f.find((x) => isSecretKey(x.key) || x.key === 'token_value');
        return {
          name: asString(entry(f, 'name')?.value) ?? '',
          ip: asString(entry(f, 'ip')?.value),
          tokenValue: readSecret(secretKey?.value, env),
        };
      }).filter((n) => n.name !== '')
    : [];
  const vm = objectEntries(entry(fields, 'vm')?.value);
  return {
    vmIp: stripPrefix(asString(entry(vm, 'ip')?.value)),
    nodes,
    retentionDays: asNumber(entry(fields, 'retention_days')?.value),
    grafanaAdminPassword: readSecret(entry(fields, 'grafana_admin_password')?.value, env),
    range: e.keyRange,
  };
}

/**
 * `terraform { backend "s3" {...} }`. A backend that is commented out (the monitoring environment
 * keeps its state local until MinIO exists) is parsed from the uncommented text so Lifeboat knows
 * where the state will go once MinIO is back.
 */
export async function readBackend(text: string): Promise<BackendConfig> {
  const doc = await parseHcl(text);
  const active = findS3Backend(doc.body.blocks);
  if (active) return active;
  // Uncomment from the first commented `terraform {` line on; the prose comments above it are not HCL.
  const lines = text.split('\n').map((line) => (/^\s*(#|\/\/)/.test(line) ? line.replace(/^(\s*)(#|\/\/) ?/, '$1') : ''));
  const start = lines.findIndex((line) => /^\s*terraform\s*\{/.test(line));
  if (start < 0) return { type: 'local', commentedOut: undefined };
  const uncommented = lines.slice(start).join('\n');
  const commented = findS3Backend((await parseHcl(uncommented)).body.blocks);
  return { type: 'local', commentedOut: commented ? { ...commented, range: undefined } : undefined };
}

function findS3Backend(blocks: readonly HclBlock[]): S3Backend | undefined {
  for (const tf of blocks.filter((b) => b.type === 'terraform')) {
    const backend = tf.body.blocks.find((b) => b.type === 'backend' && b.labels[0] === 's3');
    if (!backend) continue;
    const attrs = backend.body.attributes;
    const endpoints = objectEntries(entry(attrs, 'endpoints')?.value);
    return {
      type: 's3',
      bucket: asString(entry(attrs, 'bucket')?.value),
      key: asString(entry(attrs, 'key')?.value) ?? 'terraform.tfstate',
      region: asString(entry(attrs, 'region')?.value),
      endpoint: asString(entry(endpoints, 's3')?.value) ?? asString(entry(attrs, 'endpoint')?.value),
      usePathStyle: asBool(entry(attrs, 'use_path_style')?.value) ?? asBool(entry(attrs, 'force_path_style')?.value) ?? false,
      useLockfile: asBool(entry(attrs, 'use_lockfile')?.value) ?? false,
      range: backend.range,
    };
  }
  return undefined;
}
