import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultHomelab } from '../../lab/homelab';
import { addressMap, rewriteAddresses, writeWorkspace } from '../../lab/workspace';

const SAMPLE = path.resolve(__dirname, '..', '..', '..', 'shared', 'examples', 'homelab');

describe('lab: workspace rewriting', () => {
  const spec = defaultHomelab({ now: new Date('2026-03-15T12:00:00Z') });
  const map = addressMap(spec);

  it('rewrites known addresses only, as whole addresses', () => {
    const text = 'a = "10.20.0.10"\ngw = "10.20.0.1"\nu = "https://10.20.0.12:8006"\nx = "10.20.0.100"\ny = "110.20.0.10"\n# 10.20.0.52 in a comment\n';
    assert.equal(rewriteAddresses(text, map), 'a = "127.20.0.10"\ngw = "10.20.0.1"\nu = "https://127.20.0.12:8006"\nx = "10.20.0.100"\ny = "110.20.0.10"\n# 127.20.0.52 in a comment\n');
  });

  it('copies the sample and points it at the lab, keeping comments', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lab-ws-'));
    try {
      const changed = writeWorkspace(SAMPLE, path.join(dir, 'ws'), spec);
      assert.ok(changed.includes('infrastructure/proxmox/environments/prod/backend.tf'));
      const env = (e: string, f: string) => readFileSync(path.join(dir, 'ws', 'infrastructure', 'proxmox', 'environments', e, f), 'utf8');
      assert.match(env('prod', 'backend.tf'), /s3 = "http:\/\/127\.20\.0\.52:9000"/);
      assert.match(env('prod', 'terraform.tfvars'), /proxmox_endpoint {2}= "https:\/\/127\.20\.0\.10:8006"/);
      assert.match(env('prod', 'terraform.tfvars'), /ip {5}= "127\.20\.0\.21"/);
      assert.match(env('prod', 'terraform.tfvars'), /network_gateway = "10\.20\.0\.1"/);
      assert.match(env('prod', 'terraform.tfvars'), /^# Production environment/);
      assert.match(env('monitoring', 'terraform.tfvars'), /ip {16}= "127\.20\.0\.52"/);
      assert.match(env('monitoring', 'terraform.tfvars'), /name = "gamma", ip = "127\.20\.0\.12"/);
      assert.match(env('monitoring', 'backend.tf'), /^# The monitoring environment hosts MinIO itself/);
      assert.match(env('monitoring', 'backend.tf'), /# {5}endpoints = \{ s3 = "http:\/\/127\.20\.0\.52:9000" \}/);
      assert.doesNotMatch(env('lab', 'terraform.tfvars'), /"10\.20\.0\.(1[0-2]|4[12])"/);
      // Prose is left alone.
      assert.equal(readFileSync(path.join(dir, 'ws', 'README.md'), 'utf8'), readFileSync(path.join(SAMPLE, 'README.md'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
