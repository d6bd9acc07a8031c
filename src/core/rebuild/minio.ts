/**
 * Rebuild MinIO (the operator's user story "rebuild MinIO from scratch", runbook step 1):
 * `terraform apply -target=module.minio` in the monitoring environment, wait for MinIO to answer,
 * create missing buckets and enable versioning, READ VERSIONING BACK and fail if it is not Enabled,
 * offer to upload a local state into a bucket whose state object has no version at all (a separate
 * question, default no; never over existing versions), then `terraform init -reconfigure` in every
 * environment whose backend is this MinIO. `planMinioRebuild` only reads; `runPlan` executes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CancelledError, LifeboatError } from '../errors';
import { checkMinio, type HealthResult } from '../health/health';
import type { Inventory } from '../inventory/model';
import type { EnvironmentConfig } from '../model/environment';
import type { LogSink, NetworkProbe, Sleep, StateStore, TerraformRunner } from '../ports';
import { msg, type Message } from '../procedure/message';
import type { Plan, Step, StepContext } from '../procedure/types';
import { formatTime } from '../restore/guestRestore';
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

/**
 * The node that hosts MinIO, as a fresh read of the nodes found it — or why it could not be
 * checked (then the plan says "not checked" instead of passing silently).
 */
export type MinioHostNode =
  | { readonly checked: true; readonly node: string; readonly reachable: boolean; readonly error?: string }
  | { readonly checked: false; readonly node: string | undefined; readonly why: Message };

/** A local state Lifeboat could upload into an empty bucket. */
export interface LocalStateCandidate {
  readonly file: string;
  readonly source: 'terraform.tfstate' | 'safety copy';
  readonly serial: number;
  readonly lineage: string;
  /** The file's modification time (ISO). */
  readonly modified: string;
}

/** The upload Lifeboat offers for one environment if its bucket turns out to hold no state at all. */
export interface UploadOffer {
  readonly environment: string;
  readonly bucket: string;
  readonly key: string;
  readonly chosen: LocalStateCandidate;
  /** Which local state was chosen, and why (highest serial of the matching lineage). */
  readonly why: Message;
  /** The question: upload it as the first version? */
  readonly question: Message;
}

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
  /** The node that hosts MinIO (`minioHostNode`); undefined = not checked, for no stated reason. */
  readonly hostNode?: MinioHostNode;
  /**
   * Asked, while the plan runs, when a bucket turns out to hold no state at all and a local state
   * exists: upload it as the first version? Only then is the answer knowable (MinIO is usually down
   * while planning). Undefined = never upload. Surfaces default to no; the CLI's --force says yes.
   */
  readonly offerUpload?: (offer: UploadOffer, signal: AbortSignal) => Promise<boolean>;
  readonly timing?: Partial<MinioRebuildTiming>;
}

export interface MinioRebuildFacts {
  readonly environment: string;
  readonly dir: string;
  readonly endpoint: string;
  readonly buckets: readonly string[];
  /** Environments whose backend is this MinIO: terraform init -reconfigure in each. */
  readonly backends: readonly { readonly environment: string; readonly dir: string; readonly bucket: string; readonly key: string }[];
  /** S3 backends that are not on this MinIO: not re-initialised (each one is a plan warning). */
  readonly otherBackends: readonly { readonly environment: string; readonly endpoint: string; readonly bucket: string }[];
  /** Uploads offered (if the bucket is empty), found when planning. */
  readonly uploadOffers: readonly UploadOffer[];
  readonly hostNode: MinioHostNode;
  readonly terraformVersion: string;
}

/**
 * Where MinIO runs: the node of the guest named `minio` in a fresh inventory, else the monitoring
 * environment's `default_node`. `inventory` undefined: the nodes were not read (`whyNotRead` says why).
 */
export function minioHostNode(environments: readonly EnvironmentConfig[], inventory: Inventory | undefined, whyNotRead?: Message): MinioHostNode {
  const monitoring = environments.find((e) => e.minio);
  const node = inventory?.guests.find((g) => g.name === 'minio')?.node ?? monitoring?.defaultNode;
  if (!inventory) return { checked: false, node, why: whyNotRead ?? msg('The node that hosts MinIO was not checked: the nodes were not read. If it is down, terraform apply will fail') };
  if (!node) return { checked: false, node, why: msg('The node that hosts MinIO was not checked: no guest named minio on the nodes and no default_node in the monitoring environment. If it is down, terraform apply will fail') };
  const read = inventory.nodes.find((n) => n.node === node);
  if (!read) return { checked: false, node, why: msg('The node that hosts MinIO was not checked: {0} is not among the nodes Lifeboat reads. If it is down, terraform apply will fail', node) };
  return { checked: true, node, reachable: read.reachable, error: read.error?.message };
}

export async function planMinioRebuild(deps: MinioRebuildDeps): Promise<{ plan: Plan; facts: MinioRebuildFacts }> {
  const monitoring = deps.environments.find((e) => e.minio && e.modules.includes('minio')) ?? deps.environments.find((e) => e.minio);
  if (!monitoring?.minio) {
    throw new LifeboatError('invalidValue', 'no environment declares a minio block in terraform.tfvars', { field: 'minio', value: '', expected: 'minio = { ip, port, buckets = [...] } in the monitoring environment' });
  }
  if (!monitoring.modules.includes('minio')) {
    throw new LifeboatError('invalidValue', `environment ${monitoring.name} declares minio but no module "minio" in its *.tf files: terraform apply -target=module.minio has nothing to apply`, { field: 'module', value: 'minio', expected: `module "minio" in ${monitoring.dir}` });
  }
  const minio = monitoring.minio;
  if (!minio.ip) {
    throw new LifeboatError('invalidValue', `the minio block of ${monitoring.name} has no ip`, { field: 'minio.ip', value: '', expected: 'ip = "<address>"' });
  }
  const host = deps.hostNode ?? minioHostNode(deps.environments, undefined);
  if (host.checked && !host.reachable) {
    throw LifeboatError.saying('hostUnreachable', msg('Node {0}, which hosts MinIO, could not be reached ({1}): nothing was changed. Bring the node back first', host.node, host.error ?? '?'), { node: host.node });
  }
  const version = await deps.terraform.run(['version'], { cwd: monitoring.dir, env: deps.terraformEnv });
  if (version.code !== 0) {
    throw LifeboatError.saying('remoteCommandFailed', msg('terraform is not available here ({0}): install it or put it on PATH', errorSummary(version.stderr || version.stdout) || `exit ${version.code ?? 'none'}`), { command: 'terraform version' });
  }
  const endpoint = `http://${minio.ip}:${minio.port}`;
  // A backend is on this MinIO when its endpoint is MinIO's address (the scheme's default port
  // counts), or — for a DNS name or a proxy in front — when its bucket is one MinIO declares.
  const sameEndpoint = (url: string | undefined) => {
    try {
      const u = new URL(url ?? '');
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      return u.hostname.replace(/^\[|\]$/g, '') === minio.ip && port === minio.port;
    } catch {
      return false;
    }
  };
  const backends: MinioRebuildFacts['backends'][number][] = [];
  const otherBackends: MinioRebuildFacts['otherBackends'][number][] = [];
  for (const e of deps.environments) {
    if (e.backend.type !== 's3') continue;
    if (e.backend.bucket && (sameEndpoint(e.backend.endpoint) || minio.buckets.includes(e.backend.bucket))) {
      backends.push({ environment: e.name, dir: e.dir, bucket: e.backend.bucket, key: e.backend.key });
    } else {
      otherBackends.push({ environment: e.name, endpoint: e.backend.endpoint ?? '?', bucket: e.backend.bucket ?? '?' });
    }
  }
  const buckets = [...new Set([...minio.buckets, ...backends.map((b) => b.bucket)])];
  const uploadOffers: UploadOffer[] = [];
  for (const b of backends) {
    const offer = await uploadOffer(b, deps.root);
    if (offer) uploadOffers.push(offer);
  }
  const facts: MinioRebuildFacts = {
    environment: monitoring.name, dir: monitoring.dir, endpoint, buckets, backends, otherBackends, uploadOffers, hostNode: host,
    terraformVersion: version.stdout.split('\n')[0]?.trim() ?? '',
  };
  return { plan: buildPlan(facts, deps), facts };
}

/**
 * The local state to offer for one environment: its `terraform.tfstate` and its newest verified
 * Lifeboat safety copy, when valid. The highest serial of the lineage that was in the bucket wins;
 * a safety copy was taken from the bucket, so its lineage is that one — a `terraform.tfstate` of
 * another lineage is another state (an old local one) and is never offered over it.
 */
export async function uploadOffer(b: { readonly environment: string; readonly dir: string; readonly bucket: string; readonly key: string }, root: string): Promise<UploadOffer | undefined> {
  const candidates: LocalStateCandidate[] = [];
  const localFile = path.join(b.dir, 'terraform.tfstate');
  const body = await fs.readFile(localFile).catch(() => undefined);
  const parsed = body ? parseState(body) : undefined;
  if (parsed?.ok) candidates.push({ file: localFile, source: 'terraform.tfstate', serial: parsed.state.serial, lineage: parsed.state.lineage, modified: await modifiedAt(localFile) });
  const copy = await newestSafetyCopy(root, b.environment);
  if (copy) candidates.push({ file: copy.path, source: 'safety copy', serial: copy.serial, lineage: copy.lineage, modified: await modifiedAt(copy.path) });
  const [local, safety] = [candidates.find((c) => c.source === 'terraform.tfstate'), candidates.find((c) => c.source === 'safety copy')];
  let chosen: LocalStateCandidate;
  let why: Message;
  if (local && safety) {
    if (local.lineage !== safety.lineage) {
      chosen = safety;
      why = msg('{0}: the Lifeboat safety copy {1} (serial {2}) is offered: {3} has another lineage ({4}, not {5}), so it is not the state that was in this bucket', b.environment, safety.file, safety.serial, local.file, local.lineage, safety.lineage);
    } else {
      // Same lineage: the higher serial is the later state; on a tie the newer file.
      chosen = local.serial > safety.serial || (local.serial === safety.serial && local.modified >= safety.modified) ? local : safety;
      const other = chosen === local ? safety : local;
      why = msg('{0}: {1} is offered: the highest serial ({2}) of lineage {3}; {4} has serial {5}', b.environment, chosen.file, chosen.serial, chosen.lineage, other.file, other.serial);
    }
  } else if (local ?? safety) {
    chosen = (local ?? safety)!;
    why = msg('{0}: {1} is the only valid local state (serial {2}, lineage {3})', b.environment, chosen.file, chosen.serial, chosen.lineage);
  } else {
    return undefined;
  }
  const question = msg('Bucket {0} holds no state for {1}. Upload {2} (serial {3}, lineage {4}, modified {5}) as its first version?', b.bucket, b.environment, chosen.file, chosen.serial, chosen.lineage, formatTime(Date.parse(chosen.modified) / 1000));
  return { environment: b.environment, bucket: b.bucket, key: b.key, chosen, why, question };
}

async function modifiedAt(file: string): Promise<string> {
  return (await fs.stat(file)).mtime.toISOString();
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
    commands: [`GET ${f.endpoint}/minio/health/live   # up to ${timing.attempts} tries, backoff ${timing.firstDelayMs} ms → ${timing.maxDelayMs} ms; MinIO's 200 or an S3 XML error`],
    async run(ctx) {
      const r = await waitForS3(deps.probe, f.endpoint, timing, deps.sleep, ctx);
      ctx.facts.set('health', `${r.result.observed} after ${r.attempts} attempt(s)`);
      if (!r.up) {
        throw LifeboatError.saying('storeUnreachable', /^HTTP /.test(r.result.observed)
          ? msg('Something answers at {0}, but not as S3 (last answer {1}, not an S3 reply, after {2} attempts): another server on that address and port? Check the minio block\'s ip and port, and the container on its node', r.result.url, r.result.observed, r.attempts)
          : msg('MinIO did not come up at {0}: last answer {1} after {2} attempts. Check the container on its node (pct status, pct start) and its logs', r.result.url, r.result.observed, r.attempts), { endpoint: f.endpoint });
      }
      return r.result.healthy
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
        throw LifeboatError.saying('versioningDisabled', msg('VERSIONING IS NOT ENABLED on {0} after enabling it: a state written there could not be rolled back. Enable it by hand (mc version enable <alias>/<bucket>) and check the server supports versioning', bad.join(', ')), { buckets: bad.join(', ') });
      }
      return msg('Versioning Enabled on {0}', f.buckets.join(', '));
    },
  });

  if (f.backends.length) {
    steps.push({
      id: 'states',
      title: msg('Where a bucket holds no state at all, offer to upload a local state (asked separately, default no)'),
      destructive: false,
      cancel: 'between-steps',
      commands: f.backends.map((b) => {
        const offer = f.uploadOffers.find((o) => o.environment === b.environment);
        return offer
          ? `PUT ${f.endpoint}/${b.bucket}/${b.key} < ${offer.chosen.file}   # only if ${b.key} has no version yet AND you say yes when asked (serial ${offer.chosen.serial}, lineage ${offer.chosen.lineage})`
          : `# ${b.bucket}/${b.key}: no local state to upload; an empty bucket stays empty`;
      }),
      effect: msg('A first version in an empty bucket, only if you accept; existing versions are never overwritten'),
      async run(ctx) {
        const outcome = { uploaded: [] as string[], kept: [] as string[], empty: [] as string[], declined: [] as string[], unchecked: [] as string[] };
        const record: string[] = [];
        for (const b of f.backends) {
          if (ctx.signal.aborted) throw new CancelledError();
          const env = envByName.get(b.environment);
          const store = env ? deps.store(env) : undefined;
          if (!store) {
            outcome.unchecked.push(b.environment);
            record.push(`${b.environment}: not checked (no credentials)`);
            continue;
          }
          const versions = await store.listVersions(ctx.signal);
          if (versions.length > 0) {
            outcome.kept.push(`${b.environment} (${versions.length})`);
            record.push(`${b.environment}: ${versions.length} version(s) kept`);
            continue;
          }
          const offer = f.uploadOffers.find((o) => o.environment === b.environment);
          if (!offer) {
            outcome.empty.push(b.environment);
            record.push(`${b.environment}: empty, no local state`);
            ctx.log.warn(`${b.bucket}/${b.key} is empty and there is no local state for ${b.environment}: restore-tfstate --fallback cannot help either; rebuild the state by importing`);
            continue;
          }
          ctx.log.info(`${b.bucket}/${b.key} holds no state; offering ${offer.chosen.file} (serial ${offer.chosen.serial}, lineage ${offer.chosen.lineage})`);
          if (!(await (deps.offerUpload?.(offer, ctx.signal) ?? Promise.resolve(false)))) {
            outcome.declined.push(b.environment);
            record.push(`${b.environment}: empty, upload declined`);
            continue;
          }
          // The file must still be the state that was offered (it could have changed since planning).
          const body = await fs.readFile(offer.chosen.file);
          const now = parseState(body);
          if (!now.ok || now.state.serial !== offer.chosen.serial || now.state.lineage !== offer.chosen.lineage) {
            throw LifeboatError.saying('invalidState', msg('{0} changed since the plan (or is no longer a valid state): nothing was uploaded for {1}. Run rebuild-minio again to see what it holds now', offer.chosen.file, b.environment), { file: offer.chosen.file });
          }
          const id = await store.write(body, ctx.signal);
          const back = await store.read(undefined, ctx.signal);
          if (!back.equals(body)) {
            throw LifeboatError.saying('invalidState', msg('The state uploaded to {0}/{1} does not read back the same: check the bucket with lifeboat verify-backups --env {2}', b.bucket, b.key, b.environment), { bucket: b.bucket });
          }
          ctx.facts.set(`uploaded.${b.environment}`, `${offer.chosen.file} → ${b.bucket}/${b.key}${id ? ` (${id})` : ''}`);
          outcome.uploaded.push(b.environment);
          record.push(`${b.environment}: uploaded ${path.basename(offer.chosen.file)} (serial ${offer.chosen.serial})`);
        }
        ctx.facts.set('states', record.join('; '));
        const list = (xs: string[]) => xs.join(', ') || '—';
        return msg('States — uploaded: {0}; existing versions kept: {1}; empty, upload declined: {2}; empty, no local state: {3}; not checked (no credentials): {4}', list(outcome.uploaded), list(outcome.kept), list(outcome.declined), list(outcome.empty), list(outcome.unchecked));
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
        const ok: string[] = [];
        const failed: string[] = [];
        const why: string[] = [];
        for (const b of f.backends) {
          if (ctx.signal.aborted) throw new CancelledError();
          try {
            await runTerraform(deps.terraform, TF_INIT_RECONFIGURE, b.dir, deps.terraformEnv, ctx);
            results.push(`${b.environment}: ok`);
            ok.push(b.environment);
          } catch (err) {
            if (CancelledError.is(err)) throw err;
            const text = err instanceof Error ? err.message : String(err);
            results.push(`${b.environment}: FAILED (${text})`);
            failed.push(b.environment);
            why.push(`${b.environment}: ${text}`);
          }
        }
        ctx.facts.set('init', results.join('; '));
        ctx.facts.set('initOk', ok.join(', '));
        ctx.facts.set('initFailed', failed.join(', '));
        if (failed.length) {
          throw LifeboatError.saying('remoteCommandFailed', msg('terraform init -reconfigure FAILED in {0} (it succeeded in {1}): {2}', failed.join(', '), ok.join(', ') || '—', why.join('; ')), { environments: failed.join(', ') });
        }
        return msg('terraform init -reconfigure succeeded in {0}', ok.join(', '));
      },
    });
  }

  const warnings: Message[] = [];
  if (!f.hostNode.checked) warnings.push(f.hostNode.why);
  for (const o of f.uploadOffers) {
    warnings.push(msg('If bucket {0} holds no state at all, you will be asked whether to upload {1} (serial {2}, lineage {3}) as its first version; the answer is no unless you say yes', o.bucket, o.chosen.file, o.chosen.serial, o.chosen.lineage));
    warnings.push(o.why);
  }
  for (const o of f.otherBackends) warnings.push(msg('{0} has its S3 backend elsewhere ({1}, bucket {2}): it is not re-initialised. If it is this MinIO under another name, add the bucket to minio.buckets, or run terraform init -reconfigure there yourself', o.environment, o.endpoint, o.bucket));
  for (const e of deps.environments.filter((x) => x.backend.type === 'local')) warnings.push(msg('{0} uses a local backend: it is not re-initialised', e.name));
  const node = f.hostNode;
  return {
    id: `rebuild-minio-${Date.now().toString(36)}`,
    kind: 'rebuild-minio',
    title: msg('Rebuild MinIO'),
    summary: [
      { label: msg('Environment'), value: `${f.environment} (${f.dir})` },
      { label: msg('MinIO'), value: f.endpoint },
      node.checked ? { label: msg('Node'), value: node.node } : { label: msg('Node (NOT CHECKED)'), value: node.node ?? '?' },
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
 * answers that path with an S3 XML error: it is up, and is reported as such, not as MinIO. Any other
 * answer (a web server's 404, a login page) is not S3 and does not count.
 */
export async function waitForS3(probe: NetworkProbe, endpoint: string, timing: MinioRebuildTiming, sleep: Sleep, ctx: Pick<StepContext, 'signal' | 'report' | 'log'>): Promise<{ result: HealthResult; attempts: number; up: boolean }> {
  let delay = timing.firstDelayMs;
  let last: HealthResult | undefined;
  for (let attempt = 1; attempt <= timing.attempts; attempt++) {
    if (ctx.signal.aborted) throw new CancelledError();
    last = await checkMinio(probe, endpoint, 3000, ctx.signal);
    ctx.log.info(`  health ${attempt}/${timing.attempts}: ${last.observed}${last.healthy ? '' : last.s3 ? ' (S3 error reply: S3 is up)' : /^HTTP /.test(last.observed) ? ' (not an S3 reply)' : ''}`);
    ctx.report({ fraction: attempt / timing.attempts, message: msg('try {0} of {1}: {2}', attempt, timing.attempts, last.observed) });
    if (last.healthy || last.s3) return { result: last, attempts: attempt, up: true };
    if (attempt < timing.attempts) {
      await sleep(delay, ctx.signal);
      delay = Math.min(delay * 2, timing.maxDelayMs);
    }
  }
  return { result: last!, attempts: timing.attempts, up: false };
}

/** What a failed or cancelled MinIO rebuild leaves behind. */
export function minioAftermath(f: MinioRebuildFacts, facts: ReadonlyMap<string, string>): Message[] {
  const out: Message[] = [];
  if (facts.get('apply')) out.push(msg('terraform apply ran: the MinIO container exists and was started ({0}); running rebuild-minio again is safe', facts.get('apply')!));
  if (facts.get('bucketsCreated')) out.push(msg('Buckets created: {0}', facts.get('bucketsCreated')!));
  for (const [k, v] of facts) if (k.startsWith('uploaded.')) out.push(msg('State uploaded: {0}', v));
  if (facts.get('initOk')) out.push(msg('terraform init -reconfigure succeeded in {0}', facts.get('initOk')!));
  if (facts.get('initFailed')) out.push(msg('terraform init -reconfigure FAILED in {0}: run it there again once the cause is fixed', facts.get('initFailed')!));
  if (out.length === 0) out.push(msg('Nothing was changed.'));
  void f;
  return out;
}
