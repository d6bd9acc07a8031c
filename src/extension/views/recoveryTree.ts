/**
 * The Recovery explorer: environment → Proxmox nodes → guests, and the environment's Terraform
 * state. Built from what discovery read in the repository; later layers add what the nodes and
 * the state store report. `getChildren` never opens dialogs and never throws: a failure becomes
 * an error item.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { homelabNodes, type DeclaredGuest, type Discovery, type DiscoveryProblem, type EnvironmentConfig } from '../../core';
import type { DiscoveryService } from '../discoveryService';
import { DisposableOwner } from '../platform/disposable';
import { ContextValues } from './contextValues';
import { describeProblem } from '../../shared/problemText';

export type RecoveryNode =
  | { readonly kind: 'environment'; readonly env: EnvironmentConfig }
  | { readonly kind: 'node'; readonly env: EnvironmentConfig; readonly name: string; readonly host: string | undefined }
  | { readonly kind: 'declaredGuest'; readonly guest: DeclaredGuest; readonly env: EnvironmentConfig }
  | { readonly kind: 'state'; readonly env: EnvironmentConfig }
  | { readonly kind: 'problem'; readonly problem: DiscoveryProblem };

export class RecoveryTreeProvider extends DisposableOwner implements vscode.TreeDataProvider<RecoveryNode> {
  private readonly changed = this.register(new vscode.EventEmitter<RecoveryNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly discovery: DiscoveryService) {
    super();
    this.register(discovery.onDidChange(() => this.changed.fire(undefined)));
  }

  async getChildren(element?: RecoveryNode): Promise<RecoveryNode[]> {
    if (!element) {
      const discoveries = await this.discovery.discoveries();
      return [
        ...discoveries.flatMap((d) => d.environments.map((env): RecoveryNode => ({ kind: 'environment', env }))),
        ...discoveries.flatMap((d) => d.problems.map((problem): RecoveryNode => ({ kind: 'problem', problem }))),
      ];
    }
    switch (element.kind) {
      case 'environment':
        return [
          ...nodesOf(element.env).map((n): RecoveryNode => ({ kind: 'node', env: element.env, name: n.name, host: n.host })),
          { kind: 'state', env: element.env },
        ];
      case 'node':
        return element.env.guests
          .filter((g) => g.node === element.name)
          .map((guest): RecoveryNode => ({ kind: 'declaredGuest', guest, env: element.env }));
      default:
        return [];
    }
  }

  getTreeItem(element: RecoveryNode): vscode.TreeItem {
    switch (element.kind) {
      case 'environment':
        return environmentItem(element.env);
      case 'node': {
        const item = new vscode.TreeItem(element.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `env/${element.env.name}/node/${element.name}`;
        item.description = element.host;
        item.iconPath = new vscode.ThemeIcon('server');
        item.contextValue = ContextValues.node;
        item.tooltip = vscode.l10n.t('Proxmox node {0} ({1})', element.name, element.host ?? vscode.l10n.t('address unknown'));
        return item;
      }
      case 'declaredGuest':
        return guestItem(element.guest, element.env);
      case 'state':
        return stateItem(element.env);
      case 'problem':
        return problemItem(element.problem);
    }
  }

  /** The parent is needed for `TreeView.reveal`. */
  getParent(element: RecoveryNode): RecoveryNode | undefined {
    switch (element.kind) {
      case 'node':
      case 'state':
        return { kind: 'environment', env: element.env };
      case 'declaredGuest':
        return { kind: 'node', env: element.env, name: element.guest.node ?? '', host: undefined };
      default:
        return undefined;
    }
  }
}

/**
 * The nodes shown under an environment: its default node and any node one of its guests is placed
 * on. (The monitoring environment's list of every node feeds the homelab-wide inventory instead.)
 */
function nodesOf(env: EnvironmentConfig): { name: string; host: string | undefined }[] {
  const hosts = new Map(homelabNodes([env]).map((n) => [n.name, n.host]));
  const names = new Set([env.defaultNode, ...env.guests.map((g) => g.node)].filter((n): n is string => Boolean(n)));
  return [...names].sort().map((name) => ({ name, host: hosts.get(name) }));
}

function environmentItem(env: EnvironmentConfig): vscode.TreeItem {
  const item = new vscode.TreeItem(env.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `env/${env.name}`;
  item.iconPath = new vscode.ThemeIcon('server-environment');
  item.contextValue = ContextValues.environment;
  const guests = env.guests.length;
  item.description = [
    env.defaultNode,
    guests === 1 ? vscode.l10n.t('1 guest') : vscode.l10n.t('{0} guests', guests),
    env.backup?.enabled === false ? vscode.l10n.t('backups disabled') : undefined,
  ].filter(Boolean).join(' · ');
  item.tooltip = new vscode.MarkdownString(
    [
      `**${env.name}**`,
      env.endpoint ? vscode.l10n.t('Endpoint: {0}', env.endpoint) : undefined,
      vscode.l10n.t('Declared in {0}', vscode.workspace.asRelativePath(env.tfvarsPath)),
    ].filter(Boolean).join('  \n'),
  );
  item.resourceUri = vscode.Uri.file(env.tfvarsPath);
  return item;
}

function guestItem(guest: DeclaredGuest, env: EnvironmentConfig): vscode.TreeItem {
  const item = new vscode.TreeItem(guest.name, vscode.TreeItemCollapsibleState.None);
  item.id = `env/${env.name}/guest/${guest.name}`;
  item.iconPath = new vscode.ThemeIcon(guest.kind === 'vm' ? 'vm' : 'package');
  item.description = [guest.kind === 'vm' ? 'VM' : 'LXC', guest.ip].filter(Boolean).join(' · ');
  item.contextValue = ContextValues.declaredGuest;
  item.tooltip = vscode.l10n.t('{0} {1}, declared in {2} (line {3}). Not yet matched to a node inventory.', guest.kind === 'vm' ? 'VM' : 'LXC', guest.name, path.basename(env.tfvarsPath), guest.range.start.line + 1);
  item.command = openAt(env.tfvarsPath, guest.range.start.line);
  return item;
}

function stateItem(env: EnvironmentConfig): vscode.TreeItem {
  const item = new vscode.TreeItem(vscode.l10n.t('Terraform state'), vscode.TreeItemCollapsibleState.None);
  item.id = `env/${env.name}/state`;
  item.iconPath = new vscode.ThemeIcon('database');
  item.contextValue = ContextValues.state;
  const b = env.backend;
  item.description = b.type === 's3' ? `s3://${b.bucket ?? '?'}/${b.key}` : vscode.l10n.t('local backend');
  item.tooltip = b.type === 's3'
    ? vscode.l10n.t('State in bucket {0} at {1}{2}', b.bucket ?? '?', b.endpoint ?? '?', b.useLockfile ? vscode.l10n.t(', locked with a lock file') : '')
    : b.commentedOut
      ? vscode.l10n.t('Local state; the S3 backend ({0}) is commented out in backend.tf', b.commentedOut.bucket ?? '?')
      : vscode.l10n.t('Local state (no S3 backend configured)');
  return item;
}

function problemItem(problem: DiscoveryProblem): vscode.TreeItem {
  const item = new vscode.TreeItem(`${path.basename(path.dirname(problem.file))}/${path.basename(problem.file)}${problem.line ? `:${problem.line}` : ''}`);
  item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
  item.description = vscode.l10n.t('not loaded');
  item.tooltip = describeProblem(problem, vscode.l10n.t, (f) => vscode.workspace.asRelativePath(f));
  item.contextValue = ContextValues.problem;
  item.command = openAt(problem.file, Math.max(0, (problem.line ?? 1) - 1));
  return item;
}

function openAt(file: string, line: number): vscode.Command {
  return {
    command: 'vscode.open',
    title: vscode.l10n.t('Open'),
    arguments: [vscode.Uri.file(file), { selection: new vscode.Range(line, 0, line, 0) } satisfies vscode.TextDocumentShowOptions],
  };
}

export type { Discovery };
