/**
 * Read-only commands: show a guest's backups, the backup jobs, MinIO and monitoring health.
 * They never change anything, so they also work in Restricted Mode.
 */
import * as vscode from 'vscode';
import { backupsOf, checkMinio, checkMonitoring, english, formatTime, gib, minioEndpoint, type HealthResult } from '../../core';
import type { Services } from '../services';
import { age } from '../views/presentation';

export const showBackups = (s: Services) => async (arg?: { vmid?: number }) => {
  const inventory = await s.inventory.inventory();
  const vmid = arg?.vmid;
  if (vmid === undefined) return vscode.commands.executeCommand('lifeboat.recovery.focus');
  const backups = backupsOf(inventory, vmid);
  const guest = inventory.guests.find((g) => g.vmid === vmid);
  if (backups.length === 0) {
    void vscode.window.showWarningMessage(vscode.l10n.t('No backup of {0} on any storage of any node.', vmid));
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    backups.map((b, i) => ({
      label: `${i === 0 ? '$(star-full) ' : ''}${formatTime(b.ctime)}`,
      description: [age(b.ctime, new Date(), vscode.l10n.t), gib(b.sizeBytes), b.format, b.storage, b.notes, b.protected ? vscode.l10n.t('protected') : undefined].filter(Boolean).join(' · '),
      detail: b.volid,
      backup: b,
    })),
    { title: vscode.l10n.t('Backups of {0} ({1}) — pick one to restore it', guest?.name ?? '?', vmid), ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  return vscode.commands.executeCommand('lifeboat.restoreGuest', { vmid, node: guest?.node ?? pick.backup.node, volid: pick.backup.volid });
};

export const showBackupJobs = (s: Services) => async () => {
  const inventory = await s.inventory.inventory();
  const lines = [`# ${vscode.l10n.t('Backup jobs')}`, '', `| ${vscode.l10n.t('Job')} | ${vscode.l10n.t('Enabled')} | ${vscode.l10n.t('Schedule')} | ${vscode.l10n.t('Storage')} | ${vscode.l10n.t('Guests')} | ${vscode.l10n.t('Mode')} |`, '|---|---|---|---|---|---|'];
  for (const j of inventory.jobs) {
    lines.push(`| ${j.id} | ${j.enabled ? vscode.l10n.t('yes') : `**${vscode.l10n.t('no')}**`} | ${j.schedule ?? ''} | ${j.storage ?? ''} | ${j.vmids === 'all' ? vscode.l10n.t('all') : j.vmids.join(', ')} | ${j.mode ?? ''} |`);
  }
  if (inventory.jobs.length === 0) lines.push('', vscode.l10n.t('No backup job is configured on any node.'));
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: lines.join('\n') + '\n' });
  await vscode.window.showTextDocument(doc, { preview: true });
};

function healthLine(r: HealthResult): string {
  return `${r.healthy ? '✓' : '✗'} ${r.service}: ${r.observed}${r.detail ? ` (${english(r.detail)})` : ''} — ${r.url}`;
}

export const checkMinioHealth = (s: Services) => async () => {
  const envs = (await s.discovery.discoveries()).flatMap((d) => d.environments);
  const endpoint = minioEndpoint(envs);
  if (!endpoint) {
    void vscode.window.showWarningMessage(vscode.l10n.t('No MinIO endpoint found: no minio block and no S3 backend in this repository.'));
    return;
  }
  const result = await checkMinio(s.inventory.probe, endpoint.url);
  s.log.info(`[health] ${healthLine(result)}`);
  if (result.healthy) void vscode.window.showInformationMessage(vscode.l10n.t('MinIO at {0} is healthy.', endpoint.url));
  else void vscode.window.showErrorMessage(vscode.l10n.t('MinIO at {0} is NOT healthy ({1}). Terraform cannot read or write state there.', endpoint.url, result.observed));
};

export const checkMonitoringHealth = (s: Services) => async () => {
  const envs = (await s.discovery.discoveries()).flatMap((d) => d.environments);
  const vmIp = envs.find((e) => e.monitoring?.vmIp)?.monitoring?.vmIp;
  if (!vmIp) {
    void vscode.window.showWarningMessage(vscode.l10n.t('No monitoring VM address found in any terraform.tfvars (monitoring.vm.ip).'));
    return;
  }
  const results = await checkMonitoring(s.inventory.probe, vmIp);
  for (const r of results) s.log.info(`[health] ${healthLine(r)}`);
  const bad = results.filter((r) => !r.healthy);
  if (bad.length === 0) void vscode.window.showInformationMessage(vscode.l10n.t('Monitoring on {0}: Prometheus, its targets, Grafana and Alertmanager are healthy.', vmIp));
  else {
    const showLog = vscode.l10n.t('Show Log');
    const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Monitoring on {0}: {1} not healthy.', vmIp, bad.map((r) => `${r.service} (${r.observed})`).join(', ')), showLog);
    if (choice === showLog) s.log.show(true);
  }
};
