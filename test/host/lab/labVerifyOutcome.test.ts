// The runbook's "Run with Lifeboat" trusts what a procedure command resolves to. On the lab,
// lifeboat.verifyBackups resolves to a ProcedureOutcome: errors fail the step (the lab environment:
// sandbox 202 was never backed up), a clean verification succeeds (gitea 121); both name their report.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { labApi } from './labHelpers';

interface Outcome { status?: string; reportFile?: string; result?: { exitCode: number } }

describe('lab: Verify Backups resolves to a procedure outcome', function () {
  this.timeout(240_000);

  it('errors fail: the lab environment, whose sandbox was never backed up', async () => {
    await labApi();
    const out = await vscode.commands.executeCommand<Outcome | undefined>('lifeboat.verifyBackups', { env: 'lab', full: false });
    assert.equal(out?.status, 'failed', JSON.stringify(out?.status));
    assert.equal(out?.result?.exitCode, 2);
    assert.ok(out?.reportFile && existsSync(out.reportFile), 'the report was written');
  });

  it('a clean verification succeeds: gitea 121', async () => {
    await labApi();
    const out = await vscode.commands.executeCommand<Outcome | undefined>('lifeboat.verifyBackups', { vmid: 121, full: false });
    assert.equal(out?.status, 'succeeded', JSON.stringify(out?.result));
    assert.equal(out?.result?.exitCode, 0);
  });
});
