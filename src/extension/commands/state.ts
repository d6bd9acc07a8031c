/**
 * Terraform state recovery in VS Code: open a version read-only, compare two versions in the
 * native diff editor with a resource-level summary, restore a version as a roll-forward, fall back
 * to a local backend and return, the import guide for a lost state, and the S3 credentials kept
 * in SecretStorage. The core plans; these commands ask, confirm and show.
 */
import * as vscode from 'vscode';
import {
  declaredGuests, LifeboatError, compareWithInventory, diffStates, fallbackAftermath, importGuide, parseState, planFallback,
  planReturn, planStateRestore, readTerraformLayout, returnAftermath, stateLocation, stateRestoreAftermath,
  type EnvironmentConfig, type FallbackDeps, type Inventory, type Message, type Plan, type StateDeps, type StateVersion,
} from '../../core';
import { describeError } from '../../shared/errorText';
import type { Services } from '../services';
import type { RecoveryNode } from '../views/recoveryTree';
import { hasStateHistory, stateModeOf } from '../views/stateLook';
import { SECRET_STORAGE_SOURCE } from '../stateService';
import { confirmPlan, openReport, runWithProgress, type ProcedureOutcome } from '../platform/runPlan';
import { confirmDefaultNo } from '../platform/confirm';
import { requireTrust } from '../platform/trust';
import { diffCounts, diffSummaryMarkdown, importGuideMarkdown, versioningHelpMarkdown } from './stateDocs';

type VersionNode = Extract<RecoveryNode, { kind: 'stateVersion' }>;
type EnvArg = { env?: string | EnvironmentConfig };

/** Versions shown with their serial and resource count in a quick pick (each unread one is a GET). */
const PICK_META = 100;

function label(v: StateVersion): string {
  return `${v.lastModified.toISOString().slice(0, 19).replace('T', '_')}${v.meta?.serial !== undefined ? `-serial${v.meta.serial}` : ''}`;
}

/**
 * The environment: from a tree item, `{ env }` arguments (CodeLens, notices), or a quick pick of
 * those `eligible` says fit. A named environment is taken even when not eligible: the plan then
 * says why it refuses.
 */
async function pickEnvironment(s: Services, arg: EnvArg | undefined, eligible: (e: EnvironmentConfig) => boolean = hasStateHistory): Promise<EnvironmentConfig | undefined> {
  const all = await s.state.environments();
  if (arg?.env) {
    const name = typeof arg.env === 'string' ? arg.env : arg.env.name;
    return all.find((e) => e.name === name);
  }
  const envs = all.filter(eligible);
  if (envs.length === 1) return envs[0];
  if (envs.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No environment fits this command (none has an S3 backend in backend.tf, or none is in the right mode).'));
    return undefined;
  }
  const describe = (e: EnvironmentConfig) => {
    if (e.backend.type === 's3') return `s3://${e.backend.bucket ?? '?'}/${e.backend.key}`;
    return stateModeOf(e) === 'fallback' ? vscode.l10n.t('local fallback (S3 {0} set aside)', e.backend.commentedOut?.bucket ?? '?') : vscode.l10n.t('local backend (S3 commented out)');
  };
  const pick = await vscode.window.showQuickPick(envs.map((e) => ({ label: e.name, description: describe(e), env: e })), { title: vscode.l10n.t('Which environment?'), ignoreFocusOut: true });
  return pick?.env;
}

/** The versions, asking for credentials if needed; says so when there are none or they are refused. */
async function versionsOrSay(s: Services, env: EnvironmentConfig): Promise<StateVersion[] | undefined> {
  try {
    if (!(await s.state.store(env, true))) {
      void vscode.window.showWarningMessage(vscode.l10n.t('No S3 credentials for {0}: nothing to show.', stateLocation(env).endpoint));
      return undefined;
    }
    return await s.state.versions(env);
  } catch (err) {
    if (LifeboatError.is(err)) {
      await refused(s, env, err);
      return undefined;
    }
    throw err;
  }
}

async function pickVersion(s: Services, env: EnvironmentConfig, title: string, exclude?: string): Promise<StateVersion | undefined> {
  const listed = await versionsOrSay(s, env);
  if (!listed) return undefined;
  const withMeta = await s.state.withMeta(env, listed.slice(0, PICK_META));
  const versions = [...withMeta, ...listed.slice(PICK_META)];
  const pick = await vscode.window.showQuickPick(
    versions.filter((v) => !v.isDeleteMarker && v.versionId !== exclude).map((v) => ({
      label: `${v.isLatest ? '$(pass-filled) ' : ''}${v.lastModified.toISOString().replace('T', ' ').slice(0, 19)}`,
      description: [
        v.meta?.valid ? vscode.l10n.t('serial {0} · {1} resources', v.meta.serial ?? '?', v.meta.resourceCount) : v.meta ? vscode.l10n.t('INVALID') : vscode.l10n.t('not read yet'),
        v.isLatest ? vscode.l10n.t('current') : undefined,
      ].filter(Boolean).join(' · '),
      detail: v.versionId,
      v,
    })),
    { title, ignoreFocusOut: true, matchOnDetail: true },
  );
  return pick?.v;
}

export const showStateVersions = (s: Services) => async (arg?: EnvArg) => {
  const env = await pickEnvironment(s, arg);
  if (!env) return;
  const v = await pickVersion(s, env, vscode.l10n.t('State versions of {0} — pick one to open it', env.name));
  if (v) await openVersion(s, env, v);
};

async function openVersion(s: Services, env: EnvironmentConfig, v: StateVersion): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(s.state.uriFor(env.name, v.versionId, label(v)));
  await vscode.languages.setTextDocumentLanguage(doc, 'json');
  await vscode.window.showTextDocument(doc, { preview: true });
}

export const openStateVersion = (s: Services) => async (node?: VersionNode) => {
  if (node) return openVersion(s, node.env, node.version);
  return showStateVersions(s)();
};

export const compareStateWithCurrent = (s: Services) => async (node?: VersionNode) => {
  const env = node?.env ?? (await pickEnvironment(s, undefined));
  if (!env) return;
  const versions = await versionsOrSay(s, env);
  const current = versions?.find((v) => v.isLatest && !v.isDeleteMarker);
  if (versions && !current) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The current version of the {0} state is a delete marker: compare two versions with "Compare with…".', env.name));
    return;
  }
  const chosen = node?.version ?? (await pickVersion(s, env, vscode.l10n.t('Compare which version with the current one?'), current?.versionId));
  if (!chosen || !current) return;
  await showDiff(s, env, chosen, current);
};

export const compareStateWith = (s: Services) => async (node?: VersionNode) => {
  const env = node?.env ?? (await pickEnvironment(s, undefined));
  if (!env) return;
  const first = node?.version ?? (await pickVersion(s, env, vscode.l10n.t('First version')));
  if (!first) return;
  const second = await pickVersion(s, env, vscode.l10n.t('Compare {0} with…', label(first)), first.versionId);
  if (second) await showDiff(s, env, first, second);
};

/**
 * The native diff editor (older on the left) titled with the resource counts, and the
 * resource-level summary (addresses added, removed, changed; each side against the nodes) as a
 * Markdown document one click away.
 */
async function showDiff(s: Services, env: EnvironmentConfig, a: StateVersion, b: StateVersion): Promise<void> {
  const [older, newer] = a.lastModified <= b.lastModified ? [a, b] : [b, a];
  const left = s.state.uriFor(env.name, older.versionId, label(older));
  const right = s.state.uriFor(env.name, newer.versionId, label(newer));
  const title = vscode.l10n.t('{0} state: {1} ↔ {2}', env.name, label(older), label(newer));
  const store = await s.state.store(env, false);
  const [pa, pb] = store ? await Promise.all([store.store.read(older.versionId), store.store.read(newer.versionId)].map(async (p) => parseState(await p))) : [undefined, undefined];
  if (!pa?.ok || !pb?.ok) {
    await vscode.commands.executeCommand('vscode.diff', left, right, title);
    void vscode.window.showWarningMessage(vscode.l10n.t('One of the two versions is not a valid Terraform state: only the text diff is shown.'));
    return;
  }
  const d = diffStates(pa.state, pb.state);
  await vscode.commands.executeCommand('vscode.diff', left, right, `${title} (${diffCounts(d)})`);
  s.log.info(`state diff ${older.versionId} → ${newer.versionId}: serial ${d.serial.from} → ${d.serial.to}${d.lineageDiffers ? ' (LINEAGE DIFFERS)' : ''}: ${diffCounts(d)}`);
  const inventory = s.inventory.cached;
  const side = (v: StateVersion, state: typeof pa.state) => ({ label: label(v), versionId: v.versionId, vsNodes: inventory ? compareWithInventory(state, inventory, declaredGuests(env)) : undefined });
  const from = side(older, pa.state);
  const to = side(newer, pb.state);
  const summary = vscode.l10n.t('From {0} to {1}: {2} added, {3} removed, {4} changed, {5} unchanged.', label(older), label(newer), d.added.length, d.removed.length, d.changed.length, d.unchanged)
    + (to.vsNodes ? ' ' + vscode.l10n.t('Against the nodes: the older version lacks {0} and has {1} extra guest(s); the newer one lacks {2} and has {3} extra.', from.vsNodes?.missingInState.length ?? 0, from.vsNodes?.missingOnNodes.length ?? 0, to.vsNodes.missingInState.length, to.vsNodes.missingOnNodes.length) : '');
  const open = vscode.l10n.t('Show Resource Summary');
  // Don't wait: the toast stays while the operator reads the diff.
  void vscode.window.showInformationMessage(summary, open).then(async (choice) => {
    if (choice !== open) return;
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: diffSummaryMarkdown(env.name, from, to, d, vscode.l10n.t) });
    // A tab of its own next to the diff (not a preview, which would replace the diff's tab).
    await vscode.window.showTextDocument(doc, { preview: false });
  });
}

/** The S3 side of a state command; `store` undefined when there are no credentials and the command can do without. */
async function stateDeps(s: Services, env: EnvironmentConfig, storeOptional: boolean): Promise<FallbackDeps | undefined> {
  const root = (await s.discovery.discoveries()).find((d) => d.environments.includes(env))?.root ?? process.cwd();
  const base = { terraform: s.state.terraform, log: s.log, root, processEnv: process.env };
  const st = await s.state.store(env, true);
  if (!st) {
    if (storeOptional) return { ...base, store: undefined, credentials: undefined };
    void vscode.window.showWarningMessage(vscode.l10n.t('No S3 credentials for {0}: nothing was changed.', stateLocation(env).endpoint));
    return undefined;
  }
  return { ...base, store: st.store, credentials: st.credentials };
}

type Planned<F> = { plan: Plan; facts: F };
type MakePlan<F> = (deps: FallbackDeps) => Promise<Planned<F>>;

interface PlanAndRunOptions<F> {
  /** The command works without S3 (the fallback: MinIO "not usable"). */
  readonly storeOptional?: boolean;
  /**
   * A refusal this command can turn into a question (the return's "S3 is newer"): resolves to
   * another way to plan after the operator's explicit choice, or undefined to stop.
   */
  readonly onRefusal?: (err: LifeboatError) => Promise<MakePlan<F> | 'stop' | undefined>;
}

async function planAndRun<F>(
  s: Services,
  env: EnvironmentConfig,
  makePlan: MakePlan<F>,
  aftermath: (facts: F, stepFacts: ReadonlyMap<string, string>) => Message[],
  action: string,
  options: PlanAndRunOptions<F> = {},
): Promise<ProcedureOutcome> {
  let planned: Planned<F> | undefined;
  let deps: FallbackDeps | undefined;
  let attempt: MakePlan<F> | undefined = makePlan;
  while (attempt && !planned) {
    const current: MakePlan<F> = attempt;
    attempt = undefined;
    try {
      // Inside the try: an environment whose backend cannot be located is refused, not a crash.
      deps = await stateDeps(s, env, options.storeOptional === true);
      if (!deps) return { status: 'refused' };
      const ready: FallbackDeps = deps;
      planned = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Preparing the plan (read-only checks)…') }, () => current(ready));
    } catch (err) {
      if (!LifeboatError.is(err)) throw err;
      const next = await options.onRefusal?.(err);
      if (next === 'stop') return { status: 'not-confirmed' };
      if (next) {
        attempt = next;
        continue;
      }
      if (err.reason === 'authFailed') {
        // MinIO answers: no fallback, no plan on these credentials; new ones plan again.
        if (await offerOtherCredentials(s, env, err)) {
          attempt = current;
          continue;
        }
        return { status: 'refused' };
      }
      if (err.reason === 'storeUnreachable' && err.details['stateLost'] === true) {
        await showImportGuide(s, env, describeError(err, vscode.l10n.t));
        return { status: 'refused' };
      }
      await refused(s, env, err);
      return { status: 'refused' };
    }
  }
  if (!planned || !deps) return { status: 'refused' };
  const done = planned;
  if (!(await confirmPlan(done.plan, action))) return { status: 'not-confirmed' };
  const report = await runWithProgress(s, done.plan, deps.root, (stepFacts) => aftermath(done.facts, stepFacts));
  s.state.refresh(env.name);
  s.discovery.refresh();
  await warnIfPlanDestroys(report, report.reportFile);
  return { status: report.status, reportFile: report.reportFile };
}

async function refused(s: Services, env: EnvironmentConfig, err: LifeboatError): Promise<void> {
  s.log.warn(`${env.name}: refused: ${err.reason}: ${err.message}`);
  if (err.reason === 'authFailed') {
    await offerOtherCredentials(s, env, err);
    return;
  }
  const showLog = vscode.l10n.t('Show Log');
  // Don't wait: the command resolves with its outcome (the runbook's "Run with Lifeboat" awaits it).
  void vscode.window.showErrorMessage(vscode.l10n.t('Refused for {0}: {1}', env.name, describeError(err, vscode.l10n.t)), showLog).then((choice) => {
    if (choice === showLog) s.log.show(true);
  });
}

/**
 * MinIO answered and refused the credentials: say so (it is not down), and offer to replace the
 * ones kept in SecretStorage. Resolves true when new ones were entered.
 */
async function offerOtherCredentials(s: Services, env: EnvironmentConfig, err: LifeboatError): Promise<boolean> {
  const source = await s.state.credentialSource(env);
  const replace = vscode.l10n.t('Enter Other Credentials');
  if (source !== SECRET_STORAGE_SOURCE) {
    void vscode.window.showErrorMessage(vscode.l10n.t('MinIO refused the S3 credentials of {0} (from {1}); nothing was changed. Correct them there and try again. {2}', env.name, source ?? '-', describeError(err, vscode.l10n.t)));
    return false;
  }
  const choice = await vscode.window.showErrorMessage(vscode.l10n.t('MinIO refused the S3 credentials kept for {0}; nothing was changed. {1}', stateLocation(env).endpoint, describeError(err, vscode.l10n.t)), replace);
  if (choice !== replace) return false;
  return (await s.state.askCredentials(env)) !== undefined;
}

/**
 * When the plan after the run would destroy anything: a modal that lists the addresses and says
 * not to apply. Its only button opens the report; closing it does nothing.
 */
async function warnIfPlanDestroys(report: { facts: Readonly<Record<string, string>> } & Parameters<typeof openReport>[0], reportFile: string | undefined): Promise<void> {
  const destroy = Number(report.facts['planDestroy'] ?? 0);
  if (!(destroy > 0)) return;
  const show = vscode.l10n.t('Show Report');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('DO NOT APPLY: terraform plan would destroy {0} resource(s).', destroy),
    { modal: true, detail: [report.facts['planSummary'] ?? '', '', ...(report.facts['planDestroyed'] ?? '').split(', ').filter(Boolean).map((a) => `− ${a}`), '', vscode.l10n.t('Lifeboat never applies. Look at the plan and the state before anyone runs terraform apply.')].join('\n') },
    show,
  );
  if (choice === show) await openReport(report, reportFile);
}

export const restoreStateVersion = (s: Services) => async (node?: VersionNode | EnvArg): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const env = node && 'version' in node ? node.env : await pickEnvironment(s, node);
  if (!env) return { status: 'not-confirmed' };
  const version = node && 'version' in node ? node.version : await pickVersion(s, env, vscode.l10n.t('Restore which version of the {0} state?', env.name));
  if (!version) return { status: 'not-confirmed' };
  return planAndRun(s, env, (deps) => planStateRestore({ version: version.versionId }, env, withStore(deps)), stateRestoreAftermath, vscode.l10n.t('Restore This Version'));
};

/** The deps of a command that needs S3 (stateDeps asked for it: the store is there). */
function withStore(deps: FallbackDeps): StateDeps {
  if (!deps.store) throw new LifeboatError('authFailed', 'no S3 credentials', {});
  return { ...deps, store: deps.store };
}

export const fallBackToLocal = (s: Services) => async (arg?: EnvArg): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const env = await pickEnvironment(s, arg, (e) => stateModeOf(e) === 's3');
  if (!env) return { status: 'not-confirmed' };
  // Without credentials (Escape at the question) MinIO is "not usable": the plan says so and uses the local copy.
  return planAndRun(s, env, (deps) => planFallback(env, deps), fallbackAftermath, vscode.l10n.t('Switch to Local Backend'), { storeOptional: true });
};

export const returnToS3 = (s: Services) => async (arg?: EnvArg): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const env = await pickEnvironment(s, arg, (e) => stateModeOf(e) === 'fallback');
  if (!env) return { status: 'not-confirmed' };
  return planAndRun(s, env, (deps) => planReturn(env, withStore(deps), {}), returnAftermath, vscode.l10n.t('Return to S3'), {
    onRefusal: async (err) => {
      const conflict = err.details['s3Conflict'];
      if (conflict !== 'newer' && conflict !== 'diverged') return undefined;
      const s3Serial = String(err.details['s3Serial']);
      const localSerial = String(err.details['localSerial']);
      const message = conflict === 'newer'
        ? vscode.l10n.t('The S3 state of {0} (serial {1}) is newer than the local one (serial {2}): someone wrote to S3 after the fallback.', env.name, s3Serial, localSerial)
        : vscode.l10n.t('The S3 state of {0} and the local one both have serial {1} but different contents: both were written after the fallback.', env.name, localSerial);
      const detail = vscode.l10n.t('Nothing was changed. Compare them first: open the current S3 version from the Recovery explorer and the local file {0}. If you send the local state anyway, it becomes the new current S3 version with a higher serial, and the S3 one stays in the history.', String(err.details['localState'] ?? 'terraform.tfstate'));
      const chosen = await confirmDefaultNo(message, vscode.l10n.t('Send the Local State Anyway'), detail);
      return chosen ? (deps) => planReturn(env, withStore(deps), { preferLocal: true }) : 'stop';
    },
  });
};

/** The nodes' inventory for a guide: the cached one, else read now (the VMIDs stay placeholders if it fails). */
async function inventoryForGuide(s: Services): Promise<Inventory | undefined> {
  if (s.inventory.cached) return s.inventory.cached;
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Reading the nodes for the import guide…') }, () => s.inventory.inventory());
  } catch {
    return undefined;
  }
}

/** Opens the `terraform import` guide of an environment as a Markdown document. */
async function showImportGuide(s: Services, env: EnvironmentConfig, reason: string): Promise<void> {
  const inventory = await inventoryForGuide(s);
  const guests = (inventory?.guests ?? []).map((g) => ({ vmid: g.vmid, name: g.name, node: g.node, type: g.type }));
  const imports = importGuide(env, guests, await readTerraformLayout(env.dir));
  const content = importGuideMarkdown({ env: env.name, dir: env.dir, reason, imports, withNodes: inventory !== undefined }, vscode.l10n.t);
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(doc, { preview: false });
  void vscode.window.showErrorMessage(vscode.l10n.t('The Terraform state of {0} cannot be recovered from MinIO or a local copy: the import guide is open. Nothing was changed.', env.name));
}

export const showStateImportGuide = (s: Services) => async (arg?: EnvArg) => {
  const env = await pickEnvironment(s, arg, () => true);
  if (!env) return;
  await showImportGuide(s, env, vscode.l10n.t('Opened on request: use it only if neither MinIO nor a local copy holds the state of {0}.', env.name));
};

export const enterS3Credentials = (s: Services) => async (arg?: EnvArg) => {
  const env = await pickEnvironment(s, arg);
  if (!env) return;
  const source = await s.state.credentialSource(env);
  if (source && source !== SECRET_STORAGE_SOURCE) {
    void vscode.window.showInformationMessage(vscode.l10n.t('The S3 credentials of {0} come from {1}: change them there (they take precedence over SecretStorage).', env.name, source));
    return;
  }
  if (await s.state.askCredentials(env)) s.state.refresh(env.name);
};

export const forgetS3Credentials = (s: Services) => async () => {
  const forgotten = await s.state.forgetCredentials();
  const fromElsewhere = (await Promise.all((await s.state.environments()).filter(hasStateHistory).map((e) => s.state.credentialSource(e)))).find((x) => x !== undefined && x !== SECRET_STORAGE_SOURCE);
  if (forgotten.length) void vscode.window.showInformationMessage(vscode.l10n.t('S3 credentials forgotten for {0}. Lifeboat asks again the next time it needs them.', forgotten.join(', ')));
  else void vscode.window.showInformationMessage(vscode.l10n.t('No S3 credentials were kept in SecretStorage.'));
  if (fromElsewhere) void vscode.window.showInformationMessage(vscode.l10n.t('The credentials in use come from {0}: Lifeboat cannot forget those; change them there.', fromElsewhere));
};

export const showVersioningHelp = (s: Services) => async (arg?: EnvArg) => {
  const env = await pickEnvironment(s, arg);
  if (!env) return;
  const location = stateLocation(env);
  const status = (await s.state.listing(env).catch(() => undefined))?.versioning;
  const content = versioningHelpMarkdown(location.bucket, location.endpoint, status ?? vscode.l10n.t('not checked'), vscode.l10n.t);
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(doc, { preview: true });
};
