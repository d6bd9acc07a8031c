/**
 * The composition root: builds the core services and adapters once, owns their disposables, and
 * hands one typed object to the views, commands and lenses.
 */
import * as vscode from 'vscode';
import { DiscoveryService } from './discoveryService';
import { componentLog } from './platform/log';
import { RecoveryTreeProvider } from './views/recoveryTree';

export interface Services extends vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly discovery: DiscoveryService;
  readonly recoveryTree: RecoveryTreeProvider;
}

export function createServices(log: vscode.LogOutputChannel): Services {
  const discovery = new DiscoveryService(componentLog(log, 'discovery'));
  const recoveryTree = new RecoveryTreeProvider(discovery);
  return {
    log,
    discovery,
    recoveryTree,
    dispose: () => {
      recoveryTree.dispose();
      discovery.dispose();
    },
  };
}
