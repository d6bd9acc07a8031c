/**
 * The nodes' inventory (guests, storages, backups, jobs), loaded over SSH in parallel across nodes,
 * cached, and refreshed on demand. Owns the SSH pool: one connection per node, reused.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { createNetworkProbe, loopbackOnly } from '../adapters/net/probe';
import { createSshPool, sshOptionsFromEnv } from '../adapters/ssh';
import { labGuardedPool } from '../adapters/labGuard';
import { CancelledError, homelabNodes, loadInventory, type Inventory, type LogSink, type NetworkProbe, type NodeAddress, type NodeShellPool, type UnknownHostKey } from '../core';
import type { DiscoveryService } from './discoveryService';
import { confirmDefaultNo } from './platform/confirm';
import { DisposableOwner } from './platform/disposable';

interface NodeOverride { host?: string; port?: number; user?: string }

export class InventoryService extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private pool: NodeShellPool | undefined;
  private current: Promise<Inventory> | undefined;
  private loaded: Inventory | undefined;
  readonly probe: NetworkProbe;

  constructor(private readonly discovery: DiscoveryService, private readonly log: LogSink) {
    super();
    // The simulated lab sets LIFEBOAT_LAB=1: probes then only ever touch loopback addresses.
    this.probe = createNetworkProbe(process.env.LIFEBOAT_LAB === '1' ? { allow: loopbackOnly } : {});
    this.register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lifeboat.nodes') || e.affectsConfiguration('lifeboat.ssh')) this.resetPool();
    }));
    this.register({ dispose: () => this.pool?.dispose() });
  }

  /** The last inventory loaded, without waiting (CodeLens and tooltips never block on the network). */
  get cached(): Inventory | undefined {
    return this.loaded;
  }

  get loading(): boolean {
    return this.current !== undefined && this.loaded === undefined;
  }

  /** Loads once; later calls share the result until `refresh()`. */
  inventory(): Promise<Inventory> {
    this.current ??= this.load().catch((err: unknown) => {
      this.current = undefined;
      throw err;
    });
    return this.current;
  }

  refresh(): void {
    this.current = undefined;
    this.changed.fire();
  }

  async nodes(): Promise<NodeAddress[]> {
    const discoveries = await this.discovery.discoveries();
    const overrides = vscode.workspace.getConfiguration('lifeboat').get<Record<string, NodeOverride>>('nodes') ?? {};
    return homelabNodes(discoveries.flatMap((d) => d.environments))
      .map((n) => ({ n, o: overrides[n.name] ?? {} }))
      .filter(({ n, o }) => (o.host ?? n.host) !== undefined)
      .map(({ n, o }) => ({ name: n.name, host: (o.host ?? n.host)!, port: o.port, user: o.user }));
  }

  shellPool(): NodeShellPool {
    this.pool ??= this.createPool();
    return this.pool;
  }

  async addressOf(node: string): Promise<NodeAddress> {
    return (await this.nodes()).find((n) => n.name === node) ?? { name: node, host: node };
  }

  private async load(): Promise<Inventory> {
    const nodes = await this.nodes();
    const started = Date.now();
    const inventory = await vscode.window.withProgress(
      { location: { viewId: 'lifeboat.recovery' }, title: vscode.l10n.t('Reading the Proxmox nodes…') },
      () => loadInventory({ nodes, pool: this.shellPool(), log: this.log }),
    );
    this.log.info(`inventory: ${inventory.guests.length} guests, ${inventory.backups.length} backups from ${nodes.length} node(s) in ${Date.now() - started} ms`);
    this.loaded = inventory;
    this.changed.fire();
    return inventory;
  }

  private resetPool(): void {
    this.pool?.dispose();
    this.pool = undefined;
    this.refresh();
  }

  private createPool(): NodeShellPool {
    const settings = vscode.workspace.getConfiguration('lifeboat.ssh');
    const fromEnv = sshOptionsFromEnv(process.env);
    const expand = (p: string | undefined) => (p ? p.replace(/^~(?=$|\/)/, os.homedir()) : undefined);
    return labGuardedPool(createSshPool({
      ...fromEnv,
      configPath: expand(settings.get<string>('configFile')) ?? fromEnv.configPath,
      knownHostsPath: expand(settings.get<string>('knownHostsFile')) ?? fromEnv.knownHostsPath,
      identityFiles: settings.get<string>('identityFile') ? [expand(settings.get<string>('identityFile'))!] : fromEnv.identityFiles,
      log: this.log,
      hostKeyPrompt: (key) => askHostKey(key),
    }), process.env);
  }
}

/** An unknown host key is shown with its fingerprint and must be accepted explicitly (default: no). */
function askHostKey(key: UnknownHostKey): Promise<boolean> {
  return confirmDefaultNo(
    vscode.l10n.t('Unknown SSH host key for {0}:{1}', key.host, key.port),
    vscode.l10n.t('Accept and Remember'),
    [
      vscode.l10n.t('{0} key fingerprint is {1}.', key.algorithm, key.fingerprint),
      '',
      vscode.l10n.t('Compare it with the node (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) before accepting. Accepting adds it to known_hosts.'),
    ].join('\n'),
  );
}

export function isCancellation(err: unknown): boolean {
  return CancelledError.is(err) || err instanceof vscode.CancellationError;
}
