/** Reading terraform's plan output, and keeping secrets out of what its output leaves in the log. */
import * as assert from 'node:assert/strict';
import { LifeboatError } from '../../../../src/core/errors';
import type { LogSink } from '../../../../src/core/ports';
import { errorSummary, readPlanOutput, runTerraform } from '../../../../src/core/state/terraform';
import { FakeTerraform } from './fakes';

describe('state: terraform output', () => {
  it('reads No changes, a plan summary, destroyed and replaced addresses', () => {
    assert.deepEqual(readPlanOutput(0, 'No changes.'), { changes: false, summary: 'No changes.', import: 0, add: 0, change: 0, destroy: 0, destroyed: [], created: [] });
    const out = [
      '  # module.vms["a"].proxmox_virtual_environment_vm.this will be created',
      '  # module.vms["b"].proxmox_virtual_environment_vm.this will be destroyed',
      '  # module.vms["c"].proxmox_virtual_environment_vm.this must be replaced',
      '',
      'Plan: 2 to add, 0 to change, 2 to destroy.',
    ].join('\n');
    const p = readPlanOutput(2, out)!;
    assert.equal(p.summary, 'Plan: 2 to add, 0 to change, 2 to destroy.');
    assert.deepEqual([p.import, p.add, p.change, p.destroy], [0, 2, 0, 2]);
    assert.deepEqual(p.destroyed, ['module.vms["b"].proxmox_virtual_environment_vm.this', 'module.vms["c"].proxmox_virtual_environment_vm.this']);
    assert.deepEqual(p.created, ['module.vms["a"].proxmox_virtual_environment_vm.this', 'module.vms["c"].proxmox_virtual_environment_vm.this']);
    assert.equal(readPlanOutput(1, 'Error'), undefined);
  });

  it('reads the Terraform 1.5+ summary that starts with imports', () => {
    const p = readPlanOutput(2, 'Plan: 3 to import, 0 to add, 1 to change, 0 to destroy.\n')!;
    assert.equal(p.summary, 'Plan: 3 to import, 0 to add, 1 to change, 0 to destroy.');
    assert.deepEqual([p.import, p.add, p.change, p.destroy], [3, 0, 1, 0]);
  });

  it('without a summary line, counts from the addresses (a replacement is one add and one destroy)', () => {
    const p = readPlanOutput(2, '  # x.y must be replaced\n')!;
    assert.deepEqual([p.add, p.destroy], [1, 1]);
  });

  it('masks the S3 secret and password-like values in the logged lines and in the error', async () => {
    const secret = 'Sup3r-Secret-Key-42';
    const tf = new FakeTerraform();
    tf.init = { code: 1, stdout: `Initializing the backend...\nsecret_key = "${secret}"\n`, stderr: `Error: error configuring S3 Backend: bad key ${secret}\n` };
    const lines: string[] = [];
    const log: LogSink = { trace: () => undefined, debug: () => undefined, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(String(m)) };
    const ctx = { signal: new AbortController().signal, log, report: () => undefined, facts: new Map<string, string>() };
    await assert.rejects(runTerraform(tf, ['init'], '/tmp', { AWS_SECRET_ACCESS_KEY: secret, PATH: '/usr/bin' }, ctx), (e: unknown) => {
      assert.ok(LifeboatError.is(e, 'remoteCommandFailed'));
      assert.ok(!e.message.includes(secret), e.message);
      assert.match(e.message, /bad key «redacted»/);
      return true;
    });
    assert.ok(lines.length > 0);
    assert.ok(!lines.join('\n').includes(secret), lines.join('\n'));
    assert.equal(errorSummary(`Error: backend rejected token=${secret}`), 'Error: backend rejected token=«redacted»');
    assert.equal(errorSummary(`Error: bad key ${secret}`, [secret]), 'Error: bad key «redacted»');
  });
});
