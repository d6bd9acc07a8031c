/**
 * The BucketAdmin port (src/core/rebuild/ports.ts) on minio-js: bucket existence, creation and
 * versioning, for the MinIO rebuild. Kept apart from the StateStore (one object in one bucket);
 * same rules: a refused connection is `storeUnreachable`, every request has a deadline, the secret
 * is revealed only where the client is made, and the lab refuses non-loopback endpoints.
 */
import * as Minio from 'minio';
import { CancelledError, LifeboatError, msg, type BucketAdmin, type BucketVersioning, type S3Credentials } from '../../core';
import { loopbackOnly } from '../net/probe';

export interface BucketAdminOptions {
  readonly endpoint: string;
  readonly region?: string;
  readonly credentials: S3Credentials;
  readonly timeoutMs?: number;
  readonly labOnly?: boolean;
}

export function createMinioBucketAdmin(options: BucketAdminOptions): BucketAdmin {
  const url = new URL(options.endpoint);
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (options.labOnly && !loopbackOnly(url.hostname)) {
    throw LifeboatError.saying('storeUnreachable', msg('the simulated lab only reaches loopback addresses; {0} is not one', url.hostname), { sent: false, endpoint });
  }
  const region = options.region ?? 'us-east-1';
  const client = new Minio.Client({
    endPoint: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    useSSL: url.protocol === 'https:',
    accessKey: options.credentials.accessKey,
    secretKey: options.credentials.secretKey.reveal() ?? '',
    pathStyle: true,
    region,
  });
  async function guarded<T>(op: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
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
      if (CancelledError.is(err) || LifeboatError.is(err)) throw err;
      const e = err as { code?: string; cause?: { code?: string } };
      const code = e?.code ?? e?.cause?.code;
      throw LifeboatError.saying('storeUnreachable', msg('{0} on {1} failed: {2}', op, endpoint, `${code ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`), { code, endpoint }, { cause: err });
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }
  return {
    endpoint,
    exists: (bucket, signal) => guarded(`HeadBucket ${bucket}`, signal, () => client.bucketExists(bucket)),
    create: (bucket, signal) => guarded(`CreateBucket ${bucket}`, signal, () => client.makeBucket(bucket, region)),
    versioning: (bucket, signal) => guarded(`GetBucketVersioning ${bucket}`, signal, async (): Promise<BucketVersioning> => {
      const r = (await client.getBucketVersioning(bucket)) as { Status?: string } | undefined;
      return r?.Status === 'Enabled' ? 'Enabled' : r?.Status === 'Suspended' ? 'Suspended' : 'Off';
    }),
    enableVersioning: (bucket, signal) => guarded(`PutBucketVersioning ${bucket}`, signal, () => client.setBucketVersioning(bucket, { Status: 'Enabled' })),
  };
}
