/**
 * The Terraform stand-in against the running lab: init + plan through the S3 backend of the lab
 * workspace, state faults (lost resource, invalid JSON, held lock, S3 down), apply -target of the
 * monitoring modules, output -json, state pull, init -migrate-state.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as Minio from 'minio';
import { ensureLab, fault, type LabContext } from '../../lab/lab';
import { listVersions, readObject, s3Client } from '../../lab/s3/buckets';
import type { SeededHistory } from '../../lab/seed/states';
import { loadCluster } from '../../lab/pve/model';

interface Run { code: number | null; stdout: string; stderr: string }

describe('lab: the Terraform stand-in', function () {
  this.timeout(180000);
  let lab: LabContext;
  let s3: Minio.Client;
  let envs: string;
  let history: SeededHistory;
  const tf = (env: string, args: string[], extraEnv: Record<string, string> = {}): Run => {
    const r = spawnSync('terraform', args, { cwd: path.join(envs, env), encoding: 'utf8', env: { ...lab.processEnv, ...extraEnv }, timeout: 60000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ssh = (host: string, command: string): Run => {
    const r = spawnSync('ssh', ['-F', lab.env['LIFEBOAT_SSH_CONFIG'] as string, '-o', 'BatchMode=yes', host, command], { encoding: 'utf8', env: lab.processEnv, timeout: 60000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  /** Makes an old version current again (what a state rollback does): copy its bytes as a new version. */
  const makeCurrent = async (versionId: string) => {
    const body = await readObject(s3, 'tfstate-prod', 'terraform.tfstate', versionId);
    await s3.putObject('tfstate-prod', 'terraform.tfstate', Buffer.from(body), Buffer.byteLength(body));
  };

  before(async () => {
    lab = await ensureLab();
    envs = path.join(lab.paths.workspace, 'infrastructure', 'proxmox', 'environments');
    s3 = s3Client({ host: '127.20.0.52', port: 9000, accessKey: lab.env['AWS_ACCESS_KEY_ID'] as string, secretKey: lab.env['AWS_SECRET_ACCESS_KEY'] as string });
    history = (JSON.parse(readFileSync(lab.paths.states, 'utf8')) as SeededHistory[]).find((h) => h.env === 'prod') as SeededHistory;
    rmSync(path.join(envs, 'prod', '.terraform'), { recursive: true, force: true });
  });

  after(async () => {
    rmSync(lab.paths.tfFaults, { force: true });
    const current = history.versions[history.versions.length - 1];
    if (current) await makeCurrent(current.versionId).catch(() => undefined);
  });

  it('is the terraform on the lab PATH and says its version', () => {
    const r = tf('prod', ['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Terraform v1\.9\.8\non linux_amd64/);
  });

  it('plan before init asks for init (exit 1)', () => {
    const r = tf('prod', ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /│ Error: Backend initialization required/);
  });

  it('init -input=false configures the S3 backend of backend.tf', () => {
    const r = tf('prod', ['init', '-input=false', '-no-color']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Successfully configured the backend "s3"!/);
    assert.match(r.stdout, /Terraform has been successfully initialized!/);
  });

  it('plan -detailed-exitcode: 0 "No changes" with the current state', () => {
    const r = tf('prod', ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /No changes\. Your infrastructure matches the configuration\./);
    assert.match(r.stdout, /module\.vms\["gitea"\]\.proxmox_virtual_environment_vm\.this: Refreshing state\.\.\. \[id=121\]/);
  });

  it('plan -detailed-exitcode: 2 with "Plan: 1 to add" after pointing current at the version that lost a resource', async () => {
    const lost = history.versions.find((v) => v.kind === 'lost-resource');
    assert.ok(lost);
    await makeCurrent(lost.versionId);
    const r = tf('prod', ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stdout, /# module\.vms\["nextcloud"\]\.proxmox_virtual_environment_vm\.this will be created/);
    assert.match(r.stdout, /^Plan: 1 to add, 0 to change, 0 to destroy\.$/m);
    // Applying that plan fails like the provider would: the guest still exists on the node.
    const apply = tf('prod', ['apply', '-auto-approve', '-input=false', '-no-color']);
    assert.equal(apply.code, 1);
    assert.match(apply.stderr, /unable to create VM 122 - VM 122 already exists on node 'alpha'/);
  });

  it('plan: 1 with "Failed to load state" when the current version is not JSON', async () => {
    const bad = history.versions.find((v) => v.kind === 'invalid-json');
    assert.ok(bad);
    await makeCurrent(bad.versionId);
    const r = tf('prod', ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /│ Error: Failed to load state/);
    await makeCurrent(history.versions[history.versions.length - 1]?.versionId as string);
    assert.equal(tf('prod', ['plan', '-detailed-exitcode', '-input=false']).code, 0);
  });

  it('state pull prints the current state; output -json the outputs', () => {
    const pull = tf('prod', ['state', 'pull']);
    assert.equal(pull.code, 0, pull.stderr);
    const state = JSON.parse(pull.stdout) as { serial: number; lineage: string };
    assert.equal(state.lineage, history.lineage);
    const out = tf('prod', ['output', '-json']);
    assert.equal(out.code, 0, out.stderr);
    const outputs = JSON.parse(out.stdout) as Record<string, { value: unknown; sensitive: boolean }>;
    assert.deepEqual(outputs['vm_ids']?.value, { gitea: 121, nextcloud: 122 });
  });

  it('plan: 1 "Error acquiring the state lock" while a .tflock is held (use_lockfile)', async () => {
    await fault('{"kind":"state-lock","env":"prod"}', lab.paths);
    try {
      const r = tf('prod', ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /│ Error: Error acquiring the state lock/);
      assert.match(r.stderr, /Who: {7}operator@laptop/);
    } finally {
      await s3.removeObject('tfstate-prod', 'terraform.tfstate.tflock');
    }
    assert.equal(tf('prod', ['plan', '-detailed-exitcode', '-input=false']).code, 0);
  });

  it('plan: 1 "Failed to get existing workspaces" while the minio container is stopped', async () => {
    await fault('{"kind":"s3-down"}', lab.paths);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const r = tf('prod', ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /│ Error: Failed to get existing workspaces/);
      assert.match(r.stderr, /connection refused/);
    } finally {
      await fault('{"kind":"s3-up"}', lab.paths);
    }
  });

  it('monitoring (local state): the minio container destroyed -> plan 2, apply -target=module.minio recreates it, S3 is back', async () => {
    const mon = path.join(envs, 'monitoring');
    assert.equal(tf('monitoring', ['init', '-input=false']).code, 0);
    assert.equal(tf('monitoring', ['plan', '-detailed-exitcode', '-input=false']).code, 0);
    const stop = ssh('gamma', 'pct stop 302 && pct destroy 302');
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(loadCluster(lab.paths.state).guests.some((g) => g.vmid === 302), false);
    const plan = tf('monitoring', ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
    assert.equal(plan.code, 2, plan.stderr + plan.stdout);
    assert.match(plan.stdout, /# module\.minio\.proxmox_virtual_environment_container\.minio has been deleted/);
    assert.match(plan.stdout, /Plan: 1 to add, 0 to change, 0 to destroy\./);
    // An injected apply failure first.
    await fault('{"kind":"terraform","apply":"error creating container"}', lab.paths);
    const failed = tf('monitoring', ['apply', '-target=module.minio', '-auto-approve', '-input=false', '-no-color']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /│ Error: error creating container/);
    rmSync(lab.paths.tfFaults, { force: true });
    const serialBefore = (JSON.parse(readFileSync(path.join(mon, 'terraform.tfstate'), 'utf8')) as { serial: number }).serial;
    const apply = tf('monitoring', ['apply', '-target=module.minio', '-auto-approve', '-input=false', '-no-color']);
    assert.equal(apply.code, 0, apply.stderr + apply.stdout);
    assert.match(apply.stdout, /Apply complete! Resources: 1 added, 0 changed, 0 destroyed\./);
    const guest = loadCluster(lab.paths.state).guests.find((g) => g.vmid === 302);
    assert.equal(guest?.status, 'running');
    const after = JSON.parse(readFileSync(path.join(mon, 'terraform.tfstate'), 'utf8')) as { serial: number };
    assert.equal(after.serial, serialBefore + 1);
    assert.ok(existsSync(path.join(mon, 'terraform.tfstate.backup')));
    let back = false;
    for (let i = 0; i < 50 && !back; i++) {
      back = await s3.bucketExists('tfstate-prod').catch(() => false);
      if (!back) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(back, true, 'S3 reachable again through the recreated container');
    assert.equal(tf('monitoring', ['plan', '-detailed-exitcode', '-input=false']).code, 0);
    const out = JSON.parse(tf('monitoring', ['output', '-json']).stdout) as Record<string, { value: unknown }>;
    assert.equal(out['minio_endpoint']?.value, 'http://127.20.0.52:9000');
  });

  it('init -migrate-state -force-copy moves the local monitoring state into tfstate-monitoring', async () => {
    const src = path.join(envs, 'monitoring');
    const dst = path.join(envs, 'monitoring-migrated');
    rmSync(dst, { recursive: true, force: true });
    cpSync(src, dst, { recursive: true });
    try {
      const backend = readFileSync(path.join(dst, 'backend.tf'), 'utf8');
      writeFileSync(path.join(dst, 'backend.tf'), backend.replace(/^# ?(?=terraform| {2}|\})/gm, ''));
      const before = await listVersions(s3, 'tfstate-monitoring', 'terraform.tfstate');
      const noInput = tf('monitoring-migrated', ['init', '-migrate-state', '-input=false', '-no-color']);
      assert.equal(noInput.code, 1, noInput.stdout);
      const r = tf('monitoring-migrated', ['init', '-migrate-state', '-force-copy', '-input=false', '-no-color']);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /Successfully configured the backend "s3"!/);
      const afterVersions = await listVersions(s3, 'tfstate-monitoring', 'terraform.tfstate');
      assert.equal(afterVersions.length, before.length + 1);
      const local = JSON.parse(readFileSync(path.join(dst, 'terraform.tfstate'), 'utf8')) as { serial: number };
      const remote = JSON.parse(await readObject(s3, 'tfstate-monitoring', 'terraform.tfstate')) as { serial: number };
      assert.equal(remote.serial, local.serial);
      assert.equal(tf('monitoring-migrated', ['plan', '-detailed-exitcode', '-input=false']).code, 0);
    } finally {
      rmSync(dst, { recursive: true, force: true });
    }
  });
});
