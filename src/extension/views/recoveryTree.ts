/**
 * The Recovery explorer: environment → Proxmox node → guests (declared and found, and declared
 * ones no node has any more) → backups, plus each node's "Backups without a guest", and the
 * environment's Terraform state. Discovery (no network) fills the first levels at once; the nodes'
 * inventory (SSH) is read when an environment is first expanded and cached. `getChildren` never
 * throws: a failure becomes an error item. Item ids carry the environment and the node: the same
 * guest or backup can be listed under two environments that share a node.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  backupsOf, declaredGuests, guestRpoHours, homelabNodes, matchGuests, newestBackup, orphanBackups, restoreNodeFor, undeclaredGuests, usableBackups,
  type Backup, type DeclaredGuest, type DiscoveryProblem, type EnvironmentConfig, type Guest, type Inventory, type MatchedGuest, type OrphanBackups,
} from '../../core';
import type { DiscoveryService } from '../discoveryService';
import type { InventoryService } from '../inventoryService';
import type { StateService } from '../stateService';
import { LifeboatError, compareGuestsWithInventory, stateLocation, type InventoryComparison, type StateVersion } from '../../core';
import { DisposableOwner } from '../platform/disposable';
import { describeError } from '../../shared/errorText';
import { describeProblem } from '../../shared/problemText';
import { errorText } from '../../shared/reportText';
import { ContextValues } from './contextValues';
import { BACKUP_PAGE, backupLook, guestLook, matchesFilter, orphanGroupLook, orphanLook, restrictedLook, type ItemLook } from './presentation';
import { environmentStateMark, hasStateHistory, stateNodeLook, stateNotices, stateVersionLook, type StateNotice } from './stateLook';

export type RecoveryNode =
  | { readonly kind: 'environment'; readonly env: EnvironmentConfig }
  | { readonly kind: 'node'; readonly env: EnvironmentConfig; readonly name: string; readonly host: string | undefined }
  | ({
      readonly kind: 'guest';
      readonly env: EnvironmentConfig;
      /** The node a restore goes to: where the guest runs, else where a lost guest can come back. */
      readonly node: string;
      /** The id of the node item it is listed under (`env/prod/node/alpha`). */
      readonly parentId: string;
      readonly rpoHours: number;
      // `declared` is what tfvars declares; for a guest no node has, its `vmid` is the one Lifeboat
      // resolved: the restore commands read the VMID of a guest item from there.
    } & MatchedGuest)
  | { readonly kind: 'backup'; readonly env: EnvironmentConfig; readonly guestKey: string; readonly backup: Backup; readonly isNewest: boolean; readonly guest: Guest | undefined; readonly rpoHours: number }
  | { readonly kind: 'orphans'; readonly env: EnvironmentConfig; readonly node: string; readonly parentId: string; readonly groups: readonly OrphanBackups[]; readonly rpoHours: number }
  | { readonly kind: 'orphan'; readonly env: EnvironmentConfig; readonly node: string; readonly parentId: string; readonly orphan: OrphanBackups; readonly rpoHours: number }
  | { readonly kind: 'restricted' }
  | { readonly kind: 'loadMore'; readonly guestKey: string; readonly remaining: number }
  | { readonly kind: 'state'; readonly env: EnvironmentConfig }
  | { readonly kind: 'stateVersion'; readonly env: EnvironmentConfig; readonly version: StateVersion; readonly current: boolean }
  | { readonly kind: 'stateNotice'; readonly env: EnvironmentConfig; readonly notice: StateNotice }
  | { readonly kind: 'message'; readonly id: string; readonly text: string; readonly detail?: string; readonly icon: string }
  | { readonly kind: 'problem'; readonly problem: DiscoveryProblem };

export class RecoveryTreeProvider extends DisposableOwner implements vscode.TreeDataProvider<RecoveryNode> {
  private readonly changed = this.register(new vscode.EventEmitter<RecoveryNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private filterText: string | undefined;
  private readonly backupLimit = new Map<string, number>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly inventory: InventoryService,
    private readonly state: StateService,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
    this.register(discovery.onDidChange(() => this.changed.fire(undefined)));
    this.register(inventory.onDidChange(() => this.changed.fire(undefined)));
    this.register(state.onDidChangeVersions(() => this.changed.fire(undefined)));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire(undefined)));
  }

  get filter(): string | undefined {
    return this.filterText;
  }

  setFilter(text: string | undefined): void {
    this.filterText = text?.trim() || undefined;
    void vscode.commands.executeCommand('setContext', 'lifeboat.filtered', this.filterText !== undefined);
    this.changed.fire(undefined);
  }

  private verdictOf: (volid: string) => 'corrupt' | 'ok' | undefined = () => undefined;
  /** Backups per page under a guest (tests lower it to reach "Load more" on the lab's 14 backups). */
  pageSize = BACKUP_PAGE;

  /** Marks backups with the last verification's verdict, and redraws when it changes. */
  showVerdicts(source: { verdictOf(volid: string): 'corrupt' | 'ok' | undefined; onDidChange: vscode.Event<void> }): void {
    this.verdictOf = (volid) => source.verdictOf(volid);
    this.register(source.onDidChange(() => this.changed.fire(undefined)));
  }

  loadMore(guestKey: string): void {
    const page = guestKey.startsWith('state:') ? BACKUP_PAGE : this.pageSize;
    this.backupLimit.set(guestKey, (this.backupLimit.get(guestKey) ?? page) + page);
    this.changed.fire(undefined);
  }

  async getChildren(element?: RecoveryNode): Promise<RecoveryNode[]> {
    if (!element) {
      const discoveries = await this.discovery.discoveries();
      const top = [
        ...discoveries.flatMap((d) => d.environments.map((env): RecoveryNode => ({ kind: 'environment', env }))),
        ...discoveries.flatMap((d) => d.problems.map((problem): RecoveryNode => ({ kind: 'problem', problem }))),
      ];
      // In Restricted Mode the restore menus are greyed out without a word: say why, first. (An
      // empty tree shows the same explanation as a welcome view, package.json viewsWelcome.)
      return top.length && !vscode.workspace.isTrusted ? [{ kind: 'restricted' }, ...top] : top;
    }
    switch (element.kind) {
      case 'environment':
        return [
          ...nodesOf(element.env).map((n): RecoveryNode => ({ kind: 'node', env: element.env, name: n.name, host: n.host })),
          { kind: 'state', env: element.env },
        ];
      case 'node':
        return this.guestsOf(element);
      case 'state':
        return this.versionsOf(element.env);
      case 'guest': {
        if (!element.guest && element.backups.length === 0) return [];
        const key = guestId(element);
        if (element.backups.length === 0) {
          return [{ kind: 'message', id: `${key}/none`, text: vscode.l10n.t('No backup on any storage'), detail: vscode.l10n.t('Create one with vzdump or a backup job before you need it.'), icon: 'error' }];
        }
        return this.backupPage(element.env, key, element.backups, element.guest, element.rpoHours);
      }
      case 'orphans':
        return element.groups.map((orphan): RecoveryNode => ({ kind: 'orphan', env: element.env, node: element.node, parentId: element.parentId, orphan, rpoHours: element.rpoHours }));
      case 'orphan':
        return this.backupPage(element.env, orphanId(element), element.orphan.backups, undefined, element.rpoHours);
      default:
        return [];
    }
  }

  /** One page of backups under a guest or an orphan VMID, and "Load more" when there are more. */
  private backupPage(env: EnvironmentConfig, key: string, backups: readonly Backup[], guest: Guest | undefined, rpoHours: number): RecoveryNode[] {
    const limit = this.backupLimit.get(key) ?? this.pageSize;
    const shown = backups.slice(0, limit).map((backup, i): RecoveryNode => ({ kind: 'backup', env, guestKey: key, backup, isNewest: i === 0, guest, rpoHours }));
    const remaining = backups.length - limit;
    return remaining > 0 ? [...shown, { kind: 'loadMore', guestKey: key, remaining }] : shown;
  }

  private async guestsOf(element: Extract<RecoveryNode, { kind: 'node' }>): Promise<RecoveryNode[]> {
    const declaredHere = declaredGuests(element.env).filter((g) => g.node === element.name);
    const parentId = nodeId(element.env, element.name);
    const fallbackRpo = vscode.workspace.getConfiguration('lifeboat').get<number>('backup.rpoHours') ?? 26;
    let inventory: Inventory;
    try {
      inventory = await this.inventory.inventory();
    } catch (err) {
      return [
        { kind: 'message', id: `${parentId}/error`, text: vscode.l10n.t('Could not read the nodes'), detail: describeError(err, vscode.l10n.t), icon: 'error' },
        ...declaredHere.filter((d) => matchesFilter(this.filterText, d.name, d.vmid)).map((declared): RecoveryNode => ({
          kind: 'guest', env: element.env, node: element.name, parentId, declared, guest: undefined, backups: [], vmid: declared.vmid, vmidSource: declared.vmid === undefined ? undefined : 'tfvars', candidateVmids: [], rpoHours: fallbackRpo,
        })),
      ];
    }
    const rpoOf = (vmid: number | undefined, node: string | undefined) => guestRpoHours(element.env.backup?.schedule, inventory.jobs, vmid, node, fallbackRpo);
    const nodeInv = inventory.nodes.find((n) => n.node === element.name);
    const out: RecoveryNode[] = [];
    if (nodeInv && !nodeInv.reachable) {
      out.push({ kind: 'message', id: `${parentId}/unreachable`, text: vscode.l10n.t('Node not reachable'), detail: nodeInv.error ? errorText(nodeInv.error, vscode.l10n.t) : undefined, icon: 'debug-disconnect' });
    }
    const options = { stateGuests: await this.discovery.stateGuestsOnDisk() };
    for (const m of matchGuests(declaredHere, inventory, options)) out.push(this.guestNode(element, parentId, m, inventory, rpoOf(m.vmid, m.guest?.node ?? m.declared?.node)));
    const everyDeclared = (await this.discovery.discoveries()).flatMap((d) => d.environments.flatMap(declaredGuests));
    const everyMatch = matchGuests(everyDeclared, inventory, options);
    // Guests on this node that no environment declares (a restored copy, a hand-made VM) are shown
    // under the environment whose default node this is.
    if (element.env.defaultNode === element.name) {
      for (const g of undeclaredGuests(inventory, everyMatch, element.name)) {
        out.push(this.guestNode(element, parentId, { declared: undefined, guest: g, backups: backupsOf(inventory, g.vmid), vmid: g.vmid, vmidSource: 'node', candidateVmids: [] }, inventory, rpoOf(g.vmid, g.node)));
      }
    }
    const filtered = out.filter((n) => n.kind !== 'guest' || matchesFilter(this.filterText, n.guest?.name ?? n.declared?.name, n.vmid));
    // What is left of guests no node runs and nobody could be named for, listed from this node.
    const groups = orphanBackups(inventory, everyMatch)
      .map((o) => ({ ...o, backups: o.backups.filter((b) => b.node === element.name) }))
      .filter((o) => o.backups.length > 0 && matchesFilter(this.filterText, o.backups[0]?.notes, o.vmid));
    if (groups.length) filtered.push({ kind: 'orphans', env: element.env, node: element.name, parentId, groups, rpoHours: fallbackRpo });
    return filtered;
  }

  private guestNode(element: Extract<RecoveryNode, { kind: 'node' }>, parentId: string, m: MatchedGuest, inventory: Inventory, rpoHours: number): RecoveryNode {
    const lost = !m.guest && m.vmid !== undefined;
    const newest = newestBackup(usableBackups(m.backups, this.verdictOf));
    return {
      kind: 'guest',
      env: element.env,
      // A lost guest comes back on its declared node when that node can read the backup, else on
      // the node that listed it (the declared node may be the one that died).
      node: lost && newest ? restoreNodeFor(element.name, newest, inventory) : m.guest?.node ?? element.name,
      parentId,
      // restoreGuest reads a guest item's VMID as `guest?.vmid ?? declared?.vmid`: for a lost guest
      // the declared entry carries the VMID Lifeboat resolved (from the state or the backup notes).
      declared: lost && m.declared && m.declared.vmid === undefined ? { ...m.declared, vmid: m.vmid } : m.declared,
      guest: m.guest,
      backups: m.backups,
      vmid: m.vmid,
      vmidSource: m.vmidSource,
      candidateVmids: m.candidateVmids,
      rpoHours,
    };
  }

  /**
   * The versions of an environment's state, newest first, a page at a time with each page's
   * metadata read before it shows; above them what must be known before choosing one: versioning
   * off (rollback impossible), a held lock, missing or refused credentials.
   */
  private async versionsOf(env: EnvironmentConfig): Promise<RecoveryNode[]> {
    const notice = (n: Omit<StateNotice, 'color' | 'command'> & Partial<Pick<StateNotice, 'color' | 'command'>>): RecoveryNode => ({ kind: 'stateNotice', env, notice: { color: undefined, command: undefined, ...n } });
    try {
      const listing = await this.state.listing(env);
      if (!listing) {
        return [notice({ id: `${env.name}/state/credentials`, text: vscode.l10n.t('S3 credentials needed'), detail: vscode.l10n.t('Click to enter them once (kept in VS Code SecretStorage)'), icon: 'key', command: 'enterS3Credentials' })];
      }
      const key = `state:${env.name}`;
      const limit = this.backupLimit.get(key) ?? BACKUP_PAGE;
      const page = await this.state.withMeta(env, listing.versions.slice(0, limit));
      const shown = page.map((version): RecoveryNode => ({ kind: 'stateVersion', env, version, current: version.isLatest }));
      const remaining = listing.versions.length - limit;
      const above = stateNotices(env.name, stateLocation(env).bucket, listing.versioning, listing.lock, vscode.l10n.t).map((n): RecoveryNode => ({ kind: 'stateNotice', env, notice: n }));
      return [...above, ...shown, ...(remaining > 0 ? [{ kind: 'loadMore' as const, guestKey: key, remaining }] : [])];
    } catch (err) {
      if (LifeboatError.is(err, 'authFailed')) {
        return [notice({ id: `${env.name}/state/refused`, text: vscode.l10n.t('S3 credentials refused'), detail: vscode.l10n.t('MinIO answers but refuses them: click to enter other ones'), icon: 'key', color: 'errorForeground', command: 'enterS3Credentials' })];
      }
      return [notice({ id: `${env.name}/state/error`, text: vscode.l10n.t('Could not read the state versions'), detail: describeError(err, vscode.l10n.t), icon: 'error', color: 'errorForeground' })];
    }
  }

  getTreeItem(element: RecoveryNode): vscode.TreeItem {
    switch (element.kind) {
      case 'restricted': {
        const item = fromLook(restrictedLook(vscode.l10n.t), vscode.TreeItemCollapsibleState.None);
        item.id = 'restricted';
        item.command = { command: 'workbench.trust.manage', title: vscode.l10n.t('Manage Workspace Trust') };
        return item;
      }
      case 'environment':
        return environmentItem(element.env);
      case 'node': {
        // Collapsed: expanding a node is what connects to it (never on its own).
        const item = new vscode.TreeItem(element.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = nodeId(element.env, element.name);
        item.description = element.host;
        item.iconPath = new vscode.ThemeIcon('server');
        item.contextValue = ContextValues.node;
        item.tooltip = vscode.l10n.t('Proxmox node {0} ({1})', element.name, element.host ?? vscode.l10n.t('address unknown'));
        return item;
      }
      case 'guest': {
        const look = guestLook(element, element.rpoHours, this.now(), vscode.l10n.t, this.verdictOf);
        const item = fromLook(look, element.guest || element.backups.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = guestId(element);
        item.contextValue = [ContextValues.guest, ...look.flags].join('.');
        if (element.declared) item.command = openAt(element.env.tfvarsPath, element.declared.range.start.line);
        return item;
      }
      case 'backup': {
        const look = backupLook(element.backup, element.isNewest, element.rpoHours, this.now(), vscode.l10n.t, this.verdictOf(element.backup.volid));
        const item = fromLook(look, vscode.TreeItemCollapsibleState.None);
        item.id = `${element.guestKey}/backup/${element.backup.volid}`;
        item.contextValue = [ContextValues.backup, ...look.flags].join('.');
        return item;
      }
      case 'orphans': {
        const item = fromLook(orphanGroupLook(element.groups, vscode.l10n.t), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${element.parentId}/orphans`;
        item.contextValue = ContextValues.orphans;
        return item;
      }
      case 'orphan': {
        const item = fromLook(orphanLook(element.orphan, this.now(), vscode.l10n.t), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = orphanId(element);
        item.contextValue = ContextValues.orphan;
        return item;
      }
      case 'loadMore': {
        const item = new vscode.TreeItem(vscode.l10n.t('Load more… ({0} older)', element.remaining));
        item.id = `${element.guestKey}/more`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'lifeboat.loadMoreBackups', title: vscode.l10n.t('Load more'), arguments: [element.guestKey] };
        return item;
      }
      case 'state':
        return stateItem(element.env);
      case 'stateVersion': {
        const inventory = this.inventory.cached;
        const meta = element.version.meta;
        const vsNodes = inventory && meta?.valid ? compareGuestsWithInventory(meta.guests, inventory, declaredGuests(element.env)) : undefined;
        return stateVersionItem(element.env, element.version, this.now(), vsNodes);
      }
      case 'stateNotice':
        return stateNoticeItem(element.env, element.notice);
      case 'message': {
        const item = new vscode.TreeItem(element.text);
        item.id = element.id;
        item.description = element.detail;
        item.tooltip = element.detail;
        item.iconPath = new vscode.ThemeIcon(element.icon, element.icon === 'error' ? new vscode.ThemeColor('errorForeground') : undefined);
        return item;
      }
      case 'problem':
        return problemItem(element.problem);
    }
  }

  getParent(): RecoveryNode | undefined {
    return undefined;
  }
}

function nodeId(env: EnvironmentConfig, node: string): string {
  return `env/${env.name}/node/${node}`;
}

/** Unique in the whole tree: two environments on one node list the same guest under different ids. */
function guestId(g: { parentId: string; declared: DeclaredGuest | undefined; guest: Guest | undefined }): string {
  return `${g.parentId}/guest/${g.guest ? g.guest.vmid : `declared:${g.declared?.name ?? '?'}`}`;
}

function orphanId(o: { parentId: string; orphan: OrphanBackups }): string {
  return `${o.parentId}/orphans/${o.orphan.vmid}`;
}

function fromLook(look: ItemLook, state: vscode.TreeItemCollapsibleState): vscode.TreeItem {
  const item = new vscode.TreeItem(look.label, state);
  item.description = look.description;
  item.tooltip = look.tooltip;
  item.iconPath = new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
  return item;
}

/**
 * The nodes shown under an environment: its default node and any node one of its guests is placed
 * on. (The monitoring environment's list of every node feeds the homelab-wide inventory instead.)
 */
function nodesOf(env: EnvironmentConfig): { name: string; host: string | undefined }[] {
  const hosts = new Map(homelabNodes([env]).map((n) => [n.name, n.host]));
  const names = new Set([env.defaultNode, ...declaredGuests(env).map((g) => g.node)].filter((n): n is string => Boolean(n)));
  return [...names].sort().map((name) => ({ name, host: hosts.get(name) }));
}

function environmentItem(env: EnvironmentConfig): vscode.TreeItem {
  const item = new vscode.TreeItem(env.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `env/${env.name}`;
  item.iconPath = new vscode.ThemeIcon('server-environment');
  item.contextValue = ContextValues.environment;
  const guests = declaredGuests(env).length;
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
  markStateMode(item, env);
  return item;
}

/** An environment whose state is on Lifeboat's local fallback says so on its own line. */
function markStateMode(item: vscode.TreeItem, env: EnvironmentConfig): void {
  const mark = environmentStateMark(env, vscode.l10n.t);
  if (!mark) return;
  item.description = [mark.description, item.description].filter(Boolean).join(' · ');
  item.iconPath = new vscode.ThemeIcon(mark.icon, new vscode.ThemeColor('list.warningForeground'));
  if (item.tooltip instanceof vscode.MarkdownString) item.tooltip.appendMarkdown(`  \n**${mark.tooltip}**`);
}

function stateVersionItem(env: EnvironmentConfig, v: StateVersion, now: Date, vsNodes: InventoryComparison | undefined): vscode.TreeItem {
  const look = stateVersionLook(v, now, vscode.l10n.t, vsNodes);
  const item = new vscode.TreeItem(look.label, vscode.TreeItemCollapsibleState.None);
  item.id = `env/${env.name}/state/${v.versionId}`;
  item.description = look.description;
  item.tooltip = look.tooltip;
  item.iconPath = new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
  item.contextValue = look.contextValue;
  if (!v.isDeleteMarker) item.command = { command: 'lifeboat.openStateVersion', title: vscode.l10n.t('Open'), arguments: [{ kind: 'stateVersion', env, version: v, current: v.isLatest }] };
  return item;
}

function stateItem(env: EnvironmentConfig): vscode.TreeItem {
  const look = stateNodeLook(env, vscode.l10n.t);
  const item = new vscode.TreeItem(vscode.l10n.t('Terraform state'), hasStateHistory(env) ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = `env/${env.name}/state`;
  item.iconPath = new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
  item.contextValue = look.contextValue;
  item.description = look.description;
  item.tooltip = look.tooltip;
  return item;
}

function stateNoticeItem(env: EnvironmentConfig, n: StateNotice): vscode.TreeItem {
  const item = new vscode.TreeItem(n.text);
  item.id = n.id;
  item.description = n.detail;
  item.tooltip = n.detail;
  item.iconPath = new vscode.ThemeIcon(n.icon, n.color ? new vscode.ThemeColor(n.color) : undefined);
  if (n.command) item.command = { command: `lifeboat.${n.command}`, title: n.text, arguments: [{ env: env.name }] };
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
