// Helpers for the extension-host tests on the lab: the typed API, tree walking by label, and the
// nodes' own view of the cluster over OpenSSH (the extension host inherits .lab/env).
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { RecoveryNode, RecoveryTreeProvider } from '../../../src/extension/views/recoveryTree';
import { childrenOf, getApi, getExtension, poll } from '../suite/helpers';

export interface LabApi {
  recoveryTree: RecoveryTreeProvider;
}

/**
 * The API once activation has finished. Called right at the start of the run (with --grep), an early
 * `ext.activate()` was seen to resolve with undefined exports while workspaceContains activation was
 * still running: wait for `isActive` first, as test/host/suite/activation.test.ts does.
 */
export async function labApi(): Promise<LabApi> {
  const ext = getExtension();
  await poll(() => ext.isActive, (active) => active, 30_000);
  return (await getApi()) as unknown as LabApi;
}

export interface Row {
  element: RecoveryNode;
  item: vscode.TreeItem;
  label: string;
  description: string;
  contextValue: string;
}

export async function rows(tree: RecoveryTreeProvider, element?: RecoveryNode): Promise<Row[]> {
  const children = await childrenOf(tree as vscode.TreeDataProvider<unknown>, element);
  return children.map((c) => ({
    element: c.element as RecoveryNode,
    item: c.item,
    label: c.label,
    description: typeof c.item.description === 'string' ? c.item.description : '',
    contextValue: c.item.contextValue ?? '',
  }));
}

/** The child of `parent` labelled `label`, waiting for discovery or the nodes' inventory (SSH). */
export async function child(tree: RecoveryTreeProvider, parent: RecoveryNode | undefined, label: string, timeoutMs = 45_000): Promise<Row> {
  const seen = await poll(() => rows(tree, parent), (r) => r.some((x) => x.label === label), timeoutMs);
  const found = seen.find((x) => x.label === label);
  if (!found) throw new Error(`no "${label}" among ${JSON.stringify(seen.map((r) => `${r.label} (${r.description})`))}`);
  return found;
}

/** Walks labels from the top: path('prod', 'alpha', 'gitea'). */
export async function walk(tree: RecoveryTreeProvider, ...labels: string[]): Promise<Row> {
  let current: Row | undefined;
  for (const label of labels) current = await child(tree, current?.element, label);
  if (!current) throw new Error('empty path');
  return current;
}

export interface ClusterGuest { vmid: number; name?: string; status: string; node: string; lock?: string; type: string }

/** What the node itself says (`pvesh get /cluster/resources --type vm`), over OpenSSH with the lab's config. */
export function clusterGuests(node = 'alpha'): ClusterGuest[] {
  const out = ssh(node, 'pvesh get /cluster/resources --type vm --output-format json');
  return JSON.parse(out) as ClusterGuest[];
}

export function ssh(node: string, command: string): string {
  const config = process.env['LIFEBOAT_SSH_CONFIG'];
  if (!config) throw new Error('LIFEBOAT_SSH_CONFIG is not set in the extension host: the runner must start code-server with .lab/env');
  return execFileSync('ssh', ['-F', config, '-o', 'BatchMode=yes', node, command], { encoding: 'utf8', timeout: 60_000 });
}

/**
 * Brings a destroyed container back on `node` from its newest backup with the node's own
 * tools (`pct restore` + `pct start`): the clean-up of the tests that destroy a guest.
 */
export function restoreContainerOnNode(node: string, vmid: number): string {
  const stamp = (v: string) => /-(\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2})\./.exec(v)?.[1] ?? '';
  const volid = ssh(node, `pvesm list backups --vmid ${vmid}; pvesm list local --vmid ${vmid}`).split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '').filter((v) => v.includes(`vzdump-lxc-${vmid}-`))
    .sort((a, b) => stamp(b).localeCompare(stamp(a)))[0];
  if (!volid) throw new Error(`no backup of ${vmid} on ${node} to restore it from`);
  ssh(node, `pct restore ${vmid} ${volid} --storage local-lvm && pct start ${vmid}`);
  return volid;
}
