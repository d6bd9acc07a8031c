/**
 * "Lifeboat: Rebuild MinIO" and "Lifeboat: Rebuild Monitoring" (palette, the `minio`/`monitoring`
 * CodeLenses): the core plans, the operator confirms the exact commands in a modal (default
 * Cancel), the plan runs with cancellable progress and a Markdown report. No S3 or terraform code here.
 */
import * as vscode from 'vscode';
import {
  LifeboatError, minioAftermath, monitoringAftermath, planMinioRebuild, planMonitoringRebuild, s3Credentials, stateLocation, terraformEnvironment,
  type EnvironmentConfig, type MonitoringMode, type StateStore,
} from '../../core';
import { sleep } from '../../adapters/net/probe';
import { createMinioStateStore } from '../../adapters/s3/minioStore';
import { createMinioBucketAdmin } from '../../adapters/s3/bucketAdmin';
import { createTerraformRunner } from '../../adapters/terraform/execaRunner';
import type { Services } from '../services';
import { confirmPlan, runWithProgress } from '../platform/runPlan';
import { requireTrust } from '../platform/trust';

async function context(s: Services) {
  const discoveries = await s.discovery.discoveries();
  const environments = discoveries.flatMap((d) => d.environments);
  const root = discoveries[0]?.root;
  if (!root || environments.length === 0) throw new LifeboatError('invalidValue', 'no environment found in this workspace', { field: 'workspace', value: '', expected: 'a repository with terraform.tfvars files' });
  return { environments, root, credentials: s3Credentials(environments, process.env) };
}

export const rebuildMinio = (s: Services) => async () => {
  if (!requireTrust()) return;
  const { environments, root, credentials } = await context(s);
  if (!credentials) {
    void vscode.window.showErrorMessage(vscode.l10n.t('No S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the variable named by minio.root_password) for VS Code, then try again. Nothing was changed.'));
    return;
  }
  const monitoring = environments.find((e) => e.minio);
  const endpoint = monitoring?.minio?.ip ? `http://${monitoring.minio.ip}:${monitoring.minio.port}` : 'http://invalid';
  const labOnly = process.env.LIFEBOAT_LAB === '1';
  const inventory = await s.inventory.inventory().catch(() => undefined);
  const nodeName = inventory?.guests.find((g) => g.name === 'minio')?.node ?? monitoring?.defaultNode;
  const nodeInv = inventory?.nodes.find((n) => n.node === nodeName);
  const stores = new Map<string, StateStore>();
  const { plan, facts } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Planning the MinIO rebuild…') }, () => planMinioRebuild({
    environments, root,
    terraform: createTerraformRunner(),
    terraformEnv: terraformEnvironment(process.env, credentials),
    probe: s.inventory.probe, sleep, log: s.log,
    admin: createMinioBucketAdmin({ endpoint, credentials, labOnly }),
    store: (env: EnvironmentConfig) => {
      if (!stores.has(env.name)) stores.set(env.name, createMinioStateStore({ location: stateLocation(env), credentials, labOnly }));
      return stores.get(env.name);
    },
    nodeReachable: nodeName && nodeInv ? { node: nodeName, reachable: nodeInv.reachable, error: nodeInv.error?.message } : undefined,
  }));
  if (!(await confirmPlan(plan, vscode.l10n.t('Rebuild MinIO')))) return;
  await runWithProgress(s, plan, root, (stepFacts) => minioAftermath(facts, stepFacts));
  s.inventory.refresh();
};

export const rebuildMonitoring = (s: Services) => async (arg?: { mode?: MonitoringMode }) => {
  if (!requireTrust()) return;
  const mode = arg?.mode ?? (await askMode());
  if (!mode) return;
  const { environments, root, credentials } = await context(s);
  const inventory = mode === 'restore' ? await s.inventory.inventory() : undefined;
  const nodes = await s.inventory.nodes();
  const pool = s.inventory.shellPool();
  const { plan, facts } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Planning the monitoring rebuild…') }, () => planMonitoringRebuild(mode, {
    environments,
    terraform: createTerraformRunner(),
    terraformEnv: terraformEnvironment(process.env, credentials),
    probe: s.inventory.probe, sleep, log: s.log,
    guestRestore: inventory ? {
      inventory, probe: s.inventory.probe, sleep, log: s.log,
      shell: (node) => pool.shell(nodes.find((n) => n.name === node) ?? { name: node, host: node }),
      declared: environments.flatMap((e) => e.guests),
      activeRestores: s.activeRestores,
    } : undefined,
  }));
  const action = mode === 'restore' ? vscode.l10n.t('Overwrite and Restore') : vscode.l10n.t('Rebuild (metrics history lost)');
  if (!(await confirmPlan(plan, action))) return;
  await runWithProgress(s, plan, root, (stepFacts) => monitoringAftermath(facts, stepFacts));
  s.inventory.refresh();
};

async function askMode(): Promise<MonitoringMode | undefined> {
  const items: (vscode.QuickPickItem & { mode: MonitoringMode })[] = [
    { label: vscode.l10n.t('Restore from the newest backup'), detail: vscode.l10n.t('The monitoring VM as it was at its last backup, metrics included; a safety point is made first'), mode: 'restore' },
    { label: vscode.l10n.t('Rebuild with Terraform'), detail: vscode.l10n.t('A new monitoring VM from code: the metrics history is lost'), mode: 'rebuild' },
  ];
  return (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Rebuild monitoring'), ignoreFocusOut: true }))?.mode;
}
