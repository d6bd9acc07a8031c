/** An in-memory versioned StateStore and a scripted TerraformRunner for the state procedure's unit tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LifeboatError } from '../../../../src/core/errors';
import type { EnvironmentConfig, S3Backend } from '../../../../src/core/model/environment';
import { Secret } from '../../../../src/core/model/secret';
import { silentLog, type BucketVersioning, type StateStore, type StoredVersion, type TerraformResult, type TerraformRunner } from '../../../../src/core/ports';
import type { StateDeps } from '../../../../src/core/state/restore';

export const LINEAGE = '5951243d-557b-4c14-affe-dfa7c85e0853';

export function vmResource(name: string, vmid: number, attrs: Record<string, unknown> = {}) {
  return {
    module: `module.vms["${name}"]`, mode: 'managed', type: 'proxmox_virtual_environment_vm', name: 'this',
    provider: 'provider["registry.terraform.io/bpg/proxmox"]',
    instances: [{ schema_version: 0, attributes: { id: String(vmid), vm_id: vmid, node_name: 'alpha', name, cpu: [{ cores: 2 }], memory: [{ dedicated: 2048 }], started: true, ...attrs } }],
  };
}

export function ctResource(name: string, vmid: number) {
  return {
    module: `module.containers["${name}"]`, mode: 'managed', type: 'proxmox_virtual_environment_container', name: 'this',
    provider: 'provider["registry.terraform.io/bpg/proxmox"]',
    instances: [{ schema_version: 0, attributes: { id: String(vmid), vm_id: vmid, node_name: 'alpha', description: name } }],
  };
}

export function stateDoc(serial: number, resources: unknown[], opts: { lineage?: string; outputs?: Record<string, unknown> } = {}) {
  return { version: 4, terraform_version: '1.9.8', serial, lineage: opts.lineage ?? LINEAGE, outputs: opts.outputs ?? {}, resources, check_results: null };
}

export const body = (doc: unknown) => Buffer.from(JSON.stringify(doc, null, 2) + '\n');

interface Entry { versionId: string; body: Buffer | undefined; at: Date }

export class FakeStore implements StateStore {
  readonly endpoint = 'http://127.20.0.52:9000';
  readonly bucket = 'tfstate-prod';
  readonly key = 'terraform.tfstate';
  versions: Entry[] = []; // oldest first
  status: BucketVersioning = 'Enabled';
  lock: string | undefined;
  down = false;
  /** Called before each write: throw to simulate a failure. */
  beforeWrite: (() => void) | undefined;
  writes: Buffer[] = [];
  reads = 0;
  returnVersionIdOnWrite = true;
  #n = 0;
  #clock = Date.parse('2026-11-20T10:00:00Z');

  put(b: Buffer | undefined): string {
    const versionId = `v${++this.#n}-${Math.random().toString(36).slice(2, 8)}`;
    this.#clock += 60_000;
    this.versions.push({ versionId, body: b, at: new Date(this.#clock) });
    return versionId;
  }

  #check(): void {
    if (this.down) throw new LifeboatError('storeUnreachable', `${this.endpoint} did not answer (ECONNREFUSED)`, { sent: false, code: 'ECONNREFUSED' });
  }

  async versioning() { this.#check(); return this.status; }

  async listVersions(): Promise<StoredVersion[]> {
    this.#check();
    const last = this.versions[this.versions.length - 1];
    return [...this.versions].reverse().map((e) => ({ versionId: e.versionId, lastModified: e.at, size: e.body?.length ?? 0, isLatest: e === last, isDeleteMarker: e.body === undefined }));
  }

  async read(versionId: string | undefined): Promise<Buffer> {
    this.#check();
    this.reads++;
    const e = versionId === undefined ? this.versions[this.versions.length - 1] : this.versions.find((v) => v.versionId === versionId);
    if (!e || e.body === undefined) throw new LifeboatError('versionNotFound', `no version ${versionId ?? 'current'}`, {});
    return e.body;
  }

  async write(b: Buffer): Promise<string | undefined> {
    this.beforeWrite?.();
    this.#check();
    this.writes.push(b);
    const id = this.put(b);
    return this.returnVersionIdOnWrite ? id : undefined;
  }

  async readLock() { this.#check(); return this.lock; }

  async health() { return this.down ? { ok: false as const, error: 'connect ECONNREFUSED' } : { ok: true as const }; }
}

export class FakeTerraform implements TerraformRunner {
  calls: { args: string[]; cwd: string; env: Readonly<Record<string, string | undefined>> | undefined }[] = [];
  plan: TerraformResult = { code: 0, stdout: 'No changes. Your infrastructure matches the configuration.\n', stderr: '' };
  init: TerraformResult = { code: 0, stdout: 'Terraform has been successfully initialized!\n', stderr: '' };

  async run(args: readonly string[], o: { cwd: string; env?: Readonly<Record<string, string | undefined>>; onLine?: (l: string, s: 'stdout' | 'stderr') => void }): Promise<TerraformResult> {
    this.calls.push({ args: [...args], cwd: o.cwd, env: o.env });
    const r = args[0] === 'plan' ? this.plan : this.init;
    for (const l of r.stdout.split('\n')) o.onLine?.(l, 'stdout');
    return r;
  }
}

export function s3Backend(over: Partial<S3Backend> = {}): S3Backend {
  return { type: 's3', bucket: 'tfstate-prod', key: 'terraform.tfstate', region: 'us-east-1', endpoint: 'http://127.20.0.52:9000', usePathStyle: true, useLockfile: true, range: undefined, ...over };
}

export function environment(dir: string, over: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    name: 'prod', dir, tfvarsPath: path.join(dir, 'terraform.tfvars'), backendPath: path.join(dir, 'backend.tf'),
    endpoint: 'https://127.20.0.10:8006', defaultNode: 'alpha', apiToken: undefined, nodes: [], guests: [],
    backup: undefined, minio: undefined, monitoring: undefined, backend: s3Backend(), modules: [], blocks: {},
    ...over,
  };
}

export function tempDir(prefix = 'lifeboat-state-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function deps(store: FakeStore, terraform: FakeTerraform, root: string): StateDeps {
  return {
    store, terraform, log: silentLog, root, processEnv: { PATH: '/usr/bin' },
    credentials: { accessKey: 'admin', secretKey: Secret.literal('s3cr3t-value'), source: 'test' },
    now: () => new Date('2026-11-23T17:20:05.123Z'),
  };
}
