/**
 * The history of one state object: every version newest first (delete markers included), each
 * version's metadata read lazily and cached by version id (versions never change), and the text
 * of a version for a read-only editor or a diff.
 */
import { throwIfAborted } from '../errors';
import type { StateStore, StoredVersion } from '../ports';
import { parseState, stateMeta, type StateMeta } from './model';

export interface StateVersion extends StoredVersion {
  /** Present once read (`withMeta`, or `StateMetaCache.meta`); never for delete markers. */
  readonly meta: StateMeta | undefined;
}

/** Metadata per version id. Share one per store across refreshes: versions are immutable. */
export class StateMetaCache {
  readonly #entries = new Map<string, Promise<StateMeta>>();

  constructor(readonly store: StateStore) {}

  meta(versionId: string, signal?: AbortSignal): Promise<StateMeta> {
    const cached = this.#entries.get(versionId);
    if (cached) return cached;
    const p = this.store.read(versionId, signal).then(stateMeta);
    this.#entries.set(versionId, p);
    // A failed read (network) is not cached: the next call tries again.
    p.catch(() => this.#entries.delete(versionId));
    return p;
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** Newest first; on equal dates the current version first, then the store's order. */
export function sortNewestFirst<T extends StoredVersion>(versions: readonly T[]): T[] {
  return versions
    .map((v, i) => ({ v, i }))
    .sort((a, b) => b.v.lastModified.getTime() - a.v.lastModified.getTime() || Number(b.v.isLatest) - Number(a.v.isLatest) || a.i - b.i)
    .map((x) => x.v);
}

export interface ListStateVersionsOptions {
  readonly signal?: AbortSignal;
  /** Read the metadata of the first `withMeta` versions (default 0: listing only; Infinity: all). */
  readonly withMeta?: number;
  readonly cache?: StateMetaCache;
  /** Parallel reads for the metadata. */
  readonly concurrency?: number;
}

/** Every version of the state object, newest first, with metadata for the first `withMeta`. */
export async function listStateVersions(store: StateStore, options: ListStateVersionsOptions = {}): Promise<StateVersion[]> {
  const listed: StateVersion[] = sortNewestFirst(await store.listVersions(options.signal)).map((v) => ({ ...v, meta: undefined }));
  const cache = options.cache ?? new StateMetaCache(store);
  const wanted = Math.min(options.withMeta ?? 0, listed.length);
  const read = await withStateMeta(listed.slice(0, wanted), cache, options);
  return [...read, ...listed.slice(wanted)];
}

/**
 * The same versions with their metadata (read through `cache`, in parallel): for the page a view
 * is about to show, so a version past the first page gets its serial and resource count too.
 */
export async function withStateMeta(versions: readonly StateVersion[], cache: StateMetaCache, options: Pick<ListStateVersionsOptions, 'signal' | 'concurrency'> = {}): Promise<StateVersion[]> {
  const metas = new Map<string, StateMeta>();
  const queue = versions.filter((v) => !v.isDeleteMarker && v.meta === undefined);
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      throwIfAborted(options.signal);
      const v = queue[next++]!;
      metas.set(v.versionId, await cache.meta(v.versionId, options.signal));
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 6, queue.length) }, worker));
  return versions.map((v) => (metas.has(v.versionId) ? { ...v, meta: metas.get(v.versionId) } : v));
}

/** The current version as the store marks it (`IsLatest`; it may be a delete marker), else the newest. */
export function currentVersion<T extends StoredVersion>(versions: readonly T[]): T | undefined {
  return versions.find((v) => v.isLatest) ?? sortNewestFirst(versions)[0];
}

/**
 * Resolves what the operator typed: a version id, `current`, or `current~N` / `~N` (N versions
 * back, delete markers skipped). Returns undefined when nothing matches.
 */
export function findVersion<T extends StoredVersion>(versions: readonly T[], ref: string): T | undefined {
  const exact = versions.find((v) => v.versionId === ref);
  if (exact) return exact;
  const m = /^(?:current|latest|HEAD)?(?:~(\d+))?$/i.exec(ref.trim());
  if (!m || ref.trim() === '') return undefined;
  const back = Number(m[1] ?? 0);
  const sorted = sortNewestFirst(versions);
  const start = sorted.findIndex((v) => v.isLatest);
  return sorted.slice(Math.max(0, start)).filter((v) => !v.isDeleteMarker)[back];
}

/**
 * The text of a version for a read-only editor or a diff: valid JSON pretty-printed with two
 * spaces (Terraform's own layout), anything else as stored so the damage is visible.
 */
export async function stateVersionText(store: StateStore, versionId: string | undefined, signal?: AbortSignal): Promise<string> {
  return stateText(await store.read(versionId, signal));
}

export function stateText(body: Buffer): string {
  const text = body.toString('utf8');
  const parsed = parseState(body);
  if (parsed.ok) return JSON.stringify(parsed.state, null, 2) + '\n';
  try {
    return JSON.stringify(JSON.parse(text), null, 2) + '\n';
  } catch {
    return text;
  }
}
