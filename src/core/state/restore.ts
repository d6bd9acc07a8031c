/**
 * Restore a Terraform state version as a roll-forward (the operator's user story "restore the
 * Terraform state from MinIO", P1). `planStateRestore` reads (never writes) and refuses what is
 * unsafe: a held lock, versioning not Enabled, an invalid or unknown version. The plan then makes a
 * checksummed local safety copy of the current state, writes the chosen version's content as a
 * NEW current version (serial = current + 1, its lineage kept, history untouched), reads it back,
 * and runs `terraform init` + `terraform plan`. It never applies.
 */
import { CancelledError, LifeboatError, errorArg } from '../errors';
import type { EnvironmentConfig } from '../model/environment';
import type { LogSink, StateStore, TerraformRunner } from '../ports';
import { joinedMessages, msg, type Message } from '../procedure/message';
import type { Plan, Step } from '../procedure/types';
import { diffStates, type StateDiff } from './diff';
import { instanceAddresses, parseState, resourceCount, serializeState, type TerraformStateV4 } from './model';
import { safetyCopyPath, sha256, writeSafetyCopy } from './safety';
import { readPlanOutput, runTerraform, terraformLine, TF_INIT_RECONFIGURE, TF_PLAN, type PlanOutcome } from './terraform';
import { currentVersion, findVersion, sortNewestFirst } from './versions';
import { stateLocation, terraformEnvironment, type S3Credentials, type StateLocation } from './location';

export interface StateDeps {
  readonly store: StateStore;
  readonly terraform: TerraformRunner;
  readonly log: LogSink;
  /** The repository root: safety copies go under `<root>/.lifeboat/safety/`. */
  readonly root: string;
  /** The environment of terraform processes (PATH…); the S3 credentials are added at the point of use. */
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  readonly credentials: S3Credentials | undefined;
  readonly now?: () => Date;
}

export interface StateRestoreRequest {
  /** A version id, or `current~N` (N versions back). */
  readonly version: string;
}

export interface VersionFacts {
  readonly versionId: string;
  readonly lastModified: string;
  readonly serial: number | undefined;
  readonly lineage: string | undefined;
  readonly resources: number;
  readonly valid: boolean;
}

/** Everything the plan was built from; also the JSON of `restore-tfstate --restore ID --dry-run --json`. */
export interface StateRestoreFacts {
  readonly environment: string;
  readonly dir: string;
  readonly location: StateLocation;
  readonly source: VersionFacts;
  /** undefined when the current version is a delete marker (the state object was deleted). */
  readonly current: VersionFacts | undefined;
  readonly currentVersionId: string | undefined;
  readonly newSerial: number;
  readonly lineageDiffers: boolean;
  /** From the current state to the restored one (undefined when the current is unreadable). */
  readonly diff: StateDiff | undefined;
  readonly safetyCopy: string | undefined;
}

export function versioningAdvice(bucket: string, endpoint: string): Message {
  return msg('enable it with: mc version enable <alias>/{0}   or: aws s3api put-bucket-versioning --bucket {0} --versioning-configuration Status=Enabled --endpoint-url {1}', bucket, endpoint);
}

/** Refuses when the bucket is not versioned: without versions there is nothing to roll back to, and a write destroys history. */
export async function requireVersioning(store: StateStore, signal?: AbortSignal): Promise<void> {
  const status = await store.versioning(signal);
  if (status !== 'Enabled') {
    const advice = versioningAdvice(store.bucket, store.endpoint);
    throw LifeboatError.saying(
      'versioningDisabled',
      status === 'Off'
        ? msg('versioning is not enabled on bucket {0}: ROLLBACK IS IMPOSSIBLE — overwriting the state would lose the current version for good, and older states are not kept. Nothing was changed; {1}', store.bucket, advice)
        : msg('versioning is Suspended on bucket {0}: ROLLBACK IS IMPOSSIBLE — overwriting the state would lose the current version for good, and older states are not kept. Nothing was changed; {1}', store.bucket, advice),
      { bucket: store.bucket, status },
    );
  }
}

/** Refuses while the `use_lockfile` lock object exists, saying who holds it and since when. */
export async function requireNoLock(store: StateStore, signal?: AbortSignal): Promise<void> {
  const lock = await store.readLock(signal);
  if (lock === undefined) return;
  let who: string | undefined;
  let created: string | undefined;
  let operation: string | undefined;
  let id: string | undefined;
  try {
    const info = JSON.parse(lock) as Record<string, unknown>;
    who = typeof info['Who'] === 'string' ? info['Who'] : undefined;
    created = typeof info['Created'] === 'string' ? info['Created'] : undefined;
    operation = typeof info['Operation'] === 'string' ? info['Operation'] : undefined;
    id = typeof info['ID'] === 'string' ? info['ID'] : undefined;
  } catch {
    // An unreadable lock is still a lock.
  }
  // Who and since when, each only when the lock says it (the leading space is part of the phrase).
  throw LifeboatError.saying(
    'stateLocked',
    msg('the state is locked{0}{1}{2}: another Terraform run may be writing it. Nothing was changed. Wait for it to end; if you are sure nobody runs Terraform, remove the lock with: terraform force-unlock {3}',
      who ? msg(' by {0}', who) : '', created ? msg(' since {0}', created) : '', operation ? ` (${operation})` : '', id ?? '<lock id>'),
    { bucket: store.bucket, lockKey: `${store.key}.tflock`, who, created, operation, id },
  );
}

function versionFacts(versionId: string, lastModified: Date, body: Buffer | undefined): VersionFacts {
  const parsed = body ? parseState(body) : undefined;
  const text = body?.toString('utf8') ?? '';
  return {
    versionId,
    lastModified: lastModified.toISOString(),
    serial: parsed?.ok ? parsed.state.serial : numberOr(/"serial"\s*:\s*(\d+)/.exec(text)?.[1]),
    lineage: parsed?.ok ? parsed.state.lineage : /"lineage"\s*:\s*"([^"]+)"/.exec(text)?.[1],
    resources: parsed?.ok ? resourceCount(parsed.state) : 0,
    valid: parsed?.ok === true,
  };
}

function numberOr(v: string | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

export async function planStateRestore(request: StateRestoreRequest, env: EnvironmentConfig, deps: StateDeps, signal?: AbortSignal): Promise<{ plan: Plan; facts: StateRestoreFacts }> {
  const now = deps.now ?? (() => new Date());
  const location = stateLocation(env);
  const store = deps.store;
  if (location.localNow) {
    throw LifeboatError.saying('invalidValue', msg('environment {0} runs on a local backend (its s3 backend is commented out): return to S3 first (restore-tfstate --return)', env.name), { field: 'environment', value: env.name, expected: 'an environment on its s3 backend' });
  }
  await requireVersioning(store, signal);
  await requireNoLock(store, signal);

  const versions = sortNewestFirst(await store.listVersions(signal));
  const target = findVersion(versions, request.version);
  if (!target) {
    throw LifeboatError.saying('versionNotFound', msg('version {0} of {1}/{2} does not exist ({3} versions listed); nothing was changed', request.version, location.bucket, location.key, versions.length), { version: request.version, bucket: location.bucket });
  }
  if (target.isDeleteMarker) {
    throw LifeboatError.saying('invalidState', msg('version {0} is a delete marker: it has no content to restore', target.versionId), { version: target.versionId });
  }
  const latest = currentVersion(versions);
  if (latest && latest.versionId === target.versionId) {
    throw LifeboatError.saying('invalidState', msg('version {0} is already the current version: nothing to restore', target.versionId), { version: target.versionId });
  }

  const sourceBody = await store.read(target.versionId, signal);
  const parsed = parseState(sourceBody);
  if (!parsed.ok) {
    throw LifeboatError.saying('invalidState', msg('version {0} is not a usable state ({1}); choose another version. Nothing was changed.', target.versionId, parsed.reason), { version: target.versionId, reason: parsed.reason });
  }
  const source = parsed.state;

  const currentMarker = latest?.isDeleteMarker === true;
  const currentBody = latest && !currentMarker ? await store.read(latest.versionId, signal) : undefined;
  const currentParsed = currentBody ? parseState(currentBody) : undefined;
  const current = latest && !currentMarker ? versionFacts(latest.versionId, latest.lastModified, currentBody) : undefined;
  // The newest serial anyone wrote: a delete marker hides the last one, so read the newest real version then.
  let baseSerial = current?.serial;
  if (baseSerial === undefined) {
    const lastReal = versions.find((v) => !v.isDeleteMarker && v.versionId !== target.versionId);
    if (lastReal) baseSerial = versionFacts(lastReal.versionId, lastReal.lastModified, await store.read(lastReal.versionId, signal)).serial;
  }
  const newSerial = Math.max(baseSerial ?? 0, source.serial) + 1;
  const lineageDiffers = current?.lineage !== undefined && current.lineage !== source.lineage;
  const diff = currentParsed?.ok ? diffStates(currentParsed.state, source) : undefined;
  const safety = currentBody ? safetyCopyPath(deps.root, env.name, now(), current?.serial) : undefined;

  const facts: StateRestoreFacts = {
    environment: env.name,
    dir: env.dir,
    location,
    source: versionFacts(target.versionId, target.lastModified, sourceBody),
    current,
    currentVersionId: latest?.versionId,
    newSerial,
    lineageDiffers,
    diff,
    safetyCopy: safety,
  };
  return { plan: buildRestorePlan(facts, source, currentBody, deps), facts };
}

function buildRestorePlan(f: StateRestoreFacts, source: TerraformStateV4, currentBody: Buffer | undefined, deps: StateDeps): Plan {
  const store = deps.store;
  const loc = f.location;
  const where = `${loc.bucket}/${loc.key}`;
  const restored: TerraformStateV4 = { ...source, serial: f.newSerial };
  const body = serializeState(restored);
  const writtenSha256 = sha256(body);
  const expectedAddresses = instanceAddresses(restored).sort();
  const steps: Step[] = [];

  steps.push({
    id: 'preflight',
    title: msg('Check the lock, versioning and that the current version is still {0}', f.currentVersionId ?? '-'),
    destructive: false,
    cancel: 'anytime',
    commands: [`GET ${loc.endpoint}/${loc.bucket}?versioning`, `GET ${loc.endpoint}/${where}.tflock`, `GET ${loc.endpoint}/${loc.bucket}?versions&prefix=${loc.key}`],
    async run(ctx) {
      await requireVersioning(store, ctx.signal);
      await requireNoLock(store, ctx.signal);
      const now = currentVersion(sortNewestFirst(await store.listVersions(ctx.signal)));
      if (now?.versionId !== f.currentVersionId) {
        throw LifeboatError.saying('invalidState', msg('the state changed since the plan was made (current version is now {0}, was {1}): nothing was written; plan again', now?.versionId ?? 'none', f.currentVersionId ?? 'none'), { current: now?.versionId });
      }
      return msg('No lock, versioning Enabled, current version unchanged');
    },
  });

  if (currentBody && f.safetyCopy) {
    const file = f.safetyCopy;
    steps.push({
      id: 'safety-copy',
      title: msg('Save the current state (serial {0}) to a local safety copy', f.current?.serial ?? '?'),
      destructive: false,
      cancel: 'anytime',
      commands: [`GET ${loc.endpoint}/${where}?versionId=${f.currentVersionId ?? ''} > ${file}`, `sha256sum ${file} > ${file}.sha256 && sha256sum -c ${file}.sha256`],
      effect: msg('A local copy of the state being replaced, kept until you delete it'),
      async run(ctx) {
        // Read it again: the copy must be of what is in the store now, not of what the plan saw.
        const now = await store.read(f.currentVersionId, ctx.signal);
        if (sha256(now) !== sha256(currentBody)) {
          throw LifeboatError.saying('invalidState', msg('the current version {0} changed content since the plan; nothing was written', f.currentVersionId ?? ''));
        }
        const copy = await writeSafetyCopy(file, now);
        ctx.facts.set('safetyPoint', copy.path);
        ctx.facts.set('safetySha256', copy.sha256);
        return msg('Safety copy {0} (sha256 {1}, verified)', copy.path, copy.sha256.slice(0, 16));
      },
    });
  }

  steps.push({
    id: 'write',
    title: msg('Write version {0} as the new current state with serial {1}', f.source.versionId, f.newSerial),
    destructive: true,
    cancel: 'between-steps',
    commands: [`PUT ${loc.endpoint}/${where}   # content of version ${f.source.versionId}, serial ${f.source.serial ?? '?'} → ${f.newSerial}, lineage ${source.lineage}`],
    effect: msg('A new current version; every older version stays in the history (undo: restore version {0})', f.currentVersionId ?? '-'),
    async run(ctx) {
      ctx.facts.set('writeAttempted', 'true');
      let versionId: string | undefined;
      try {
        versionId = await store.write(body, ctx.signal);
      } catch (err) {
        const after = await stateAfterFailedWrite(store, f, body, err);
        ctx.facts.set('stateAfterFailure', after);
        if (after === 'written') ctx.facts.set('written', 'true');
        const what = after === 'intact' ? msg('the current state is intact (still version {0}, serial {1}, read back)', f.currentVersionId ?? '-', f.current?.serial ?? '?')
          : after === 'not-sent' ? msg('the current state is intact: the write never reached the server, so it is still version {0} (serial {1})', f.currentVersionId ?? '-', f.current?.serial ?? '?')
            : after === 'written' ? msg('the new version WAS written (read back)')
              : msg('whether the write reached the server is unknown: the store could not be read back');
        if (CancelledError.is(err)) throw err;
        throw LifeboatError.saying(LifeboatError.is(err) ? err.reason : 'storeUnreachable', msg('writing the state failed ({0}); {1}', errorArg(err), what), { after }, { cause: err });
      }
      ctx.facts.set('written', 'true');
      if (!versionId) {
        // radosgw sends no version id on some writes (CopyObject); the listing says which is current.
        versionId = currentVersion(sortNewestFirst(await store.listVersions(ctx.signal)))?.versionId;
      }
      if (versionId) ctx.facts.set('newVersionId', versionId);
      return msg('New current version {0} (serial {1})', versionId ?? '?', f.newSerial);
    },
  });

  steps.push({
    id: 'verify',
    title: msg('Read the new current state back and compare'),
    destructive: false,
    cancel: 'anytime',
    commands: [`GET ${loc.endpoint}/${where}`, `GET ${loc.endpoint}/${loc.bucket}?versions&prefix=${loc.key}`],
    async run(ctx) {
      const backBody = await store.read(undefined, ctx.signal);
      const back = parseState(backBody);
      if (!back.ok) throw LifeboatError.saying('invalidState', msg('the state read back is not valid ({0})', back.reason));
      const problems: Message[] = [];
      // Byte for byte: a store (or a proxy) that rewrote the JSON would pass the checks below.
      if (sha256(backBody) !== writtenSha256) problems.push(msg('sha256 {0}…, written {1}…', sha256(backBody).slice(0, 16), writtenSha256.slice(0, 16)));
      if (back.state.serial !== f.newSerial) problems.push(msg('serial {0}, expected {1}', back.state.serial, f.newSerial));
      if (back.state.lineage !== source.lineage) problems.push(msg('lineage {0}, expected {1}', back.state.lineage, source.lineage));
      const addresses = instanceAddresses(back.state).sort();
      if (addresses.join('\n') !== expectedAddresses.join('\n')) problems.push(msg('resources differ ({0} read back, {1} written)', addresses.length, expectedAddresses.length));
      const listed = await store.listVersions(ctx.signal);
      if (f.currentVersionId && !listed.some((v) => v.versionId === f.currentVersionId)) problems.push(msg('the previous version {0} is no longer listed', f.currentVersionId));
      if (problems.length) throw LifeboatError.saying('invalidState', msg('the state read back does not match what was written: {0}', joinedMessages(problems)));
      ctx.facts.set('verified', 'true');
      ctx.facts.set('writtenSha256', writtenSha256);
      return msg('Serial {0}, lineage {1}, {2} resources and sha256 {3} as written; the previous version is still in the history', back.state.serial, back.state.lineage, addresses.length, writtenSha256.slice(0, 16));
    },
  });

  steps.push(...terraformCheckSteps(f.dir, deps, [...TF_INIT_RECONFIGURE]));

  const summary = [
    { label: msg('Environment'), value: `${f.environment} (${f.dir})` },
    { label: msg('State'), value: `${loc.endpoint}/${where}` },
    { label: msg('Version to restore'), value: `${f.source.versionId} — ${f.source.lastModified}, serial ${f.source.serial ?? '?'}, ${f.source.resources} resources` },
    { label: msg('Current version'), value: f.current ? `${f.current.versionId} — ${f.current.lastModified}, serial ${f.current.serial ?? '?'}, ${f.current.valid ? `${f.current.resources} resources` : 'INVALID'}` : 'a delete marker (the state object was deleted)' },
    { label: msg('New serial'), value: String(f.newSerial) },
    ...(f.diff ? [{ label: msg('Resources'), value: diffLine(f.diff) }] : []),
    ...(f.safetyCopy ? [{ label: msg('Safety copy'), value: f.safetyCopy }] : []),
  ];
  const warnings: Message[] = [];
  if (f.lineageDiffers) warnings.push(msg('The lineage of version {0} ({1}) differs from the current state ({2}): it comes from another state history. Terraform will follow the restored lineage.', f.source.versionId, source.lineage, f.current?.lineage ?? '-'));
  if (f.diff?.removed.length) warnings.push(msg('Resources in the current state that the restored version does not have: {0}', f.diff.removed.join(', ')));
  if (!f.current) warnings.push(msg('The current version is a delete marker: the state object was deleted; restoring writes it back'));
  else if (!f.current.valid) warnings.push(msg('The current state is not valid; it is kept in the history and in the safety copy'));
  return {
    id: `restore-state-${f.environment}-${Date.now().toString(36)}`,
    kind: 'restore-state',
    title: msg('Restore the Terraform state of {0} from version {1}', f.environment, f.source.versionId),
    summary,
    warnings,
    destroys: f.current
      ? [msg('The current state (version {0}, serial {1}) stops being the current version; it stays in the history and in the safety copy', f.current.versionId, f.current.serial ?? '?')]
      : [],
    steps,
    nextSteps: [
      msg('Read the plan: apply only if it does what you expect, and never a plan that destroys guests you still run'),
      ...(f.currentVersionId && f.current ? [msg('To undo: lifeboat restore-tfstate --env {0} --restore {1}', f.environment, f.currentVersionId)] : []),
    ],
  };
}

export function diffLine(d: StateDiff): string {
  return `+${d.added.length} −${d.removed.length} ~${d.changed.length} (=${d.unchanged})`;
}

/** After a failed write: read the current state back to say exactly what the store holds. */
async function stateAfterFailedWrite(store: StateStore, f: StateRestoreFacts, written: Buffer, err: unknown, delaysMs: readonly number[] = [0, 500, 1500]): Promise<'intact' | 'written' | 'not-sent' | 'unknown'> {
  // A refused connection proves nothing was sent; otherwise read back, giving a short outage a chance.
  if (LifeboatError.is(err, 'storeUnreachable') && err.details['sent'] === false) {
    try {
      return (await readBack(store, f, written)) ?? 'not-sent';
    } catch {
      return 'not-sent';
    }
  }
  for (const ms of delaysMs) {
    if (ms) await new Promise((r) => setTimeout(r, ms));
    try {
      return (await readBack(store, f, written)) ?? 'unknown';
    } catch {
      // try again
    }
  }
  return 'unknown';
}

async function readBack(store: StateStore, f: StateRestoreFacts, written: Buffer): Promise<'intact' | 'written' | undefined> {
  const latest = currentVersion(await store.listVersions());
  if (latest?.versionId === f.currentVersionId) return 'intact';
  if (latest && !latest.isDeleteMarker && sha256(await store.read(latest.versionId)) === sha256(written)) return 'written';
  return undefined;
}

/** `terraform init` then `terraform plan -detailed-exitcode`: the check that the state matches reality. */
export function terraformCheckSteps(dir: string, deps: Pick<StateDeps, 'terraform' | 'processEnv' | 'credentials'>, initArgs: readonly string[]): Step[] {
  return [
    {
      id: 'terraform-init',
      title: msg('terraform init in {0}', dir),
      destructive: false,
      cancel: 'anytime',
      commands: [`cd ${dir} && ${terraformLine(initArgs)}`],
      async run(ctx) {
        await runTerraform(deps.terraform, initArgs, dir, terraformEnvironment(deps.processEnv, deps.credentials), ctx);
        return msg('Initialized');
      },
    },
    {
      id: 'terraform-plan',
      title: msg('terraform plan: does the state match the configuration and the nodes?'),
      destructive: false,
      cancel: 'anytime',
      commands: [`cd ${dir} && ${terraformLine(TF_PLAN)}   # never applied`],
      async run(ctx) {
        const r = await runTerraform(deps.terraform, TF_PLAN, dir, terraformEnvironment(deps.processEnv, deps.credentials), ctx, [0, 2]);
        const outcome = readPlanOutput(r.code, r.stdout) as PlanOutcome;
        recordPlan(ctx.facts, outcome);
        if (!outcome.changes) return msg('No changes: the state matches the configuration and the nodes');
        if (outcome.destroy > 0) return msg('{0} DO NOT APPLY: this plan would destroy {1} resource(s): {2}', outcome.summary, outcome.destroy, outcome.destroyed.join(', ') || '?');
        return msg('{0} Review it before any apply.', outcome.summary);
      },
    },
  ];
}

function recordPlan(facts: Map<string, string>, p: PlanOutcome): void {
  facts.set('planResult', p.changes ? 'changes' : 'no-changes');
  facts.set('planSummary', p.summary);
  facts.set('planImport', String(p.import));
  facts.set('planAdd', String(p.add));
  facts.set('planChange', String(p.change));
  facts.set('planDestroy', String(p.destroy));
  if (p.destroyed.length) facts.set('planDestroyed', p.destroyed.join(', '));
}

/** What a failed or cancelled restore leaves behind, and how to undo it (for the report). */
export function stateRestoreAftermath(f: StateRestoreFacts, facts: ReadonlyMap<string, string>): Message[] {
  const out: Message[] = [];
  const written = facts.get('written') === 'true';
  const after = facts.get('stateAfterFailure');
  if (written) {
    out.push(msg('The chosen version WAS written as the new current state (version {0}, serial {1}); the previous version {2} is still in the history.', facts.get('newVersionId') ?? '?', f.newSerial, f.currentVersionId ?? '-'));
    if (f.currentVersionId && f.current) out.push(msg('To undo: lifeboat restore-tfstate --env {0} --restore {1}', f.environment, f.currentVersionId));
    if (facts.get('verified') !== 'true') out.push(msg('It was not read back: check it with lifeboat restore-tfstate --env {0} --show current', f.environment));
  } else if (after === 'intact') {
    out.push(msg('The current state is intact: it is still version {0} (serial {1}), read back after the failure.', f.currentVersionId ?? '-', f.current?.serial ?? '?'));
  } else if (after === 'not-sent') {
    out.push(msg('The current state is intact: the write never reached the server (connection refused), so it is still version {0} (serial {1}). Read it back when the store answers again: lifeboat restore-tfstate --env {2} --list', f.currentVersionId ?? '-', f.current?.serial ?? '?', f.environment));
  } else if (after === 'unknown') {
    out.push(msg('It is not known whether the new version reached the store: it could not be read back. When it answers, check with lifeboat restore-tfstate --env {0} --list (current must be {1} or a version with serial {2}).', f.environment, f.currentVersionId ?? '-', f.newSerial));
  } else {
    out.push(msg('The current state was not changed: it is still version {0} (serial {1}).', f.currentVersionId ?? '-', f.current?.serial ?? '?'));
  }
  const safety = facts.get('safetyPoint');
  if (safety) out.push(msg('The state as it was before is saved in {0}', safety));
  return out;
}
