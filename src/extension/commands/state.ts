/**
 * Terraform state recovery in VS Code: open a version read-only, compare two versions in the
 * native diff editor with a resource-level summary, restore a version as a roll-forward, fall back
 * to a local backend and return. The core plans; these commands ask, confirm and show.
 */
import * as vscode from 'vscode';
import {
  LifeboatError, compareWithInventory, diffStates, fallbackAftermath, parseState, planFallback, planReturn,
  planStateRestore, returnAftermath, stateRestoreAftermath, type EnvironmentConfig, type StateDeps, type StateDiff, type StateVersion,
} from '../../core';
import type { Services } from '../services';
import type { RecoveryNode } from '../views/recoveryTree';
import { confirmPlan, runWithProgress, type ProcedureOutcome } from '../platform/runPlan';
import { requireTrust } from '../platform/trust';

type VersionNode = Extract<RecoveryNode, { kind: 'stateVersion' }>;

function label(v: StateVersion): string {
  return `${v.lastModified.toISOString().slice(0, 19).replace('T', '_')}${v.meta?.serial !== undefined ? `-serial${v.meta.serial}` : ''}`;
}

/** The environment: from a tree item, `{ env }` arguments (CodeLens), or a quick pick. */
async function pickEnvironment(s: Services, arg?: { env?: string | EnvironmentConfig }, onlyS3 = true): Promise<EnvironmentConfig | undefined> {
  const envs = (await s.state.environments()).filter((e) => !onlyS3 || e.backend.type === 's3' || e.backend.commentedOut);
  if (arg?.env) {
    const name = typeof arg.env === 'string' ? arg.env : arg.env.name;
    return envs.find((e) => e.name === name) ?? (await s.state.environment(name));
  }
  if (envs.length === 1) return envs[0];
  const pick = await vscode.window.showQuickPick(envs.map((e) => ({ label: e.name, description: e.backend.type === 's3' ? `s3://${e.backend.bucket ?? '?'}/${e.backend.key}` : vscode.l10n.t('local backend (S3 commented out)'), env: e })), { title: vscode.l10n.t('Which environment?'), ignoreFocusOut: true });
  return pick?.env;
}

async function versionsOrSay(s: Services, env: EnvironmentConfig): Promise<StateVersion[] | undefined> {
  if (!(await s.state.store(env, true))) return undefined;
  return s.state.versions(env);
}

async function pickVersion(s: Services, env: EnvironmentConfig, title: string, exclude?: string): Promise<StateVersion | undefined> {
  const versions = await versionsOrSay(s, env);
  if (!versions) return undefined;
  const pick = await vscode.window.showQuickPick(
    versions.filter((v) => !v.isDeleteMarker && v.versionId !== exclude).map((v) => ({
      label: `${v.isLatest ? '$(pass-filled) ' : ''}${v.lastModified.toISOString().replace('T', ' ').slice(0, 19)}`,
      description: [v.meta?.valid ? `serial ${v.meta.serial ?? '?'} · ${v.meta.resourceCount} res.` : v.meta ? vscode.l10n.t('INVALID') : undefined, v.isLatest ? vscode.l10n.t('current') : undefined].filter(Boolean).join(' · '),
      detail: v.versionId,
      v,
    })),
    { title, ignoreFocusOut: true, matchOnDetail: true },
  );
  return pick?.v;
}

export const showStateVersions = (s: Services) => async (arg?: { env?: string }) => {
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
  const env = node?.env ?? (await pickEnvironment(s));
  if (!env) return;
  const versions = await versionsOrSay(s, env);
  const current = versions?.find((v) => v.isLatest && !v.isDeleteMarker);
  const chosen = node?.version ?? (await pickVersion(s, env, vscode.l10n.t('Compare which version with the current one?'), current?.versionId));
  if (!chosen || !current) return;
  await showDiff(s, env, chosen, current);
};

export const compareStateWith = (s: Services) => async (node?: VersionNode) => {
  const env = node?.env ?? (await pickEnvironment(s));
  if (!env) return;
  const first = node?.version ?? (await pickVersion(s, env, vscode.l10n.t('First version')));
  if (!first) return;
  const second = await pickVersion(s, env, vscode.l10n.t('Compare {0} with…', label(first)), first.versionId);
  if (second) await showDiff(s, env, first, second);
};

/** The native diff editor (older on the left) and a resource-level summary, also in the log. */
async function showDiff(s: Services, env: EnvironmentConfig, a: StateVersion, b: StateVersion): Promise<void> {
  const [older, newer] = a.lastModified <= b.lastModified ? [a, b] : [b, a];
  await vscode.commands.executeCommand('vscode.diff', s.state.uriFor(env.name, older.versionId, label(older)), s.state.uriFor(env.name, newer.versionId, label(newer)), vscode.l10n.t('{0} state: {1} ↔ {2}', env.name, label(older), label(newer)));
  const store = await s.state.store(env, false);
  if (!store) return;
  const [pa, pb] = await Promise.all([store.store.read(older.versionId), store.store.read(newer.versionId)].map(async (p) => parseState(await p)));
  if (!pa?.ok || !pb?.ok) {
    void vscode.window.showWarningMessage(vscode.l10n.t('One of the two versions is not a valid Terraform state: only the text diff is shown.'));
    return;
  }
  const d = diffStates(pa.state, pb.state);
  logDiff(s, d, older, newer);
  const inventory = s.inventory.cached;
  const vsNodes = inventory ? compareWithInventory(pb.state, inventory, env.guests) : undefined;
  void vscode.window.showInformationMessage(
    vscode.l10n.t('From {0} to {1}: {2} added, {3} removed, {4} changed, {5} unchanged (details in the Lifeboat log).', label(older), label(newer), d.added.length, d.removed.length, d.changed.length, d.unchanged)
      + (vsNodes ? ' ' + vscode.l10n.t('The newer version has {0} guest(s) the nodes do not run; the nodes run {1} it does not have.', vsNodes.missingOnNodes.length, vsNodes.missingInState.length) : ''),
  );
}

function logDiff(s: Services, d: StateDiff, a: StateVersion, b: StateVersion): void {
  s.log.info(`state diff ${a.versionId} → ${b.versionId}: serial ${d.serial.from} → ${d.serial.to}${d.lineageDiffers ? ' (LINEAGE DIFFERS)' : ''}`);
  for (const x of d.added) s.log.info(`  + ${x}`);
  for (const x of d.removed) s.log.info(`  - ${x}`);
  for (const x of d.changed) s.log.info(`  ~ ${x.address} (${x.attributes.join(', ')})`);
}

async function stateDeps(s: Services, env: EnvironmentConfig): Promise<StateDeps | undefined> {
  const st = await s.state.store(env, true);
  if (!st) return undefined;
  const root = (await s.discovery.discoveries()).find((d) => d.environments.includes(env))?.root ?? process.cwd();
  return { store: st.store, terraform: s.state.terraform, log: s.log, root, processEnv: process.env, credentials: await s.state.credentials(env, false) };
}

async function planAndRun<F>(
  s: Services,
  env: EnvironmentConfig,
  makePlan: (deps: StateDeps) => Promise<{ plan: import('../../core').Plan; facts: F }>,
  aftermath: (facts: F, stepFacts: ReadonlyMap<string, string>) => import('../../core').Message[],
  action: string,
): Promise<ProcedureOutcome> {
  const deps = await stateDeps(s, env);
  if (!deps) return { status: 'refused' };
  let planned: { plan: import('../../core').Plan; facts: F };
  try {
    planned = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Preparing the plan (read-only checks)…') }, () => makePlan(deps));
  } catch (err) {
    if (LifeboatError.is(err)) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Refused for {0}: {1}', env.name, err.message));
      s.log.warn(`${env.name}: refused: ${err.reason}: ${err.message}`);
      return { status: 'refused' };
    }
    throw err;
  }
  if (!(await confirmPlan(planned.plan, action))) return { status: 'not-confirmed' };
  const report = await runWithProgress(s, planned.plan, deps.root, (stepFacts) => aftermath(planned.facts, stepFacts));
  s.state.refresh(env.name);
  s.discovery.refresh();
  return { status: report.status, reportFile: report.reportFile };
}

export const restoreStateVersion = (s: Services) => async (node?: VersionNode | { env?: string }): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const env = node && 'version' in node ? node.env : await pickEnvironment(s, node);
  if (!env) return { status: 'not-confirmed' };
  const version = node && 'version' in node ? node.version : await pickVersion(s, env, vscode.l10n.t('Restore which version of the {0} state?', env.name));
  if (!version) return { status: 'not-confirmed' };
  return planAndRun(s, env, (deps) => planStateRestore({ version: version.versionId }, env, deps), stateRestoreAftermath, vscode.l10n.t('Restore This Version'));
};

export const fallBackToLocal = (s: Services) => async (arg?: { env?: string }): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const env = await pickEnvironment(s, arg);
  if (!env) return { status: 'not-confirmed' };
  return planAndRun(s, env, (deps) => planFallback(env, deps), fallbackAftermath, vscode.l10n.t('Switch to Local Backend'));
};

export const returnToS3 = (s: Services) => async (arg?: { env?: string }): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const env = await pickEnvironment(s, arg);
  if (!env) return { status: 'not-confirmed' };
  return planAndRun(s, env, (deps) => planReturn(env, deps, {}), returnAftermath, vscode.l10n.t('Return to S3'));
};
