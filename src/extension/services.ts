/**
 * The composition root: builds the core services and adapters once, owns their disposables, and
 * hands one typed object to the views, commands and lenses.
 */
import * as vscode from 'vscode';
import { DiscoveryService } from './discoveryService';
import { componentLog } from './platform/log';
import { RecoveryTreeProvider } from './views/recoveryTree';
import { InventoryService } from './inventoryService';
import { VerifyResults } from './diagnostics/verifyResults';

export interface Services extends vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly discovery: DiscoveryService;
  readonly inventory: InventoryService;
  readonly recoveryTree: RecoveryTreeProvider;
  /** VMIDs being restored from this window: a second restore of the same guest is refused. */
  readonly activeRestores: Set<number>;
  /** The last backup verification: Problems panel, corrupt flags, the view's badge. */
  readonly verify: VerifyResults;
}

export function createServices(log: vscode.LogOutputChannel): Services {
  const discovery = new DiscoveryService(componentLog(log, 'discovery'));
  const inventory = new InventoryService(discovery, componentLog(log, 'ssh'));
  const recoveryTree = new RecoveryTreeProvider(discovery, inventory);
  const verify = new VerifyResults();
  recoveryTree.showVerdicts(verify);
  return {
    log,
    discovery,
    inventory,
    recoveryTree,
    activeRestores: new Set(),
    verify,
    dispose: () => {
      verify.dispose();
      recoveryTree.dispose();
      inventory.dispose();
      discovery.dispose();
    },
  };
}
