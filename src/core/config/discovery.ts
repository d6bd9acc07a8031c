/**
 * Finds the operator's environments from a repository root: every file matching the environments
 * glob (default `infrastructure/proxmox/environments/*\/terraform.tfvars`) is one environment; its
 * folder also holds `backend.tf` and the `*.tf` files declaring modules. A file that cannot be
 * parsed becomes a problem with file and line; the other environments still load.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { glob } from 'tinyglobby';
import { parseHcl } from './hcl';
import { readEnvironment, type Env } from './tfvars';
import type { Discovery, DiscoveryProblem, EnvironmentConfig } from '../model/environment';

export const DEFAULT_ENVIRONMENTS_GLOB = 'infrastructure/proxmox/environments/*/terraform.tfvars';

export interface DiscoveryOptions {
  readonly root: string;
  readonly glob?: string;
  /** Where `${VAR:?required}` placeholders are resolved (the CLI passes process.env). */
  readonly env?: Env;
}

export async function discoverEnvironments(options: DiscoveryOptions): Promise<Discovery> {
  const root = path.resolve(options.root);
  const pattern = options.glob ?? DEFAULT_ENVIRONMENTS_GLOB;
  const files = (await glob(pattern, { cwd: root, absolute: true, dot: false, ignore: ['**/node_modules/**', '**/.terraform/**'] })).sort();
  const results = await Promise.all(files.map((file) => loadEnvironment(file, options.env ?? {})));
  const environments = results.flatMap((r) => (r.environment ? [r.environment] : []));
  const problems = results.flatMap((r) => r.problems);
  environments.sort((a, b) => a.name.localeCompare(b.name));
  return { root, environments, problems };
}

async function loadEnvironment(tfvarsPath: string, env: Env): Promise<{ environment?: EnvironmentConfig; problems: DiscoveryProblem[] }> {
  const dir = path.dirname(tfvarsPath);
  const problems: DiscoveryProblem[] = [];
  let text: string;
  try {
    text = await fs.readFile(tfvarsPath, 'utf8');
  } catch (err) {
    return { problems: [{ file: tfvarsPath, line: undefined, column: undefined, reason: 'unreadable', excerpt: undefined, detail: errorCode(err) }] };
  }
  const tfvars = await parseHcl(text);
  const firstError = tfvars.errors[0];
  if (firstError) {
    // A half-read tfvars would show a partial homelab as if it were whole: refuse the environment.
    return {
      problems: [{
        file: tfvarsPath,
        line: firstError.position.line + 1,
        column: firstError.position.column + 1,
        reason: 'syntax',
        excerpt: firstError.excerpt,
        detail: firstError.expected,
      }],
    };
  }

  const backendPath = path.join(dir, 'backend.tf');
  const backendText = await readOptional(backendPath);
  const terraformFiles = [];
  for (const file of (await fs.readdir(dir)).filter((f) => f.endsWith('.tf')).sort()) {
    const source = await readOptional(path.join(dir, file));
    if (source === undefined) continue;
    const doc = await parseHcl(source);
    const docError = doc.errors[0];
    if (docError) {
      problems.push({
        file: path.join(dir, file),
        line: docError.position.line + 1,
        column: docError.position.column + 1,
        reason: 'syntax',
        excerpt: docError.excerpt,
        detail: docError.expected,
      });
    }
    terraformFiles.push(doc);
  }

  const environment = await readEnvironment({
    folderName: path.basename(dir),
    dir,
    tfvarsPath,
    tfvars,
    backendPath: backendText === undefined ? undefined : backendPath,
    backendText,
    terraformFiles,
    env,
  });
  return { environment, problems };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
}

/**
 * The repository root for a working directory: the nearest ancestor where the environments glob
 * matches, so `lifeboat` works from any sub-folder of the operator's repository.
 */
export async function findRepositoryRoot(start: string, pattern = DEFAULT_ENVIRONMENTS_GLOB): Promise<string | undefined> {
  let dir = path.resolve(start);
  for (;;) {
    const found = await glob(pattern, { cwd: dir, absolute: true, ignore: ['**/node_modules/**'] });
    if (found.length > 0) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Every Proxmox node of the homelab, merged across environments (one entry per node name). */
export function homelabNodes(environments: readonly EnvironmentConfig[]): { name: string; host: string | undefined; environments: string[] }[] {
  const byName = new Map<string, { name: string; host: string | undefined; environments: string[] }>();
  for (const env of environments) {
    for (const node of env.nodes) {
      const existing = byName.get(node.name);
      if (existing) {
        existing.host ??= node.host;
        if (node.source === 'default_node' && !existing.environments.includes(env.name)) existing.environments.push(env.name);
      } else {
        byName.set(node.name, { name: node.name, host: node.host, environments: node.source === 'default_node' ? [env.name] : [] });
      }
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The guests an environment declares: its `vms` and `containers`, plus the monitoring VM and the
 * MinIO container its `monitoring` and `minio` blocks describe (the two the recovery depends on).
 */
export function declaredGuests(env: EnvironmentConfig): EnvironmentConfig['guests'] {
  const out = [...env.guests];
  const add = (name: string, kind: 'vm' | 'container', ip: string | undefined, range: EnvironmentConfig['guests'][number]['range']) => {
    if (out.some((g) => g.name === name)) return;
    out.push({ name, kind, environment: env.name, node: env.defaultNode, ip: ip?.replace(/\/\d+$/, ''), cores: undefined, memoryMiB: undefined, diskGiB: undefined, tags: [], vmid: undefined, range });
  };
  if (env.monitoring) add('monitoring', 'vm', env.monitoring.vmIp, env.monitoring.range);
  if (env.minio) add('minio', 'container', env.minio.ip, env.minio.range);
  return out;
}
