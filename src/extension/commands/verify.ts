/**
 * "Lifeboat: Verify Backups" (palette, explorer title, the `backup` block's CodeLens with `{ env }`):
 * a fresh read of the nodes, then the core's verification under a cancellable progress
 * notification; the result goes to the Problems panel, the explorer (corrupt flags, badge) and a
 * Markdown report document. Read-only on the nodes; writes the checksum manifest and the report
 * under `.lifeboat/` in the repository.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  errorArg, loadInventory, readManifest, stateLocation, verifyBackups as runVerification, verifyMarkdown, verifySummary, writeManifest,
  type EnvironmentConfig, type StateStoreLookup, type VerifyResult,
} from '../../core';
import type { Services } from '../services';
import { verifyStatus } from '../diagnostics/findings';
import { toAbortSignal, type ProcedureOutcome } from '../platform/runPlan';
import { requireTrust } from '../platform/trust';

export interface VerifyArgs {
  readonly env?: string;
  readonly vmid?: number;
  readonly full?: boolean;
  readonly reread?: boolean;
}

type VerifyMode = { readonly full: boolean; readonly reread: boolean };

/**
 * Resolves to the procedure's outcome for the runbook's "Run with Lifeboat": errors (a corrupt or
 * missing archive, a guest never backed up, no current state…) fail the step, because the backups
 * the next steps rely on cannot be trusted; warnings (stale backups, a disabled job, state versions
 * not verified) succeed with the report, because the verification itself did its job and what it
 * found is for the operator to read — the report opens and the warnings are in the Problems panel.
 */
export const verifyBackups = (s: Services) => async (arg?: VerifyArgs): Promise<ProcedureOutcome & { readonly result?: VerifyResult }> => {
  if (!requireTrust()) return { status: 'refused' };
  const discoveries = await s.discovery.discoveries();
  const environments = discoveries.flatMap((d) => d.environments);
  const env = typeof arg?.env === 'string' ? arg.env : undefined;
  const discovery = discoveries.find((d) => !env || d.environments.some((e) => e.name === env)) ?? discoveries[0];
  if (!discovery || environments.length === 0) {
    void vscode.window.showWarningMessage(vscode.l10n.t('No environment found in this workspace: nothing to verify.'));
    return { status: 'refused' };
  }
  const mode: VerifyMode | undefined = arg?.full !== undefined || arg?.reread !== undefined ? { full: Boolean(arg.full), reread: Boolean(arg.reread) } : await askMode();
  if (!mode) return { status: 'not-confirmed' };
  const root = discovery.root;
  const nodes = await s.inventory.nodes();
  const pool = s.inventory.shellPool();
  const rpoFallbackHours = vscode.workspace.getConfiguration('lifeboat').get<number>('backup.rpoHours') ?? 26;
  // Every question before the progress starts: S3 credentials as the state commands get them.
  const stores = arg?.vmid === undefined ? await stateStores(s, environments.filter((e) => !env || e.name === env)) : new Map<string, StateStoreLookup>();
  s.log.info(`── verify backups (${mode.full ? 'full' : 'quick'}${mode.reread ? ', re-read' : ''}${env ? `, env ${env}` : ''}) ──`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Verifying backups'), cancellable: true },
    async (progress, token) => {
      const signal = toAbortSignal(token);
      progress.report({ message: vscode.l10n.t('Reading the Proxmox nodes…') });
      const inventory = await loadInventory({ nodes, pool, log: s.log, signal });
      const { manifest, problem } = await readManifest(root);
      if (problem) s.log.warn(problem);
      let reported = 0;
      const r = await runVerification({ full: mode.full, reread: mode.reread, environment: env, vmid: arg?.vmid }, {
        environments, inventory, manifest, stateStore: (e) => stores.get(e.name), rpoFallbackHours, signal, log: s.log, probe: s.inventory.probe,
        shell: (node) => pool.shell(nodes.find((n) => n.name === node) ?? { name: node, host: node }),
        onProgress: (p) => {
          const pct = p.total ? (p.done / p.total) * 100 : 100;
          progress.report({ increment: Math.max(0, pct - reported), message: vscode.l10n.t('{0}/{1} archive(s)', p.done, p.total) });
          reported = Math.max(reported, pct);
        },
      });
      await writeManifest(root, manifest);
      return r;
    },
  );
  s.verify.set(result);
  s.log.info(verifySummary(result, (m, ...a) => vscode.l10n.t(m, ...a)));
  const markdown = verifyMarkdown(result, vscode.l10n.t, (f) => path.relative(root, f));
  const dir = path.join(root, '.lifeboat', 'reports');
  const file = path.join(dir, `${result.startedAt.replace(/[:.]/g, '-')}-verify-backups.md`);
  const saved = await fs.mkdir(dir, { recursive: true }).then(() => fs.writeFile(file, markdown)).then(() => file, (err: unknown) => {
    s.log.warn(`could not save the report: ${String(err)}`);
    return undefined;
  });
  const doc = saved ? await vscode.workspace.openTextDocument(vscode.Uri.file(saved)) : await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
  await vscode.window.showTextDocument(doc, { preview: false });
  const summary = verifySummary(result, vscode.l10n.t);
  const problems = vscode.l10n.t('Show Problems');
  const notify = result.exitCode === 2 ? vscode.window.showErrorMessage : result.exitCode === 1 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  void notify(summary, ...(result.exitCode > 0 ? [problems] : [])).then((choice) => {
    if (choice === problems) void vscode.commands.executeCommand('workbench.actions.view.problems');
  });
  return { status: verifyStatus(result), reportFile: saved, result };
};

/**
 * The state store of each S3 environment, through the state service (environment variables, the
 * minio block's placeholder, SecretStorage, or asked once per endpoint). Declining leaves the
 * environment without a store: the verification then says its state versions were not verified.
 */
async function stateStores(s: Services, environments: readonly EnvironmentConfig[]): Promise<Map<string, StateStoreLookup>> {
  const out = new Map<string, StateStoreLookup>();
  const declined = new Set<string>();
  for (const e of environments) {
    if (e.backend.type !== 's3') continue;
    let endpoint: string;
    try {
      endpoint = stateLocation(e).endpoint;
    } catch (err) {
      out.set(e.name, { unavailable: errorArg(err) });
      continue;
    }
    try {
      const state = await s.state.store(e, !declined.has(endpoint));
      if (!state) declined.add(endpoint);
      out.set(e.name, state?.store);
    } catch (err) {
      out.set(e.name, { unavailable: errorArg(err) });
    }
  }
  return out;
}

async function askMode(): Promise<VerifyMode | undefined> {
  const quick = { label: vscode.l10n.t('Quick'), detail: vscode.l10n.t('Checksum of every archive; new and changed archives are read (compression test, vma verify / tar); unchanged ones that passed are not read again'), mode: { full: false, reread: false } };
  const full = { label: vscode.l10n.t('Full'), detail: vscode.l10n.t('Read every archive again (compression test, vma verify / tar), and check that running guests answer'), mode: { full: true, reread: false } };
  const reread = { label: vscode.l10n.t('Re-read everything'), detail: vscode.l10n.t('Read every archive again; a changed archive that passes takes its new checksum as the reference (only once you know why it changed)'), mode: { full: false, reread: true } };
  const pick = await vscode.window.showQuickPick([quick, full, reread], { title: vscode.l10n.t('Verify backups'), ignoreFocusOut: true });
  return pick?.mode;
}
