/**
 * Turns the parsed HCL of one environment folder (terraform.tfvars, backend.tf, *.tf) into an
 * EnvironmentConfig. Pure, but for one thing: when backend.tf no longer names its s3 backend even in
 * comments, `readBackend` looks in the folder for Lifeboat's own backups of backend.tf. The caller
 * reads the other files; tests feed text directly.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
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
    backend: src.backendText === undefined ? { type: 'local', commentedOut: undefined } : await readBackend(src.backendText, { dir: src.dir }),
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

/** Lifeboat's backups of backend.tf are `backend.tf.lifeboat-<timestamp>.bak` next to it. */
export const BACKEND_BACKUP_INFIX = '.lifeboat-';

/** The note Lifeboat writes above the backend it comments out (`Lifeboat fallback <ISO date>: …`). */
export const FALLBACK_NOTE = 'Lifeboat fallback';

/**
 * `terraform { backend "s3" {...} }`. A backend that is commented out (the monitoring environment
 * keeps its state local until MinIO exists; Lifeboat's fallback comments it out while MinIO is down)
 * is parsed from the uncommented text so Lifeboat knows where the state goes once MinIO is back:
 * either a whole commented `terraform {` block, or a lone commented `backend "s3" {` block inside a
 * `terraform {}` that also holds `required_version`, `required_providers`… (what the fallback
 * leaves). When backend.tf names no s3 backend at all, the newest of Lifeboat's backups of it in
 * `options.dir` that does is used.
 */
export async function readBackend(text: string, options: { readonly dir?: string } = {}): Promise<BackendConfig> {
  const doc = await parseHcl(text);
  const active = findS3Backend(doc.body.blocks);
  if (active) return active;
  const noted = text.includes(`${FALLBACK_NOTE} `);
  const commented = await commentedS3Backend(text);
  const backup = options.dir ? await newestBackendBackup(options.dir) : undefined;
  // Lifeboat's note, or its backup of the s3 backend.tf next to a local one: a Lifeboat fallback.
  if (commented) return { type: 'local', commentedOut: commented, ...(noted || backup ? { lifeboatFallback: true } : {}) };
  if (backup) return { type: 'local', commentedOut: backup.backend, lifeboatFallback: true };
  return { type: 'local', commentedOut: undefined, ...(noted ? { lifeboatFallback: true } : {}) };
}

async function commentedS3Backend(text: string): Promise<S3Backend | undefined> {
  // Only comment lines count, uncommented; the others become blank so line numbers stay.
  const lines = text.split('\n').map((line) => (/^\s*(#|\/\/)/.test(line) ? line.replace(/^(\s*)(#|\/\/) ?/, '$1') : ''));
  // A whole commented `terraform {` block: from its first line on (prose comments above are not HCL).
  const start = lines.findIndex((line) => /^\s*terraform\s*\{/.test(line));
  if (start >= 0) {
    const found = findS3Backend((await parseHcl(lines.slice(start).join('\n'))).body.blocks);
    if (found) return { ...found, range: undefined };
  }
  // A lone commented `backend "s3" {` block: its own lines, wrapped in a terraform block.
  const backend = lines.findIndex((line) => /^\s*backend\s+"s3"\s*\{/.test(line));
  if (backend < 0) return undefined;
  const block = lines.slice(backend, blockEnd(lines, backend) + 1);
  const found = findS3Backend((await parseHcl(['terraform {', ...block, '}'].join('\n'))).body.blocks);
  return found ? { ...found, range: undefined } : undefined;
}

/** The line where the block opened on `lines[first]` closes (braces outside strings), or the last line. */
function blockEnd(lines: readonly string[], first: number): number {
  let depth = 0;
  for (let i = first; i < lines.length; i++) {
    let inString = false;
    const line = lines[i]!;
    for (let c = 0; c < line.length; c++) {
      const ch = line[c];
      if (inString) {
        if (ch === '\\') c++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === '#') break;
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) return i;
    }
  }
  return lines.length - 1;
}

/** The newest `backend.tf.lifeboat-<timestamp>.bak` of `dir` that holds an active s3 backend. */
export async function newestBackendBackup(dir: string): Promise<{ path: string; backend: S3Backend; text: string } | undefined> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return undefined;
  }
  const prefix = `backend.tf${BACKEND_BACKUP_INFIX}`;
  for (const name of names.filter((n) => n.startsWith(prefix) && n.endsWith('.bak')).sort().reverse()) {
    let backupText: string;
    try {
      backupText = await fs.readFile(path.join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const found = findS3Backend((await parseHcl(backupText)).body.blocks);
    if (found) return { path: path.join(dir, name), backend: found, text: backupText };
  }
  return undefined;
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
