// The fakes other tests rely on (test/fakes/fakeNodeShell.ts): if they drift, every restore test lies.
import * as assert from 'node:assert/strict';
import { CancelledError, LifeboatError } from '../../../../src/core/errors';
import { FakeNodeShell, FakeNodeShellPool, connectionLost, instantSleep } from '../../../fakes/fakeNodeShell';

describe('test fakes: FakeNodeShell and pool', () => {
  it('answers exact strings and regexes, newest rule first, sequences repeating their last answer', async () => {
    const s = new FakeNodeShell('alpha').on(/^qm status/, { stdout: 'status: stopped\n' }).on('qm status 121', { stdout: 'status: running\n' }, { stdout: 'status: stopped\n' });
    assert.equal((await s.exec('qm status 121')).stdout, 'status: running\n');
    assert.equal((await s.exec('qm status 121')).stdout, 'status: stopped\n');
    assert.equal((await s.exec('qm status 121')).stdout, 'status: stopped\n');
    assert.equal((await s.exec('qm status 122')).stdout, 'status: stopped\n');
    assert.deepEqual(s.commands, ['qm status 121', 'qm status 121', 'qm status 121', 'qm status 122']);
  });

  it('an unanswered command exits 127 and is listed in unmatched', async () => {
    const s = new FakeNodeShell('alpha');
    const r = await s.exec('rm -rf /');
    assert.equal(r.code, 127);
    assert.deepEqual(s.unmatched, ['rm -rf /']);
  });

  it('errors and dropOn reject with connectionLost on the chosen calls only; output is streamed', async () => {
    const chunks: string[] = [];
    const s = new FakeNodeShell('alpha').on(/log/, connectionLost('alpha'), { stdout: 'line\n' }).on('x', { stdout: 'ok\n' }).dropOn('x', 1);
    await assert.rejects(s.exec('log'), (err) => LifeboatError.is(err, 'connectionLost'));
    assert.equal((await s.exec('log', { onStdout: (c) => chunks.push(c) })).stdout, 'line\n');
    assert.deepEqual(chunks, ['line\n']);
    assert.equal((await s.exec('x')).code, 0);
    await assert.rejects(s.exec('x'), (err) => LifeboatError.is(err, 'connectionLost'));
    assert.equal((await s.exec('x')).code, 0);
  });

  it('honours the signal: aborted before, or while an answer is pending', async () => {
    const s = new FakeNodeShell('alpha').on('hang', () => new Promise(() => undefined));
    const ac = new AbortController();
    const p = s.exec('hang', { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (err) => CancelledError.is(err));
    await assert.rejects(s.exec('hang', { signal: ac.signal }), (err) => CancelledError.is(err));
    await assert.rejects(instantSleep()(10, ac.signal), (err) => CancelledError.is(err));
  });

  it('the pool hands out shells by node and makes a node unreachable', async () => {
    const pool = new FakeNodeShellPool(new FakeNodeShell('alpha').on('true', {}));
    pool.unreachable('gamma');
    assert.equal((await pool.shell({ name: 'alpha', host: '10.20.0.10' }).exec('true')).code, 0);
    await assert.rejects(pool.shell({ name: 'gamma', host: '10.20.0.12' }).exec('true'), (err) => LifeboatError.is(err, 'hostUnreachable'));
    assert.deepEqual(pool.requested.map((a) => a.name), ['alpha', 'gamma']);
  });
});
