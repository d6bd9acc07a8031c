/**
 * The Terraform stand-in on a local backend, in-process and without a lab: configuration vs state
 * (the cluster is not consulted when no lab is configured).
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultHomelab } from '../../lab/homelab';
import { buildStateHistory } from '../../lab/seed/states';
import { main } from '../../lab/terraform/main';
import { writeWorkspace } from '../../lab/workspace';

const SAMPLE = path.resolve(__dirname, '..', '..', '..', 'shared', 'examples', 'homelab');

async function tf(dir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  try {
    const code = await main([`-chdir=${dir}`, ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('lab: Terraform stand-in (local backend, no lab)', function () {
  this.timeout(30000);
  const spec = defaultHomelab({ now: new Date('2026-03-15T12:00:00Z') });
  const history = buildStateHistory(spec, 'monitoring');
  let root: string;
  let mon: string;
  const saved: Record<string, string | undefined> = {};

  before(() => {
    for (const k of ['LIFEBOAT_LAB_DIR', 'PVE_SIM_STATE', 'LAB_TF_FAULTS']) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    root = mkdtempSync(path.join(tmpdir(), 'lab-tf-'));
    writeWorkspace(SAMPLE, root, spec);
    mon = path.join(root, 'infrastructure', 'proxmox', 'environments', 'monitoring');
    writeFileSync(path.join(mon, 'terraform.tfstate'), history[history.length - 1]!.body);
  });

  after(() => {
    for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    rmSync(root, { recursive: true, force: true });
  });

  it('init treats the commented-out backend as local and prints the real success text', async () => {
    const r = await tf(mon, 'init', '-input=false');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Terraform has been successfully initialized!/);
    assert.doesNotMatch(r.stdout, /backend "s3"/);
  });

  it('plan: 0 when the state matches, 2 with per-resource lines when a resource was lost, 1 on invalid JSON', async () => {
    const same = await tf(mon, 'plan', '-detailed-exitcode', '-input=false', '-no-color');
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /No changes\. Your infrastructure matches the configuration\./);
    writeFileSync(path.join(mon, 'terraform.tfstate'), history.find((v) => v.kind === 'lost-resource')!.body);
    const lost = await tf(mon, 'plan', '-detailed-exitcode', '-no-color');
    assert.equal(lost.code, 2);
    assert.match(lost.stdout, /# module\.monitoring_stack\.proxmox_virtual_environment_vm\.monitoring will be created/);
    assert.match(lost.stdout, /^Plan: 1 to add, 0 to change, 0 to destroy\.$/m);
    const plain = await tf(mon, 'plan', '-no-color');
    assert.equal(plain.code, 0, 'without -detailed-exitcode changes still exit 0');
    writeFileSync(path.join(mon, 'terraform.tfstate'), history.find((v) => v.kind === 'invalid-json')!.body);
    const bad = await tf(mon, 'plan', '-detailed-exitcode');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^╷\n│ Error: Failed to load state/);
  });

  it('plan: update in-place when tfvars change cores; destroy when a module is removed', async () => {
    writeFileSync(path.join(mon, 'terraform.tfstate'), history[history.length - 1]!.body);
    const tfvars = path.join(mon, 'terraform.tfvars');
    const original = readFileSync(tfvars, 'utf8');
    const mainTf = path.join(mon, 'main.tf');
    const originalMain = readFileSync(mainTf, 'utf8');
    try {
      writeFileSync(tfvars, original.replace('cpu_cores         = 1', 'cpu_cores         = 2'));
      const upd = await tf(mon, 'plan', '-detailed-exitcode', '-no-color');
      assert.equal(upd.code, 2);
      assert.match(upd.stdout, /# module\.minio\.proxmox_virtual_environment_container\.minio will be updated in-place/);
      assert.match(upd.stdout, /Plan: 0 to add, 1 to change, 0 to destroy\./);
      writeFileSync(tfvars, original);
      writeFileSync(mainTf, originalMain.replace(/module "monitoring_stack" \{[\s\S]*?\n\}\n/, ''));
      const del = await tf(mon, 'plan', '-detailed-exitcode', '-no-color');
      assert.equal(del.code, 2);
      assert.match(del.stdout, /# module\.monitoring_stack\.proxmox_virtual_environment_vm\.monitoring will be destroyed/);
      assert.match(del.stdout, /Plan: 0 to add, 0 to change, 1 to destroy\./);
    } finally {
      writeFileSync(tfvars, original);
      writeFileSync(mainTf, originalMain);
    }
  });

  it('apply -target writes a new state version (serial + 1, backup kept); output -json reads it', async () => {
    writeFileSync(path.join(mon, 'terraform.tfstate'), history.find((v) => v.kind === 'lost-resource')!.body);
    const before = JSON.parse(readFileSync(path.join(mon, 'terraform.tfstate'), 'utf8')) as { serial: number; lineage: string };
    const r = await tf(mon, 'apply', '-target=module.monitoring_stack', '-auto-approve', '-input=false', '-no-color');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Apply complete! Resources: 1 added, 0 changed, 0 destroyed\./);
    const after = JSON.parse(readFileSync(path.join(mon, 'terraform.tfstate'), 'utf8')) as { serial: number; lineage: string };
    assert.equal(after.serial, before.serial + 1);
    assert.equal(after.lineage, before.lineage);
    assert.ok(existsSync(path.join(mon, 'terraform.tfstate.backup')));
    assert.equal((await tf(mon, 'plan', '-detailed-exitcode')).code, 0);
    const out = JSON.parse((await tf(mon, 'output', '-json')).stdout) as Record<string, { value: unknown; type: unknown; sensitive: boolean }>;
    assert.deepEqual(out['grafana_url'], { sensitive: false, type: 'string', value: 'http://127.20.0.51:3000' });
  });

  it('apply without -auto-approve, an injected fault, and unknown commands fail', async () => {
    assert.equal((await tf(mon, 'apply', '-input=false')).code, 1);
    process.env['LAB_TF_FAULTS'] = JSON.stringify({ plan: 'Failed to read guest' });
    try {
      const r = await tf(mon, 'plan', '-detailed-exitcode');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /│ Error: Failed to read guest/);
    } finally {
      delete process.env['LAB_TF_FAULTS'];
    }
    const unknown = await tf(mon, 'destroy');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Terraform has no command named "destroy"/);
  });
});
