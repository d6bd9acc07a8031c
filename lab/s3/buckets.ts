/** S3 client and bucket set-up for the lab (minio-js against radosgw; path-style, us-east-1). */
import * as Minio from 'minio';

export interface S3Target {
  readonly host: string;
  readonly port: number;
  readonly accessKey: string;
  readonly secretKey: string;
}

export const STATE_BUCKETS = ['tfstate-prod', 'tfstate-lab', 'tfstate-monitoring'] as const;
export const STATE_KEY = 'terraform.tfstate';

export function s3Client(t: S3Target): Minio.Client {
  return new Minio.Client({ endPoint: t.host, port: t.port, useSSL: false, accessKey: t.accessKey, secretKey: t.secretKey, pathStyle: true, region: 'us-east-1' });
}

/** Creates the bucket if needed and turns versioning on. */
export async function ensureVersionedBucket(client: Minio.Client, bucket: string): Promise<void> {
  if (!(await client.bucketExists(bucket))) await client.makeBucket(bucket, 'us-east-1');
  await client.setBucketVersioning(bucket, { Status: 'Enabled' });
}

export interface ObjectVersion {
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly lastModified: Date;
  readonly size: number;
  readonly isDeleteMarker: boolean;
}

/** Every version of one key, newest first. */
export async function listVersions(client: Minio.Client, bucket: string, key: string): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  const stream = client.listObjects(bucket, key, false, { IncludeVersion: true });
  for await (const raw of stream as AsyncIterable<Record<string, unknown>>) {
    if (raw['name'] !== key) continue;
    out.push({
      versionId: String(raw['versionId']),
      isLatest: raw['isLatest'] === true || raw['isLatest'] === 'true',
      lastModified: raw['lastModified'] as Date,
      size: Number(raw['size'] ?? 0),
      isDeleteMarker: raw['isDeleteMarker'] === true,
    });
  }
  return out; // S3 lists the versions of a key newest first
}

export async function readObject(client: Minio.Client, bucket: string, key: string, versionId?: string): Promise<string> {
  const stream = versionId ? await client.getObject(bucket, key, { versionId }) : await client.getObject(bucket, key);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
