/**
 * The Terraform state of each environment in VS Code: its store (S3 through the minio adapter),
 * the list of versions with the bucket's versioning status and lock, metadata read lazily per shown
 * page and cached (versions never change), credentials from the environment or asked once and kept
 * in SecretStorage (and forgotten on request, so wrong ones can be replaced), and a read-only
 * document provider (`lifeboat-state:`) so a version opens in an editor or the native diff editor.
 */
import * as vscode from 'vscode';
import {
  Secret, StateMetaCache, listStateVersions, s3Credentials, stateLocation, stateVersionText, withStateMeta,
  type BucketVersioning, type EnvironmentConfig, type LogSink, type S3Credentials, type StateStore, type StateVersion,
} from '../core';
import { createMinioStateStore } from '../adapters/s3/minioStore';
import { createTerraformRunner } from '../adapters/terraform/execaRunner';
import type { DiscoveryService } from './discoveryService';
import { DisposableOwner } from './platform/disposable';

export const STATE_SCHEME = 'lifeboat-state';

/** Where stored credentials come from, in messages (never the values). */
export const SECRET_STORAGE_SOURCE = 'VS Code SecretStorage';

/** Versions with metadata from the start: the tree's first page. */
const FIRST_PAGE_META = 50;

/** What the explorer shows for one environment's state: the versions and what must be said above them. */
export interface StateListing {
  readonly versions: StateVersion[];
  /** undefined: it could not be checked (the listing still shows). */
  readonly versioning: BucketVersioning | undefined;
  /** The `.tflock` object's text while a Terraform run holds the lock. */
  readonly lock: string | undefined;
}

interface EnvState {
  readonly store: StateStore;
  readonly cache: StateMetaCache;
  readonly credentials: S3Credentials;
  listing?: Promise<StateListing>;
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

  private static secretKey(endpoint: string): string {
    return `lifeboat.s3:${endpoint}`;
  }

  /** S3 credentials: the usual environment variables or the minio block's placeholder, else SecretStorage, else asked once. */
  async credentials(env: EnvironmentConfig, ask: boolean): Promise<S3Credentials | undefined> {
    const fromRepo = s3Credentials(await this.environments(), process.env);
    if (fromRepo) return fromRepo;
    const endpoint = stateLocation(env).endpoint;
    const stored = await this.secrets.get(StateService.secretKey(endpoint));
    if (stored) {
      const { accessKey, secretKey } = JSON.parse(stored) as { accessKey: string; secretKey: string };
      return { accessKey, secretKey: Secret.literal(secretKey), source: SECRET_STORAGE_SOURCE };
    }
    return ask ? this.askCredentials(env) : undefined;
  }

  /**
   * Asks for the access and secret key of the environment's endpoint and keeps them in
   * SecretStorage (replacing what was there), then redraws the state views. Escape keeps the old ones.
   */
  async askCredentials(env: EnvironmentConfig): Promise<S3Credentials | undefined> {
    const endpoint = stateLocation(env).endpoint;
    const accessKey = await vscode.window.showInputBox({ title: vscode.l10n.t('S3 access key for {0}', endpoint), prompt: vscode.l10n.t('The MinIO user (root_user) Terraform uses for the state. Kept in VS Code SecretStorage.'), ignoreFocusOut: true });
    if (!accessKey) return undefined;
    const secretKey = await vscode.window.showInputBox({ title: vscode.l10n.t('S3 secret key for {0}', endpoint), password: true, ignoreFocusOut: true });
    if (!secretKey) return undefined;
    await this.secrets.store(StateService.secretKey(endpoint), JSON.stringify({ accessKey, secretKey }));
    this.log.info(`S3 credentials for ${endpoint} kept in ${SECRET_STORAGE_SOURCE}`);
    this.dropStores(endpoint);
    return { accessKey, secretKey: Secret.literal(secretKey), source: SECRET_STORAGE_SOURCE };
  }

  /** Where this environment's credentials come from now, for messages: the repository/environment, SecretStorage, or nowhere. */
  async credentialSource(env: EnvironmentConfig): Promise<string | undefined> {
    return (await this.credentials(env, false))?.source;
  }

  /**
   * Forgets the credentials kept in SecretStorage for these endpoints (all the repository's when
   * none is given) and every store built on them. Returns the endpoints that had some.
   */
  async forgetCredentials(endpoints?: readonly string[]): Promise<string[]> {
    const all = endpoints ?? [...new Set((await this.environments()).flatMap((e) => {
      try {
        return [stateLocation(e).endpoint];
      } catch {
        return [];
      }
    }))];
    const forgotten: string[] = [];
    for (const endpoint of all) {
      if (await this.secrets.get(StateService.secretKey(endpoint))) {
        await this.secrets.delete(StateService.secretKey(endpoint));
        forgotten.push(endpoint);
      }
      this.dropStores(endpoint);
    }
    if (forgotten.length) this.log.info(`S3 credentials forgotten for ${forgotten.join(', ')}`);
    return forgotten;
  }

  /** The cached stores of an endpoint go (they hold the old credentials); the views redraw. */
  private dropStores(endpoint: string): void {
    for (const [name, s] of this.stores) if (s.store.endpoint === endpoint.replace(/\/+$/, '')) this.stores.delete(name);
    this.changed.fire(undefined);
  }

  async store(env: EnvironmentConfig, ask = true): Promise<EnvState | undefined> {
    const existing = this.stores.get(env.name);
    if (existing) return existing;
    const credentials = await this.credentials(env, ask);
    if (!credentials) return undefined;
    const store = createMinioStateStore({ location: stateLocation(env), credentials, labOnly: process.env.LIFEBOAT_LAB === '1' });
    const state: EnvState = { store, cache: new StateMetaCache(store), credentials };
    this.stores.set(env.name, state);
    return state;
  }

  /** The versions (metadata for the first page), the versioning status and the lock; undefined without credentials. */
  async listing(env: EnvironmentConfig): Promise<StateListing | undefined> {
    const s = await this.store(env, false);
    if (!s) return undefined;
    s.listing ??= (async (): Promise<StateListing> => {
      const [versions, versioning, lock] = await Promise.allSettled([
        listStateVersions(s.store, { withMeta: FIRST_PAGE_META, cache: s.cache }),
        s.store.versioning(),
        s.store.readLock(),
      ]);
      if (versions.status === 'rejected') throw versions.reason;
      return {
        versions: versions.value,
        versioning: versioning.status === 'fulfilled' ? versioning.value : undefined,
        lock: lock.status === 'fulfilled' ? lock.value : undefined,
      };
    })().catch((err: unknown) => {
      s.listing = undefined;
      throw err;
    });
    return s.listing;
  }

  /** Every version, newest first, with metadata for the first page (the rest through `withMeta`). */
  async versions(env: EnvironmentConfig): Promise<StateVersion[] | undefined> {
    return (await this.listing(env))?.versions;
  }

  /** These versions with their metadata, read (once, cached) for those that have none yet. */
  async withMeta(env: EnvironmentConfig, versions: readonly StateVersion[]): Promise<StateVersion[]> {
    const s = await this.store(env, false);
    return s ? withStateMeta(versions, s.cache) : [...versions];
  }

  refresh(envName?: string): void {
    if (envName) {
      const s = this.stores.get(envName);
      if (s) s.listing = undefined;
    } else {
      for (const s of this.stores.values()) s.listing = undefined;
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
