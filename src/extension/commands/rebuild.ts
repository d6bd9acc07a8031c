/**
 * "Lifeboat: Rebuild MinIO" and "Lifeboat: Rebuild Monitoring" (palette, the `minio`/`monitoring`
 * CodeLenses, the runbook's "Run with Lifeboat"): a fresh read of the nodes, the core plans, the
 * operator confirms the exact commands in a modal (default no), the plan runs with cancellable
 * progress and a Markdown report. Both resolve to a `ProcedureOutcome`. No S3 or terraform code here.
 */
import * as vscode from 'vscode';
import {
  declaredGuests, errorArg, LifeboatError, minioAftermath, minioHostNode, monitoringAftermath, msg, planMinioRebuild, planMonitoringRebuild, s3Credentials, stateLocation, terraformEnvironment,
  type EnvironmentConfig, type Inventory, type Message, type MessageArg, type MonitoringMode, type StateStore,
} from '../../core';
import { sleep } from '../../adapters/net/probe';
import { createMinioStateStore } from '../../adapters/s3/minioStore';
import { createMinioBucketAdmin } from '../../adapters/s3/bucketAdmin';
import { createTerraformRunner } from '../../adapters/terraform/execaRunner';
import { describeError } from '../../shared/errorText';
import { render } from '../../shared/reportText';
import type { Services } from '../services';
import { isCancellation } from '../inventoryService';
import { confirmDefaultNo } from '../platform/confirm';
import { confirmPlan, runWithProgress, type ProcedureOutcome } from '../platform/runPlan';
import { requireTrust } from '../platform/trust';

/** The environments to rebuild from; undefined (and the operator told) when the workspace has none. */
async function workspace(s: Services) {
  const discoveries = await s.discovery.discoveries();
  const environments = discoveries.flatMap((d) => d.environments);
  const root = discoveries[0]?.root;
  if (root && environments.length) return { environments, root, credentials: s3Credentials(environments, process.env) };
  void vscode.window.showWarningMessage(vscode.l10n.t('No environment found in this workspace: nothing to rebuild.'));
  return undefined;
}

/** A refusal before anything ran: said in the operator's words, with nothing changed. */
function refuse(s: Services, what: string, err: unknown): ProcedureOutcome {
  if (isCancellation(err)) return { status: 'cancelled' };
  const text = describeError(err, vscode.l10n.t);
  s.log.warn(`${what} refused: ${LifeboatError.is(err) ? `${err.reason}: ` : ''}${err instanceof Error ? err.message : String(err)}`);
  void vscode.window.showErrorMessage(vscode.l10n.t('{0}: {1} Nothing was changed.', what, text.endsWith('.') ? text : `${text}.`));
  return { status: 'refused' };
}

/** Reads the nodes again (a cached inventory may be hours old); undefined with the reason when it fails. */
async function freshInventory(s: Services): Promise<{ inventory: Inventory | undefined; error?: MessageArg }> {
  s.inventory.refresh();
  try {
    return { inventory: await s.inventory.inventory() };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { inventory: undefined, error: errorArg(err) };
  }
}

export const rebuildMinio = (s: Services) => async (): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const title = vscode.l10n.t('Rebuild MinIO');
  const ws = await workspace(s);
  if (!ws) return { status: 'refused' };
  const { environments, root, credentials } = ws;
  if (!credentials) {
    void vscode.window.showErrorMessage(vscode.l10n.t('No S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the variable named by minio.root_password) for VS Code, then try again. Nothing was changed.'));
    return { status: 'refused' };
  }
  const monitoring = environments.find((e) => e.minio);
  const endpoint = monitoring?.minio?.ip ? `http://${monitoring.minio.ip}:${monitoring.minio.port}` : 'http://invalid';
  const labOnly = process.env.LIFEBOAT_LAB === '1';
  const stores = new Map<string, StateStore>();
  let planned;
  try {
    planned = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Planning the MinIO rebuild…') }, async () => {
      const nodes = await s.inventory.nodes();
      const read = nodes.length ? await freshInventory(s) : { inventory: undefined };
      const why: Message | undefined = nodes.length === 0
        ? msg('The node that hosts MinIO was not checked: no Proxmox node is configured in the repository (proxmox_endpoint, monitoring.proxmox_nodes). If it is down, terraform apply will fail')
        : read.error !== undefined ? msg('The node that hosts MinIO was not checked: the nodes could not be read ({0}). If it is down, terraform apply will fail', read.error) : undefined;
      return planMinioRebuild({
        environments, root,
        terraform: createTerraformRunner(),
        terraformEnv: terraformEnvironment(process.env, credentials),
        probe: s.inventory.probe, sleep, log: s.log,
        admin: createMinioBucketAdmin({ endpoint, credentials, labOnly }),
        store: (env: EnvironmentConfig) => {
          if (!stores.has(env.name)) stores.set(env.name, createMinioStateStore({ location: stateLocation(env), credentials, labOnly }));
          return stores.get(env.name);
        },
        hostNode: minioHostNode(environments, read.inventory, why),
        // Asked while the plan runs, only when a bucket turns out to be empty: its own answer, default no.
        offerUpload: async (offer) => {
          const yes = await confirmDefaultNo(render(offer.question, vscode.l10n.t), vscode.l10n.t('Upload as First Version'), render(offer.why, vscode.l10n.t));
          s.log.info(`upload of ${offer.chosen.file} into ${offer.bucket}: ${yes ? 'accepted' : 'declined'}`);
          return yes;
        },
      });
    });
  } catch (err) {
    return refuse(s, title, err);
  }
  const { plan, facts } = planned;
  if (!(await confirmPlan(plan, title))) {
    s.log.info('MinIO rebuild not confirmed: nothing was changed');
    return { status: 'not-confirmed' };
  }
  const report = await runWithProgress(s, plan, root, (stepFacts) => minioAftermath(facts, stepFacts));
  s.inventory.refresh();
  return { status: report.status, reportFile: report.reportFile };
};

export const rebuildMonitoring = (s: Services) => async (arg?: { mode?: MonitoringMode }): Promise<ProcedureOutcome> => {
  if (!requireTrust()) return { status: 'refused' };
  const mode = arg?.mode ?? (await askMode());
  if (!mode) return { status: 'not-confirmed' };
  const title = vscode.l10n.t('Rebuild monitoring');
  const ws = await workspace(s);
  if (!ws) return { status: 'refused' };
  const { environments, root, credentials } = ws;
  let planned;
  try {
    planned = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Planning the monitoring rebuild…') }, async () => {
      // The restore picks "the newest backup": from a fresh read of the nodes, never a cached one.
      let inventory: Inventory | undefined;
      if (mode === 'restore') {
        const read = await freshInventory(s);
        if (!read.inventory) throw LifeboatError.saying('hostUnreachable', msg('The nodes could not be read ({0}): the newest backup of the monitoring VM is not known', read.error ?? '?'));
        inventory = read.inventory;
      }
      const nodes = await s.inventory.nodes();
      const pool = s.inventory.shellPool();
      return planMonitoringRebuild(mode, {
        environments,
        terraform: createTerraformRunner(),
        terraformEnv: terraformEnvironment(process.env, credentials),
        probe: s.inventory.probe, sleep, log: s.log,
        guestRestore: inventory ? {
          inventory, probe: s.inventory.probe, sleep, log: s.log,
          shell: (node) => pool.shell(nodes.find((n) => n.name === node) ?? { name: node, host: node }),
          declared: environments.flatMap(declaredGuests),
          activeRestores: s.activeRestores,
        } : undefined,
      });
    });
  } catch (err) {
    return refuse(s, title, err);
  }
  const { plan, facts } = planned;
  const action = mode === 'restore' ? vscode.l10n.t('Overwrite and Restore') : vscode.l10n.t('Rebuild (metrics history lost)');
  if (!(await confirmPlan(plan, action))) {
    s.log.info('monitoring rebuild not confirmed: nothing was changed');
    return { status: 'not-confirmed' };
  }
  const report = await runWithProgress(s, plan, root, (stepFacts) => monitoringAftermath(facts, stepFacts));
  s.inventory.refresh();
  return { status: report.status, reportFile: report.reportFile };
};

async function askMode(): Promise<MonitoringMode | undefined> {
  const items: (vscode.QuickPickItem & { mode: MonitoringMode })[] = [
    { label: vscode.l10n.t('Restore from the newest backup'), detail: vscode.l10n.t('The monitoring VM as it was at its last backup, metrics included; a safety point is made first'), mode: 'restore' },
    { label: vscode.l10n.t('Rebuild with Terraform'), detail: vscode.l10n.t('A new monitoring VM from code: the metrics history is lost'), mode: 'rebuild' },
  ];
  return (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Rebuild monitoring'), ignoreFocusOut: true }))?.mode;
}
