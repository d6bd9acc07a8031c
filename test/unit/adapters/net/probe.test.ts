/**
 * The real probes and the real sleep (not the fakes): a cancel ends every wait with the core's
 * CancelledError — the engine reports "cancelled" only for that — and ping is called with the
 * arguments of the platform it runs on.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { CancelledError } from '../../../../src/core/errors';
import { createNetworkProbe, pingAnswer, pingArgs, sleep } from '../../../../src/adapters/net/probe';

const cancelled = (err: unknown) => {
  assert.ok(CancelledError.is(err), `expected CancelledError, got ${String(err)} (${(err as Error)?.name})`);
  return true;
};

describe('adapters/net/probe', () => {
  describe('sleep', () => {
    it('resolves after the time', async () => {
      await sleep(5, new AbortController().signal);
    });

    // Was a bug (fixed): it rejected with the signal's DOMException, which the engine reported as
    // "failed / internal: This operation was aborted".
    it('a cancel during the wait rejects with CancelledError', async () => {
      const ac = new AbortController();
      const waiting = sleep(60_000, ac.signal);
      setTimeout(() => ac.abort(), 5);
      await assert.rejects(waiting, cancelled);
    });

    it('an already aborted signal rejects with CancelledError', async () => {
      const ac = new AbortController();
      ac.abort(new Error('whatever the reason'));
      await assert.rejects(sleep(10, ac.signal), cancelled);
    });
  });

  describe('tcp and http', () => {
    let server: net.Server;
    let web: http.Server;
    let port = 0;
    let webPort = 0;
    before(async () => {
      server = net.createServer((s) => s.end());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as net.AddressInfo).port;
      // Answers nothing: a request waits until it is aborted.
      web = http.createServer(() => undefined);
      await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
      webPort = (web.address() as net.AddressInfo).port;
    });
    after(() => {
      server.close();
      web.closeAllConnections();
      web.close();
    });

    it('tcp answers true on an open port', async () => {
      assert.equal(await createNetworkProbe().tcp('127.0.0.1', port, 2000), true);
    });

    it('tcp cancelled while connecting, or before, rejects with CancelledError', async () => {
      const probe = createNetworkProbe();
      const ac = new AbortController();
      const connecting = probe.tcp('127.0.0.1', port, 2000, ac.signal);
      ac.abort();
      await assert.rejects(connecting, cancelled);
      await assert.rejects(probe.tcp('127.0.0.1', port, 2000, ac.signal), cancelled);
    });

    it('http cancelled while waiting for the answer rejects with CancelledError; a timeout is an error code', async () => {
      const probe = createNetworkProbe();
      const ac = new AbortController();
      const waiting = probe.http(`http://127.0.0.1:${webPort}/`, 30_000, ac.signal);
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(waiting, cancelled);
      assert.deepEqual(await probe.http(`http://127.0.0.1:${webPort}/`, 50), { error: 'ETIMEDOUT' });
    });

    it('ping with an aborted signal rejects with CancelledError', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(createNetworkProbe().ping('127.0.0.1', 1000, ac.signal), cancelled);
    });
  });

  describe('ping arguments per platform', () => {
    it('Linux: -c 1 -W <seconds>', () => {
      assert.deepEqual(pingArgs('10.20.0.21', 2000, 'linux'), ['-c', '1', '-W', '2', '10.20.0.21']);
      assert.deepEqual(pingArgs('10.20.0.21', 200, 'linux'), ['-c', '1', '-W', '1', '10.20.0.21'], 'at least one second');
    });

    it('macOS and the BSDs: -c 1 -t <seconds> (their -W is not seconds)', () => {
      assert.deepEqual(pingArgs('10.20.0.21', 2000, 'darwin'), ['-c', '1', '-t', '2', '10.20.0.21']);
      assert.deepEqual(pingArgs('10.20.0.21', 3000, 'freebsd'), ['-c', '1', '-t', '3', '10.20.0.21']);
    });

    it('Windows: -n 1 -w <milliseconds>', () => {
      assert.deepEqual(pingArgs('10.20.0.21', 2000, 'win32'), ['-n', '1', '-w', '2000', '10.20.0.21']);
    });

    it('Windows counts an answer only with a TTL (it exits 0 on "Destination host unreachable")', () => {
      assert.equal(pingAnswer(0, 'Reply from 10.20.0.1: Destination host unreachable.', '', 'win32'), 'failed');
      assert.equal(pingAnswer(0, 'Reply from 10.20.0.21: bytes=32 time<1ms TTL=64', '', 'win32'), 'ok');
      assert.equal(pingAnswer(0, '', '', 'linux'), 'ok');
      assert.equal(pingAnswer(1, '', '', 'linux'), 'failed');
      assert.equal(pingAnswer(2, '', 'ping: socket: Operation not permitted', 'linux'), 'unavailable');
      assert.equal(pingAnswer(undefined, '', 'spawn ping ENOENT', 'linux'), 'unavailable');
    });
  });
});
