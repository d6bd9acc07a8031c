/**
 * The StateStore on minio-js 8 (MinIO in production, Ceph radosgw in the lab). Version listing goes
 * through `listObjects(bucket, key, true, { IncludeVersion: true })`, which follows S3's
 * `NextKeyMarker`/`NextVersionIdMarker` page by page (1,000 per page) until `IsTruncated` is false.
 * minio-js puts a page's versions before its delete markers, so the result is re-sorted by date.
 * Version ids are opaque strings. Connection failures become `storeUnreachable` (`sent: false` when
 * the request never reached the server), missing versions `versionNotFound`, and refused credentials
 * `authFailed`: a server that answers 403 is up, and must never be taken for a MinIO that is down.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as Minio from 'minio';
import { CancelledError, LifeboatError, msg, s3Credentials, sortNewestFirst, stateLocation, type BucketVersioning, type EnvironmentConfig, type S3Credentials, type StateLocation, type StateStore, type StoredVersion } from '../../core';

export interface MinioStoreOptions {
  readonly location: Pick<StateLocation, 'endpoint' | 'bucket' | 'key' | 'region' | 'pathStyle'>;
  readonly credentials: S3Credentials;
  /** Per request (default 15 s): a dead host must not hang a recovery. */
  readonly timeoutMs?: number;
  /** LIFEBOAT_LAB=1: refuse any non-loopback endpoint without sending a packet. */
  readonly labOnly?: boolean;
}

/** The simulated lab's rule (as in ../net/probe, which this module does not import: it loads execa). */
function loopbackOnly(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === 'localhost' || host === '::1';
}

/** Errors that mean the request never reached the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);
const NETWORK = new Set([...NOT_SENT, 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'TIMEOUT']);
/** S3 codes of a server that answered and refused the credentials (minio-js names a bodiless 403 AccessDenied). */
const REFUSED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'AllAccessDisabled', 'InvalidSecurity', 'AccountProblem']);

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const c = e?.code ?? e?.cause?.code;
  return typeof c === 'string' ? c : undefined;
}

export function createMinioStateStore(options: MinioStoreOptions): StateStore {
  const { location, credentials } = options;
  const url = new URL(location.endpoint);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const endpoint = location.endpoint.replace(/\/+$/, '');
  const refused = options.labOnly && !loopbackOnly(url.hostname)
    ? LifeboatError.saying('storeUnreachable', msg('the simulated lab only reaches loopback addresses; {0} is not one', url.hostname), { sent: false, endpoint })
    : undefined;
  let client: Minio.Client | undefined;
  const c = (): Minio.Client => {
    if (refused) throw refused;
    // The secret is revealed here, where the client is made, and nowhere else.
    client ??= new Minio.Client({
      endPoint: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      useSSL: url.protocol === 'https:',
      accessKey: credentials.accessKey,
      secretKey: credentials.secretKey.reveal() ?? '',
      pathStyle: location.pathStyle,
      region: location.region || 'us-east-1',
      // A fresh connection per request: a refused connection then proves a write was never sent,
      // where a reused socket cut by a dying server leaves it unknown.
      transportAgent: url.protocol === 'https:' ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false }),
    });
    return client;
  };

  const fail = (err: unknown, op: string, versionId?: string): never => {
    if (LifeboatError.is(err) || CancelledError.is(err)) throw err;
    const code = codeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (code && NETWORK.has(code)) {
      throw LifeboatError.saying('storeUnreachable', msg('{0} did not answer ({1}: {2})', endpoint, op, code), { sent: NOT_SENT.has(code) ? false : undefined, code, endpoint }, { cause: err });
    }
    if (code && REFUSED.has(code)) {
      const why = code === 'AccessDenied' ? msg('access denied') : code === 'InvalidAccessKeyId' ? msg('unknown access key') : code === 'SignatureDoesNotMatch' ? msg('wrong secret key') : code;
      throw LifeboatError.saying('authFailed', msg('{0} answers but refuses the S3 credentials from {1} ({2} on bucket {3}: {4}). MinIO is up: nothing was read or changed. Correct the access key or secret key (or the user\'s rights on {3}) and try again.', endpoint, credentials.source, op, location.bucket, why), { code, endpoint, bucket: location.bucket, source: credentials.source }, { cause: err });
    }
    if (code === 'NoSuchVersion' || (versionId && (code === 'InvalidArgument' || code === 'NoSuchKey'))) {
      throw LifeboatError.saying('versionNotFound', msg('version {0} of {1}/{2} does not exist', versionId ?? '', location.bucket, location.key), { version: versionId, bucket: location.bucket }, { cause: err });
    }
    if (code === 'NoSuchKey') throw LifeboatError.saying('versionNotFound', msg('{0}/{1} does not exist (no current version)', location.bucket, location.key), { bucket: location.bucket }, { cause: err });
    if (code === 'NoSuchBucket') throw LifeboatError.saying('storeUnreachable', msg('bucket {0} does not exist on {1}', location.bucket, endpoint), { code, endpoint, bucket: location.bucket }, { cause: err });
    if (code === 'MethodNotAllowed' && versionId) throw LifeboatError.saying('invalidState', msg('version {0} is a delete marker: it has no content', versionId), { version: versionId }, { cause: err });
    throw LifeboatError.saying('storeUnreachable', msg('{0} on {1} failed: {2}', op, `${endpoint}/${location.bucket}`, `${code ? `${code}: ` : ''}${message}`), { code, endpoint }, { cause: err });
  };

  async function guarded<T>(op: string, signal: AbortSignal | undefined, work: () => Promise<T>, versionId?: string): Promise<T> {
    if (signal?.aborted) throw new CancelledError();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
          onAbort = () => reject(new CancelledError());
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } catch (err) {
      return fail(err, op, versionId);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  async function readAll(objectName: string, versionId: string | undefined, signal?: AbortSignal): Promise<Buffer> {
    return guarded(`GetObject ${objectName}`, signal, async () => {
      const stream = versionId ? await c().getObject(location.bucket, objectName, { versionId }) : await c().getObject(location.bucket, objectName);
      const chunks: Buffer[] = [];
      const abort = () => stream.destroy(new CancelledError());
      signal?.addEventListener('abort', abort, { once: true });
      try {
        for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
      } finally {
        signal?.removeEventListener('abort', abort);
      }
      return Buffer.concat(chunks);
    }, versionId);
  }

  return {
    endpoint,
    bucket: location.bucket,
    key: location.key,

    versioning(signal) {
      return guarded('GetBucketVersioning', signal, async (): Promise<BucketVersioning> => {
        const r = (await c().getBucketVersioning(location.bucket)) as { Status?: string } | undefined;
        return r?.Status === 'Enabled' ? 'Enabled' : r?.Status === 'Suspended' ? 'Suspended' : 'Off';
      });
    },

    listVersions(signal) {
      // The whole listing shares one deadline per page: reset the timer on each item.
      if (signal?.aborted) return Promise.reject(new CancelledError());
      return new Promise<StoredVersion[]>((resolve, reject) => {
        const out: StoredVersion[] = [];
        let stream: ReturnType<Minio.Client['listObjects']>;
        try {
          stream = c().listObjects(location.bucket, location.key, true, { IncludeVersion: true });
        } catch (err) {
          reject(err);
          return;
        }
        let timer = setTimeout(() => stop(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
        const onAbort = () => stop(new CancelledError());
        signal?.addEventListener('abort', onAbort, { once: true });
        let done = false;
        const stop = (err?: unknown) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          stream.destroy();
          if (err === undefined) resolve(sortNewestFirst(out));
          else {
            try {
              fail(err, 'ListObjectVersions');
            } catch (mapped) {
              reject(mapped);
            }
          }
        };
        stream.on('data', (raw: Record<string, unknown>) => {
          clearTimeout(timer);
          timer = setTimeout(() => stop(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
          if (raw['name'] !== location.key) return; // `terraform.tfstate.tflock` shares the prefix
          out.push({
            versionId: String(raw['versionId'] ?? 'null'),
            lastModified: raw['lastModified'] instanceof Date ? raw['lastModified'] : new Date(String(raw['lastModified'])),
            size: Number(raw['size'] ?? 0),
            isLatest: raw['isLatest'] === true || raw['isLatest'] === 'true',
            isDeleteMarker: raw['isDeleteMarker'] === true,
          });
        });
        stream.on('error', (err: unknown) => stop(err));
        stream.on('end', () => stop());
      });
    },

    read(versionId, signal) {
      return readAll(location.key, versionId, signal);
    },

    write(body, signal) {
      return guarded('PutObject', signal, async () => {
        const r = await c().putObject(location.bucket, location.key, body, body.length, { 'Content-Type': 'application/json' });
        const id = (r as { versionId?: string | null }).versionId;
        return id ? String(id) : undefined;
      });
    },

    async readLock(signal) {
      try {
        return (await readAll(`${location.key}.tflock`, undefined, signal)).toString('utf8');
      } catch (err) {
        if (LifeboatError.is(err, 'versionNotFound')) return undefined;
        throw err;
      }
    },

    async health(signal) {
      try {
        const exists = await guarded('HeadBucket', signal, () => c().bucketExists(location.bucket));
        return exists ? { ok: true } : { ok: false, error: `bucket ${location.bucket} does not exist` };
      } catch (err) {
        // Refused credentials are not "down": the caller must not fall back on them.
        if (CancelledError.is(err) || LifeboatError.is(err, 'authFailed')) throw err;
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

/**
 * The store of an environment's state, as the CLI and the extension need it: the location from its
 * backend.tf (a commented-out backend while on a local fallback), the credentials from the
 * environment variables or the minio block — or `credentials` supplied by the caller (VS Code
 * SecretStorage). Throws `authFailed` when there are none, saying where they are looked for.
 */
export function stateStoreForEnvironment(
  env: EnvironmentConfig,
  environments: readonly EnvironmentConfig[],
  processEnv: Readonly<Record<string, string | undefined>>,
  options: { readonly credentials?: S3Credentials; readonly timeoutMs?: number } = {},
): { store: StateStore; location: StateLocation; credentials: S3Credentials } {
  const location = stateLocation(env);
  const credentials = options.credentials ?? s3Credentials(environments, processEnv);
  if (!credentials) {
    throw LifeboatError.saying('authFailed', msg('no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the variable named by the minio block\'s root_password placeholder (MINIO_ROOT_PASSWORD)'), { endpoint: location.endpoint });
  }
  return { store: createMinioStateStore({ location, credentials, labOnly: processEnv['LIFEBOAT_LAB'] === '1', timeoutMs: options.timeoutMs }), location, credentials };
}
