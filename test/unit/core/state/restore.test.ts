import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LifeboatError } from '../../../../src/core/errors';
import { runPlan } from '../../../../src/core/procedure/engine';
import { english } from '../../../../src/core/procedure/message';
import { planStateRestore, stateRestoreAftermath } from '../../../../src/core/state/restore';
import { verifySafetyCopy } from '../../../../src/core/state/safety';
import { silentLog } from '../../../../src/core/ports';
import { reportLines, reportMarkdown } from '../../../../src/shared/reportText';
import { body, ctResource, deps, environment, FakeStore, FakeTerraform, LINEAGE, stateDoc, tempDir, vmResource } from './fakes';

function history() {
  const store = new FakeStore();
  const ids = [
    store.put(body(stateDoc(1, [vmResource('gitea', 121)]))),
    store.put(body(stateDoc(2, [vmResource('gitea', 121), vmResource('nextcloud', 122)]))),
    store.put(Buffer.from('{"version": 4, "terraform_version": "1.9.8", "serial": 3, "lin')),
    store.put(body(stateDoc(4, [vmResource('gitea', 121)]))), // lost nextcloud
  ];
  return { store, ids };
}

async function restore(version: string, setup?: (s: FakeStore, tf: FakeTerraform) => void) {
  const { store, ids } = history();
  const tf = new FakeTerraform();
  setup?.(store, tf);
  const root = tempDir();
  const env = environment(path.join(root, 'infrastructure/proxmox/environments/prod'));
  const d = deps(store, tf, root);
  const { plan, facts } = await planStateRestore({ version: version.startsWith('#') ? ids[Number(version.slice(1))]! : version }, env, d);
  const report = await runPlan(plan, { signal: new AbortController().signal, log: silentLog, aftermath: (f) => stateRestoreAftermath(facts, f) });
  return { store, ids, tf, plan, facts, report, root };
}

async function refused(version: string, setup: (s: FakeStore) => void): Promise<LifeboatError> {
  const { store, ids } = history();
  setup(store);
  const root = tempDir();
  try {
    await planStateRestore({ version: version.startsWith('#') ? ids[Number(version.slice(1))]! : version }, environment(root), deps(store, new FakeTerraform(), root));
  } catch (err) {
    assert.ok(LifeboatError.is(err), String(err));
    assert.equal(store.writes.length, 0, 'nothing written');
    return err;
  }
  assert.fail('not refused');
}

describe('state: restore as a roll-forward', () => {
  it('writes the chosen content as a new current version with serial = current + 1 and its lineage kept, reads it back, plans', async () => {
    const { store, ids, tf, report, facts } = await restore('#1');
    assert.equal(report.status, 'succeeded', JSON.stringify(report.steps.map((s) => [s.id, s.status, s.error?.message])));
    assert.deepEqual(report.steps.map((s) => s.id), ['preflight', 'safety-copy', 'write', 'verify', 'terraform-init', 'terraform-plan']);
    assert.equal(store.writes.length, 1);
    const written = JSON.parse(store.writes[0]!.toString('utf8')) as { serial: number; lineage: string; resources: unknown[] };
    assert.equal(written.serial, 5);
    assert.equal(written.lineage, LINEAGE);
    assert.deepEqual(written.resources, stateDoc(2, [vmResource('gitea', 121), vmResource('nextcloud', 122)]).resources);
    assert.equal(store.versions.length, 5, 'history kept: a new version, none removed');
    assert.equal(store.versions[3]!.versionId, ids[3]);
    assert.equal(facts.newSerial, 5);
    assert.deepEqual(facts.diff?.added, ['module.vms["nextcloud"].proxmox_virtual_environment_vm.this']);
    assert.equal(report.facts.newVersionId, store.versions[4]!.versionId);
    assert.equal(report.facts.planResult, 'no-changes');
    assert.deepEqual(tf.calls.map((c) => c.args.join(' ')), ['init -reconfigure -input=false', 'plan -detailed-exitcode -input=false -no-color']);
    assert.ok(!tf.calls.some((c) => c.args.includes('apply')), 'never applies');
    assert.match(tf.calls[0]!.cwd, /environments\/prod$/);
    assert.equal(tf.calls[1]!.env?.['AWS_SECRET_ACCESS_KEY'], 's3cr3t-value', 'credentials reach terraform through its environment');
  });

  it('keeps the secret out of the plan, the commands and the report', async () => {
    const { plan, report } = await restore('#1');
    const text = JSON.stringify({ plan: { ...plan, steps: plan.steps.map((s) => ({ ...s, run: undefined })) }, report });
    assert.ok(!text.includes('s3cr3t-value'));
  });

  it('uses max(current, restored) + 1 as the serial, and finds the written version without a version id (radosgw copy)', async () => {
    const { store, report } = await restore('#1', (s) => {
      s.put(body(stateDoc(2, [vmResource('gitea', 121)])));
      s.returnVersionIdOnWrite = false;
    });
    assert.equal(report.status, 'succeeded');
    assert.equal((JSON.parse(store.writes[0]!.toString()) as { serial: number }).serial, 3, 'current 2 + 1 (the restored version also has 2)');
    assert.equal(report.facts.newVersionId, store.versions[store.versions.length - 1]!.versionId);
  });

  it('makes a checksummed safety copy of the current state, named in the report, and verification catches tampering', async () => {
    const { report, store, ids } = await restore('#1');
    const copy = report.facts.safetyPoint!;
    assert.match(path.basename(copy), /^prod-2026-11-23T17-20-05Z-serial4\.tfstate$/);
    assert.ok(copy.includes(path.join('.lifeboat', 'safety')));
    const content = readFileSync(copy);
    assert.deepEqual(content, store.versions.find((v) => v.versionId === ids[3])!.body);
    const sum = createHash('sha256').update(content).digest('hex');
    assert.equal(readFileSync(`${copy}.sha256`, 'utf8'), `${sum}  ${path.basename(copy)}\n`);
    assert.equal(report.facts.safetySha256, sum);
    assert.ok(report.steps.find((s) => s.id === 'safety-copy')?.detail && english(report.steps.find((s) => s.id === 'safety-copy')!.detail!).includes(copy));
    await verifySafetyCopy(copy, sum);
    writeFileSync(copy, content.toString().replace('"serial": 4', '"serial": 9'));
    await assert.rejects(verifySafetyCopy(copy), (e: unknown) => LifeboatError.is(e, 'safetyPointFailed'));
  });

  it('refuses while the lock object exists, saying who and since when', async () => {
    const err = await refused('#1', (s) => { s.lock = JSON.stringify({ ID: 'abc-123', Who: 'operator@laptop', Created: '2026-11-23T16:00:00Z', Operation: 'OperationTypeApply' }); });
    assert.equal(err.reason, 'stateLocked');
    assert.match(err.message, /locked by operator@laptop since 2026-11-23T16:00:00Z \(OperationTypeApply\)/);
    assert.match(err.message, /terraform force-unlock abc-123/);
  });

  it('refuses when the lock appears between the plan and the run, before the safety copy', async () => {
    const { store, ids } = history();
    const root = tempDir();
    const { plan, facts } = await planStateRestore({ version: ids[1]! }, environment(root), deps(store, new FakeTerraform(), root));
    store.lock = '{"Who":"ci@runner"}';
    const report = await runPlan(plan, { signal: new AbortController().signal, log: silentLog, aftermath: (f) => stateRestoreAftermath(facts, f) });
    assert.equal(report.status, 'failed');
    assert.equal(report.steps[0]!.error?.reason, 'stateLocked');
    assert.equal(store.writes.length, 0);
    assert.deepEqual(report.aftermath.map(english), ['Nothing was changed.']);
  });

  it('refuses when versioning is Suspended or off, saying rollback is impossible and how to enable it', async () => {
    for (const status of ['Suspended', 'Off'] as const) {
      const err = await refused('#1', (s) => { s.status = status; });
      assert.equal(err.reason, 'versioningDisabled');
      assert.match(err.message, /ROLLBACK IS IMPOSSIBLE/);
      assert.match(err.message, /mc version enable <alias>\/tfstate-prod/);
      assert.match(err.message, /aws s3api put-bucket-versioning --bucket tfstate-prod --versioning-configuration Status=Enabled/);
    }
  });

  it('refuses an invalid version, an unknown one, a delete marker and the current one', async () => {
    const invalid = await refused('#2', () => undefined);
    assert.equal(invalid.reason, 'invalidState');
    assert.match(invalid.message, /not a usable state \(not valid JSON/);
    assert.equal((await refused('does-not-exist', () => undefined)).reason, 'versionNotFound');
    const { store } = history();
    const marker = store.put(undefined);
    store.put(body(stateDoc(5, [])));
    const root = tempDir();
    await assert.rejects(planStateRestore({ version: marker }, environment(root), deps(store, new FakeTerraform(), root)), /delete marker/);
    assert.match((await refused('#3', () => undefined)).message, /already the current version/);
  });

  it('warns when the lineage differs from the current one', async () => {
    const { store } = history();
    const other = store.put(body(stateDoc(1, [vmResource('gitea', 121)], { lineage: 'ffffffff-0000-4000-8000-000000000000' })));
    store.put(body(stateDoc(4, [vmResource('gitea', 121)])));
    const root = tempDir();
    const { plan, facts } = await planStateRestore({ version: other }, environment(root), deps(store, new FakeTerraform(), root));
    assert.equal(facts.lineageDiffers, true);
    assert.ok(plan.warnings.map(english).some((w) => /lineage .* differs from the current state/.test(w)), plan.warnings.map(english).join('\n'));
    const { plan: same } = await planStateRestore({ version: 'current~2' }, environment(root), deps(store, new FakeTerraform(), root));
    assert.ok(!same.warnings.map(english).some((w) => /lineage/.test(w)));
  });

  it('reports the plan summary with a DO NOT APPLY warning when the plan destroys', async () => {
    const { report } = await restore('#0', (_s, tf) => {
      tf.plan = { code: 2, stdout: '  # module.vms["nextcloud"].proxmox_virtual_environment_vm.this will be destroyed\n\nPlan: 0 to add, 0 to change, 1 to destroy.\n', stderr: '' };
    });
    assert.equal(report.status, 'succeeded');
    assert.equal(report.facts.planSummary, 'Plan: 0 to add, 0 to change, 1 to destroy.');
    assert.equal(report.facts.planDestroy, '1');
    assert.match(english(report.steps[5]!.detail!), /DO NOT APPLY: this plan would destroy 1 resource\(s\): module\.vms\["nextcloud"\]/);
  });

  it('the report itself says the plan\'s result and, when it destroys, what (CLI lines and the Markdown record)', async () => {
    const { report } = await restore('#0', (_s, tf) => {
      tf.plan = { code: 2, stdout: '  # module.vms["nextcloud"].proxmox_virtual_environment_vm.this will be destroyed\n\nPlan: 0 to add, 0 to change, 1 to destroy.\n', stderr: '' };
    });
    const t = (m: string, ...a: (string | number | boolean)[]) => m.replace(/\{(\d+)\}/g, (_x, i: string) => String(a[Number(i)]));
    const lines = reportLines(report, t).join('\n');
    assert.match(lines, /^ {2}Terraform plan: Plan: 0 to add, 0 to change, 1 to destroy\.$/m);
    assert.match(lines, /^ {2}DO NOT APPLY: the plan would destroy: module\.vms\["nextcloud"\]\.proxmox_virtual_environment_vm\.this$/m);
    assert.match(reportMarkdown(report, t), /- Terraform plan: `Plan: 0 to add, 0 to change, 1 to destroy\.`/);
  });

  it('a replacement counts as a destroy, and a Terraform 1.5 plan line with imports is read', async () => {
    const { report } = await restore('#0', (_s, tf) => {
      tf.plan = { code: 2, stdout: '  # module.vms["gitea"].proxmox_virtual_environment_vm.this must be replaced\n-/+ resource "proxmox_virtual_environment_vm" "this" {\n\nPlan: 1 to import, 1 to add, 0 to change, 1 to destroy.\n', stderr: '' };
    });
    assert.equal(report.facts.planSummary, 'Plan: 1 to import, 1 to add, 0 to change, 1 to destroy.');
    assert.equal(report.facts.planImport, '1');
    assert.equal(report.facts.planDestroy, '1');
    assert.equal(report.facts.planDestroyed, 'module.vms["gitea"].proxmox_virtual_environment_vm.this');
    assert.match(english(report.steps[5]!.detail!), /DO NOT APPLY: this plan would destroy 1 resource\(s\): module\.vms\["gitea"\]/);
  });

  it('reads the written state back byte for byte: a store that rewrites the JSON fails the check', async () => {
    const { report } = await restore('#1', (s) => {
      const read = s.read.bind(s);
      let writes = 0;
      const write = s.write.bind(s);
      s.write = async (b) => { writes++; return write(b); };
      // Same serial, lineage and addresses, other bytes (compact JSON): only a checksum tells.
      s.read = async (id) => { const b = await read(id); return writes > 0 && id === undefined ? Buffer.from(JSON.stringify(JSON.parse(b.toString('utf8')))) : b; };
    });
    assert.equal(report.status, 'failed');
    const verify = report.steps.find((x) => x.id === 'verify')!;
    assert.equal(verify.status, 'failed');
    assert.match(verify.error?.message ?? '', /does not match what was written: sha256 [0-9a-f]{16}…, written [0-9a-f]{16}…/);
  });

  it('a failing plan fails the run and the report says the new version was written and how to undo', async () => {
    const { report, ids } = await restore('#1', (_s, tf) => { tf.plan = { code: 1, stdout: '', stderr: 'Error: Failed to load state\n' }; });
    assert.equal(report.status, 'failed');
    const after = report.aftermath.map(english).join('\n');
    assert.match(after, /WAS written as the new current state .* serial 5/);
    assert.match(after, new RegExp(`restore-tfstate --env prod --restore ${ids[3]}`));
  });

  it('S3 down at the write: the report says the current state is intact and where the safety copy is', async () => {
    const { store, ids, report } = await restore('#1', (s) => { s.beforeWrite = () => { s.down = true; }; });
    assert.equal(report.status, 'failed');
    assert.equal(report.steps.find((s) => s.id === 'write')?.status, 'failed');
    assert.equal(report.facts.stateAfterFailure, 'not-sent');
    const after = report.aftermath.map(english);
    assert.match(after[0]!, new RegExp(`current state is intact: the write never reached the server .* still version ${ids[3]} \\(serial 4\\)`));
    assert.match(after[1]!, /saved in .*prod-.*serial4\.tfstate/);
    store.down = false;
    assert.equal(store.versions.length, 4);
  });

  it('a write error with the store still answering: read back says intact', async () => {
    const { report, ids } = await restore('#1', (s) => { s.beforeWrite = () => { throw new LifeboatError('storeUnreachable', 'PutObject failed: InternalError', {}); }; });
    assert.equal(report.facts.stateAfterFailure, 'intact');
    assert.match(english(report.aftermath[0]!), new RegExp(`intact: it is still version ${ids[3]} \\(serial 4\\), read back`));
  });

  it('restores over a delete marker (the state object was deleted) with a serial above the last real one', async () => {
    const { store, ids } = history();
    store.put(undefined);
    const root = tempDir();
    const { plan, facts } = await planStateRestore({ version: ids[1]! }, environment(root), deps(store, new FakeTerraform(), root));
    assert.equal(facts.current, undefined);
    assert.equal(facts.newSerial, 5);
    const report = await runPlan(plan, { signal: new AbortController().signal, log: silentLog });
    assert.equal(report.status, 'succeeded');
    assert.ok(!report.steps.some((s) => s.id === 'safety-copy'));
    assert.ok(!existsSync(path.join(root, '.lifeboat', 'safety')));
  });

  it('restores a version with containers unchanged apart from the serial', async () => {
    const { store } = history();
    const v = store.put(body(stateDoc(5, [ctResource('dns', 132)])));
    store.put(body(stateDoc(6, [])));
    const root = tempDir();
    const { plan } = await planStateRestore({ version: v }, environment(root), deps(store, new FakeTerraform(), root));
    await runPlan(plan, { signal: new AbortController().signal, log: silentLog });
    const w = JSON.parse(store.writes[0]!.toString()) as Record<string, unknown>;
    assert.deepEqual({ ...w, serial: 5 }, stateDoc(5, [ctResource('dns', 132)]));
    assert.equal(w['serial'], 7);
  });
});
