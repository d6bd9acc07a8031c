/**
 * The Terraform stand-in (`terraform` on the lab's PATH only): honours what Lifeboat runs —
 * `version`, `init`, `plan -detailed-exitcode`, `apply -target=module.<name> -auto-approve`,
 * `output -json`, `state pull` — by comparing the configuration (tfvars, main.tf modules), the state
 * (S3 through backend.tf, or the local terraform.tfstate) and the simulated cluster. Its limits are
 * documented in docs/lab.md. Faults: `$LIFEBOAT_LAB_DIR/terraform-faults.json` or `LAB_TF_FAULTS`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as Minio from 'minio';
import { errorBox, readBackend, readDesired, readEnvironmentName, TfError, type Backend, type DesiredGuest } from './config';
import { clusterGuests, ensureGuestRunning, type ClusterGuest } from './cluster';
import { guestAttributes, lineageFor, PROVIDER, resourceAddress, TERRAFORM_VERSION, type StateResource, type TerraformState } from '../seed/states';
import { defaultHomelab, labAddressOf } from '../homelab';
import type { GuestSpec } from '../pve/spec';

const PROVIDER_VERSION = '0.66.3';

interface Faults {
  /** Make a command fail with this message (`true` = a generic provider error). */
  readonly init?: string | boolean;
  readonly plan?: string | boolean;
  readonly apply?: string | boolean;
  /** Added to every command, milliseconds. */
  readonly delayMs?: number;
}

function labDir(): string | undefined {
  return process.env['LIFEBOAT_LAB_DIR'];
}

function readFaults(): Faults {
  const env = process.env['LAB_TF_FAULTS'];
  if (env) return JSON.parse(env) as Faults;
  const dir = labDir();
  const file = dir ? path.join(dir, 'terraform-faults.json') : undefined;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Faults;
  return {};
}

function pveStateDir(): string | undefined {
  if (process.env['PVE_SIM_STATE']) return process.env['PVE_SIM_STATE'];
  const dir = labDir();
  return dir ? path.join(dir, 'pve') : undefined;
}

interface Args {
  readonly flags: Map<string, string | true>;
  readonly targets: string[];
  readonly backendConfig: Record<string, string>;
  readonly positional: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const flags = new Map<string, string | true>();
  const targets: string[] = [];
  const backendConfig: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('-')) {
      positional.push(a);
      continue;
    }
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) continue;
    const name = m[1] as string;
    let value: string | true = m[2] ?? true;
    if (value === true && (name === 'target' || name === 'backend-config' || name === 'chdir' || name === 'var-file') && i + 1 < argv.length) value = argv[++i] as string;
    if (name === 'target' && typeof value === 'string') targets.push(value);
    else if (name === 'backend-config' && typeof value === 'string') {
      const eq = value.indexOf('=');
      if (eq > 0) backendConfig[value.slice(0, eq)] = value.slice(eq + 1);
    } else flags.set(name, value);
  }
  return { flags, targets, backendConfig, positional };
}

const flagOn = (a: Args, name: string) => {
  const v = a.flags.get(name);
  return v === true || v === 'true' || v === '1';
};

// ---------------------------------------------------------------------------------------------
// State storage

interface LoadedState {
  readonly raw: string | undefined;
  readonly state: TerraformState | undefined;
}

function s3For(b: Extract<Backend, { type: 's3' }>): Minio.Client {
  const accessKey = process.env['AWS_ACCESS_KEY_ID'];
  const secretKey = process.env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKey || !secretKey) {
    throw new TfError('No valid credential sources found', 'Please see https://developer.hashicorp.com/terraform/language/settings/backends/s3\nfor more information about providing credentials.\n\nError: failed to refresh cached credentials, no EC2 IMDS role found');
  }
  const url = new URL(b.endpoint);
  return new Minio.Client({
    endPoint: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)), useSSL: url.protocol === 'https:',
    accessKey, secretKey, pathStyle: true, region: b.region,
  });
}

function s3Detail(b: Extract<Backend, { type: 's3' }>, e: unknown, op: string): string {
  const err = e as { code?: string; message?: string };
  const url = new URL(b.endpoint);
  const cause = err.code === 'ECONNREFUSED' ? `dial tcp ${url.hostname}:${url.port}: connect: connection refused`
    : err.code === 'ETIMEDOUT' ? `dial tcp ${url.hostname}:${url.port}: i/o timeout`
      : (err.message ?? String(e));
  return `operation error S3: ${op}, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , HostID: , request send failed, Get "${b.endpoint}/${b.bucket}?list-type=2&max-keys=1000&prefix=env%3A%2F": ${cause}`;
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

/** What `terraform init` does against S3: list the workspaces (objects under `env:/`). */
async function checkWorkspaces(b: Extract<Backend, { type: 's3' }>): Promise<void> {
  const c = s3For(b);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const s = c.listObjectsV2(b.bucket, 'env:/', false);
        s.on('data', () => undefined);
        s.on('end', () => resolve());
        s.on('error', reject);
      }),
      10000,
    );
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'NoSuchBucket') throw new TfError('Failed to get existing workspaces: S3 bucket "' + b.bucket + '" does not exist.', 'The referenced S3 bucket must have been previously created. If the S3 bucket\nwas created within the last minute, please wait for a minute or two and try\nagain.');
    throw new TfError(`Failed to get existing workspaces: Unable to list objects in S3 bucket "${b.bucket}" with prefix "env:/": ${s3Detail(b, e, 'ListObjectsV2')}`);
  }
}

async function readState(b: Backend): Promise<LoadedState> {
  let raw: string | undefined;
  if (b.type === 'local') {
    raw = existsSync(b.path) ? readFileSync(b.path, 'utf8') : undefined;
  } else {
    await checkWorkspaces(b);
    const c = s3For(b);
    try {
      const stream = await withTimeout(c.getObject(b.bucket, b.key), 10000);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
      raw = Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'NoSuchKey' && code !== 'NotFound') throw new TfError(`Failed to load state: ${s3Detail(b, e, 'GetObject')}`);
    }
  }
  if (raw === undefined || raw.trim() === '') return { raw, state: undefined };
  let state: TerraformState;
  try {
    state = JSON.parse(raw) as TerraformState;
  } catch (e) {
    throw new TfError(`Failed to load state: Unsupported state file format: ${(e as Error).message}`, 'The state file could not be parsed as JSON.');
  }
  if (typeof state !== 'object' || state === null || state.version !== 4 || !Array.isArray(state.resources)) {
    throw new TfError('Failed to load state: Unsupported state file format', `The state file has version ${String((state as { version?: unknown } | null)?.version)}; this Terraform only reads version 4.`);
  }
  return { raw, state };
}

async function writeState(b: Backend, state: TerraformState): Promise<void> {
  const body = JSON.stringify(state, null, 2) + '\n';
  if (b.type === 'local') {
    if (existsSync(b.path)) renameSync(b.path, `${b.path}.backup`);
    writeFileSync(b.path, body);
    return;
  }
  const c = s3For(b);
  try {
    await withTimeout(c.putObject(b.bucket, b.key, Buffer.from(body), Buffer.byteLength(body), { 'Content-Type': 'application/json' }), 10000);
  } catch (e) {
    throw new TfError('Failed to save state', `Error saving state: failed to upload state: ${s3Detail(b, e, 'PutObject')}`);
  }
}

interface LockInfo {
  ID: string;
  Operation: string;
  Info: string;
  Who: string;
  Version: string;
  Created: string;
  Path: string;
}

/** `use_lockfile = true`: a `<key>.tflock` object; an existing one means someone holds the lock. */
async function acquireLock(b: Backend, operation: string, args: Args): Promise<(() => Promise<void>) | undefined> {
  if (b.type !== 's3' || !b.useLockfile || a(args, 'lock') === 'false') return undefined;
  const c = s3For(b);
  const lockKey = `${b.key}.tflock`;
  let held: string | undefined;
  try {
    const stream = await withTimeout(c.getObject(b.bucket, lockKey), 10000);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    held = Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'NoSuchKey' && code !== 'NotFound') throw new TfError('Error acquiring the state lock', s3Detail(b, e, 'GetObject'));
  }
  if (held !== undefined) {
    let info: Partial<LockInfo> = {};
    try {
      info = JSON.parse(held) as Partial<LockInfo>;
    } catch {
      /* unreadable lock: still held */
    }
    throw new TfError(
      'Error acquiring the state lock',
      [
        'Error message: operation error S3: PutObject, https response error StatusCode: 412, api error',
        'PreconditionFailed: At least one of the pre-conditions you specified did not hold',
        'Lock Info:',
        `  ID:        ${info.ID ?? ''}`,
        `  Path:      ${info.Path ?? `${b.bucket}/${b.key}`}`,
        `  Operation: ${info.Operation ?? ''}`,
        `  Who:       ${info.Who ?? ''}`,
        `  Version:   ${info.Version ?? ''}`,
        `  Created:   ${info.Created ?? ''}`,
        `  Info:      ${info.Info ?? ''}`,
        '',
        '',
        'Terraform acquires a state lock to protect the state from being written',
        'by multiple users at the same time. Please resolve the issue above and try',
        'again. For most commands, you can disable locking with the "-lock=false"',
        'flag, but this is not recommended.',
      ].join('\n'),
    );
  }
  const info: LockInfo = { ID: randomUUID(), Operation: operation, Info: '', Who: `root@${hostname()}`, Version: TERRAFORM_VERSION, Created: new Date().toISOString(), Path: `${b.bucket}/${b.key}` };
  const body = JSON.stringify(info);
  await c.putObject(b.bucket, lockKey, Buffer.from(body), Buffer.byteLength(body));
  return async () => {
    // Remove every version of the lock object so the bucket's history stays about the state.
    const versions: { versionId?: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = c.listObjects(b.bucket, lockKey, false, { IncludeVersion: true });
      s.on('data', (o: { name?: string; versionId?: string }) => {
        if (o.name === lockKey) versions.push(o);
      });
      s.on('end', () => resolve());
      s.on('error', reject);
    });
    for (const v of versions) await c.removeObject(b.bucket, lockKey, v.versionId ? { versionId: v.versionId } : {});
  };
}

const a = (args: Args, name: string): string | undefined => {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : v === true ? 'true' : undefined;
};

// ---------------------------------------------------------------------------------------------
// The .terraform directory: which backend `init` configured.

interface InitRecord {
  readonly backend: { type: string; config: Record<string, unknown> };
}

function initFile(dir: string): string {
  return path.join(dir, '.terraform', 'terraform.tfstate');
}

function readInit(dir: string): InitRecord | undefined {
  const f = initFile(dir);
  if (!existsSync(f)) return undefined;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as InitRecord;
  } catch {
    return undefined;
  }
}

function backendKey(b: Backend): string {
  return b.type === 'local' ? 'local' : `s3:${b.endpoint}/${b.bucket}/${b.key}`;
}

function writeInit(dir: string, b: Backend | undefined): void {
  mkdirSync(path.join(dir, '.terraform', 'providers'), { recursive: true });
  writeFileSync(path.join(dir, '.terraform.lock.hcl'), `# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n\nprovider "registry.terraform.io/bpg/proxmox" {\n  version = "${PROVIDER_VERSION}"\n}\n`);
  if (b === undefined || b.type === 'local') {
    if (existsSync(initFile(dir))) writeFileSync(initFile(dir), JSON.stringify({ version: 3, serial: 1, lineage: randomUUID(), backend: { type: 'local', config: {}, key: 'local' } }, null, 2));
    return;
  }
  writeFileSync(initFile(dir), JSON.stringify({ version: 3, serial: 1, lineage: randomUUID(), backend: { type: 's3', key: backendKey(b), config: { bucket: b.bucket, key: b.key, region: b.region, endpoints: { s3: b.endpoint }, use_lockfile: b.useLockfile, use_path_style: b.usePathStyle } } }, null, 2));
}

function recordedBackend(dir: string): Backend | undefined {
  const r = readInit(dir) as (InitRecord & { backend: { key?: string } }) | undefined;
  if (!r) return undefined;
  if (r.backend.type !== 's3') return { type: 'local', path: path.join(dir, 'terraform.tfstate') };
  const c = r.backend.config as { bucket: string; key: string; region: string; endpoints: { s3: string }; use_lockfile?: boolean; use_path_style?: boolean };
  return { type: 's3', bucket: c.bucket, key: c.key, region: c.region, endpoint: c.endpoints.s3, useLockfile: c.use_lockfile === true, usePathStyle: c.use_path_style === true };
}

const INIT_DONE = `
Terraform has been successfully initialized!

You may now begin working with Terraform. Try running "terraform plan" to see
any changes that are required for your infrastructure. All Terraform commands
should now work.

If you ever set or change modules or backend configuration for Terraform,
rerun this command to reinitialize your working directory. If you forget, other
commands will detect it and remind you to do so if necessary.
`;

const PROVIDERS = `Initializing provider plugins...
- Reusing previous version of bpg/proxmox from the dependency lock file
- Using previously-installed bpg/proxmox v${PROVIDER_VERSION}
`;

async function cmdInit(dir: string, args: Args, out: (s: string) => void): Promise<number> {
  const faults = readFaults();
  if (faults.init) throw new TfError(typeof faults.init === 'string' ? faults.init : 'Failed to query available provider packages', 'Could not retrieve the list of available versions for provider bpg/proxmox: (injected fault)');
  const hasModules = existsSync(path.join(dir, 'main.tf')) && readFileSync(path.join(dir, 'main.tf'), 'utf8').includes('module "');
  if (a(args, 'backend') === 'false') {
    out(`${hasModules ? 'Initializing modules...\n' : ''}${PROVIDERS}${INIT_DONE}`);
    writeInit(dir, undefined);
    return 0;
  }
  const backend = await readBackend(dir, args.backendConfig);
  const previous = recordedBackend(dir);
  const changed = previous !== undefined && backendKey(previous) !== backendKey(backend);
  const migrate = flagOn(args, 'migrate-state');
  const reconfigure = flagOn(args, 'reconfigure');
  out('\nInitializing the backend...\n');
  if (changed && !migrate && !reconfigure) {
    throw new TfError('Backend configuration changed', 'A change in the backend configuration has been detected, which may require migrating existing state.\n\nIf you wish to attempt automatic migration of the state, use "terraform init -migrate-state".\nIf you wish to store the current configuration with no changes to the state, use "terraform init -reconfigure".');
  }
  if (backend.type === 's3') await checkWorkspaces(backend);
  if (migrate) {
    // From the recorded backend, or (first init with an S3 backend) from a local terraform.tfstate.
    const localFile = path.join(dir, 'terraform.tfstate');
    const source: Backend | undefined = changed ? previous : backend.type === 's3' && existsSync(localFile) ? { type: 'local', path: localFile } : undefined;
    if (source) {
      const from = await readState(source);
      if (from.state) {
        const to = await readState(backend);
        if (!flagOn(args, 'force-copy')) {
          if (a(args, 'input') === 'false') throw new TfError('Error asking for state migration action: input is disabled', `Pre-existing state was found while migrating the previous "${source.type}" backend to the\nnewly configured "${backend.type}" backend. Use -force-copy to copy it without asking.`);
          throw new TfError('Error asking for state migration action', 'The stand-in cannot ask questions: run with -force-copy (and -input=false).');
        }
        void to;
        await writeState(backend, from.state);
        out(`Terraform has detected that the configuration specified for the backend\nhas changed. Terraform will now check for existing state in the backends.\n\n`);
        out(`Successfully migrated the state from the "${source.type}" backend to the "${backend.type}" backend.\n`);
      }
    }
  }
  if (backend.type === 's3') out(`\nSuccessfully configured the backend "s3"! Terraform will automatically\nuse this backend unless the backend configuration changes.\n`);
  writeInit(dir, backend);
  out(`${hasModules ? 'Initializing modules...\n' : ''}${PROVIDERS}${INIT_DONE}`);
  return 0;
}

function requireInit(dir: string, backend: Backend): void {
  const previous = recordedBackend(dir);
  if (backend.type === 'local' && previous?.type === 's3') {
    throw new TfError('Backend initialization required, please see the error message above.', 'Reason: Unsetting the previously set backend "s3"\n\nThe "backend" is the interface that Terraform uses to store state,\nperform operations, etc. If this message is showing up, it means that the\nTerraform configuration you\'re using is using a custom configuration for\nthe Terraform backend.\n\nChanges to backend configurations require reinitialization. This allows\nTerraform to set up the new configuration, copy existing state, etc. Please run\n"terraform init" with either the "-reconfigure" or "-migrate-state" flags to\nuse the current configuration.');
  }
  if (backend.type === 's3' && (!previous || backendKey(previous) !== backendKey(backend))) {
    throw new TfError(previous ? 'Backend initialization required: please run "terraform init"' : 'Backend initialization required, please see the error message above.', previous
      ? 'Reason: Backend configuration block has changed\n\nThe "backend" is the interface that Terraform uses to store state,\nperform operations, etc. If this message is showing up, it means that the\nTerraform configuration you\'re using is using a custom configuration for\nthe Terraform backend.\n\nChanges to backend configurations require reinitialization. This allows\nTerraform to set up the new configuration, copy existing state, etc. Please run\n"terraform init" with either the "-reconfigure" or "-migrate-state" flags to\nuse the current configuration.'
      : 'Reason: Initial configuration of the requested backend "s3"\n\nThe "backend" is the interface that Terraform uses to store state,\nperform operations, etc. If this message is showing up, it means that the\nTerraform configuration you\'re using is using a custom configuration for\nthe Terraform backend.\n\nChanges to backend configurations require reinitialization. This allows\nTerraform to set up the new configuration, copy existing state, etc. Please run\n"terraform init" with either the "-reconfigure" or "-migrate-state" flags to\nuse the current configuration.\n\nIf the change reason above is incorrect, please verify your configuration\nhasn\'t changed and try again. At this point, no changes to your existing\nconfiguration or state have been made.');
  }
}

// ---------------------------------------------------------------------------------------------
// Plan

type Action = 'create' | 'update' | 'destroy';

interface Change {
  readonly action: Action;
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly desired?: DesiredGuest;
  readonly resource?: StateResource;
  readonly deletedOutside?: boolean;
  readonly diffs?: readonly string[];
}

function attrsOf(r: StateResource): Record<string, unknown> {
  return r.instances[0]?.attributes ?? {};
}

function addressOf(r: StateResource): string {
  return `${r.module ? r.module + '.' : ''}${r.type}.${r.name}`;
}

function first<T>(v: unknown): T | undefined {
  return Array.isArray(v) ? (v[0] as T) : undefined;
}

function computePlan(env: string, desired: readonly DesiredGuest[], state: TerraformState | undefined, cluster: readonly ClusterGuest[] | undefined): Change[] {
  const resources = (state?.resources ?? []).filter((r) => r.mode === 'managed');
  const byAddress = new Map(resources.map((r) => [addressOf(r), r]));
  const changes: Change[] = [];
  const wanted = new Set<string>();
  for (const d of desired) {
    const ra = resourceAddress(env, d);
    wanted.add(ra.address);
    const r = byAddress.get(ra.address);
    if (!r) {
      changes.push({ action: 'create', address: ra.address, type: ra.type, name: ra.name, desired: d });
      continue;
    }
    const attrs = attrsOf(r);
    const vmid = Number(attrs['vm_id']);
    const live = cluster?.find((g) => g.vmid === vmid);
    if (cluster && !live) {
      changes.push({ action: 'create', address: ra.address, type: ra.type, name: ra.name, desired: d, resource: r, deletedOutside: true });
      continue;
    }
    const diffs: string[] = [];
    const cores = first<{ cores?: number }>(attrs['cpu'])?.cores;
    const memory = first<{ dedicated?: number }>(attrs['memory'])?.dedicated;
    if (d.cores !== undefined && cores !== undefined && cores !== d.cores) diffs.push(`      ~ cpu {\n          ~ cores        = ${cores} -> ${d.cores}\n            # (2 unchanged attributes hidden)\n        }`);
    if (d.memory !== undefined && memory !== undefined && memory !== d.memory) diffs.push(`      ~ memory {\n          ~ dedicated      = ${memory} -> ${d.memory}\n            # (1 unchanged attribute hidden)\n        }`);
    if (live && live.status !== 'running' && attrs['started'] !== false) diffs.push(`      ~ started        = false -> true`);
    if (diffs.length > 0) changes.push({ action: 'update', address: ra.address, type: ra.type, name: ra.name, desired: d, resource: r, diffs });
  }
  for (const r of resources) {
    const addr = addressOf(r);
    if (!wanted.has(addr)) changes.push({ action: 'destroy', address: addr, type: r.type, name: r.name, resource: r });
  }
  return changes;
}

function renderChange(c: Change): string {
  const lines: string[] = [];
  if (c.action === 'create') {
    lines.push(`  # ${c.address} will be created`, `  + resource "${c.type}" "${c.name}" {`);
    lines.push(`      + id          = (known after apply)`);
    lines.push(`      + ${c.type.endsWith('_vm') ? 'name       ' : 'description'} = "${c.desired?.name ?? ''}"`);
    lines.push(`      + node_name   = (known after apply)`);
    if (c.desired?.ip) lines.push(`      + ipv4_addresses = (known after apply)`);
    lines.push(`      + vm_id       = ${c.resource ? Number(attrsOf(c.resource)['vm_id']) : '(known after apply)'}`, `      # (many attributes hidden by the stand-in)`, `    }`);
  } else if (c.action === 'destroy') {
    const attrs = c.resource ? attrsOf(c.resource) : {};
    lines.push(`  # ${c.address} will be destroyed`, `  # (because ${c.address.split('.').slice(0, -2).join('.') || 'it'} is not in configuration)`, `  - resource "${c.type}" "${c.name}" {`);
    lines.push(`      - id        = "${String(attrs['id'] ?? '')}" -> null`, `      - node_name = "${String(attrs['node_name'] ?? '')}" -> null`, `      - vm_id     = ${String(attrs['vm_id'] ?? '')} -> null`, `      # (many attributes hidden)`, `    }`);
  } else {
    const attrs = c.resource ? attrsOf(c.resource) : {};
    lines.push(`  # ${c.address} will be updated in-place`, `  ~ resource "${c.type}" "${c.name}" {`, `        id          = "${String(attrs['id'] ?? '')}"`, ...(c.diffs ?? []), `        # (many unchanged attributes hidden)`, `    }`);
  }
  return lines.join('\n') + '\n';
}

function planText(changes: readonly Change[], state: TerraformState | undefined): string {
  let s = '';
  for (const r of state?.resources ?? []) {
    if (r.mode === 'managed') s += `${addressOf(r)}: Refreshing state... [id=${String(attrsOf(r)['id'] ?? '')}]\n`;
  }
  const deleted = changes.filter((c) => c.deletedOutside);
  if (deleted.length > 0) {
    s += '\nNote: Objects have changed outside of Terraform\n\nTerraform detected the following changes made outside of Terraform since the\nlast "terraform apply" which may have affected this plan:\n\n';
    for (const c of deleted) s += `  # ${c.address} has been deleted\n  - resource "${c.type}" "${c.name}" {\n        id     = "${String(attrsOf(c.resource as StateResource)['id'])}"\n      - vm_id  = ${String(attrsOf(c.resource as StateResource)['vm_id'])} -> null\n        # (many unchanged attributes hidden)\n    }\n\n`;
    s += '\nUnless you have made equivalent changes to your configuration, or ignored the\nrelevant attributes using ignore_changes, the following plan may include\nactions to undo or respond to these changes.\n\n─────────────────────────────────────────────────────────────────────────────\n';
  }
  if (changes.length === 0) {
    return s + '\nNo changes. Your infrastructure matches the configuration.\n\nTerraform has compared your real infrastructure against your configuration\nand found no differences, so no changes are needed.\n';
  }
  const symbols = new Set(changes.map((c) => c.action));
  s += '\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n';
  if (symbols.has('create')) s += '  + create\n';
  if (symbols.has('update')) s += '  ~ update in-place\n';
  if (symbols.has('destroy')) s += '  - destroy\n';
  s += '\nTerraform will perform the following actions:\n\n';
  for (const c of changes) s += renderChange(c) + '\n';
  s += planSummary(changes) + '\n';
  return s;
}

function planSummary(changes: readonly Change[]): string {
  const n = (x: Action) => changes.filter((c) => c.action === x).length;
  return `Plan: ${n('create')} to add, ${n('update')} to change, ${n('destroy')} to destroy.`;
}

function targeted(changes: readonly Change[], targets: readonly string[]): Change[] {
  if (targets.length === 0) return [...changes];
  return changes.filter((c) => targets.some((t) => c.address === t || c.address.startsWith(t + '.') || c.address.startsWith(t + '[')));
}

const TARGET_WARNING = `
Warning: Resource targeting is in effect

You are creating a plan with the -target option, which means that the result
of this plan may not represent all of the changes requested by the current
configuration.

The -target option is not for routine use, and is provided only for
exceptional situations such as recovering from errors or mistakes, or when
Terraform specifically suggests to use it as part of an error message.
`;

async function loadEnv(dir: string, args: Args) {
  const backend = await readBackend(dir, args.backendConfig);
  requireInit(dir, backend);
  const desired = await readDesired(dir);
  const env = (await readEnvironmentName(dir)) ?? path.basename(dir);
  const stateDir = pveStateDir();
  const cluster = stateDir && existsSync(stateDir) ? clusterGuests(stateDir) : undefined;
  return { backend, desired, env, stateDir, cluster };
}

async function cmdPlan(dir: string, args: Args, out: (s: string) => void): Promise<number> {
  const faults = readFaults();
  const { backend, desired, env, cluster } = await loadEnv(dir, args);
  if (backend.type === 's3') await checkWorkspaces(backend);
  const release = await acquireLock(backend, 'OperationTypePlan', args);
  try {
    const { state } = await readState(backend);
    if (faults.plan) throw new TfError(typeof faults.plan === 'string' ? faults.plan : 'Failed to read guest', 'error retrieving VM status: received an HTTP 596 response - Reason: Connection timed out (injected fault)');
    const changes = targeted(computePlan(env, desired, state, cluster), args.targets);
    out(planText(changes, state));
    if (args.targets.length > 0) out(TARGET_WARNING);
    if (changes.length > 0) out('\n─────────────────────────────────────────────────────────────────────────────\n\nNote: You didn\'t use the -out option to save this plan, so Terraform can\'t\nguarantee to take exactly these actions if you run "terraform apply" now.\n');
    return changes.length > 0 && flagOn(args, 'detailed-exitcode') ? 2 : 0;
  } finally {
    await release?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Apply

function guestSpecFor(env: string, d: DesiredGuest, vmid: number | undefined): GuestSpec {
  const base = defaultHomelab().guests.find((g) => g.name === d.name);
  const node = base?.node ?? (env === 'monitoring' ? 'gamma' : env === 'lab' ? 'beta' : 'alpha');
  const id = vmid ?? base?.vmid;
  if (id === undefined) throw new TfError(`Error creating ${d.type === 'qemu' ? 'VM' : 'container'}`, `The stand-in does not know which VMID to give "${d.name}" (not in the default homelab and not in the state).`);
  const ip = d.ip ?? base?.address ?? '127.20.0.250';
  const labAddress = ip.startsWith('127.') ? ip : labAddressOf(ip);
  return {
    ...(base ?? { disks: [], services: [{ kind: 'ssh-banner', port: 22 }], tags: [] }),
    vmid: id, name: d.name, type: d.type, node, status: 'running',
    cores: d.cores ?? base?.cores ?? 1, memoryMiB: d.memory ?? base?.memoryMiB ?? 1024,
    address: base?.address ?? ip, labAddress, backups: [],
  } as GuestSpec;
}

async function cmdApply(dir: string, args: Args, out: (s: string) => void): Promise<number> {
  const faults = readFaults();
  if (!flagOn(args, 'auto-approve')) {
    throw new TfError('Apply not confirmed', 'The stand-in never asks questions: run "terraform apply -auto-approve".');
  }
  const { backend, desired, env, stateDir, cluster } = await loadEnv(dir, args);
  if (backend.type === 's3') await checkWorkspaces(backend);
  const release = await acquireLock(backend, 'OperationTypeApply', args);
  try {
    const { state } = await readState(backend);
    const changes = targeted(computePlan(env, desired, state, cluster), args.targets);
    out(planText(changes, state));
    if (args.targets.length > 0) out(TARGET_WARNING);
    if (changes.some((c) => c.action === 'destroy')) throw new TfError('Destroy not supported by the stand-in', 'This plan destroys resources; the lab\'s Terraform stand-in only creates and updates guests.');
    const resources = [...(state?.resources ?? [])];
    let added = 0;
    let changed = 0;
    for (const c of changes) {
      const verb = c.action === 'create' ? 'Creating...' : `Modifying... [id=${String(attrsOf(c.resource as StateResource)['id'])}]`;
      out(`${c.address}: ${verb}\n`);
      if (faults.apply) {
        throw new TfError(typeof faults.apply === 'string' ? faults.apply : `error creating ${c.type === 'proxmox_virtual_environment_vm' ? 'VM' : 'container'}`, `with ${c.address},\n  on ${c.address.startsWith('module.') ? '../../modules' : 'main.tf'} line 1:\n\nreceived an HTTP 500 response - Reason: (injected fault)`);
      }
      const d = c.desired as DesiredGuest;
      const existing = cluster?.find((g) => g.name === d.name);
      if (c.action === 'create' && !c.resource && existing) {
        // Not in the state but on the node (e.g. the state lost it): the provider's create fails.
        const kind = existing.type === 'qemu' ? 'VM' : 'CT';
        throw new TfError(`error creating ${existing.type === 'qemu' ? 'VM' : 'container'}`, `with ${c.address},\n\nreceived an HTTP 500 response - Reason: unable to create ${kind} ${existing.vmid} - ${kind} ${existing.vmid} already exists on node '${existing.node}'`);
      }
      const vmid = c.resource ? Number(attrsOf(c.resource)['vm_id']) : existing?.vmid;
      const spec = guestSpecFor(env, d, vmid);
      if (stateDir) await ensureGuestRunning(stateDir, spec);
      const ra = resourceAddress(env, d);
      const resource: StateResource = {
        module: ra.module, mode: 'managed', type: ra.type, name: ra.name, provider: PROVIDER,
        instances: [{ schema_version: 0, attributes: guestAttributes({ ...spec, labAddress: spec.labAddress }), sensitive_attributes: [], private: 'bnVsbA==' }],
      };
      const idx = resources.findIndex((r) => addressOf(r) === c.address);
      if (idx >= 0) resources[idx] = resource;
      else resources.push(resource);
      if (c.action === 'create') added++;
      else changed++;
      out(`${c.address}: ${c.action === 'create' ? 'Creation' : 'Modifications'} complete after 3s [id=${spec.vmid}]\n`);
    }
    if (changes.length > 0 || !state) {
      resources.sort((x, y) => (x.module ?? '').localeCompare(y.module ?? ''));
      const next: TerraformState = {
        version: 4, terraform_version: TERRAFORM_VERSION, serial: (state?.serial ?? 0) + 1, lineage: state?.lineage ?? lineageFor(`${env}/${randomUUID()}`),
        outputs: outputsFrom(env, resources, state), resources, check_results: null,
      };
      await writeState(backend, next);
    }
    if (args.targets.length > 0) out('\nWarning: Applied changes may be incomplete\n\nThe plan was created with the -target option in effect, so some changes\nrequested in the configuration may have been ignored and the output values may\nnot be fully updated. Run the following command to verify that no other\nchanges are pending:\n    terraform plan\n\nNote that the -target option is not suitable for routine use, and is provided\nonly for exceptional situations such as recovering from errors or mistakes, or\nwhen Terraform specifically suggests to use it as part of an error message.\n');
    out(`\nApply complete! Resources: ${added} added, ${changed} changed, 0 destroyed.\n`);
    const outputs = outputsFrom(env, resources, state);
    if (Object.keys(outputs).length > 0) {
      out('\nOutputs:\n\n');
      for (const [k, v] of Object.entries(outputs)) out(`${k} = ${typeof v.value === 'string' ? JSON.stringify(v.value) : JSON.stringify(v.value)}\n`);
    }
    return 0;
  } finally {
    await release?.();
  }
}

function outputsFrom(env: string, resources: readonly StateResource[], previous: TerraformState | undefined): TerraformState['outputs'] {
  const outputs: TerraformState['outputs'] = { ...(previous?.outputs ?? {}) };
  if (env !== 'monitoring') return outputs;
  for (const r of resources) {
    const at = attrsOf(r);
    const ip = String(first<{ ip_config?: { ipv4?: { address?: string }[] }[] }>(at['initialization'])?.ip_config?.[0]?.ipv4?.[0]?.address ?? '').split('/')[0];
    if (r.module === 'module.minio') {
      outputs['minio_endpoint'] = { value: `http://${ip}:9000`, type: 'string' };
      outputs['minio_vm_id'] = { value: at['vm_id'], type: 'number' };
    }
    if (r.module === 'module.monitoring_stack') {
      outputs['grafana_url'] = { value: `http://${ip}:3000`, type: 'string' };
      outputs['prometheus_url'] = { value: `http://${ip}:9090`, type: 'string' };
      outputs['monitoring_vm_id'] = { value: at['vm_id'], type: 'number' };
    }
  }
  return outputs;
}

// ---------------------------------------------------------------------------------------------

async function cmdOutput(dir: string, args: Args, out: (s: string) => void): Promise<number> {
  const backend = await readBackend(dir, args.backendConfig);
  requireInit(dir, backend);
  const { state } = await readState(backend);
  const outputs = state?.outputs ?? {};
  const name = args.positional[1];
  if (name !== undefined) {
    const o = outputs[name];
    if (!o) throw new TfError('Output "' + name + '" not found', 'The output variable requested could not be found in the state\nfile. If you recently added this to your configuration, be\nsure to run `terraform apply`, since the state won\'t be updated\nwith new output variables until that command is run.');
    out(flagOn(args, 'json') || flagOn(args, 'raw') === false ? JSON.stringify(o.value) + '\n' : String(o.value) + '\n');
    return 0;
  }
  if (flagOn(args, 'json')) {
    const json = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { sensitive: v.sensitive ?? false, type: v.type, value: v.value }]));
    out(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  if (Object.keys(outputs).length === 0) {
    process.stderr.write('╷\n│ Warning: No outputs found\n│ \n│ The state file either has no outputs defined, or all the defined outputs\n│ are empty. Please define an output in your configuration with the `output`\n│ keyword and run `terraform refresh` for it to become available. If you are\n│ using interpolation, please verify the interpolated value is not empty. You\n│ can use the `terraform show` command to view the output values\n│ \n╵\n');
    return 0;
  }
  for (const [k, v] of Object.entries(outputs)) out(`${k} = ${JSON.stringify(v.value, null, 2)}\n`);
  return 0;
}

async function cmdStatePull(dir: string, args: Args, out: (s: string) => void): Promise<number> {
  const backend = await readBackend(dir, args.backendConfig);
  requireInit(dir, backend);
  const { raw } = await readState(backend);
  if (raw !== undefined) out(raw.endsWith('\n') ? raw : raw + '\n');
  return 0;
}

function cmdVersion(args: Args, out: (s: string) => void): number {
  if (flagOn(args, 'json')) {
    out(JSON.stringify({ terraform_version: TERRAFORM_VERSION, platform: 'linux_amd64', provider_selections: { 'registry.terraform.io/bpg/proxmox': PROVIDER_VERSION }, terraform_outdated: false }, null, 2) + '\n');
  } else {
    out(`Terraform v${TERRAFORM_VERSION}\non linux_amd64\n+ provider registry.terraform.io/bpg/proxmox v${PROVIDER_VERSION}\n`);
  }
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const out = (s: string) => {
    process.stdout.write(s);
  };
  // Global -chdir=DIR comes before the subcommand.
  let dir = process.cwd();
  const rest = [...argv];
  while (rest[0]?.startsWith('-chdir=')) dir = path.resolve(dir, (rest.shift() as string).slice('-chdir='.length));
  const [cmd, ...more] = rest;
  const args = parseArgs(more);
  const faults = readFaults();
  if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
  try {
    switch (cmd) {
      case 'version':
      case '-version':
      case '--version':
      case '-v':
        return cmdVersion(args, out);
      case 'init':
        return await cmdInit(dir, args, out);
      case 'plan':
        return await cmdPlan(dir, args, out);
      case 'apply':
        return await cmdApply(dir, args, out);
      case 'output':
        return await cmdOutput(dir, { ...args, positional: ['output', ...args.positional] }, out);
      case 'state':
        if (args.positional[0] === 'pull') return await cmdStatePull(dir, args, out);
        throw new TfError(`The stand-in does not implement "terraform state ${args.positional[0] ?? ''}"`, 'Supported: terraform state pull (see docs/lab.md).');
      case undefined:
        process.stderr.write('Usage: terraform [global options] <subcommand> [args]\n');
        return 127;
      default:
        process.stderr.write(`Terraform has no command named "${cmd}".\n\nTo see all of Terraform's top-level commands, run:\n  terraform -help\n\n(The lab's Terraform stand-in implements: version, init, plan, apply, output, state pull.)\n`);
        return 1;
    }
  } catch (e) {
    if (e instanceof TfError) {
      process.stderr.write(errorBox(e.summary, e.detail));
      return 1;
    }
    process.stderr.write(errorBox(`Unexpected error in the lab's Terraform stand-in: ${(e as Error).message}`));
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(String(e) + '\n');
      process.exit(1);
    },
  );
}
