/**
 * Holds what was discovered in each workspace folder and refreshes it when the operator edits a
 * tfvars or backend file. Views and lenses listen to `onDidChange`; nothing here touches the network.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { discoverEnvironments, parseState, stateGuests, DEFAULT_ENVIRONMENTS_GLOB, type Discovery, type LogSink, type StateGuestHint } from '../core';
import { DisposableOwner } from './platform/disposable';

export class DiscoveryService extends DisposableOwner {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private current: Promise<readonly Discovery[]> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly statesOnDisk = new Map<string, { mtimeMs: number; guests: readonly StateGuestHint[] }>();

  constructor(private readonly log: LogSink) {
    super();
    const watcher = this.register(vscode.workspace.createFileSystemWatcher('**/*.{tfvars,tf}'));
    const onFile = (uri: vscode.Uri) => {
      this.log.debug(`file changed: ${vscode.workspace.asRelativePath(uri)}`);
      this.scheduleRefresh();
    };
    this.register(watcher.onDidChange(onFile));
    this.register(watcher.onDidCreate(onFile));
    this.register(watcher.onDidDelete(onFile));
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()));
    this.register(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('lifeboat.discovery')) this.refresh();
    }));
  }

  /** The discoveries of every workspace folder (cached until the next refresh). */
  discoveries(): Promise<readonly Discovery[]> {
    this.current ??= this.load();
    return this.current;
  }

  refresh(): void {
    this.current = undefined;
    this.changed.fire();
  }

  /**
   * The guests (VMIDs by name) of each local-backend environment's `terraform.tfstate` — the state
   * as it is on disk, never fetched: it lets a guest no node has any more keep its VMID. Re-read
   * only when the file changes.
   */
  async stateGuestsOnDisk(): Promise<ReadonlyMap<string, readonly StateGuestHint[]>> {
    const out = new Map<string, readonly StateGuestHint[]>();
    for (const env of (await this.discoveries()).flatMap((d) => d.environments)) {
      // With an S3 backend a terraform.tfstate left next to the tfvars is not the state.
      if (env.backend.type !== 'local') continue;
      const file = path.join(env.dir, 'terraform.tfstate');
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat) continue;
      let cached = this.statesOnDisk.get(file);
      if (cached?.mtimeMs !== stat.mtimeMs) {
        const parsed = parseState(await fs.readFile(file).catch(() => Buffer.alloc(0)));
        cached = { mtimeMs: stat.mtimeMs, guests: parsed.ok ? stateGuests(parsed.state) : [] };
        if (!parsed.ok) this.log.warn(`${vscode.workspace.asRelativePath(file)}: not a usable Terraform state (${parsed.reason}); VMIDs of lost guests are not taken from it`);
        this.statesOnDisk.set(file, cached);
      }
      out.set(env.name, cached.guests);
    }
    return out;
  }

  private scheduleRefresh(): void {
    clearTimeout(this.debounce);
    // Saving several files at once (a git checkout) triggers one refresh, not ten.
    this.debounce = setTimeout(() => this.refresh(), 300);
  }

  private async load(): Promise<readonly Discovery[]> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const results = await Promise.all(
      folders.filter((f) => f.uri.scheme === 'file').map(async (folder) => {
        const glob = vscode.workspace.getConfiguration('lifeboat', folder).get<string>('discovery.environmentsGlob') || DEFAULT_ENVIRONMENTS_GLOB;
        const started = Date.now();
        const discovery = await discoverEnvironments({ root: folder.uri.fsPath, glob, env: process.env });
        this.log.info(`discovered ${discovery.environments.length} environment(s) in ${folder.name} in ${Date.now() - started} ms: ${discovery.environments.map((e) => e.name).join(', ') || 'none'}`);
        // The excerpt is masked where it is made (config/hcl.ts): a syntax error on a password line never shows the password.
        for (const p of discovery.problems) this.log.warn(`${p.file}:${p.line ?? '?'}:${p.column ?? '?'}: ${p.reason} ${p.excerpt ?? ''}`);
        return discovery;
      }),
    );
    const hasEnvironments = results.some((d) => d.environments.length > 0);
    void vscode.commands.executeCommand('setContext', 'lifeboat.hasEnvironments', hasEnvironments);
    void vscode.commands.executeCommand('setContext', 'lifeboat.discovered', true);
    return results;
  }

  override dispose(): void {
    clearTimeout(this.debounce);
    super.dispose();
  }
}
