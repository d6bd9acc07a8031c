/**
 * `lifeboat rebuild-minio [--dry-run] [--force] [--json]` and
 * `lifeboat rebuild-monitoring --mode restore|rebuild [--dry-run] [--force] [--json]`: plan, show the
 * exact commands, ask (default no; --force answers yes), run with progress, report. Exit 0 success,
 * 1 failure, 2 usage error.
 */
import {
  declaredGuests, CancelledError, errorArg, LifeboatError, loadInventory, minioAftermath, minioHostNode, monitoringAftermath, msg, planMinioRebuild, planMonitoringRebuild, s3Credentials, stateLocation, terraformEnvironment,
  type EnvironmentConfig, type Inventory, type Message, type StateStore,
} from '../../core';
import { errorText, render } from '../../shared/reportText';
import { confirm } from '../prompt';
import { sleep } from '../../adapters/net/probe';
import { createMinioStateStore } from '../../adapters/s3/minioStore';
import { createMinioBucketAdmin } from '../../adapters/s3/bucketAdmin';
import { createTerraformRunner } from '../../adapters/terraform/execaRunner';
import type { CliIo } from './environments';
import { t } from '../l10n';
import { ExitCode } from '../output';
import { confirmAndRun } from '../planRunner';
import { openRuntime, type CliRuntime } from '../runtime';
import { describeError } from '../errors';

export interface RebuildOptions {
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly root?: string;
  readonly verbose?: boolean;
}

export interface RebuildMonitoringOptions extends RebuildOptions {
  readonly mode?: string;
}

export async function rebuildMinioCommand(o: RebuildOptions, io: CliIo): Promise<number> {
  return withRuntime(o, io, async (rt) => {
    const envs = rt.discovery.environments;
    const credentials = s3Credentials(envs, io.env);
    if (!credentials) {
      throw new LifeboatError('invalidValue', 'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or MINIO_ROOT_PASSWORD for the minio block', { field: 'credentials', value: '', expected: 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment' });
    }
    const monitoring = envs.find((e) => e.minio);
    const nodes = await readNodes(rt, io);
    const endpoint = monitoring?.minio?.ip ? `http://${monitoring.minio.ip}:${monitoring.minio.port}` : '';
    const labOnly = io.env.LIFEBOAT_LAB === '1';
    const stores = new Map<string, StateStore>();
    const { plan, facts } = await planMinioRebuild({
      environments: envs,
      root: rt.discovery.root,
      terraform: createTerraformRunner(),
      terraformEnv: terraformEnvironment(io.env, credentials),
      probe: rt.probe,
      sleep,
      log: rt.log,
      admin: lazyAdmin(() => createMinioBucketAdmin({ endpoint, credentials, labOnly, timeoutMs: 10_000 })),
      store: (env: EnvironmentConfig) => {
        if (!stores.has(env.name)) stores.set(env.name, createMinioStateStore({ location: stateLocation(env), credentials, labOnly, timeoutMs: 10_000 }));
        return stores.get(env.name);
      },
      hostNode: minioHostNode(envs, nodes.inventory, nodes.why),
      // Its own question, after the plan's: accepting the rebuild is not accepting an upload.
      offerUpload: async (offer) => {
        io.err(render(offer.why, t));
        // The terminal prompt shows the question; with --force it is printed for the record.
        if (o.force) io.err(render(offer.question, t));
        const yes = await confirm(render(offer.question, t), { force: Boolean(o.force), interactive: Boolean(process.stdin.isTTY) && io.env.CI !== 'true' });
        io.err(yes ? (o.force ? t('Uploading: --force answers yes.') : t('Uploading: answered yes.')) : t('Not uploaded: the bucket stays empty. Upload later with lifeboat rebuild-minio, or restore a state with lifeboat restore-tfstate.'));
        return yes;
      },
      timing: healthTiming(io.env),
    });
    return confirmAndRun({ plan, facts, question: t('Rebuild MinIO now? (An upload of a local state is asked separately.)'), aftermath: (stepFacts) => minioAftermath(facts, stepFacts) }, o, io, rt);
  });
}

export async function rebuildMonitoringCommand(o: RebuildMonitoringOptions, io: CliIo): Promise<number> {
  return withRuntime(o, io, async (rt) => {
    const mode = o.mode === 'restore' || o.mode === 'rebuild' ? o.mode : undefined;
    if (!mode) throw new LifeboatError('invalidValue', `--mode ${o.mode ?? ''}`, { field: '--mode', value: o.mode ?? '', expected: 'restore or rebuild' });
    const envs = rt.discovery.environments;
    const credentials = s3Credentials(envs, io.env);
    const inventory = mode === 'restore' ? await loadInventory({ nodes: rt.nodes, pool: rt.pool, log: rt.log, signal: rt.signal }) : undefined;
    const poll = Number(io.env.LIFEBOAT_POLL_MS);
    const { plan, facts } = await planMonitoringRebuild(mode, {
      environments: envs,
      terraform: createTerraformRunner(),
      terraformEnv: terraformEnvironment(io.env, credentials),
      probe: rt.probe,
      sleep,
      log: rt.log,
      health: Number.isFinite(poll) && poll > 0 ? { delayMs: poll * 5 } : {},
      guestRestore: inventory ? {
        inventory,
        shell: (node) => rt.pool.shell(rt.nodes.find((n) => n.name === node) ?? { name: node, host: node }),
        probe: rt.probe, sleep, log: rt.log,
        declared: envs.flatMap(declaredGuests),
        activeRestores: new Set(),
        timing: Number.isFinite(poll) && poll > 0 ? { pollMs: poll } : {},
      } : undefined,
    });
    const question = mode === 'restore' ? t('Overwrite the monitoring VM with its newest backup? This cannot be undone except from the safety point.') : t('Rebuild the monitoring stack? Its metrics history will be lost.');
    return confirmAndRun({ plan, facts, question, aftermath: (stepFacts) => monitoringAftermath(facts, stepFacts) }, o, io, rt);
  });
}

async function withRuntime(o: RebuildOptions, io: CliIo, work: (rt: CliRuntime) => Promise<number>): Promise<number> {
  const rt = await openRuntime(io, { root: o.root, json: Boolean(o.json), verbose: o.verbose });
  try {
    return await work(rt);
  } catch (err) {
    if (LifeboatError.is(err, 'invalidValue')) {
      if (o.json) io.out(JSON.stringify({ status: 'failed', error: { reason: err.reason, message: err.message }, changed: false }, null, 2));
      io.err(describeError(err));
      return ExitCode.usage;
    }
    if (o.json) io.out(JSON.stringify({ status: 'failed', error: { reason: LifeboatError.is(err) ? err.reason : 'internal', message: err instanceof Error ? err.message : String(err) }, changed: false }, null, 2));
    io.err(describeError(err));
    io.err(t('Nothing was changed.'));
    return ExitCode.failure;
  } finally {
    rt.dispose();
  }
}

/** A fresh read of the nodes for the pre-check, or why there is none (the plan then says "not checked"). */
async function readNodes(rt: CliRuntime, io: CliIo): Promise<{ inventory: Inventory | undefined; why?: Message }> {
  if (rt.nodes.length === 0) return { inventory: undefined, why: msg('The node that hosts MinIO was not checked: no Proxmox node is configured in the repository (proxmox_endpoint, monitoring.proxmox_nodes). If it is down, terraform apply will fail') };
  try {
    const inventory = await loadInventory({ nodes: rt.nodes, pool: rt.pool, log: rt.log, signal: rt.signal });
    for (const n of inventory.nodes.filter((x) => !x.reachable)) io.err(t('Node {0} could not be read: {1}', n.node, n.error ? errorText(n.error, t) : ''));
    return { inventory };
  } catch (err) {
    if (CancelledError.is(err)) throw err;
    return { inventory: undefined, why: msg('The node that hosts MinIO was not checked: the nodes could not be read ({0}). If it is down, terraform apply will fail', errorArg(err)) };
  }
}

/** The admin client is made when a step first needs it (a missing endpoint fails the plan, not the parse). */
function lazyAdmin(make: () => ReturnType<typeof createMinioBucketAdmin>): ReturnType<typeof createMinioBucketAdmin> {
  let admin: ReturnType<typeof createMinioBucketAdmin> | undefined;
  const get = () => (admin ??= make());
  return {
    get endpoint() { return get().endpoint; },
    exists: (b, s) => get().exists(b, s),
    create: (b, s) => get().create(b, s),
    versioning: (b, s) => get().versioning(b, s),
    enableVersioning: (b, s) => get().enableVersioning(b, s),
  };
}

/** The lab scales time down; LIFEBOAT_HEALTH_ATTEMPTS bounds the wait (tests of a MinIO that never comes up). */
function healthTiming(env: NodeJS.ProcessEnv) {
  const poll = Number(env.LIFEBOAT_POLL_MS);
  const attempts = Number(env.LIFEBOAT_HEALTH_ATTEMPTS);
  return {
    ...(Number.isFinite(poll) && poll > 0 ? { firstDelayMs: poll, maxDelayMs: poll * 8 } : {}),
    ...(Number.isFinite(attempts) && attempts > 0 ? { attempts } : {}),
  };
}
