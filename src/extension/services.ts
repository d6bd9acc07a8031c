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
import { StateService } from './stateService';

export interface Services extends vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly discovery: DiscoveryService;
  readonly inventory: InventoryService;
  /** Terraform state versions per environment (S3), credentials, the read-only version documents. */
  readonly state: StateService;
  readonly recoveryTree: RecoveryTreeProvider;
  /** VMIDs being restored from this window: a second restore of the same guest is refused. */
  readonly activeRestores: Set<number>;
  /** The last backup verification: Problems panel, corrupt flags, the view's badge. */
  readonly verify: VerifyResults;
}

export function createServices(log: vscode.LogOutputChannel, secrets: vscode.SecretStorage): Services {
  const discovery = new DiscoveryService(componentLog(log, 'discovery'));
  const inventory = new InventoryService(discovery, componentLog(log, 'ssh'));
  const state = new StateService(discovery, secrets, componentLog(log, 'state'));
  const recoveryTree = new RecoveryTreeProvider(discovery, inventory, state);
  const verify = new VerifyResults();
  recoveryTree.showVerdicts(verify);
  return {
    log,
    discovery,
    inventory,
    state,
    recoveryTree,
    activeRestores: new Set(),
    verify,
    dispose: () => {
      verify.dispose();
      recoveryTree.dispose();
      state.dispose();
      inventory.dispose();
      discovery.dispose();
    },
  };
}
