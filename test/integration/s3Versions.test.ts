/**
 * The lab's "MinIO": Ceph radosgw reached through the minio container's proxy (127.20.0.52:9000),
 * with versioned state buckets, and a dead container really making S3 unreachable.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ensureLab, fault, type LabContext } from '../../lab/lab';
import { tcpOpen } from '../../lab/s3/ceph';
import { ensureVersionedBucket, listVersions, readObject, s3Client, STATE_BUCKETS } from '../../lab/s3/buckets';
import { writeStateVersions, type SeededHistory } from '../../lab/seed/states';
import type * as Minio from 'minio';

describe('lab: S3 with versioning (radosgw behind the minio container)', function () {
  this.timeout(180000);
  let lab: LabContext;
  let s3: Minio.Client;

  before(async () => {
    lab = await ensureLab();
    s3 = s3Client({ host: '127.20.0.52', port: 9000, accessKey: lab.env['AWS_ACCESS_KEY_ID'] as string, secretKey: lab.env['AWS_SECRET_ACCESS_KEY'] as string });
  });

  it('has the three state buckets with versioning Enabled', async () => {
    const names = (await s3.listBuckets()).map((b) => b.name).sort();
    for (const b of STATE_BUCKETS) assert.ok(names.includes(b), `${b} exists`);
    for (const b of STATE_BUCKETS) assert.equal((await s3.getBucketVersioning(b)).Status, 'Enabled');
  });

  it('minio-js lists at least 5 versions of terraform.tfstate in tfstate-prod, matching the seeded history', async () => {
    const versions = await listVersions(s3, 'tfstate-prod', 'terraform.tfstate');
    assert.ok(versions.length >= 5, `${versions.length} versions`);
    const seeded = (JSON.parse(readFileSync(lab.paths.states, 'utf8')) as SeededHistory[]).find((h) => h.env === 'prod') as SeededHistory;
    for (const v of seeded.versions) assert.ok(versions.some((x) => x.versionId === v.versionId), `version ${v.serial} listed`);
    const invalid = seeded.versions.find((v) => v.kind === 'invalid-json');
    const body = await readObject(s3, 'tfstate-prod', 'terraform.tfstate', invalid?.versionId);
    assert.throws(() => JSON.parse(body));
    const current = JSON.parse(await readObject(s3, 'tfstate-prod', 'terraform.tfstate')) as { serial: number; version: number };
    assert.equal(current.version, 4);
    assert.equal(current.serial, seeded.versions[seeded.versions.length - 1]?.serial);
  });

  it('writes and lists more than 1,000 versions (paging)', async () => {
    const bucket = `paging-${Date.now()}`;
    await ensureVersionedBucket(s3, bucket);
    await writeStateVersions(s3, bucket, 'terraform.tfstate', 1005, { concurrency: 16 });
    const versions = await listVersions(s3, bucket, 'terraform.tfstate');
    assert.equal(versions.length, 1005);
    assert.equal(new Set(versions.map((v) => v.versionId)).size, 1005);
  });

  it('stopping the minio container (302) makes 127.20.0.52:9000 refuse connections; starting it brings S3 back', async () => {
    assert.equal(await tcpOpen('127.20.0.52', 9000), true);
    await fault('{"kind":"s3-down"}', lab.paths);
    try {
      let open = true;
      for (let i = 0; i < 50 && open; i++) {
        open = await tcpOpen('127.20.0.52', 9000, 500);
        if (open) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(open, false, 'port still open after the container stopped');
      await assert.rejects(s3.listBuckets());
      // The data lives on: radosgw itself still answers.
      assert.equal(await tcpOpen('127.0.0.1', 19010), true);
    } finally {
      await fault('{"kind":"s3-up"}', lab.paths);
    }
    let back = false;
    for (let i = 0; i < 50 && !back; i++) {
      back = await tcpOpen('127.20.0.52', 9000, 500);
      if (!back) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(back, true);
    assert.ok((await listVersions(s3, 'tfstate-prod', 'terraform.tfstate')).length >= 5);
  });
});
