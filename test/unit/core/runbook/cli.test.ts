import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { runbookCommand } from '../../../../src/cli/commands/runbook';
import type { CliIo } from '../../../../src/cli/commands/environments';

const root = path.resolve(__dirname, '../../../..');

function io(): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  const id = (s: string) => s;
  return { cwd: root, env: {}, out: (l) => outLines.push(l), err: (l) => errLines.push(l), style: { bold: id, dim: id, red: id, yellow: id, green: id }, outLines, errLines };
}

describe('lifeboat runbook', () => {
  it('--json prints the model: five steps with estimates, commands and checklist items, and the RTO', async () => {
    const t = io();
    const code = await runbookCommand('test/fixtures/homelab/docs/DISASTER-RECOVERY.md', { json: true }, t);
    assert.equal(code, 0);
    const model = JSON.parse(t.outLines.join('\n')) as { steps: { estimateMinutes?: number; commands: unknown[]; checklist: unknown[] }[]; rtoMinutes?: number };
    assert.deepEqual(model.steps.map((s) => s.estimateMinutes), [10, 5, 10, 15, 5]);
    assert.deepEqual(model.steps.map((s) => s.commands.length), [1, 3, 1, 4, 1]);
    assert.deepEqual(model.steps.map((s) => s.checklist.length), [0, 0, 3, 0, 4]);
    assert.equal(model.rtoMinutes, 45);
  });

  it('prints steps, estimates, commands, checklist items and the RTO for people', async () => {
    const t = io();
    assert.equal(await runbookCommand('test/fixtures/homelab/docs/DISASTER-RECOVERY.md', {}, t), 0);
    const text = t.outLines.join('\n');
    assert.match(text, /RTO target: 45 min/);
    assert.match(text, /^1\. Bring MinIO back {2}\(~10 min\)/m);
    assert.match(text, /\$ \.\/scripts\/restore\/restore-vm\.sh 131 --node alpha .*Lifeboat: lifeboat\.restoreGuest/);
    assert.match(text, /\[ \] Prometheus targets are up/);
  });

  it('a missing file is a failure (exit 1) with a clear message', async () => {
    const t = io();
    assert.equal(await runbookCommand('docs/NOPE.md', {}, t), 1);
    assert.match(t.errLines.join('\n'), /No runbook at .*NOPE\.md: the file does not exist/);
  });
});
