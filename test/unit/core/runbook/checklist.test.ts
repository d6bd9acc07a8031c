import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRunbook } from '../../../../src/core/runbook/parse';
import {
  ChecklistError, changedSteps, closeIfComplete, elapsedMs, failureMessage, finishStep, markStepDone, newRunLog, procedureVerdict, recordCommand,
  remainingSteps, reopenStep, resumeRunLog, retryStep, setCheck, skipStep, startStep,
} from '../../../../src/core/runbook/checklist';
import { english as render } from '../../../../src/core/procedure/message';
import { runbookReportMarkdown, formatDuration } from '../../../../src/core/runbook/report';
import { maskSecrets, secretValues } from '../../../../src/core/runbook/secrets';

const source = readFileSync(path.resolve(__dirname, '../../../fixtures/homelab/docs/DISASTER-RECOVERY.md'), 'utf8');
const rb = parseRunbook(source);
const [s1, s2, s3] = rb.steps.map((s) => s.id) as [string, string, string];
const at = (min: number) => new Date(Date.UTC(2026, 10, 23, 3, min, 0));
const english = (m: string, ...a: (string | number)[]) => m.replace(/\{(\d+)\}/g, (_, i: string) => String(a[Number(i)]));

describe('runbook checklist transitions', () => {
  it('starts with every step pending and the Markdown checkboxes', () => {
    const log = newRunLog(rb, 'docs/DISASTER-RECOVERY.md', at(0), 'alice');
    assert.equal(Object.keys(log.steps).length, 5);
    assert.ok(Object.values(log.steps).every((s) => s.status === 'pending'));
    assert.equal(Object.keys(log.checks).length, 5 + 3 + 4);
    assert.equal(log.rtoMinutes, 45);
    assert.deepEqual(remainingSteps(log, rb), rb.steps.map((s) => s.id));
  });

  it('pending → running → done, with the duration', () => {
    let log = newRunLog(rb, 'x.md', at(0));
    log = startStep(log, s1, at(1));
    assert.equal(log.steps[s1]?.status, 'running');
    log = recordCommand(log, s1, 'c1', { status: 'done', via: 'shell', text: 'true', startedAt: at(1).toISOString(), endedAt: at(9).toISOString(), exitCode: 0, outputTail: 'x'.repeat(10_000) });
    log = finishStep(log, s1, { ok: true }, at(9));
    assert.equal(log.steps[s1]?.status, 'done');
    assert.equal(log.steps[s1]?.durationMs, 8 * 60_000);
    assert.ok((log.steps[s1]?.commands.c1?.outputTail.length ?? 0) <= 4_001, 'only the tail is kept');
    assert.deepEqual(remainingSteps(log, rb), rb.steps.slice(1).map((s) => s.id));
  });

  it('failed → retry keeps the failed attempt; skip needs a reason; mark done by hand', () => {
    let log = startStep(newRunLog(rb, 'x.md', at(0)), s2, at(0));
    log = recordCommand(log, s2, 'c', { status: 'failed', via: 'shell', text: 'false', startedAt: at(0).toISOString(), exitCode: 3, outputTail: 'boom' });
    log = finishStep(log, s2, { ok: false, failure: { reason: 'commandFailed', command: 'false', exitCode: 3 } }, at(2));
    assert.equal(log.steps[s2]?.status, 'failed');
    assert.deepEqual(log.steps[s2]?.failure, { reason: 'commandFailed', command: 'false', exitCode: 3 });
    assert.equal(render(failureMessage(log.steps[s2]?.failure)), '`false` exited with code 3.');
    log = retryStep(log, s2, at(3));
    assert.equal(log.steps[s2]?.status, 'pending');
    assert.equal(log.steps[s2]?.retries, 1);
    assert.deepEqual(log.steps[s2]?.attempts.map((a) => [a.status, a.failedCommand, a.exitCode]), [['failed', 'false', 3]]);
    assert.throws(() => skipStep(log, s2, '  ', at(4)), (e: unknown) => ChecklistError.is(e) && e.reason === 'reasonRequired');
    log = skipStep(log, s2, 'state restored by hand from the bucket', at(4));
    assert.equal(log.steps[s2]?.status, 'skipped');
    log = reopenStep(log, s2);
    log = markStepDone(log, s2, at(5));
    assert.equal(log.steps[s2]?.manual, true);
  });

  it('refuses transitions that make no sense', () => {
    const log = newRunLog(rb, 'x.md', at(0));
    const bad = (e: unknown) => ChecklistError.is(e) && e.reason === 'badTransition';
    assert.throws(() => finishStep(log, s1, { ok: true }, at(1)), bad);
    assert.throws(() => retryStep(log, s1, at(1)), bad);
    const running = startStep(log, s1, at(1));
    assert.throws(() => startStep(running, s1, at(1)), bad);
    const executing = recordCommand(running, s1, 'c', { status: 'running', via: 'shell', text: 'sleep 60', startedAt: at(1).toISOString(), outputTail: '' });
    const busy = (e: unknown) => ChecklistError.is(e) && e.reason === 'commandRunning';
    assert.throws(() => skipStep(executing, s1, 'why', at(2)), busy, 'not while a command of it runs');
    assert.throws(() => markStepDone(executing, s1, at(2)), busy);
    assert.deepEqual(remainingSteps(executing, rb), rb.steps.slice(1).map((s) => s.id), 'a step whose command runs is not "remaining"');
    const done = markStepDone(log, s1, at(1));
    assert.throws(() => skipStep(done, s1, 'why', at(1)), bad);
    assert.throws(() => startStep(log, 'nope', at(1)), (e: unknown) => ChecklistError.is(e) && e.reason === 'unknownStep');
  });

  it('starting a failed step again counts as a retry', () => {
    let log = startStep(newRunLog(rb, 'x.md', at(0)), s1, at(0));
    log = finishStep(log, s1, { ok: false, failure: { reason: 'stopped' } }, at(1));
    log = startStep(log, s1, at(2));
    assert.equal(log.steps[s1]?.retries, 1);
    assert.equal(log.steps[s1]?.status, 'running');
  });

  it('resumes a saved run: a step left running is failed (interrupted), new steps are added, edits are noticed', () => {
    let log = startStep(newRunLog(rb, 'x.md', at(0)), s3, at(1));
    log = recordCommand(log, s3, 'c', { status: 'running', via: 'shell', text: 'sleep 100', startedAt: at(1).toISOString(), outputTail: '' });
    const saved = JSON.parse(JSON.stringify(log)) as typeof log;
    const edited = parseRunbook(source.replace('--mode restore', '--mode rebuild').replace('## Contacts', '## Step 6 — Tell the users (about 2 min)\n\n- [ ] Mail sent\n\n## Contacts'));
    const resumed = resumeRunLog(saved, edited, at(30));
    assert.equal(resumed.steps[s3]?.status, 'failed');
    assert.deepEqual(resumed.steps[s3]?.failure, { reason: 'interrupted' });
    assert.equal(resumed.steps[s3]?.commands.c?.status, 'failed');
    const added = edited.steps[5]!;
    assert.equal(resumed.steps[added.id]?.status, 'pending');
    assert.equal(resumed.checks[added.checklist[0]!.id], false);
    assert.deepEqual(changedSteps(resumed, edited), [s3]);
  });

  it('checkboxes, completion and the measured time', () => {
    let log = newRunLog(rb, 'x.md', at(0));
    log = setCheck(log, rb.prerequisites[0]!.id, true);
    assert.equal(log.checks[rb.prerequisites[0]!.id], true);
    for (const [i, s] of rb.steps.entries()) log = finishStep(startStep(log, s.id, at(i * 5)), s.id, { ok: true }, at(i * 5 + 4));
    log = closeIfComplete(log, rb, at(40));
    assert.equal(log.endedAt, at(40).toISOString());
    assert.equal(elapsedMs(log, at(90)), 40 * 60_000);
  });
});

describe('runbook report', () => {
  it('lists steps with durations and outcomes, problems and the RTO verdict', () => {
    let log = newRunLog(rb, 'docs/DISASTER-RECOVERY.md', at(0), 'alice');
    log = finishStep(startStep(log, s1, at(0)), s1, { ok: true }, at(12));
    log = recordCommand(startStep(log, s2, at(12)), s2, 'c', { status: 'failed', via: 'shell', text: './x.sh', startedAt: at(12).toISOString(), exitCode: 2, outputTail: '' });
    log = finishStep(log, s2, { ok: false, failure: { reason: 'commandFailed', command: './x.sh', exitCode: 2 } }, at(14));
    log = retryStep(log, s2, at(15));
    log = finishStep(startStep(log, s2, at(15)), s2, { ok: true }, at(20));
    log = skipStep(log, s3, 'monitoring is not needed tonight', at(21));
    const md = runbookReportMarkdown({ runbook: rb, log, runbookPath: 'docs/DISASTER-RECOVERY.md', operator: 'alice', scenario: 'node alpha lost', now: at(50) }, english);
    assert.match(md, /^# DR test report: Disaster recovery/);
    assert.match(md, /Operator: alice/);
    assert.match(md, /Scenario: node alpha lost/);
    assert.match(md, /\| 1 \| Bring MinIO back \| 10 min \| 12 min 00 s \| done \|/);
    assert.match(md, /\| 2 \| Restore the Terraform state \| 5 min \| 7 min 00 s \| done \|/);
    assert.match(md, /`\.\/x\.sh` failed \(exit code 2\); retried/);
    assert.match(md, /skipped: monitoring is not needed tonight/);
    assert.match(md, /Measured recovery time: \*\*50 min 00 s\*\*, target \(RTO\): 45 min — EXCEEDED/);
    assert.match(md, /\| 4 \| Production guests \| 15 min \| — \| not run \|/);
  });

  it('formats durations', () => {
    assert.equal(formatDuration(42_000), '42 s');
    assert.equal(formatDuration(65_000), '1 min 05 s');
    assert.equal(formatDuration(3_900_000), '1 h 05 min');
  });
});

describe('secret masking', () => {
  it('masks secret-looking environment values and password=/token= assignments', () => {
    const values = secretValues({ MINIO_ROOT_PASSWORD: 'hunter22', PATH: '/usr/bin', API_TOKEN: 'abcd1234', SHORT_KEY: 'x' });
    assert.deepEqual(values.sort(), ['abcd1234', 'hunter22']);
    const out = maskSecrets('login with hunter22\npassword=s3cr3t token: t0k3n --password "p w" user=bob', values);
    assert.equal(out, 'login with «redacted»\npassword=«redacted» token: «redacted» --password "«redacted»" user=bob');
  });
});

describe('measured recovery time', () => {
  it('starts with the first step, not with the first checkbox', () => {
    let log = newRunLog(rb, 'x.md', at(0));
    log = setCheck(log, rb.prerequisites[0]!.id, true);
    assert.equal(elapsedMs(log, at(10)), 0);
    log = startStep(log, s1, at(10));
    assert.equal(elapsedMs(log, at(25)), 15 * 60_000);
  });
});

describe('measured recovery time after a retry or a reopen', () => {
  it('counts from the first attempt: fail at 10:00, retry at 10:30, done at 10:33 is 33 min, and the report says the RTO was exceeded', () => {
    const ten = (min: number) => new Date(Date.UTC(2026, 10, 23, 10, min, 0));
    let log = newRunLog(rb, 'docs/DISASTER-RECOVERY.md', ten(0));
    log = startStep(log, s1, ten(0));
    log = finishStep(log, s1, { ok: false, failure: { reason: 'commandFailed', command: './x.sh', exitCode: 1 } }, ten(2));
    log = retryStep(log, s1, ten(30));
    log = startStep(log, s1, ten(30));
    assert.equal(elapsedMs(log, ten(31)), 31 * 60_000, 'the stopwatch runs from 10:00, not from the retry');
    log = finishStep(log, s1, { ok: true }, ten(33));
    for (const s of rb.steps.slice(1)) log = skipStep(log, s.id, 'drill of step 1 only', ten(33));
    log = closeIfComplete(log, rb, ten(33));
    assert.equal(elapsedMs(log, ten(90)), 33 * 60_000);
    const md = runbookReportMarkdown({ runbook: { ...rb, rtoMinutes: 30 }, log, runbookPath: 'x.md', operator: 'alice', scenario: 's', now: ten(90) }, english);
    assert.match(md, /Measured recovery time: \*\*33 min 00 s\*\*, target \(RTO\): 30 min — EXCEEDED/);
  });

  it('keeps the first start when a done step is reopened and run again; the report says it was reopened', () => {
    let log = newRunLog(rb, 'x.md', at(0));
    log = startStep(log, s1, at(0));
    log = recordCommand(log, s1, 'c1', { status: 'done', via: 'shell', text: 'true', startedAt: at(0).toISOString(), endedAt: at(5).toISOString(), exitCode: 0, outputTail: '' });
    log = finishStep(log, s1, { ok: true }, at(5));
    log = reopenStep(log, s1, at(20));
    assert.equal(log.steps[s1]?.status, 'pending');
    assert.deepEqual(log.steps[s1]?.commands, {}, 'the next attempt does not count the closed one\'s results');
    assert.deepEqual(log.steps[s1]?.attempts.map((a) => [a.status, a.startedAt]), [['done', at(0).toISOString()]]);
    log = finishStep(startStep(log, s1, at(20)), s1, { ok: true }, at(25));
    assert.equal(elapsedMs(log, at(25)), 25 * 60_000);
    assert.equal(log.steps[s1]?.durationMs, 10 * 60_000, 'both attempts count in the step time');
    const md = runbookReportMarkdown({ runbook: rb, log, runbookPath: 'x.md', operator: 'a', scenario: 's', now: at(25) }, english);
    assert.match(md, /Bring MinIO back\*\*: done, then reopened\./);
  });
});

describe('a running step with no command executing (commands run one by one)', () => {
  const partly = () => {
    let log = startStep(newRunLog(rb, 'x.md', at(0)), s2, at(0));
    log = recordCommand(log, s2, 'c1', { status: 'done', via: 'shell', text: 'true', startedAt: at(0).toISOString(), endedAt: at(1).toISOString(), exitCode: 0, outputTail: '' });
    return log;
  };

  it('is still to run: "Run all remaining" does not skip it', () => {
    assert.deepEqual(remainingSteps(partly(), rb), rb.steps.map((s) => s.id));
  });

  it('can be skipped with a reason or marked done by hand, its time counted', () => {
    const skipped = skipStep(partly(), s2, 'state restored from a local copy', at(4));
    assert.equal(skipped.steps[s2]?.status, 'skipped');
    assert.equal(skipped.steps[s2]?.durationMs, 4 * 60_000);
    const done = markStepDone(partly(), s2, at(6));
    assert.equal(done.steps[s2]?.status, 'done');
    assert.equal(done.steps[s2]?.manual, true);
    assert.equal(done.steps[s2]?.durationMs, 6 * 60_000);
  });

  it('stays running after a reload (it can be continued); a step whose command was executing becomes interrupted', () => {
    const resumed = resumeRunLog(JSON.parse(JSON.stringify(partly())) as ReturnType<typeof partly>, rb, at(30));
    assert.equal(resumed.steps[s2]?.status, 'running');
  });
});

describe('Lifeboat procedures and failures as data', () => {
  it('only an explicit succeeded is a success', () => {
    assert.deepEqual(procedureVerdict({ status: 'succeeded', reportFile: 'r.md' }), { ok: true, reportFile: 'r.md' });
    assert.deepEqual(procedureVerdict({ status: 'failed' }), { ok: false, outcome: 'failed' });
    assert.deepEqual(procedureVerdict({ status: 'not-confirmed' }), { ok: false, outcome: 'not-confirmed' });
    assert.deepEqual(procedureVerdict(undefined), { ok: false, outcome: 'none' });
    assert.deepEqual(procedureVerdict({ status: 'ok', findings: [] }), { ok: false, outcome: 'ok' }, 'another shape is not a success');
    assert.deepEqual(procedureVerdict('succeeded'), { ok: false, outcome: 'none' });
  });

  it('says why a step failed, as msg() sentences the surface translates', () => {
    const say = (f: Parameters<typeof failureMessage>[0]) => render(failureMessage(f));
    assert.equal(say({ reason: 'procedureFailed', procedure: 'lifeboat.rebuildMinio', outcome: 'none' }).startsWith("Lifeboat's procedure (lifeboat.rebuildMinio) reported no outcome"), true);
    assert.match(say({ reason: 'procedureFailed', procedure: 'lifeboat.restoreGuest', outcome: 'failed' }), /failed: see its report/);
    assert.match(say({ reason: 'procedureFailed', procedure: 'lifeboat.restoreTfstate', detail: 'Version v9 is not among the versions of the prod state.' }), /did not run the procedure: Version v9/);
    assert.match(say({ reason: 'interrupted' }), /^Interrupted/);
    assert.equal(say('x exited with 1'), 'x exited with 1', 'a run log written before failures were data');
    const err = (() => {
      try {
        skipStep(newRunLog(rb, 'x.md', at(0)), s1, ' ', at(1));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(ChecklistError.is(err));
    assert.equal(err.detail.text, 'Skipping a step needs a reason: it goes into the DR report.');
  });
});
