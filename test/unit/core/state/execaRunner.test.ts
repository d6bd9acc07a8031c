/** The TerraformRunner adapter (execa), with `sh` standing in for terraform. */
import * as assert from 'node:assert/strict';
import { createTerraformRunner } from '../../../../src/adapters/terraform/execaRunner';

describe('state: the execa terraform runner', () => {
  const sh = createTerraformRunner({ binary: 'sh', killAfterMs: 1000 });
  const env = { PATH: process.env['PATH'] };

  it('returns the exit code instead of throwing, and streams each line as it comes', async () => {
    const lines: string[] = [];
    const r = await sh.run(['-c', 'echo one; echo two >&2; printf "three\\nfour"; exit 2'], { cwd: '/tmp', env, onLine: (l, s) => lines.push(`${s}:${l}`) });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, 'one\nthree\nfour\n');
    assert.equal(r.stderr, 'two\n');
    assert.deepEqual(lines.sort(), ['stderr:two', 'stdout:four', 'stdout:one', 'stdout:three']);
  });

  it('runs in the given folder with exactly the given environment (no undefined, nothing inherited)', async () => {
    process.env['LIFEBOAT_RUNNER_LEAK'] = 'leaked';
    try {
      const r = await sh.run(['-c', 'pwd; echo "[$FOO][$LIFEBOAT_RUNNER_LEAK][${GONE-unset}]"'], { cwd: '/tmp', env: { ...env, FOO: 'bar', GONE: undefined } });
      assert.equal(r.stdout, '/tmp\n[bar][][unset]\n');
    } finally {
      delete process.env['LIFEBOAT_RUNNER_LEAK'];
    }
  });

  it('cancel kills the whole process group at once (a child holding the pipes too) and reports no exit code', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const started = Date.now();
    const r = await sh.run(['-c', 'sleep 30 & sleep 30; echo never'], { cwd: '/tmp', env, signal: ac.signal });
    assert.equal(r.code, null);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.ok(!r.stdout.includes('never'));
  });

  it('a missing binary is a result with no exit code and the reason, not an exception', async () => {
    const r = await createTerraformRunner({ binary: 'lifeboat-no-such-terraform' }).run(['plan'], { cwd: '/tmp', env });
    assert.equal(r.code, null);
    assert.match(r.stderr, /ENOENT/);
  });
});
