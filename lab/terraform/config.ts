/**
 * What the Terraform stand-in reads from an environment directory: `backend.tf` (with the project's
 * real HCL parser, tree-sitter), the guests of `terraform.tfvars` and the modules of `main.tf`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { asNumber, asString, entry, objectEntries, parseHcl, type HclBody, type HclValue } from '../../src/core/config/hcl';
import { MONITORING_MODULES } from '../seed/states';

export type Backend =
  | { readonly type: 'local'; readonly path: string }
  | {
      readonly type: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly region: string;
      readonly endpoint: string;
      readonly useLockfile: boolean;
      readonly usePathStyle: boolean;
    };

function attr(body: HclBody, key: string): HclValue | undefined {
  return entry(body.attributes, key)?.value;
}

/**
 * Reads the backend of `dir/*.tf` (only `backend.tf` and `main.tf` are looked at). A commented-out
 * or absent `backend "s3"` block means the local backend (`terraform.tfstate` in the directory).
 * `overrides` are `-backend-config=key=value` arguments.
 */
export async function readBackend(dir: string, overrides: Readonly<Record<string, string>> = {}): Promise<Backend> {
  for (const file of ['backend.tf', 'main.tf', 'versions.tf', 'providers.tf']) {
    const p = path.join(dir, file);
    if (!existsSync(p)) continue;
    const doc = await parseHcl(readFileSync(p, 'utf8'));
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      throw new TfError('Invalid block definition', `on ${file} line ${(e?.position.line ?? 0) + 1}: ${e?.excerpt ?? ''}`);
    }
    for (const tf of doc.body.blocks.filter((b) => b.type === 'terraform')) {
      const be = tf.body.blocks.find((b) => b.type === 'backend');
      if (!be) continue;
      const kind = be.labels[0];
      if (kind === 'local') return { type: 'local', path: path.join(dir, asString(attr(be.body, 'path')) ?? 'terraform.tfstate') };
      if (kind !== 's3') throw new TfError(`Unsupported backend type`, `The stand-in only knows the "s3" and "local" backends, not "${kind}".`);
      const get = (k: string) => overrides[k] ?? asString(attr(be.body, k));
      const endpoints = objectEntries(attr(be.body, 'endpoints'));
      const endpoint = overrides['endpoints.s3'] ?? overrides['endpoint'] ?? asString(entry(endpoints, 's3')?.value) ?? asString(attr(be.body, 'endpoint'));
      const bucket = get('bucket');
      const key = get('key');
      if (!bucket || !key) throw new TfError('Missing required argument', 'The backend "s3" needs "bucket" and "key".');
      if (!endpoint) throw new TfError('Missing S3 endpoint', 'The stand-in needs endpoints = { s3 = "http://host:port" } (there is no AWS here).');
      const bool = (k: string) => (overrides[k] !== undefined ? overrides[k] === 'true' : attr(be.body, k)?.kind === 'bool' && (attr(be.body, k) as { value: boolean }).value);
      return { type: 's3', bucket, key, region: get('region') ?? 'us-east-1', endpoint, useLockfile: bool('use_lockfile'), usePathStyle: bool('use_path_style') || bool('force_path_style') };
    }
  }
  return { type: 'local', path: path.join(dir, 'terraform.tfstate') };
}

export interface DesiredGuest {
  readonly name: string;
  readonly type: 'qemu' | 'lxc';
  readonly ip?: string;
  readonly cores?: number;
  readonly memory?: number;
  /** For the monitoring environment: the module that creates it. */
  readonly module?: string;
}

/** The guests the configuration wants: tfvars `vms`/`containers`, and main.tf's known modules. */
export async function readDesired(dir: string): Promise<DesiredGuest[]> {
  const out: DesiredGuest[] = [];
  const tfvarsFile = path.join(dir, 'terraform.tfvars');
  let tfvars: HclBody = { attributes: [], blocks: [] };
  if (existsSync(tfvarsFile)) {
    const doc = await parseHcl(readFileSync(tfvarsFile, 'utf8'));
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      throw new TfError('Invalid expression', `on terraform.tfvars line ${(e?.position.line ?? 0) + 1}: ${e?.excerpt ?? ''}`);
    }
    tfvars = doc.body;
  }
  for (const [key, type] of [['vms', 'qemu'], ['containers', 'lxc']] as const) {
    for (const g of objectEntries(attr(tfvars, key))) {
      const e = objectEntries(g.value);
      out.push({ name: g.key, type, ip: asString(entry(e, 'ip')?.value), cores: asNumber(entry(e, 'cores')?.value), memory: asNumber(entry(e, 'memory')?.value) });
    }
  }
  const mainTf = path.join(dir, 'main.tf');
  if (existsSync(mainTf)) {
    const doc = await parseHcl(readFileSync(mainTf, 'utf8'));
    for (const m of doc.body.blocks.filter((b) => b.type === 'module')) {
      const name = m.labels[0] ?? '';
      const known = MONITORING_MODULES[name];
      if (!known) continue;
      if (name === 'minio') {
        const e = objectEntries(attr(tfvars, 'minio'));
        out.push({ name: known.guest, type: known.type, module: name, ip: asString(entry(e, 'ip')?.value), cores: asNumber(entry(e, 'cpu_cores')?.value), memory: asNumber(entry(e, 'memory_mb')?.value) });
      } else {
        const vm = objectEntries(entry(objectEntries(attr(tfvars, 'monitoring')), 'vm')?.value);
        out.push({ name: known.guest, type: known.type, module: name, ip: asString(entry(vm, 'ip')?.value), cores: asNumber(entry(vm, 'cores')?.value), memory: asNumber(entry(vm, 'memory')?.value) });
      }
    }
  }
  return out;
}

/** The tfvars `environment` value (prod, lab, monitoring), which names the resource layout. */
export async function readEnvironmentName(dir: string): Promise<string | undefined> {
  const f = path.join(dir, 'terraform.tfvars');
  if (!existsSync(f)) return undefined;
  const doc = await parseHcl(readFileSync(f, 'utf8'));
  return asString(attr(doc.body, 'environment'));
}

/** An error printed in Terraform's box format; exit code 1. */
export class TfError extends Error {
  constructor(readonly summary: string, readonly detail = '') {
    super(summary);
  }
}

export function errorBox(summary: string, detail = ''): string {
  const lines = ['╷', `│ Error: ${summary}`];
  if (detail) {
    lines.push('│ ');
    for (const l of detail.split('\n')) lines.push(l ? `│ ${l}` : '│ ');
  }
  lines.push('╵');
  return lines.join('\n') + '\n';
}
