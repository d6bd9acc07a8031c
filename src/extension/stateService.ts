/**
 * The Terraform state of each environment in VS Code: its store (S3 through the minio adapter),
 * the list of versions with metadata read lazily and cached (versions never change), credentials
 * from the environment or asked once and kept in SecretStorage, and a read-only document provider
 * (`lifeboat-state:`) so a version opens in an editor or the native diff editor.
 */
import * as vscode from 'vscode';
import { Secret, StateMetaCache, listStateVersions, s3Credentials, stateLocation, stateVersionText, type EnvironmentConfig, type LogSink, type S3Credentials, type StateStore, type StateVersion } from '../core';
import { createMinioStateStore } from '../adapters/s3/minioStore';
import { createTerraformRunner } from '../adapters/terraform/execaRunner';
import type { DiscoveryService } from './discoveryService';
import { DisposableOwner } from './platform/disposable';

export const STATE_SCHEME = 'lifeboat-state';

interface EnvState {
  readonly store: StateStore;
  readonly cache: StateMetaCache;
  versions?: Promise<StateVersion[]>;
}

export class StateService extends DisposableOwner implements vscode.TextDocumentContentProvider {
  private readonly changed = this.register(new vscode.EventEmitter<string | undefined>());
  /** Fires with the environment whose versions changed (undefined: all). */
  readonly onDidChangeVersions = this.changed.event;
  private readonly stores = new Map<string, EnvState>();
  readonly terraform = createTerraformRunner();

  constructor(private readonly discovery: DiscoveryService, private readonly secrets: vscode.SecretStorage, private readonly log: LogSink) {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(STATE_SCHEME, this));
    this.register(discovery.onDidChange(() => {
      this.stores.clear();
      this.changed.fire(undefined);
    }));
  }

  async environments(): Promise<EnvironmentConfig[]> {
    return (await this.discovery.discoveries()).flatMap((d) => d.environments);
  }

  async environment(name: string): Promise<EnvironmentConfig | undefined> {
    return (await this.environments()).find((e) => e.name === name);
  }

  /** S3 credentials: the usual environment variables or the minio block's placeholder, else SecretStorage, else asked once. */
  async credentials(env: EnvironmentConfig, ask: boolean): Promise<S3Credentials | undefined> {
    const fromRepo = s3Credentials(await this.environments(), process.env);
    if (fromRepo) return fromRepo;
    const endpoint = stateLocation(env).endpoint;
    const key = `lifeboat.s3:${endpoint}`;
    const stored = await this.secrets.get(key);
    if (stored) {
      const { accessKey, secretKey } = JSON.parse(stored) as { accessKey: string; secretKey: string };
      return { accessKey, secretKey: Secret.literal(secretKey), source: 'VS Code SecretStorage' };
    }
    if (!ask) return undefined;
    const accessKey = await vscode.window.showInputBox({ title: vscode.l10n.t('S3 access key for {0}', endpoint), prompt: vscode.l10n.t('The MinIO user (root_user) Terraform uses for the state. Kept in VS Code SecretStorage.'), ignoreFocusOut: true });
    if (!accessKey) return undefined;
    const secretKey = await vscode.window.showInputBox({ title: vscode.l10n.t('S3 secret key for {0}', endpoint), password: true, ignoreFocusOut: true });
    if (!secretKey) return undefined;
    await this.secrets.store(key, JSON.stringify({ accessKey, secretKey }));
    return { accessKey, secretKey: Secret.literal(secretKey), source: 'VS Code SecretStorage' };
  }

  async store(env: EnvironmentConfig, ask = true): Promise<EnvState | undefined> {
    const existing = this.stores.get(env.name);
    if (existing) return existing;
    const credentials = await this.credentials(env, ask);
    if (!credentials) return undefined;
    const store = createMinioStateStore({ location: stateLocation(env), credentials, labOnly: process.env.LIFEBOAT_LAB === '1' });
    const state: EnvState = { store, cache: new StateMetaCache(store) };
    this.stores.set(env.name, state);
    return state;
  }

  /** Every version, newest first, with metadata for the first 50 (the rest on demand). */
  async versions(env: EnvironmentConfig): Promise<StateVersion[] | undefined> {
    const s = await this.store(env, false);
    if (!s) return undefined;
    s.versions ??= listStateVersions(s.store, { withMeta: 50, cache: s.cache }).catch((err: unknown) => {
      s.versions = undefined;
      throw err;
    });
    return s.versions;
  }

  refresh(envName?: string): void {
    if (envName) {
      const s = this.stores.get(envName);
      if (s) s.versions = undefined;
    } else {
      for (const s of this.stores.values()) s.versions = undefined;
    }
    this.changed.fire(envName);
  }

  uriFor(env: string, versionId: string, label: string): vscode.Uri {
    return vscode.Uri.from({ scheme: STATE_SCHEME, path: `/${env}/${label}.tfstate.json`, query: new URLSearchParams({ env, version: versionId }).toString() });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const env = await this.environment(q.get('env') ?? '');
    const s = env ? await this.store(env, true) : undefined;
    if (!s) return vscode.l10n.t('// No S3 credentials for this environment: nothing to show.');
    this.log.info(`reading state version ${q.get('version')} of ${env?.name}`);
    return stateVersionText(s.store, q.get('version') ?? undefined);
  }
}
