/**
 * What a MinIO rebuild needs beyond the colleague's `StateStore` (one object in one bucket):
 * bucket administration. The smallest port for it; implemented on minio-js in
 * src/adapters/s3/bucketAdmin.ts.
 */
import type { BucketVersioning } from '../ports';

export interface BucketAdmin {
  readonly endpoint: string;
  exists(bucket: string, signal?: AbortSignal): Promise<boolean>;
  create(bucket: string, signal?: AbortSignal): Promise<void>;
  /** The bucket's versioning as the server reports it (read back after enabling). */
  versioning(bucket: string, signal?: AbortSignal): Promise<BucketVersioning>;
  enableVersioning(bucket: string, signal?: AbortSignal): Promise<void>;
}
