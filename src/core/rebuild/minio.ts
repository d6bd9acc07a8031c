/**
 * Rebuild MinIO (the operator's user story "rebuild MinIO from scratch", runbook step 1):
 * `terraform apply -target=module.minio` in the monitoring environment, wait for MinIO to answer,
 * create missing buckets and enable versioning, READ VERSIONING BACK and fail if it is not Enabled,
 * upload a local state into a bucket whose state object has no version at all (never over existing
 * versions), then `terraform init -reconfigure` in every environment whose backend is this MinIO.
 * `planMinioRebuild` only reads; `runPlan` executes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CancelledError, LifeboatError } from '../errors';
import { checkMinio, type HealthResult } from '../health/health';
import type { EnvironmentConfig } from '../model/environment';
import type { LogSink, NetworkProbe, Sleep, StateStore, TerraformRunner } from '../ports';
import { msg, type Message } from '../procedure/message';
import type { Plan, Step, StepContext } from '../procedure/types';
import { parseState } from '../state/model';
import { newestSafetyCopy } from '../state/safety';
import { errorSummary, runTerraform, terraformLine, TF_INIT_RECONFIGURE } from '../state/terraform';
import type { BucketAdmin } from './ports';

export const TF_APPLY_MINIO = ['apply', '-target=module.minio', '-auto-approve', '-input=false'] as const;

export interface MinioRebuildTiming {
  /** Health attempts, the first delay, and the cap of the exponential backoff. */
  readonly attempts: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

export const defaultMinioRebuildTiming: MinioRebuildTiming = { attempts: 10, firstDelayMs: 1000, maxDelayMs: 15_000 };

export interface MinioRebuildDeps {
  readonly environments: readonly EnvironmentConfig[];
  readonly root: string;
  readonly terraform: TerraformRunner;
  /** The complete environment of terraform processes (credentials included, never on argv). */
  readonly terraformEnv: Readonly<Record<string, string | undefined>>;
  readonly probe: NetworkProbe;
  readonly sleep: Sleep;
  readonly log: LogSink;
  readonly admin: BucketAdmin;
  /** The state store of an environment's backend (bucket + key). */
  readonly store: (env: EnvironmentConfig) => StateStore | undefined;
  /** Whether the node that hosts MinIO answered (from the inventory); undefined = not known. */
  readonly nodeReachable?: { readonly node: string; readonly reachable: boolean; readonly error?: string };
  readonly timing?: Partial<MinioRebuildTiming>;
}

export interface MinioRebuildFacts {
  readonly environment: string;
  readonly dir: string;
  readonly endpoint: string;
  readonly buckets: readonly string[];
  /** Environments whose backend is this MinIO: terraform init -reconfigure in each. */
  readonly backends: readonly { readonly environment: string; readonly dir: string; readonly bucket: string; readonly key: string }[];
  /** Local states that can fill an empty bucket, found when planning. */
  readonly localStates: readonly { readonly environment: string; readonly file: string; readonly serial: number; readonly source: 'terraform.tfstate' | 'safety copy' }[];
  readonly terraformVersion: string;
}

export async function planMinioRebuild(deps: MinioRebuildDeps): Promise<{ plan: Plan; facts: MinioRebuildFacts }> {
  const monitoring = deps.environments.find((e) => e.minio && e.modules.includes('minio')) ?? deps.environments.find((e) => e.minio);
  if (!monitoring?.minio) {
    throw new LifeboatError('invalidValue', 'no environment declares a minio block in terraform.tfvars', { field: 'minio', value: '', expected: 'minio = { ip, port, buckets = [...] } in the monitoring environment' });
  }
  if (!monitoring.modules.includes('minio')) {
    throw new LifeboatError('invalidValue', `environment ${monitoring.name} declares minio but no module "minio" in its *.tf files: terraform apply -target=module.minio has nothing to apply`, { field: 'module', value: 'minio', expected: `module "minio" in ${monitoring.dir}` });
  }
  if (!monitoring.minio.ip) {
    throw new LifeboatError('invalidValue', `the minio block of ${monitoring.name} has no ip`, { field: 'minio.ip', value: '', expected: 'ip = "<address>"' });
  }
  if (deps.nodeReachable && !deps.nodeReachable.reachable) {
    throw new LifeboatError('hostUnreachable', `node ${deps.nodeReachable.node}, which hosts MinIO, could not be reached: ${deps.nodeReachable.error ?? ''}`, { node: deps.nodeReachable.node });
  }
  const version = await deps.terraform.run(['version'], { cwd: monitoring.dir, env: deps.terraformEnv });
  if (version.code !== 0) {
    throw new LifeboatError('remoteCommandFailed', `terraform is not available here (${errorSummary(version.stderr || version.stdout) || `exit ${version.code ?? 'none'}`}): install it or put it on PATH`, { command: 'terraform version' });
  }
  const endpoint = `http://${monitoring.minio.ip}:${monitoring.minio.port}`;
  const sameHost = (url: string | undefined) => {
    try {
      const u = new URL(url ?? '');
      return u.hostname === monitoring.minio!.ip && Number(u.port || 80) === monitoring.minio!.port;
    } catch {
      return false;
    }
  };
  const backends = deps.environments.flatMap((e) => (e.backend.type === 's3' && e.backend.bucket && sameHost(e.backend.endpoint) ? [{ environment: e.name, dir: e.dir, bucket: e.backend.bucket, key: e.backend.key }] : []));
  const buckets = [...new Set([...monitoring.minio.buckets, ...backends.map((b) => b.bucket)])];
  const localStates: MinioRebuildFacts['localStates'][number][] = [];
  for (const b of backends) {
    const local = path.join(b.dir, 'terraform.tfstate');
    const body = await fs.readFile(local).catch(() => undefined);
    const parsed = body ? parseState(body) : undefined;
    if (parsed?.ok) {
      localStates.push({ environment: b.environment, file: local, serial: parsed.state.serial, source: 'terraform.tfstate' });
      continue;
    }
    const copy = await newestSafetyCopy(deps.root, b.environment);
    if (copy) localStates.push({ environment: b.environment, file: copy.path, serial: copy.serial, source: 'safety copy' });
  }
  const facts: MinioRebuildFacts = {
    environment: monitoring.name, dir: monitoring.dir, endpoint, buckets, backends, localStates,
    terraformVersion: version.stdout.split('\n')[0]?.trim() ?? '',
  };
  return { plan: buildPlan(facts, deps), facts };
}

function buildPlan(f: MinioRebuildFacts, deps: MinioRebuildDeps): Plan {
  const timing = { ...defaultMinioRebuildTiming, ...deps.timing };
  const envByName = new Map(deps.environments.map((e) => [e.name, e]));
  const steps: Step[] = [];

  steps.push({
    id: 'apply',
    title: msg('Create or start the MinIO container with Terraform (in {0})', f.environment),
    destructive: true,
    cancel: 'between-steps',
    commands: [`cd ${f.dir} && ${terraformLine(TF_APPLY_MINIO)}`],
    effect: msg('Creates the MinIO container if it is missing, or starts it; nothing else in the environment is touched'),
    async run(ctx) {
      const r = await runTerraform(deps.terraform, TF_APPLY_MINIO, f.dir, deps.terraformEnv, ctx);
      const summary = /^Apply complete!.*$/m.exec(r.stdout)?.[0] ?? 'applied';
      ctx.facts.set('apply', summary);
      return msg('terraform apply: {0}', summary);
    },
  });

  steps.push({
    id: 'health',
    title: msg('Wait for MinIO to answer at {0}', f.endpoint),
    destructive: false,
    cancel: 'anytime',
    commands: [`GET ${f.endpoint}/minio/health/live   # up to ${timing.attempts} tries, backoff ${timing.firstDelayMs} ms → ${timing.maxDelayMs} ms`],
    async run(ctx) {
      const r = await waitForS3(deps.probe, f.endpoint, timing, deps.sleep, ctx);
      ctx.facts.set('health', `${r.result.observed} after ${r.attempts} attempt(s)`);
      if (!r.result.healthy) {
        throw new LifeboatError('storeUnreachable', `MinIO did not come up at ${r.result.url}: last answer ${r.result.observed} after ${r.attempts} attempts. Check the container on its node (pct status, pct start) and its logs`, { endpoint: f.endpoint });
      }
      return r.minioEndpoint
        ? msg('MinIO answers: {0} after {1} attempt(s)', r.result.observed, r.attempts)
        : msg('The S3 server answers ({0} on the MinIO health path: not MinIO, but S3 is up) after {1} attempt(s)', r.result.observed, r.attempts);
    },
  });

  steps.push({
    id: 'buckets',
    title: msg('Create missing buckets and enable versioning: {0}', f.buckets.join(', ')),
    destructive: false,
    cancel: 'between-steps',
    commands: f.buckets.flatMap((b) => [`PUT ${f.endpoint}/${b}   # only if it does not exist`, `PUT ${f.endpoint}/${b}?versioning  Status=Enabled   # only if not Enabled`]),
    effect: msg('New empty buckets; existing buckets and their objects are kept'),
    async run(ctx) {
      const created: string[] = [];
      const enabled: string[] = [];
      for (const bucket of f.buckets) {
        if (!(await deps.admin.exists(bucket, ctx.signal))) {
          await deps.admin.create(bucket, ctx.signal);
          created.push(bucket);
        }
        if ((await deps.admin.versioning(bucket, ctx.signal)) !== 'Enabled') {
          await deps.admin.enableVersioning(bucket, ctx.signal);
          enabled.push(bucket);
        }
      }
      ctx.facts.set('bucketsCreated', created.join(', '));
      ctx.facts.set('versioningEnabled', enabled.join(', '));
      return msg('Created: {0}; versioning turned on: {1}', created.join(', ') || '—', enabled.join(', ') || '—');
    },
  });

  steps.push({
    id: 'read-back',
    title: msg('Read versioning back from every bucket'),
    destructive: false,
    cancel: 'anytime',
    commands: f.buckets.map((b) => `GET ${f.endpoint}/${b}?versioning   # must say Enabled`),
    async run(ctx) {
      const states: string[] = [];
      const bad: string[] = [];
      for (const bucket of f.buckets) {
        const v = await deps.admin.versioning(bucket, ctx.signal);
        states.push(`${bucket}=${v}`);
        if (v !== 'Enabled') bad.push(`${bucket} (${v})`);
      }
      ctx.facts.set('versioning', states.join(', '));
      if (bad.length) {
        throw new LifeboatError('versioningDisabled', `VERSIONING IS NOT ENABLED on ${bad.join(', ')} after enabling it: a state written there could not be rolled back. Enable it by hand (mc version enable <alias>/<bucket>) and check the server supports versioning`, { buckets: bad.join(', ') });
      }
      return msg('Versioning Enabled on {0}', f.buckets.join(', '));
    },
  });

  if (f.backends.length) {
    steps.push({
      id: 'states',
      title: msg('Upload a local state where a bucket holds no state at all'),
      destructive: false,
      cancel: 'between-steps',
      commands: f.backends.map((b) => {
        const local = f.localStates.find((l) => l.environment === b.environment);
        return local
          ? `PUT ${f.endpoint}/${b.bucket}/${b.key} < ${local.file}   # only if ${b.key} has no version yet (serial ${local.serial})`
          : `# ${b.bucket}/${b.key}: no local state to upload; an empty bucket stays empty`;
      }),
      effect: msg('A first version in an empty bucket; existing versions are never overwritten'),
      async run(ctx) {
        const done: string[] = [];
        for (const b of f.backends) {
          const env = envByName.get(b.environment);
          const store = env ? deps.store(env) : undefined;
          if (!store) {
            done.push(`${b.environment}: not checked (no credentials)`);
            continue;
          }
          const versions = await store.listVersions(ctx.signal);
          if (versions.length > 0) {
            done.push(`${b.environment}: ${versions.length} version(s) kept`);
            continue;
          }
          const local = f.localStates.find((l) => l.environment === b.environment);
          if (!local) {
            done.push(`${b.environment}: empty, no local state`);
            ctx.log.warn(`${b.bucket}/${b.key} is empty and there is no local state for ${b.environment}: restore-tfstate --fallback cannot help either; rebuild the state by importing`);
            continue;
          }
          const body = await fs.readFile(local.file);
          if (!parseState(body).ok) throw new LifeboatError('invalidState', `${local.file} is no longer a valid state; nothing was uploaded for ${b.environment}`, { file: local.file });
          const id = await store.write(body, ctx.signal);
          ctx.facts.set(`uploaded.${b.environment}`, `${local.file} → ${b.bucket}/${b.key}${id ? ` (${id})` : ''}`);
          done.push(`${b.environment}: uploaded ${path.basename(local.file)} (serial ${local.serial})`);
        }
        ctx.facts.set('states', done.join('; '));
        return msg('States: {0}', done.join('; '));
      },
    });

    steps.push({
      id: 'init',
      title: msg('terraform init -reconfigure in every environment on this MinIO: {0}', f.backends.map((b) => b.environment).join(', ')),
      destructive: false,
      cancel: 'between-steps',
      commands: f.backends.map((b) => `cd ${b.dir} && ${terraformLine(TF_INIT_RECONFIGURE)}`),
      async run(ctx) {
        const results: string[] = [];
        const failed: string[] = [];
        for (const b of f.backends) {
          if (ctx.signal.aborted) throw new CancelledError();
          try {
            await runTerraform(deps.terraform, TF_INIT_RECONFIGURE, b.dir, deps.terraformEnv, ctx);
            results.push(`${b.environment}: ok`);
          } catch (err) {
            if (CancelledError.is(err)) throw err;
            const text = err instanceof Error ? err.message : String(err);
            results.push(`${b.environment}: FAILED (${text})`);
            failed.push(b.environment);
          }
        }
        ctx.facts.set('init', results.join('; '));
        if (failed.length) throw new LifeboatError('remoteCommandFailed', `terraform init failed in ${failed.join(', ')}: ${results.join('; ')}`, { environments: failed.join(', ') });
        return msg('terraform init: {0}', results.join('; '));
      },
    });
  }

  const warnings: Message[] = [];
  for (const l of f.localStates) warnings.push(msg('If bucket of {0} holds no state at all, {1} ({2}, serial {3}) is uploaded as its first version', l.environment, l.file, l.source, l.serial));
  const local = deps.environments.filter((e) => e.backend.type === 'local');
  for (const e of local) warnings.push(msg('{0} uses a local backend: it is not re-initialised', e.name));
  return {
    id: `rebuild-minio-${Date.now().toString(36)}`,
    kind: 'rebuild-minio',
    title: msg('Rebuild MinIO'),
    summary: [
      { label: msg('Environment'), value: `${f.environment} (${f.dir})` },
      { label: msg('MinIO'), value: f.endpoint },
      { label: msg('Buckets'), value: f.buckets.join(', ') },
      { label: msg('Terraform'), value: f.terraformVersion },
    ],
    warnings,
    destroys: [],
    steps,
    nextSteps: [
      msg('Run lifeboat verify-backups to check every state version'),
      msg('Run terraform plan in each environment: it should say No changes'),
    ],
  };
}

/**
 * MinIO's liveness endpoint with retries and exponential backoff. Another S3 server (Ceph radosgw…)
 * answers that path with an S3 error: it is up, and is reported as such, not as MinIO.
 */
export async function waitForS3(probe: NetworkProbe, endpoint: string, timing: MinioRebuildTiming, sleep: Sleep, ctx: Pick<StepContext, 'signal' | 'report' | 'log'>): Promise<{ result: HealthResult; attempts: number; minioEndpoint: boolean }> {
  let delay = timing.firstDelayMs;
  let last: HealthResult | undefined;
  for (let attempt = 1; attempt <= timing.attempts; attempt++) {
    if (ctx.signal.aborted) throw new CancelledError();
    last = await checkMinio(probe, endpoint, 3000, ctx.signal);
    ctx.log.info(`  health ${attempt}/${timing.attempts}: ${last.observed}`);
    ctx.report({ fraction: attempt / timing.attempts, message: `${attempt}/${timing.attempts}: ${last.observed}` });
    if (last.healthy) return { result: last, attempts: attempt, minioEndpoint: true };
    if (/^HTTP [1-4]\d\d$/.test(last.observed)) return { result: { ...last, healthy: true }, attempts: attempt, minioEndpoint: false };
    if (attempt < timing.attempts) {
      await sleep(delay, ctx.signal);
      delay = Math.min(delay * 2, timing.maxDelayMs);
    }
  }
  return { result: last!, attempts: timing.attempts, minioEndpoint: false };
}

/** What a failed or cancelled MinIO rebuild leaves behind. */
export function minioAftermath(f: MinioRebuildFacts, facts: ReadonlyMap<string, string>): Message[] {
  const out: Message[] = [];
  if (facts.get('apply')) out.push(msg('terraform apply ran: the MinIO container exists and was started ({0}); running rebuild-minio again is safe', facts.get('apply')!));
  if (facts.get('bucketsCreated')) out.push(msg('Buckets created: {0}', facts.get('bucketsCreated')!));
  for (const [k, v] of facts) if (k.startsWith('uploaded.')) out.push(msg('State uploaded: {0}', v));
  if (facts.get('init')) out.push(msg('terraform init: {0}', facts.get('init')!));
  if (out.length === 0) out.push(msg('Nothing was changed.'));
  void f;
  return out;
}
