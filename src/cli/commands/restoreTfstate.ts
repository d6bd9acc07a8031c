/**
 * `lifeboat restore-tfstate --env E (--list [--nodes] | --show ID | --diff A [B] | --restore ID |
 *  --fallback | --return) [--dry-run] [--force] [--json]` — the interface of the operator's
 * restore-tfstate.sh. Exit codes: 0 success, 1 failure or refusal, 2 usage error.
 */
import {
  declaredGuests, compareGuestsWithInventory, compareWithInventory, diffLine, diffStates, fallbackAftermath, findVersion, importGuide, LifeboatError, listStateVersions,
  loadInventory, parseState, planFallback, planReturn, planStateRestore, readTerraformLayout, resourceCount, returnAftermath, returnLocation,
  s3Credentials, stateLocation, stateRestoreAftermath, stateText, type EnvironmentConfig, type InventoryComparison, type Message,
  type RunReport, type S3Credentials, type StateDeps, type StateDiff, type StateLocation, type StateStore, type StateVersion, type Inventory,
} from '../../core';
import { createMinioStateStore, stateStoreForEnvironment } from '../../adapters/s3/minioStore';
import { createTerraformRunner } from '../../adapters/terraform/execaRunner';
import { render } from '../../shared/reportText';
import type { CliIo } from './environments';
import { t } from '../l10n';
import { ExitCode } from '../output';
import { confirmAndRun, type PlanRunSpec } from '../planRunner';
import { openRuntime, type CliRuntime } from '../runtime';
import { describeError } from '../errors';

export interface RestoreTfstateOptions {
  readonly env?: string;
  readonly list?: boolean;
  /** With --list: compare each version with the guests on the nodes (reads the nodes over SSH). */
  readonly nodes?: boolean;
  readonly show?: string;
  readonly diff?: string[];
  readonly restore?: string;
  readonly fallback?: boolean;
  readonly return?: boolean;
  readonly preferLocal?: boolean;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly root?: string;
  readonly verbose?: boolean;
}

/** Metadata is read for this many of the newest versions in a listing (each is one GET). */
const LIST_META = 200;

/** Returns a usage message when the options do not make one valid command, else undefined. */
export function usageProblem(o: RestoreTfstateOptions): string | undefined {
  if (!o.env) return t('--env is required');
  const modes = [o.list, o.show !== undefined, o.diff !== undefined, o.restore !== undefined, o.fallback, o.return].filter(Boolean).length;
  if (modes !== 1) return t('choose exactly one of --list, --show, --diff, --restore, --fallback, --return');
  if (o.diff && (o.diff.length < 1 || o.diff.length > 2)) return t('--diff takes one or two versions');
  if (o.preferLocal && !o.return) return t('--prefer-local goes with --return');
  if (o.nodes && !o.list) return t('--nodes goes with --list');
  return undefined;
}

export async function restoreTfstateCommand(o: RestoreTfstateOptions, io: CliIo, usage: () => void): Promise<number> {
  const problem = usageProblem(o);
  if (problem) {
    io.err(t('error: {0}', problem));
    usage();
    return ExitCode.usage;
  }
  const rt = await openRuntime(io, { root: o.root, json: Boolean(o.json), verbose: o.verbose });
  try {
    const env = rt.discovery.environments.find((e) => e.name === o.env);
    if (!env) {
      io.err(t('error: no environment {0} in {1} (found: {2})', o.env ?? '', rt.discovery.root, rt.discovery.environments.map((e) => e.name).join(', ') || '-'));
      return ExitCode.usage;
    }
    const credentials = s3Credentials(rt.discovery.environments, io.env);
    if (o.return) return await returnCommand(env, o, io, rt, credentials);
    if (o.fallback) return await fallbackCommand(env, o, io, rt, credentials);
    const { store } = stateStoreForEnvironment(env, rt.discovery.environments, io.env, { timeoutMs: Number(io.env.LIFEBOAT_S3_TIMEOUT_MS) || undefined });
    if (o.list) return await listCommand(env, store, o, io, rt);
    if (o.show !== undefined) return await showCommand(env, store, o.show, o, io, rt);
    if (o.diff) return await diffCommand(store, o.diff[0]!, o.diff[1], o, io);
    const deps = stateDeps(store, rt, io, credentials);
    const { plan, facts } = await planStateRestore({ version: o.restore ?? '' }, env, deps, rt.signal);
    return await stateRun({ plan, facts, question: t('Write version {0} as the new current state of {1}?', facts.source.versionId, env.name), aftermath: (f) => stateRestoreAftermath(facts, f) }, o, io, rt);
  } catch (err) {
    return failed(err, o, io);
  } finally {
    rt.dispose();
  }
}

function makeStore(location: Pick<StateLocation, 'endpoint' | 'bucket' | 'key' | 'region' | 'pathStyle'>, credentials: S3Credentials | undefined, io: CliIo): StateStore {
  if (!credentials) {
    throw new LifeboatError('authFailed', 'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the variable named by the minio block\'s root_password placeholder (MINIO_ROOT_PASSWORD)', {});
  }
  return createMinioStateStore({ location, credentials, labOnly: io.env.LIFEBOAT_LAB === '1', timeoutMs: Number(io.env.LIFEBOAT_S3_TIMEOUT_MS) || undefined });
}

function stateDeps<S extends StateStore | undefined>(store: S, rt: CliRuntime, io: CliIo, credentials: S3Credentials | undefined): Omit<StateDeps, 'store'> & { store: S } {
  return { store, terraform: createTerraformRunner(), log: rt.log, root: rt.discovery.root, processEnv: io.env, credentials };
}

function failed(err: unknown, o: RestoreTfstateOptions, io: CliIo): number {
  if (o.json) io.out(JSON.stringify({ status: 'failed', error: { reason: LifeboatError.is(err) ? err.reason : 'internal', message: err instanceof Error ? err.message : String(err) }, changed: false }, null, 2));
  io.err(describeError(err));
  return ExitCode.failure;
}

// ---- --list ---------------------------------------------------------------------------------------

function versionJson(v: StateVersion, vsNodes?: InventoryComparison) {
  return {
    versionId: v.versionId,
    lastModified: v.lastModified.toISOString(),
    size: v.size,
    isLatest: v.isLatest,
    isDeleteMarker: v.isDeleteMarker,
    serial: v.meta?.serial,
    lineage: v.meta?.lineage,
    terraformVersion: v.meta?.terraformVersion,
    resources: v.meta ? v.meta.resourceCount : undefined,
    outputs: v.meta?.outputNames,
    valid: v.isDeleteMarker ? false : v.meta?.valid,
    invalidReason: v.isDeleteMarker ? 'delete marker' : v.meta?.invalidReason,
    nodes: vsNodes ? nodesJson(vsNodes) : undefined,
  };
}

function nodesJson(c: InventoryComparison) {
  return {
    notOnNodes: c.missingOnNodes.map((r) => ({ address: r.address, vmid: r.vmid })),
    notInState: c.missingInState.map((g) => ({ vmid: g.vmid, name: g.name, node: g.node })),
  };
}

/** The nodes' inventory for a comparison, or undefined when no node answers (the comparison helps; it is never needed). */
async function reachableInventory(rt: CliRuntime): Promise<Inventory | undefined> {
  if (rt.nodes.length === 0) return undefined;
  try {
    const inventory = await loadInventory({ nodes: rt.nodes, pool: rt.pool, log: { ...rt.log, info: () => undefined }, signal: rt.signal });
    return inventory.nodes.some((n) => n.reachable) ? inventory : undefined;
  } catch {
    return undefined;
  }
}

async function listCommand(env: EnvironmentConfig, store: StateStore, o: RestoreTfstateOptions, io: CliIo, rt: CliRuntime): Promise<number> {
  const versioning = await store.versioning();
  const lock = await store.readLock();
  const [versions, inventory] = await Promise.all([listStateVersions(store, { withMeta: LIST_META }), o.nodes ? reachableInventory(rt) : undefined]);
  const vsNodes = (v: StateVersion) => (inventory && v.meta?.valid ? compareGuestsWithInventory(v.meta.guests, inventory, declaredGuests(env)) : undefined);
  if (o.json) {
    io.out(JSON.stringify({ environment: env.name, endpoint: store.endpoint, bucket: store.bucket, key: store.key, versioning, lock: lock ? safeJson(lock) : undefined, nodesCompared: inventory !== undefined, count: versions.length, versions: versions.map((v) => versionJson(v, vsNodes(v))) }, null, 2));
  } else {
    io.out(t('Terraform state of {0}: {1}/{2}/{3} — {4} versions', env.name, store.endpoint, store.bucket, store.key, versions.length));
    const rows = versions.map((v) => {
      const c = vsNodes(v);
      return [
        v.versionId,
        v.lastModified.toISOString().replace('T', ' ').slice(0, 19),
        String(v.size),
        v.meta?.serial === undefined ? '' : String(v.meta.serial),
        v.meta ? String(v.meta.resourceCount) : '',
        ...(inventory ? [c ? nodesCell(c) : ''] : []),
        v.isLatest ? '*' : '',
        v.isDeleteMarker ? t('delete marker') : v.meta === undefined ? '…' : v.meta.valid ? t('yes') : `${t('NO')}: ${v.meta.invalidReason ?? ''}`,
      ];
    });
    table(io, [t('VERSION ID'), t('DATE (UTC)'), t('SIZE'), t('SERIAL'), t('RESOURCES'), ...(inventory ? [t('VS NODES')] : []), t('CURRENT'), t('VALID')], rows);
    if (versions.length > LIST_META) io.out(t('(serial and resources read for the newest {0} versions)', LIST_META));
    if (inventory) io.out(t('VS NODES: "=" the version has exactly the guests the nodes run; "-N" N guests in the version that no node runs (Terraform would recreate them); "+N" N guests on the nodes the version does not know (Terraform would create duplicates).'));
    else if (o.nodes) io.err(io.style.yellow(t('No node could be read: the versions are not compared with the nodes.')));
  }
  if (versioning !== 'Enabled') io.err(io.style.red(t('WARNING: versioning is {0} on bucket {1}: rollback is impossible. Enable it: mc version enable <alias>/{1} or aws s3api put-bucket-versioning --bucket {1} --versioning-configuration Status=Enabled', versioning, store.bucket)));
  if (lock) io.err(io.style.yellow(t('The state is locked: {0}', lockText(lock))));
  return ExitCode.ok;
}

/** `=` when the version matches the nodes, else `-N +M` (guests only in the version / only on the nodes). */
function nodesCell(c: InventoryComparison): string {
  if (!c.missingOnNodes.length && !c.missingInState.length) return '=';
  return [c.missingOnNodes.length ? `-${c.missingOnNodes.length}` : '', c.missingInState.length ? `+${c.missingInState.length}` : ''].filter(Boolean).join(' ');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function lockText(lock: string): string {
  const j = safeJson(lock) as Record<string, unknown> | string;
  return typeof j === 'object' && j ? `${String(j['Who'] ?? '?')} ${String(j['Created'] ?? '')} ${String(j['Operation'] ?? '')}`.trim() : lock;
}

function table(io: CliIo, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  io.out(io.style.bold(line(header)));
  for (const r of rows) io.out(line(r));
}

// ---- --show / --diff ----------------------------------------------------------------------------

async function resolve(store: StateStore, ref: string): Promise<StateVersion> {
  const versions = await listStateVersions(store);
  const v = findVersion(versions, ref);
  if (!v) throw new LifeboatError('versionNotFound', `version ${ref} of ${store.bucket}/${store.key} does not exist (${versions.length} versions listed)`, { version: ref });
  if (v.isDeleteMarker) throw new LifeboatError('invalidState', `version ${v.versionId} is a delete marker: it has no content`, { version: v.versionId });
  return v;
}

async function showCommand(env: EnvironmentConfig, store: StateStore, ref: string, o: RestoreTfstateOptions, io: CliIo, rt: CliRuntime): Promise<number> {
  const v = await resolve(store, ref);
  const body = await store.read(v.versionId);
  const parsed = parseState(body);
  const inventory = parsed.ok ? await reachableInventory(rt) : undefined;
  const nodes = parsed.ok && inventory ? compareWithInventory(parsed.state, inventory, declaredGuests(env)) : undefined;
  if (o.json) {
    io.out(JSON.stringify({ versionId: v.versionId, lastModified: v.lastModified.toISOString(), isLatest: v.isLatest, valid: parsed.ok, invalidReason: parsed.ok ? undefined : parsed.reason, state: parsed.ok ? parsed.state : undefined, text: parsed.ok ? undefined : body.toString('utf8'), nodes }, null, 2));
    return ExitCode.ok;
  }
  io.out(stateText(body).replace(/\n$/, ''));
  io.err(t('Version {0} ({1}){2}: {3}', v.versionId, v.lastModified.toISOString(), v.isLatest ? ` [${t('current')}]` : '', parsed.ok ? t('serial {0}, {1} resources, lineage {2}', parsed.state.serial, resourceCount(parsed.state), parsed.state.lineage) : t('NOT a valid state: {0}', parsed.reason)));
  if (nodes) {
    for (const r of nodes.missingOnNodes) io.err(t('  in this version, not on the nodes: {0} (VMID {1})', r.address, r.vmid));
    for (const g of nodes.missingInState) io.err(t('  on the nodes, not in this version: {0} {1} on {2}', g.vmid, g.name ?? '', g.node));
    if (!nodes.missingOnNodes.length && !nodes.missingInState.length) io.err(t('  matches the guests on the nodes'));
  }
  return ExitCode.ok;
}

async function diffCommand(store: StateStore, refA: string, refB: string | undefined, o: RestoreTfstateOptions, io: CliIo): Promise<number> {
  const a = await resolve(store, refA);
  const b = await resolve(store, refB ?? 'current');
  const pa = parseState(await store.read(a.versionId));
  const pb = parseState(await store.read(b.versionId));
  if (!pa.ok || !pb.ok) {
    const bad = !pa.ok ? { v: a, r: pa.reason } : { v: b, r: (pb as { reason: string }).reason };
    throw new LifeboatError('invalidState', `version ${bad.v.versionId} is not a valid state (${bad.r}): no resource diff`, { version: bad.v.versionId });
  }
  const d = diffStates(pa.state, pb.state);
  if (o.json) {
    io.out(JSON.stringify({ from: a.versionId, to: b.versionId, ...d }, null, 2));
    return ExitCode.ok;
  }
  printDiff(io, a.versionId, b.versionId, d);
  return ExitCode.ok;
}

function printDiff(io: CliIo, from: string, to: string, d: StateDiff): void {
  io.out(t('From {0} (serial {1}) to {2} (serial {3}): {4}', from, d.serial.from, to, d.serial.to, diffLine(d)));
  if (d.lineageDiffers) io.out(io.style.yellow(t('  the lineages differ: these are different state histories')));
  for (const a of d.added) io.out(io.style.green(`  + ${a}`));
  for (const r of d.removed) io.out(io.style.red(`  - ${r}`));
  for (const c of d.changed) io.out(io.style.yellow(`  ~ ${c.address} (${c.attributes.join(', ')})`));
  if (!d.added.length && !d.removed.length && !d.changed.length) io.out(t('  no resource differs'));
}

// ---- --restore / --fallback / --return ----------------------------------------------------------

/**
 * Without S3 credentials MinIO is "not usable": the fallback goes on from the local state or the
 * newest safety copy and its plan says MinIO was not consulted. Credentials MinIO refuses stop it
 * (authFailed from the store's health check): MinIO is up, its state may be newer.
 */
async function fallbackCommand(env: EnvironmentConfig, o: RestoreTfstateOptions, io: CliIo, rt: CliRuntime, credentials: S3Credentials | undefined): Promise<number> {
  const store = credentials && env.backend.type === 's3' ? makeStore(stateLocation(env), credentials, io) : undefined;
  try {
    const { plan, facts } = await planFallback(env, { ...stateDeps(undefined, rt, io, credentials), store }, rt.signal);
    return await stateRun({ plan, facts, question: t('Switch {0} to a local backend?', env.name), aftermath: (f) => fallbackAftermath(facts, f) }, o, io, rt);
  } catch (err) {
    if (LifeboatError.is(err, 'storeUnreachable') && err.details['stateLost'] === true) return await stateLost(env, err, o, io, rt);
    throw err;
  }
}

async function returnCommand(env: EnvironmentConfig, o: RestoreTfstateOptions, io: CliIo, rt: CliRuntime, credentials: S3Credentials | undefined): Promise<number> {
  const found = await returnLocation(env);
  const backend = env.backend.type === 's3' ? env.backend : found?.backend ?? env.backend.commentedOut;
  if (!backend?.bucket || !backend.endpoint) {
    throw new LifeboatError('invalidValue', `no s3 backend to return to for ${env.name}: no backend.tf.lifeboat-<timestamp>.bak and no commented-out backend "s3" block with a bucket and endpoints.s3`, { field: 'backend.tf', value: env.backendPath ?? '', expected: 'an s3 backend' });
  }
  const store = makeStore({ endpoint: backend.endpoint, bucket: backend.bucket, key: backend.key, region: backend.region ?? 'us-east-1', pathStyle: backend.usePathStyle }, credentials, io);
  const { plan, facts } = await planReturn(env, stateDeps(store, rt, io, credentials), { preferLocal: o.preferLocal }, rt.signal);
  return stateRun({ plan, facts, question: t('Send the local state of {0} back to S3?', env.name), aftermath: (f) => returnAftermath(facts, f) }, o, io, rt);
}

/** The Terraform plan's result in the JSON report, and a loud warning when it would destroy. */
function stateRun(spec: Omit<PlanRunSpec, 'extraJson' | 'extraLines'>, o: RestoreTfstateOptions, io: CliIo, rt: CliRuntime): Promise<number> {
  return confirmAndRun({
    ...spec,
    extraJson: (report) => ({ safetyCopy: report.facts['safetyPoint'], plan: planResult(report) }),
    extraLines: (report) => {
      const destroy = Number(report.facts['planDestroy'] ?? 0);
      return destroy > 0 ? [io.style.red(io.style.bold(t('DO NOT APPLY: the plan would destroy {0} resource(s): {1}', destroy, report.facts['planDestroyed'] ?? '')))] : [];
    },
  }, o, io, rt);
}

function planResult(r: RunReport) {
  if (!r.facts['planResult']) return undefined;
  return {
    result: r.facts['planResult'],
    summary: r.facts['planSummary'],
    add: Number(r.facts['planAdd']),
    change: Number(r.facts['planChange']),
    destroy: Number(r.facts['planDestroy']),
    destroyed: r.facts['planDestroyed']?.split(', '),
    doNotApply: Number(r.facts['planDestroy']) > 0,
  };
}

/** Neither MinIO nor a local copy: the state is lost; the `terraform import` commands rebuild it. */
async function stateLost(env: EnvironmentConfig, err: LifeboatError, o: RestoreTfstateOptions, io: CliIo, rt: CliRuntime): Promise<number> {
  const inventory = await reachableInventory(rt);
  // Without the nodes the VMIDs stay placeholders.
  const guests = (inventory?.guests ?? []).map((g) => ({ vmid: g.vmid, name: g.name, node: g.node, type: g.type }));
  const imports = importGuide(env, guests, await readTerraformLayout(env.dir));
  const noCredentials = err.details['noCredentials'] === true;
  if (o.json) {
    io.out(JSON.stringify({ status: 'state-lost', environment: env.name, noCredentials, message: err.message, imports }, null, 2));
  } else {
    io.err(io.style.red(noCredentials
      ? t('No local copy of the Terraform state of {0}, and MinIO was not consulted: no S3 credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the minio block\'s password variable). Nothing was changed. If MinIO answers, set them and run this again; if MinIO is gone too, the state is lost:', env.name)
      : t('The Terraform state of {0} is lost: MinIO is unreachable and no local copy exists. Nothing was changed.', env.name)));
    io.out(t('Rebuild it by importing every guest, in {0}, after switching backend.tf to a local backend:', env.dir));
    for (const i of imports) {
      io.out(`  ${i.command}${i.note ? `   # ${i.note}` : ''}`);
      if (i.assumed) io.out(`    # ${t('address assumed: {0}', i.assumed)}`);
    }
    io.out(t('Then run terraform plan: it must say No changes.'));
  }
  return ExitCode.failure;
}

export function renderMessages(ms: readonly Message[]): string[] {
  return ms.map((m) => render(m, t));
}
