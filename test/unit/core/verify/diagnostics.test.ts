/** The editor side of a verification, without VS Code: Problems-panel entries, corrupt flags, the badge. */
import * as assert from 'node:assert/strict';
import { msg, type VerifyResult } from '../../../../src/core';
import { badgeFor, diagnosticsByFile, verdictsByVolid, verifyStatus } from '../../../../src/extension/diagnostics/findings';
import { backupLook } from '../../../../src/extension/views/presentation';

const t = (m: string, ...a: (string | number | boolean)[]) => m.replace(/\{(\d+)\}/g, (_, i: string) => String(a[Number(i)]));
const r = (line: number) => ({ start: { line, column: 2 }, end: { line, column: 9 } });

const result: VerifyResult = {
  full: false, startedAt: '', finishedAt: '', durationMs: 0, cancelled: false, exitCode: 2, counts: { ok: 1, warning: 1, error: 2 },
  findings: [
    { severity: 'error', code: 'archive-corrupt', message: msg('Archive {0} of {1} is CORRUPT: {2}', 'backups:backup/a.vma.zst', 'nextcloud (122)', 'premature end'), file: '/r/prod/terraform.tfvars', range: r(12), volid: 'backups:backup/a.vma.zst' },
    { severity: 'error', code: 'never-backed-up', message: msg('{0} ({1}) has never been backed up: no archive on any storage', 'sandbox', 202), file: '/r/lab/terraform.tfvars', range: r(7) },
    { severity: 'warning', code: 'job-disabled', message: msg('Backup job {0} is disabled ({1}): the guests it covers are not backed up', 'backup-lab', '03:00'), file: '/r/lab/terraform.tfvars' },
    { severity: 'ok', code: 'guest-ok', message: msg('{0} ({1}): {2} backup(s), newest {3}', 'gitea', 121, 14, 'x'), file: '/r/prod/terraform.tfvars', range: r(5) },
    { severity: 'warning', code: 'state-unreadable', message: msg('x') },
  ],
  archives: [
    { volid: 'backups:backup/a.vma.zst', node: 'alpha', storage: 'backups', vmid: 122, guest: 'nextcloud', environment: 'prod', format: 'vma.zst', sizeBytes: 1, ctime: 1, ageHours: 1, protected: false, notes: undefined, verdict: 'corrupt', checksum: 'new', sha256: undefined, commands: [], detail: undefined, durationMs: 1 },
    { volid: 'backups:backup/b.vma.zst', node: 'alpha', storage: 'backups', vmid: 121, guest: 'gitea', environment: 'prod', format: 'vma.zst', sizeBytes: 1, ctime: 1, ageHours: 1, protected: false, notes: undefined, verdict: 'unchanged', checksum: 'unchanged', sha256: 'f', commands: [], detail: undefined, durationMs: 1 },
    { volid: 'backups:backup/c.vma.zst', node: 'alpha', storage: 'backups', vmid: 121, guest: 'gitea', environment: 'prod', format: 'vma.zst', sizeBytes: 1, ctime: 1, ageHours: 1, protected: false, notes: undefined, verdict: 'ok', checksum: 'changed', sha256: 'f', commands: [], detail: undefined, durationMs: 1 },
  ],
  states: [],
};

describe('extension/diagnostics (verify results in the editor)', () => {
  it('one diagnostic per warning/error on the guest\'s tfvars line; ok findings and findings without a file stay out', () => {
    const byFile = diagnosticsByFile(result, t);
    assert.deepEqual([...byFile.keys()].sort(), ['/r/lab/terraform.tfvars', '/r/prod/terraform.tfvars']);
    const prod = byFile.get('/r/prod/terraform.tfvars')!;
    assert.equal(prod.length, 1);
    assert.equal(prod[0]!.range.start.line, 12);
    assert.equal(prod[0]!.severity, 'error');
    assert.equal(prod[0]!.code, 'archive-corrupt');
    assert.match(prod[0]!.message, /backups:backup\/a\.vma\.zst of nextcloud \(122\) is CORRUPT: premature end/);
    const lab = byFile.get('/r/lab/terraform.tfvars')!;
    assert.deepEqual(lab.map((d) => [d.code, d.range.start.line]), [['never-backed-up', 7], ['job-disabled', 0]]);
  });

  it('corrupt and changed archives are flagged corrupt, passed ones ok; the badge counts errors', () => {
    const v = verdictsByVolid(result);
    assert.equal(v.get('backups:backup/a.vma.zst'), 'corrupt');
    assert.equal(v.get('backups:backup/b.vma.zst'), 'ok');
    assert.equal(v.get('backups:backup/c.vma.zst'), 'corrupt', 'a changed checksum is not trusted');
    assert.deepEqual(badgeFor(result, t), { value: 2, tooltip: '2 error(s) in the last backup verification' });
    assert.equal(badgeFor({ ...result, counts: { ok: 3, warning: 1, error: 0 } }, t), undefined);
  });

  it('a backup the last verification found corrupt shows an error icon, the corrupt flag and says so', () => {
    const b = { volid: 'backups:backup/a.vma.zst', node: 'alpha', storage: 'backups', vmid: 122, type: 'qemu' as const, format: 'vma.zst', compression: 'zstd' as const, ctime: 1_700_000_000, sizeBytes: 1 << 30, notes: undefined, protected: false, pbs: false, verification: undefined };
    const look = backupLook(b, false, 26, new Date(1_700_003_600_000), t, 'corrupt');
    assert.ok(look.flags.includes('corrupt'));
    assert.equal(look.icon, 'error');
    assert.equal(look.color, 'errorForeground');
    assert.match(look.description, /^CORRUPT/);
    assert.match(look.tooltip, /do not restore from it/);
    const fine = backupLook(b, false, 26, new Date(1_700_003_600_000), t, 'ok');
    assert.equal(fine.icon, 'verified');
    assert.ok(!fine.flags.includes('corrupt'));
    assert.equal(backupLook(b, false, 26, new Date(1_700_003_600_000), t).icon, 'archive');
  });

  it('as a procedure outcome for the runbook: errors fail the step, warnings succeed with the report, a cancelled run is cancelled', () => {
    assert.equal(verifyStatus({ cancelled: false, exitCode: 2 }), 'failed');
    assert.equal(verifyStatus({ cancelled: false, exitCode: 1 }), 'succeeded');
    assert.equal(verifyStatus({ cancelled: false, exitCode: 0 }), 'succeeded');
    assert.equal(verifyStatus({ cancelled: true, exitCode: 1 }), 'cancelled');
    assert.equal(verifyStatus({ cancelled: true, exitCode: 2 }), 'cancelled');
  });
});
