import * as assert from 'node:assert/strict';
import { CancelledError, LifeboatError } from '../../../../src/core/errors';
import { runPlan } from '../../../../src/core/procedure/engine';
import { english, msg } from '../../../../src/core/procedure/message';
import type { Plan, Step, StepContext } from '../../../../src/core/procedure/types';
import { RecordingLogSink } from '../../../fakes/fakeNodeShell';

/** A clock that advances 250 ms each time it is read. */
function tickingClock(start = Date.UTC(2026, 10, 21, 3, 0, 0)) {
  let t = start;
  return () => new Date((t += 250));
}

function step(id: string, run: (ctx: StepContext) => Promise<unknown>, over: Partial<Step> = {}): Step {
  return { id, title: msg('Step {0}', id), destructive: false, cancel: 'anytime', commands: [`echo ${id}`], run: run as Step['run'], ...over };
}

function plan(steps: Step[]): Plan {
  return { id: 'p1', kind: 'restore-guest', title: msg('Test plan'), summary: [], warnings: [], destroys: [], steps, nextSteps: [msg('Run terraform plan')] };
}

describe('procedure/runPlan', () => {
  it('runs every step in order and records outcome, detail and duration', async () => {
    const ran: string[] = [];
    const report = await runPlan(plan([
      step('a', async (ctx) => { ran.push('a'); ctx.facts.set('backup', 'local:backup/x'); return msg('did {0}', 'a'); }),
      step('b', async (ctx) => { ran.push(`b saw ${ctx.facts.get('backup')}`); }),
    ]), { signal: new AbortController().signal, log: new RecordingLogSink(), now: tickingClock() });
    assert.deepEqual(ran, ['a', 'b saw local:backup/x']);
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(report.steps.map((s) => [s.id, s.status]), [['a', 'done'], ['b', 'done']]);
    assert.equal(english(report.steps[0]!.detail!), 'did a');
    assert.equal(report.steps[0]?.durationMs, 250);
    assert.equal(report.durationMs, 1250, 'six clock reads: start, a, a, b, b, finish');
    assert.deepEqual(report.facts, { backup: 'local:backup/x' });
    assert.deepEqual(report.aftermath, []);
    assert.equal(english(report.nextSteps[0]!), 'Run terraform plan');
  });

  it('logs each step and its exact commands', async () => {
    const log = new RecordingLogSink();
    await runPlan(plan([step('a', async () => undefined, { commands: ["qmrestore x 121 --force 1"] })]), { signal: new AbortController().signal, log });
    assert.deepEqual(log.grep('[p1]'), ['info: [p1] step 1/1 a: Step a', 'info: [p1]   $ qmrestore x 121 --force 1']);
  });

  it('stops at the first failure: later steps not-run, status failed, the error reason kept', async () => {
    let thirdRan = false;
    const report = await runPlan(plan([
      step('check', async () => undefined),
      step('restore', async () => { throw new LifeboatError('taskFailed', 'unable to restore VM 121 - boom'); }, { destructive: true }),
      step('start', async () => { thirdRan = true; }),
    ]), { signal: new AbortController().signal, log: new RecordingLogSink() });
    assert.equal(report.status, 'failed');
    assert.equal(thirdRan, false);
    assert.deepEqual(report.steps.map((s) => s.status), ['done', 'failed', 'not-run']);
    assert.deepEqual(report.steps[1]?.error, { reason: 'taskFailed', message: 'unable to restore VM 121 - boom' });
    assert.equal(report.steps[2]?.durationMs, undefined);
  });

  it('never reports success when the last step fails after everything else worked', async () => {
    const report = await runPlan(plan([
      step('restore', async () => undefined, { destructive: true }),
      step('reachability', async () => { throw new Error('no answer on port 22'); }),
    ]), { signal: new AbortController().signal, log: new RecordingLogSink() });
    assert.equal(report.status, 'failed');
    assert.deepEqual(report.steps[1]?.error, { reason: 'internal', message: 'no answer on port 22' });
  });

  it('cancellation during step 2 → status cancelled, step 2 cancelled, step 3 not run', async () => {
    const ac = new AbortController();
    let thirdRan = false;
    const report = await runPlan(plan([
      step('one', async () => undefined),
      step('two', async (ctx) => { ac.abort(); if (ctx.signal.aborted) throw new CancelledError(); }),
      step('three', async () => { thirdRan = true; }),
    ]), { signal: ac.signal, log: new RecordingLogSink() });
    assert.equal(report.status, 'cancelled');
    assert.deepEqual(report.steps.map((s) => s.status), ['done', 'cancelled', 'not-run']);
    assert.equal(thirdRan, false);
  });

  it('an abort between steps (a step that finishes anyway) stops before the next step', async () => {
    const ac = new AbortController();
    let thirdRan = false;
    const report = await runPlan(plan([
      step('one', async () => undefined),
      step('two', async () => { ac.abort(); }, { cancel: 'between-steps' }),
      step('three', async () => { thirdRan = true; }),
    ]), { signal: ac.signal, log: new RecordingLogSink() });
    assert.equal(report.status, 'cancelled');
    assert.deepEqual(report.steps.map((s) => s.status), ['done', 'done', 'not-run']);
    assert.equal(thirdRan, false);
  });

  it('only non-destructive steps ran → changed false and "Nothing was changed."', async () => {
    const aftermathCalls: unknown[] = [];
    const report = await runPlan(plan([
      step('check', async () => { throw new LifeboatError('backupCorrupt', 'zstd: premature end'); }),
      step('restore', async () => undefined, { destructive: true }),
    ]), { signal: new AbortController().signal, log: new RecordingLogSink(), aftermath: (f) => { aftermathCalls.push(f); return [msg('custom')]; } });
    assert.equal(report.changed, false);
    assert.deepEqual(report.aftermath.map(english), ['Nothing was changed.']);
    assert.deepEqual(aftermathCalls, [], 'the procedure\'s aftermath is for runs that changed something');
  });

  it('a destructive step that started → changed true, and the aftermath gets the facts and the failed step', async () => {
    let seen: [Record<string, string>, string | undefined] | undefined;
    const report = await runPlan(plan([
      step('stop', async (ctx) => { ctx.facts.set('stopped', 'true'); }, { destructive: true }),
      step('safety-point', async () => { throw new LifeboatError('safetyPointFailed', 'vzdump failed'); }),
    ]), {
      signal: new AbortController().signal, log: new RecordingLogSink(),
      aftermath: (facts, failed) => { seen = [Object.fromEntries(facts), failed]; return [msg('VM {0} was stopped', 121)]; },
    });
    assert.equal(report.changed, true);
    assert.deepEqual(seen, [{ stopped: 'true' }, 'safety-point']);
    assert.deepEqual(report.aftermath.map(english), ['VM 121 was stopped']);
  });

  it('an aftermath that throws still yields the report, with the generic aftermath line, and the error logged', async () => {
    const log = new RecordingLogSink();
    const report = await runPlan(plan([
      step('stop', async (ctx) => { ctx.facts.set('stopped', 'true'); }, { destructive: true }),
      step('restore', async () => { throw new LifeboatError('taskFailed', 'unable to restore VM 121'); }, { destructive: true }),
      step('start', async () => undefined),
    ]), {
      signal: new AbortController().signal, log,
      aftermath: () => { throw new LifeboatError('invalidValue', 'volume "vm/121/x" is not valid'); },
    });
    assert.equal(report.status, 'failed');
    assert.equal(report.changed, true);
    assert.deepEqual(report.steps.map((x) => [x.id, x.status]), [['stop', 'done'], ['restore', 'failed'], ['start', 'not-run']]);
    assert.deepEqual(report.steps[1]?.error, { reason: 'taskFailed', message: 'unable to restore VM 121' });
    assert.deepEqual(report.facts, { stopped: 'true' });
    assert.deepEqual(report.aftermath.map(english), ['Some steps changed things before the run stopped; see each step above.']);
    assert.deepEqual(log.grep('could not describe the state left behind'), ['error: [p1] could not describe the state left behind: LifeboatError: volume "vm/121/x" is not valid']);
  });

  it('a cancelled run whose aftermath throws still yields a cancelled report', async () => {
    const ac = new AbortController();
    const report = await runPlan(plan([
      step('stop', async () => { ac.abort(); }, { destructive: true }),
      step('restore', async () => undefined, { destructive: true }),
    ]), { signal: ac.signal, log: new RecordingLogSink(), aftermath: () => { throw new TypeError('boom'); } });
    assert.equal(report.status, 'cancelled');
    assert.deepEqual(report.steps.map((x) => x.status), ['done', 'not-run']);
    assert.deepEqual(report.aftermath.map(english), ['Some steps changed things before the run stopped; see each step above.']);
  });

  it('without an aftermath, a run that changed things gets the generic line', async () => {
    const report = await runPlan(plan([
      step('stop', async () => undefined, { destructive: true }),
      step('restore', async () => { throw new Error('boom'); }),
    ]), { signal: new AbortController().signal, log: new RecordingLogSink() });
    assert.deepEqual(report.aftermath.map(english), ['Some steps changed things before the run stopped; see each step above.']);
  });

  it('a cancelled run that changed nothing says so', async () => {
    const ac = new AbortController();
    ac.abort();
    const report = await runPlan(plan([step('restore', async () => undefined, { destructive: true })]), { signal: ac.signal, log: new RecordingLogSink() });
    assert.equal(report.status, 'cancelled');
    assert.equal(report.changed, false);
    assert.deepEqual(report.steps.map((s) => s.status), ['not-run']);
    assert.deepEqual(report.aftermath.map(english), ['Nothing was changed.']);
  });

  it('reports progress per step and inside a step', async () => {
    const progress: string[] = [];
    const outcomes: string[] = [];
    await runPlan(plan([
      step('restore', async (ctx) => { ctx.report({ fraction: 0.5, message: msg('{0}%', 50) }); }),
    ]), { signal: new AbortController().signal, log: new RecordingLogSink(), onProgress: (p) => progress.push(`${p.stepId} ${p.stepIndex + 1}/${p.stepCount} ${p.message ? english(p.message) : ''} ${p.fraction ?? ''}`.trim()), onStep: (o) => outcomes.push(`${o.id}:${o.status}`) });
    assert.deepEqual(progress, ['restore 1/1 Step restore', 'restore 1/1 50% 0.5']);
    assert.deepEqual(outcomes, ['restore:done']);
  });

  it('an exclusive plan whose key is held changes nothing: failed, first step refused, the rest not run', async () => {
    const held = new Set<number | string>([121]);
    let ran = false;
    const report = await runPlan({ ...plan([step('stop', async () => { ran = true; }, { destructive: true }), step('restore', async () => { ran = true; })]), exclusive: { held, key: 121 } }, { signal: new AbortController().signal, log: new RecordingLogSink() });
    assert.equal(ran, false);
    assert.equal(report.status, 'failed');
    assert.equal(report.changed, false);
    assert.deepEqual(report.steps.map((x) => [x.status, x.error?.reason]), [['failed', 'restoreInProgress'], ['not-run', undefined]]);
    assert.deepEqual(report.aftermath.map(english), ['Nothing was changed.']);
    assert.deepEqual([...held], [121], 'the other run\'s key is left alone');
  });

  it('an exclusive plan holds its key for the whole run and releases it at the end, even on failure', async () => {
    const held = new Set<number | string>();
    const seen: boolean[] = [];
    const report = await runPlan({ ...plan([step('a', async () => { seen.push(held.has(121)); }), step('b', async () => { seen.push(held.has(121)); throw new Error('boom'); })]), exclusive: { held, key: 121 } }, { signal: new AbortController().signal, log: new RecordingLogSink() });
    assert.deepEqual(seen, [true, true]);
    assert.equal(report.status, 'failed');
    assert.equal(held.size, 0);
  });
});
