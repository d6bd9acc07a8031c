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
  loadInventory, readManifest, s3Credentials, stateLocation, verifyBackups as runVerification, verifyMarkdown, verifySummary, writeManifest,
  type EnvironmentConfig, type StateStore, type VerifyResult,
} from '../../core';
import { createMinioStateStore } from '../../adapters/s3/minioStore';
import type { Services } from '../services';
import { toAbortSignal } from '../platform/runPlan';
import { requireTrust } from '../platform/trust';

export interface VerifyArgs {
  readonly env?: string;
  readonly vmid?: number;
  readonly full?: boolean;
}

export const verifyBackups = (s: Services) => async (arg?: VerifyArgs): Promise<VerifyResult | undefined> => {
  if (!requireTrust()) return undefined;
  const discoveries = await s.discovery.discoveries();
  const environments = discoveries.flatMap((d) => d.environments);
  const env = typeof arg?.env === 'string' ? arg.env : undefined;
  const discovery = discoveries.find((d) => !env || d.environments.some((e) => e.name === env)) ?? discoveries[0];
  if (!discovery || environments.length === 0) {
    void vscode.window.showWarningMessage(vscode.l10n.t('No environment found in this workspace: nothing to verify.'));
    return undefined;
  }
  const full = arg?.full ?? (await askMode());
  if (full === undefined) return undefined;
  const root = discovery.root;
  const nodes = await s.inventory.nodes();
  const pool = s.inventory.shellPool();
  const rpoFallbackHours = vscode.workspace.getConfiguration('lifeboat').get<number>('backup.rpoHours') ?? 26;
  const credentials = s3Credentials(environments, process.env);
  const stores = new Map<string, StateStore | undefined>();
  const stateStore = (e: EnvironmentConfig): StateStore | undefined => {
    if (!stores.has(e.name)) {
      try {
        stores.set(e.name, credentials ? createMinioStateStore({ location: stateLocation(e), credentials, labOnly: process.env.LIFEBOAT_LAB === '1', timeoutMs: 5000 }) : undefined);
      } catch {
        stores.set(e.name, undefined);
      }
    }
    return stores.get(e.name);
  };
  s.log.info(`── verify backups (${full ? 'full' : 'quick'}${env ? `, env ${env}` : ''}) ──`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Verifying backups'), cancellable: true },
    async (progress, token) => {
      const signal = toAbortSignal(token);
      progress.report({ message: vscode.l10n.t('Reading the Proxmox nodes…') });
      const inventory = await loadInventory({ nodes, pool, log: s.log, signal });
      const { manifest, problem } = await readManifest(root);
      if (problem) s.log.warn(problem);
      let reported = 0;
      const r = await runVerification({ full, reread: false, environment: env, vmid: arg?.vmid }, {
        environments, inventory, manifest, stateStore, rpoFallbackHours, signal, log: s.log, probe: s.inventory.probe,
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
  return result;
};

async function askMode(): Promise<boolean | undefined> {
  const quick = { label: vscode.l10n.t('Quick'), detail: vscode.l10n.t('Checksum and compression test of every archive; unchanged archives that passed before are not decompressed again'), full: false };
  const full = { label: vscode.l10n.t('Full'), detail: vscode.l10n.t('Also read every archive to the end through vma verify / tar, and check that running guests answer'), full: true };
  const pick = await vscode.window.showQuickPick([quick, full], { title: vscode.l10n.t('Verify backups'), ignoreFocusOut: true });
  return pick?.full;
}
