/**
 * Working without MinIO, and coming back. Fallback: back up `backend.tf`, put the state in a local
 * `terraform.tfstate` (from S3 when it still answers, else the newest verified safety copy), comment
 * the s3 backend out (kept, so it can come back), `terraform init`, plan. Return: MinIO healthy, no
 * lock, the S3 state not newer than the local one (unless `preferLocal`), safety copy of the local
 * state, `backend.tf` back from its backup, `terraform init -migrate-state -force-copy`, read back,
 * plan. When neither MinIO nor a local state exists the state is lost: `importGuide` lists the
 * `terraform import` commands that rebuild it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LifeboatError } from '../errors';
import { parseHcl } from '../config/hcl';
import { BACKEND_BACKUP_INFIX, FALLBACK_NOTE, newestBackendBackup, readBackend } from '../config/tfvars';
import type { EnvironmentConfig, S3Backend } from '../model/environment';
import type { StateStore } from '../ports';
import { msg, type Message } from '../procedure/message';
import type { Plan, Step } from '../procedure/types';
import { sameState } from './diff';
import { parseState, serializeState, type TerraformStateV4 } from './model';
import { fileTimestamp, newestSafetyCopy, safetyCopyPath, sha256, writeSafetyCopy } from './safety';
import { TF_INIT_MIGRATE, TF_INIT_RECONFIGURE } from './terraform';
import { requireNoLock, requireVersioning, terraformCheckSteps, type StateDeps } from './restore';

/** Lifeboat's copies of files it replaces: `<file>.lifeboat-<timestamp>.bak`. */
export const BACKUP_SUFFIX = BACKEND_BACKUP_INFIX;
export { newestBackendBackup };

/**
 * The fallback's dependencies: `store` is undefined when there are no S3 credentials. MinIO is
 * then "not usable" and the fallback works from the local state or the newest safety copy, saying
 * so; credentials that MinIO refuses are another matter (`authFailed`: it answers, so its state may
 * be newer than any local copy) and stop the fallback.
 */
export type FallbackDeps = Omit<StateDeps, 'store'> & { readonly store: StateStore | undefined };

export interface FallbackFacts {
  readonly environment: string;
  readonly dir: string;
  readonly backendFile: string;
  readonly backendBackup: string;
  readonly bucket: string;
  readonly endpoint: string;
  readonly s3Reachable: boolean;
  /** False when MinIO was not asked at all (no S3 credentials). */
  readonly s3Consulted: boolean;
  /** Where the local state comes from. */
  readonly stateSource: 's3' | 'local-file' | 'safety-copy';
  readonly stateSourcePath: string | undefined;
  readonly serial: number;
  readonly lineage: string;
  readonly localState: string;
  readonly initArgs: readonly string[];
}

/** `backend.tf` with the s3 backend commented out (the whole `terraform` block when it holds only the backend). */
export async function commentOutS3Backend(text: string, header: string): Promise<string> {
  const doc = await parseHcl(text);
  for (const tf of doc.body.blocks.filter((b) => b.type === 'terraform')) {
    const backend = tf.body.blocks.find((b) => b.type === 'backend' && b.labels[0] === 's3');
    if (!backend) continue;
    const alone = tf.body.attributes.length === 0 && tf.body.blocks.length === 1;
    const range = alone ? tf.range : backend.range;
    const lines = text.split('\n');
    for (let i = range.start.line; i <= range.end.line && i < lines.length; i++) lines[i] = `# ${lines[i]}`;
    const headerLines = header.split('\n').map((l) => `# ${l}`);
    lines.splice(range.start.line, 0, ...headerLines);
    return lines.join('\n');
  }
  throw LifeboatError.saying('invalidValue', msg('backend.tf has no active backend "s3" block'), { field: 'backend.tf', value: '', expected: 'a terraform { backend "s3" { … } } block' });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function copyVerified(from: string, to: string): Promise<void> {
  const body = await fs.readFile(from);
  await fs.writeFile(to, body, { flag: 'wx' });
  if (sha256(await fs.readFile(to)) !== sha256(body)) throw LifeboatError.saying('safetyPointFailed', msg('the copy {0} does not match {1}', to, from), { path: to });
}

export async function planFallback(env: EnvironmentConfig, deps: FallbackDeps, signal?: AbortSignal): Promise<{ plan: Plan; facts: FallbackFacts }> {
  const now = (deps.now ?? (() => new Date()))();
  if (env.backend.type !== 's3' || !env.backendPath) {
    const text = env.backend.type === 'local' && env.backend.commentedOut
      ? msg('environment {0} already uses a local backend (its s3 backend is commented out): nothing to fall back from', env.name)
      : msg('environment {0} already uses a local backend: nothing to fall back from', env.name);
    throw LifeboatError.saying('invalidValue', text, { field: 'environment', value: env.name, expected: 'an environment on its s3 backend' });
  }
  const backend = env.backend;
  const store = deps.store;
  const endpoint = store?.endpoint ?? backend.endpoint ?? '';
  // A refusal of the credentials (authFailed) is not caught here: MinIO answers, so it is not down.
  const health = store ? await store.health(signal) : { ok: false as const, error: 'not consulted: no S3 credentials' };
  const localState = path.join(env.dir, 'terraform.tfstate');
  let source: { kind: FallbackFacts['stateSource']; path: string | undefined; body: Buffer; state: TerraformStateV4 };
  if (health.ok && store) {
    // MinIO still answers: a Terraform run holding the lock may be writing the state right now.
    await requireNoLock(store, signal);
    const body = await store.read(undefined, signal);
    const parsed = parseState(body);
    if (!parsed.ok) throw LifeboatError.saying('invalidState', msg('the current state in {0} is not valid ({1}): restore a good version first (--list, --restore)', store.bucket, parsed.reason));
    source = { kind: 's3', path: undefined, body, state: parsed.state };
  } else {
    const local = await readLocalState(localState);
    const copy = local ? undefined : await newestSafetyCopy(deps.root, env.name);
    if (local) source = { kind: 'local-file', path: localState, body: local.body, state: local.state };
    else if (copy) source = { kind: 'safety-copy', path: copy.path, body: copy.body, state: copy.state };
    else if (!store) {
      throw LifeboatError.saying('storeUnreachable', msg('there is no local copy of the {0} state (no {1}, no safety copy under .lifeboat/safety) and MinIO ({2}) was not consulted: there are no S3 credentials. Nothing was changed. If MinIO still answers, give the credentials so the state can be read from it; if MinIO is gone too, the state is lost: rebuild it with terraform import.', env.name, localState, endpoint), { stateLost: true, noCredentials: true, environment: env.name });
    } else {
      throw LifeboatError.saying('storeUnreachable', msg('MinIO ({0}) is unreachable ({1}) and there is no local copy of the {2} state (no {3}, no safety copy under .lifeboat/safety): the state is lost. Nothing was changed. Rebuild it with terraform import (the import guide lists the commands), or bring MinIO back.', endpoint, health.ok ? '' : health.error, env.name, localState), { stateLost: true, environment: env.name });
    }
  }

  const backendBackup = `${env.backendPath}${BACKUP_SUFFIX}${fileTimestamp(now)}.bak`;
  const initArgs = health.ok ? [...TF_INIT_MIGRATE] : [...TF_INIT_RECONFIGURE];
  const facts: FallbackFacts = {
    environment: env.name, dir: env.dir, backendFile: env.backendPath, backendBackup,
    bucket: backend.bucket ?? '', endpoint: backend.endpoint ?? '',
    s3Reachable: health.ok, s3Consulted: store !== undefined, stateSource: source.kind, stateSourcePath: source.path,
    serial: source.state.serial, lineage: source.state.lineage, localState, initArgs,
  };
  const header = `${FALLBACK_NOTE} ${now.toISOString()}: the s3 backend below is commented out while MinIO is unavailable.\nThe original file is ${path.basename(backendBackup)}; go back with: lifeboat restore-tfstate --env ${env.name} --return`;

  const steps: Step[] = [
    {
      id: 'backup-backend',
      title: msg('Back up backend.tf'),
      destructive: false,
      cancel: 'anytime',
      commands: [`cp ${env.backendPath} ${backendBackup}`],
      async run(ctx) {
        await copyVerified(env.backendPath!, backendBackup);
        ctx.facts.set('backendBackup', backendBackup);
        return msg('backend.tf saved as {0}', backendBackup);
      },
    },
  ];
  if (source.kind !== 'local-file') {
    steps.push({
      id: 'local-state',
      title: source.kind === 's3' ? msg('Copy the current S3 state (serial {0}) to terraform.tfstate', source.state.serial) : msg('Use the safety copy {0} (serial {1}) as terraform.tfstate', source.path ?? '', source.state.serial),
      destructive: false,
      cancel: 'anytime',
      commands: [source.kind === 's3' ? `GET ${backend.endpoint ?? ''}/${backend.bucket ?? ''}/${backend.key} > ${localState}` : `cp ${source.path ?? ''} ${localState}`],
      async run(ctx) {
        if (await exists(localState)) {
          const aside = `${localState}${BACKUP_SUFFIX}${fileTimestamp(now)}.bak`;
          await fs.rename(localState, aside);
          ctx.facts.set('localStateAside', aside);
        }
        await fs.writeFile(localState, source.body, { flag: 'wx' });
        if (sha256(await fs.readFile(localState)) !== sha256(source.body)) throw LifeboatError.saying('safetyPointFailed', msg('{0} does not match its source', localState));
        ctx.facts.set('localState', localState);
        return msg('{0} written (serial {1}, sha256 {2})', localState, source.state.serial, sha256(source.body).slice(0, 16));
      },
    });
  }
  steps.push({
    id: 'rewrite-backend',
    title: msg('Comment the s3 backend out of backend.tf (local backend)'),
    destructive: true,
    cancel: 'between-steps',
    commands: [`sed -i 's/^/# /' ${env.backendPath}   # the backend "s3" block only, with a note; the text is kept`],
    effect: msg('Terraform uses {0}; undo: cp {1} {2}', localState, backendBackup, env.backendPath),
    async run(ctx) {
      const text = await fs.readFile(env.backendPath!, 'utf8');
      const next = await commentOutS3Backend(text, header);
      await fs.writeFile(env.backendPath!, next);
      ctx.facts.set('backendRewritten', 'true');
      const check = await readBackend(await fs.readFile(env.backendPath!, 'utf8'));
      if (check.type !== 'local') throw LifeboatError.saying('invalidState', msg('backend.tf still has an active s3 backend after the rewrite'));
      // Discovery must still find the bucket in the comments, or the environment would lose its history.
      if (check.commentedOut?.bucket !== backend.bucket) throw LifeboatError.saying('invalidState', msg('backend.tf no longer names the s3 backend {0} in its comments after the rewrite', backend.bucket ?? ''));
      return msg('backend.tf now selects the local backend; the s3 block is kept in comments');
    },
  });
  steps.push(...terraformCheckSteps(env.dir, deps, initArgs));

  const summary = [
    { label: msg('Environment'), value: `${env.name} (${env.dir})` },
    { label: msg('MinIO'), value: health.ok ? `${endpoint} answers` : store ? `${endpoint} unreachable: ${health.error}` : `${endpoint} not consulted: no S3 credentials` },
    { label: msg('Local state'), value: `${localState} ← ${source.kind === 's3' ? `S3 current (serial ${source.state.serial})` : `${source.path ?? ''} (serial ${source.state.serial})`}` },
    { label: msg('backend.tf backup'), value: backendBackup },
  ];
  const warnings: Message[] = [];
  if (!store) warnings.push(msg('MinIO was not consulted (no S3 credentials): if it still answers, its state may be newer than {0}', source.path ?? localState));
  if (source.kind === 'safety-copy') warnings.push(msg('The local state comes from the safety copy {0}: anything applied after it was made is not in it; the plan will show it', source.path ?? ''));
  if (source.kind === 'local-file') warnings.push(msg('The existing {0} (serial {1}) is used as the state: check it is the newest you have', localState, source.state.serial));
  warnings.push(msg('While on the local backend there is no locking and no history: one operator, one machine, until the return to S3'));
  return {
    plan: {
      id: `fallback-${env.name}-${Date.now().toString(36)}`,
      kind: 'restore-state',
      title: msg('Fall back to a local backend for {0}', env.name),
      summary,
      warnings,
      destroys: [],
      steps,
      nextSteps: [msg('When MinIO is back: lifeboat restore-tfstate --env {0} --return', env.name)],
    },
    facts,
  };
}

/** What a failed fallback leaves behind. */
export function fallbackAftermath(f: FallbackFacts, facts: ReadonlyMap<string, string>): Message[] {
  const out: Message[] = [];
  if (facts.get('backendRewritten') === 'true') out.push(msg('backend.tf was switched to the local backend; to undo: cp {0} {1} && terraform init -reconfigure', f.backendBackup, f.backendFile));
  else out.push(msg('backend.tf was not changed.'));
  if (facts.get('localState')) out.push(msg('{0} was written from the state source; it can stay or be removed', f.localState));
  return out;
}

async function readLocalState(file: string): Promise<{ body: Buffer; state: TerraformStateV4 } | undefined> {
  try {
    const body = await fs.readFile(file);
    const parsed = parseState(body);
    return parsed.ok ? { body, state: parsed.state } : undefined;
  } catch {
    return undefined;
  }
}

export interface ReturnOptions {
  /** The operator explicitly chose the local state although S3 holds a newer serial. */
  readonly preferLocal?: boolean;
}

export interface ReturnFacts {
  readonly environment: string;
  readonly dir: string;
  readonly backendFile: string;
  readonly backendBackup: string;
  readonly localState: string;
  readonly localSerial: number;
  readonly lineage: string;
  readonly s3Serial: number | undefined;
  readonly s3Lineage: string | undefined;
  /** The serial the state will have in S3 (bumped above S3's when preferLocal overrides a newer S3 state). */
  readonly pushedSerial: number;
  readonly safetyCopy: string;
}

/** The store of the backup's backend: the caller builds it from `returnLocation`. */
export async function returnLocation(env: EnvironmentConfig): Promise<{ backup: string; backend: S3Backend } | undefined> {
  const found = await newestBackendBackup(env.dir);
  return found ? { backup: found.path, backend: found.backend } : undefined;
}

export async function planReturn(env: EnvironmentConfig, deps: StateDeps, options: ReturnOptions = {}, signal?: AbortSignal): Promise<{ plan: Plan; facts: ReturnFacts }> {
  const now = (deps.now ?? (() => new Date()))();
  if (env.backend.type === 's3' || !env.backendPath) {
    throw LifeboatError.saying('invalidValue', msg('environment {0} already uses its s3 backend: nothing to return from', env.name), { field: 'environment', value: env.name, expected: 'an environment on a local fallback' });
  }
  const backup = await newestBackendBackup(env.dir);
  if (!backup) {
    throw LifeboatError.saying('invalidValue', msg('no {0} with an s3 backend in {1}: Lifeboat did not make this fallback; uncomment the backend "s3" block by hand, then run terraform init -migrate-state', `backend.tf${BACKUP_SUFFIX}<timestamp>.bak`, env.dir), { field: 'backend.tf', value: env.backendPath, expected: 'a backup made by --fallback' });
  }
  const localState = path.join(env.dir, 'terraform.tfstate');
  const local = await readLocalState(localState);
  if (!local) throw LifeboatError.saying('invalidState', msg('no valid local state {0} to send back to S3', localState), { path: localState });
  const store = deps.store;
  const health = await store.health(signal);
  if (!health.ok) throw LifeboatError.saying('storeUnreachable', msg('MinIO ({0}) is still unreachable ({1}): stay on the local backend for now. Nothing was changed.', store.endpoint, health.error), { sent: false });
  await requireVersioning(store, signal);
  await requireNoLock(store, signal);

  let s3: TerraformStateV4 | undefined;
  let s3Invalid: string | undefined;
  try {
    const parsed = parseState(await store.read(undefined, signal));
    if (parsed.ok) s3 = parsed.state;
    else s3Invalid = parsed.reason;
  } catch (err) {
    if (!LifeboatError.is(err, 'versionNotFound')) throw err;
  }
  const newer = s3 !== undefined && s3.serial > local.state.serial;
  // Both sides wrote once since the fallback: the same serial with other content is a divergence, not a tie.
  const sameSerialOtherContent = s3 !== undefined && s3.serial === local.state.serial && !sameState(s3, local.state);
  if ((newer || sameSerialOtherContent) && !options.preferLocal) {
    const what = newer
      ? msg('the S3 state has serial {0}, newer than the local state\'s {1}: someone wrote to S3 after the fallback', s3!.serial, local.state.serial)
      : msg('the S3 state and the local state both have serial {0} but different contents: both were written after the fallback', local.state.serial);
    // `s3Conflict` lets each surface offer the explicit choice its own way (a dialog, --prefer-local).
    throw LifeboatError.saying('invalidState', msg('{0}. Nothing was changed. Compare them (--diff current with {1}); to send the local state anyway, choose it explicitly (--prefer-local): S3 keeps its version in its history.', what, localState), { s3Conflict: newer ? 'newer' : 'diverged', s3Serial: s3!.serial, localSerial: local.state.serial, localState });
  }
  // Roll forward over S3 when it is newer or diverged (explicit choice).
  const pushedSerial = s3 && (newer || sameSerialOtherContent) ? s3.serial + 1 : local.state.serial;
  const safety = safetyCopyPath(deps.root, env.name, now, local.state.serial);
  const facts: ReturnFacts = {
    environment: env.name, dir: env.dir, backendFile: env.backendPath, backendBackup: backup.path, localState,
    localSerial: local.state.serial, lineage: local.state.lineage, s3Serial: s3?.serial, s3Lineage: s3?.lineage, pushedSerial, safetyCopy: safety,
  };

  const steps: Step[] = [
    {
      id: 'preflight',
      title: msg('Check MinIO, the lock and the S3 serial again'),
      destructive: false,
      cancel: 'anytime',
      commands: [`GET ${store.endpoint}/${store.bucket}?versioning`, `GET ${store.endpoint}/${store.bucket}/${store.key}.tflock`, `GET ${store.endpoint}/${store.bucket}/${store.key}`],
      async run(ctx) {
        const h = await store.health(ctx.signal);
        if (!h.ok) throw LifeboatError.saying('storeUnreachable', msg('MinIO stopped answering: {0}', h.error), { sent: false });
        await requireVersioning(store, ctx.signal);
        await requireNoLock(store, ctx.signal);
        let serialNow: number | undefined;
        try {
          const p = parseState(await store.read(undefined, ctx.signal));
          serialNow = p.ok ? p.state.serial : undefined;
        } catch (err) {
          if (!LifeboatError.is(err, 'versionNotFound')) throw err;
        }
        if (serialNow !== facts.s3Serial) throw LifeboatError.saying('invalidState', msg('the S3 state changed since the plan (serial {0}, was {1}); nothing was changed', serialNow ?? 'none', facts.s3Serial ?? 'none'));
        return msg('MinIO answers, no lock, S3 serial {0}', serialNow ?? '-');
      },
    },
    {
      id: 'safety-copy',
      title: msg('Save the local state (serial {0}) to a safety copy', local.state.serial),
      destructive: false,
      cancel: 'anytime',
      commands: [`cp ${localState} ${safety} && sha256sum ${safety} > ${safety}.sha256`],
      async run(ctx) {
        const body = await fs.readFile(localState);
        if (sha256(body) !== sha256(local.body)) throw LifeboatError.saying('invalidState', msg('{0} changed since the plan; nothing was changed', localState));
        const copy = await writeSafetyCopy(safety, body);
        ctx.facts.set('safetyPoint', copy.path);
        return msg('Safety copy {0} (sha256 {1}, verified)', copy.path, copy.sha256.slice(0, 16));
      },
    },
  ];
  if (pushedSerial !== local.state.serial) {
    steps.push({
      id: 'bump-serial',
      title: msg('Set the local serial to {0} so it rolls forward over the S3 state (serial {1})', pushedSerial, s3?.serial ?? '-'),
      destructive: true,
      cancel: 'between-steps',
      commands: [`jq '.serial = ${pushedSerial}' ${localState}`],
      effect: msg('The safety copy keeps the original'),
      async run(ctx) {
        await fs.writeFile(localState, serializeState({ ...local.state, serial: pushedSerial }));
        ctx.facts.set('serialBumped', 'true');
        return msg('Local serial {0} → {1}', local.state.serial, pushedSerial);
      },
    });
  }
  steps.push({
    id: 'restore-backend',
    title: msg('Put backend.tf back from {0}', path.basename(backup.path)),
    destructive: true,
    cancel: 'between-steps',
    commands: [`cp ${backup.path} ${env.backendPath}`],
    effect: msg('The s3 backend is active again; the local backend file is kept as {0}', `${env.backendPath}${BACKUP_SUFFIX}local-${fileTimestamp(now)}.bak`),
    async run(ctx) {
      const asideLocal = `${env.backendPath!}${BACKUP_SUFFIX}local-${fileTimestamp(now)}.bak`;
      await copyVerified(env.backendPath!, asideLocal);
      await fs.writeFile(env.backendPath!, backup.text);
      ctx.facts.set('backendRestored', 'true');
      ctx.facts.set('localBackendFile', asideLocal);
      const check = await readBackend(await fs.readFile(env.backendPath!, 'utf8'));
      if (check.type !== 's3') throw LifeboatError.saying('invalidState', msg('backend.tf has no active s3 backend after the restore'));
      return msg('backend.tf selects the s3 backend {0}', `${check.bucket ?? ''}/${check.key}`);
    },
  });
  const [init, plan] = terraformCheckSteps(env.dir, deps, [...TF_INIT_MIGRATE]);
  steps.push({ ...init!, title: msg('terraform init -migrate-state: copy the local state to S3') });
  steps.push({
    id: 'verify',
    title: msg('Read the S3 state back and compare'),
    destructive: false,
    cancel: 'anytime',
    commands: [`GET ${store.endpoint}/${store.bucket}/${store.key}`],
    async run(ctx) {
      const back = parseState(await store.read(undefined, ctx.signal));
      if (!back.ok) throw LifeboatError.saying('invalidState', msg('the S3 state read back is not valid ({0})', back.reason));
      if (back.state.serial !== pushedSerial || back.state.lineage !== local.state.lineage) {
        throw LifeboatError.saying('invalidState', msg('the S3 state read back has serial {0} and lineage {1}; expected {2} and {3}', back.state.serial, back.state.lineage, pushedSerial, local.state.lineage));
      }
      ctx.facts.set('migrated', 'true');
      // The local file must not be taken for the state later: move it aside.
      const aside = `${localState}${BACKUP_SUFFIX}returned-${fileTimestamp(now)}.bak`;
      await fs.rename(localState, aside);
      ctx.facts.set('localStateAside', aside);
      return msg('S3 holds serial {0}, lineage {1}; the local file is now {2}', back.state.serial, back.state.lineage, aside);
    },
  });
  steps.push(plan!);

  const warnings: Message[] = [];
  if (newer) warnings.push(msg('The S3 state (serial {0}) is NEWER than the local one ({1}); you chose the local state: S3 keeps the newer one in its history', s3!.serial, local.state.serial));
  if (sameSerialOtherContent) warnings.push(msg('The S3 state has the same serial ({0}) as the local one but other contents; you chose the local state: it is sent with serial {1}, and S3 keeps its version in its history', local.state.serial, pushedSerial));
  if (s3 && s3.lineage !== local.state.lineage) warnings.push(msg('The lineage of the S3 state ({0}) differs from the local one ({1})', s3.lineage, local.state.lineage));
  if (s3Invalid) warnings.push(msg('The current S3 state is not valid ({0}); it stays in the history', s3Invalid));
  return {
    plan: {
      id: `return-${env.name}-${Date.now().toString(36)}`,
      kind: 'restore-state',
      title: msg('Return {0} to its S3 backend', env.name),
      summary: [
        { label: msg('Environment'), value: `${env.name} (${env.dir})` },
        { label: msg('MinIO'), value: `${store.endpoint}/${store.bucket}/${store.key}` },
        { label: msg('Local state'), value: `${localState} (serial ${local.state.serial})` },
        { label: msg('S3 state'), value: s3 ? `serial ${s3.serial}` : s3Invalid ? 'invalid' : 'none' },
        { label: msg('backend.tf from'), value: backup.path },
        { label: msg('Safety copy'), value: safety },
      ],
      warnings,
      destroys: [],
      steps,
      nextSteps: [msg('Check the plan says No changes before anyone applies again')],
    },
    facts,
  };
}

/** What a failed return leaves behind. */
export function returnAftermath(f: ReturnFacts, facts: ReadonlyMap<string, string>): Message[] {
  const out: Message[] = [];
  if (facts.get('backendRestored') === 'true' && facts.get('migrated') !== 'true') {
    out.push(msg('backend.tf selects S3 again but the state may not have been migrated; to go back to the local backend: cp {0} {1} && terraform init -reconfigure', facts.get('localBackendFile') ?? '', f.backendFile));
  } else if (facts.get('migrated') === 'true') {
    out.push(msg('The state is in S3 (serial {0}); only the final plan did not complete', f.pushedSerial));
  } else {
    out.push(msg('backend.tf was not changed: the environment still uses the local state {0}', f.localState));
  }
  if (facts.get('serialBumped') === 'true') out.push(msg('The local serial was raised to {0}; the original is in {1}', f.pushedSerial, f.safetyCopy));
  return out;
}

export interface ImportCommand {
  readonly address: string;
  /** bpg/proxmox import id: `<node>/<vmid>`; undefined when no node runs a guest of that name. */
  readonly id: string | undefined;
  readonly command: string;
  /** Why the id is a placeholder, when it is. */
  readonly note: string | undefined;
  /** Why the address is a guess (no module block or module code says it), when it is one. */
  readonly assumed: string | undefined;
}

/** What the environment's own `*.tf` say about where guests live in the state. */
export interface TerraformLayout {
  /** `module "<name>" { for_each = …, source = … }` blocks; `resources` when the module's code could be read. */
  readonly modules: readonly { readonly name: string; readonly forEach: string | undefined; readonly source: string | undefined; readonly resources: readonly LayoutResource[] | undefined }[];
  /** Proxmox guest resources declared directly in the environment. */
  readonly resources: readonly LayoutResource[];
}

export interface LayoutResource {
  readonly type: string;
  readonly name: string;
  /** The `for_each` (or `count`) expression, as written. */
  readonly forEach: string | undefined;
}

const GUEST_TYPES = { qemu: 'proxmox_virtual_environment_vm', lxc: 'proxmox_virtual_environment_container' } as const;

async function terraformBlocks(dir: string): Promise<import('../config/hcl').HclBlock[]> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.tf')).sort();
  } catch {
    return [];
  }
  const blocks = [];
  for (const name of names) {
    try {
      blocks.push(...(await parseHcl(await fs.readFile(path.join(dir, name), 'utf8'))).body.blocks);
    } catch {
      // An unreadable file only makes the guide guess more.
    }
  }
  return blocks;
}

function expressionText(v: import('../config/hcl').HclValue | undefined): string | undefined {
  if (!v) return undefined;
  return v.kind === 'expression' ? v.text : v.kind === 'string' ? v.value : undefined;
}

function guestResources(blocks: readonly import('../config/hcl').HclBlock[]): LayoutResource[] {
  return blocks
    .filter((b) => b.type === 'resource' && (Object.values(GUEST_TYPES) as string[]).includes(b.labels[0] ?? ''))
    .map((b) => ({
      type: b.labels[0]!,
      name: b.labels[1] ?? '',
      forEach: expressionText(b.body.attributes.find((a) => a.key === 'for_each' || a.key === 'count')?.value),
    }));
}

/**
 * Reads the module blocks (and their `for_each`) and the guest resources of an environment's
 * `*.tf`, and, for a module whose `source` is a local folder, the guest resources in its code: the
 * real addresses the state used, where the repository says them.
 */
export async function readTerraformLayout(dir: string): Promise<TerraformLayout> {
  const blocks = await terraformBlocks(dir);
  const modules = [];
  for (const m of blocks.filter((b) => b.type === 'module' && b.labels[0])) {
    const source = expressionText(m.body.attributes.find((a) => a.key === 'source')?.value);
    const local = source && /^\.\.?\//.test(source) ? path.resolve(dir, source) : undefined;
    const code = local ? await terraformBlocks(local) : [];
    modules.push({
      name: m.labels[0]!,
      forEach: expressionText(m.body.attributes.find((a) => a.key === 'for_each' || a.key === 'count')?.value),
      source,
      resources: code.length ? guestResources(code) : undefined,
    });
  }
  return { modules, resources: guestResources(blocks) };
}

/** `for_each = var.vms` (or `local.vms`, `merge(var.vms, …)`) iterates over the tfvars map `collection`. */
function iterates(forEach: string | undefined, collection: string): boolean {
  return forEach !== undefined && new RegExp(`\\b${collection}\\b`).test(forEach);
}

/** Where a guest of the tfvars map `collection` lives in the state, from the layout; a guess, said so, otherwise. */
function guestAddress(layout: TerraformLayout, collection: 'vms' | 'containers', guest: string, type: 'qemu' | 'lxc'): { address: string; assumed: string | undefined } {
  const resourceType = GUEST_TYPES[type];
  const key = JSON.stringify(guest);
  const direct = layout.resources.find((r) => r.type === resourceType && iterates(r.forEach, collection));
  if (direct) return { address: `${direct.type}.${direct.name}[${key}]`, assumed: undefined };
  const module = layout.modules.find((m) => iterates(m.forEach, collection));
  if (module) {
    const inner = module.resources?.filter((r) => r.type === resourceType) ?? [];
    if (inner.length === 1 && !inner[0]!.forEach) return { address: `module.${module.name}[${key}].${resourceType}.${inner[0]!.name}`, assumed: undefined };
    return {
      address: `module.${module.name}[${key}].${resourceType}.this`,
      assumed: module.resources ? `the code of module.${module.name} declares ${inner.length} ${resourceType} resources: check the name` : `module.${module.name}'s code (${module.source ?? '?'}) could not be read: the resource name "this" is assumed`,
    };
  }
  return { address: `module.${collection}[${key}].${resourceType}.this`, assumed: `no module or resource iterating over ${collection} in the environment's *.tf: the address follows the usual layout` };
}

function moduleAddress(layout: TerraformLayout, env: EnvironmentConfig, module: string, type: 'qemu' | 'lxc', fallbackName: string): { address: string; assumed: string | undefined } {
  const resourceType = GUEST_TYPES[type];
  const found = layout.modules.find((m) => m.name === module);
  const inner = found?.resources?.filter((r) => r.type === resourceType) ?? [];
  if (found && inner.length === 1 && !inner[0]!.forEach) return { address: `module.${module}.${resourceType}.${inner[0]!.name}`, assumed: undefined };
  return {
    address: `module.${module}.${resourceType}.${fallbackName}`,
    assumed: found?.resources ? `the code of module.${module} declares ${inner.length} ${resourceType} resources: check the name` : `module.${module}'s code could not be read${env.modules.includes(module) ? '' : ' (no module block found)'}: the resource name "${fallbackName}" is assumed`,
  };
}

/**
 * The `terraform import` commands that rebuild a lost state: one per guest declared in tfvars and,
 * in the environment that has them, the `minio` and `monitoring_stack` modules. Addresses come from
 * the environment's module blocks (`readTerraformLayout`) where it says them, else follow the usual
 * layout and are marked `assumed`; VMIDs and nodes come from the nodes' inventory by name.
 */
export function importGuide(env: EnvironmentConfig, guests: readonly { vmid: number; name: string | undefined; node: string; type: 'qemu' | 'lxc' }[], layout: TerraformLayout = { modules: [], resources: [] }): ImportCommand[] {
  const entries: { address: string; assumed: string | undefined; name: string; type: 'qemu' | 'lxc'; vmid: number | undefined }[] = [];
  for (const g of env.guests) {
    const type = g.kind === 'vm' ? 'qemu' : 'lxc';
    entries.push({ ...guestAddress(layout, g.kind === 'vm' ? 'vms' : 'containers', g.name, type), name: g.name, type, vmid: g.vmid });
  }
  if (env.modules.includes('minio') && env.minio) entries.push({ ...moduleAddress(layout, env, 'minio', 'lxc', 'minio'), name: 'minio', type: 'lxc', vmid: undefined });
  if (env.modules.includes('monitoring_stack') && env.monitoring) entries.push({ ...moduleAddress(layout, env, 'monitoring_stack', 'qemu', 'monitoring'), name: 'monitoring', type: 'qemu', vmid: undefined });
  return entries.map((e) => {
    const live = guests.find((g) => (e.vmid !== undefined ? g.vmid === e.vmid : g.name === e.name && g.type === e.type));
    const id = live ? `${live.node}/${live.vmid}` : undefined;
    return {
      address: e.address,
      id,
      command: `terraform import '${e.address}' ${id ?? `<node>/<vmid of ${e.name}>`}`,
      note: live ? undefined : `no guest named ${e.name} on the nodes that could be read`,
      assumed: e.assumed,
    };
  });
}
