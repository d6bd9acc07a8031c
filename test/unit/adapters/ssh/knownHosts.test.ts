import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  appendKnownHost, checkHostKey, fingerprintSha256, hostToken, keyAlgorithm, knownAlgorithms, knownHostsLine, loadKnownHosts, parseKnownHosts,
} from '../../../../src/adapters/ssh/knownHosts';

function keygen(dir: string, name: string, type = 'ed25519'): { blob: Buffer; pubLine: string; file: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file], { stdio: 'ignore' });
  const pubLine = readFileSync(`${file}.pub`, 'utf8').trim();
  return { blob: Buffer.from(pubLine.split(/\s+/)[1] ?? '', 'base64'), pubLine, file };
}

describe('ssh adapter: known_hosts', () => {
  let dir: string;
  let a: ReturnType<typeof keygen>;
  let b: ReturnType<typeof keygen>;
  let ecdsa: ReturnType<typeof keygen>;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-kh-'));
    a = keygen(dir, 'a');
    b = keygen(dir, 'b');
    ecdsa = keygen(dir, 'c', 'ecdsa');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('computes the fingerprint exactly as ssh-keygen -lf prints it', () => {
    for (const k of [a, ecdsa]) {
      const printed = execFileSync('ssh-keygen', ['-lf', `${k.file}.pub`], { encoding: 'utf8' }).split(/\s+/)[1];
      assert.equal(fingerprintSha256(k.blob), printed);
      assert.match(fingerprintSha256(k.blob), /^SHA256:[A-Za-z0-9+/]{43}$/);
    }
    assert.equal(keyAlgorithm(a.blob), 'ssh-ed25519');
    assert.equal(keyAlgorithm(ecdsa.blob), 'ecdsa-sha2-nistp256');
  });

  it('uses [host]:port for non-22 ports and the bare host on 22', () => {
    assert.equal(hostToken('10.20.0.10', 22), '10.20.0.10');
    assert.equal(hostToken('Alpha.Lan', 2222), '[alpha.lan]:2222');
    assert.equal(knownHostsLine('127.0.0.1', 19022, a.blob), `[127.0.0.1]:19022 ssh-ed25519 ${a.blob.toString('base64')}`);
  });

  it('matches plain, comma-listed and [host]:port entries, and skips comments and junk', () => {
    const b64 = a.blob.toString('base64');
    const text = [
      '# a comment',
      '',
      `alpha,10.20.0.10 ssh-ed25519 ${b64} root@alpha`,
      `[127.0.0.1]:19022 ssh-ed25519 ${b64}`,
      'garbage line',
      `broken ssh-ed25519 !!!notbase64`,
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    assert.equal(entries.length, 2);
    assert.equal(checkHostKey(entries, '10.20.0.10', 22, a.blob).status, 'match');
    assert.equal(checkHostKey(entries, 'ALPHA', 22, a.blob).status, 'match');
    assert.equal(checkHostKey(entries, '127.0.0.1', 19022, a.blob).status, 'match');
    // The port is part of the identity: the same address on 22 is not known.
    assert.equal(checkHostKey(entries, '127.0.0.1', 22, a.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, '10.20.0.10', 2222, a.blob).status, 'unknown');
  });

  it('reports a different key of the same type as changed, another type as unknown', () => {
    const entries = parseKnownHosts(`[h]:2222 ssh-ed25519 ${a.blob.toString('base64')}\n`);
    const changed = checkHostKey(entries, 'h', 2222, b.blob);
    assert.equal(changed.status, 'changed');
    if (changed.status === 'changed') assert.equal(fingerprintSha256(changed.known[0]!.key), fingerprintSha256(a.blob));
    const other = checkHostKey(entries, 'h', 2222, ecdsa.blob);
    assert.deepEqual(other, { status: 'unknown', otherAlgorithms: ['ssh-ed25519'] });
    assert.deepEqual(knownAlgorithms(entries, 'h', 2222), ['ssh-ed25519']);
  });

  it('reads hashed entries written by ssh-keygen -H', () => {
    const file = path.join(dir, 'hashed');
    writeFileSync(file, `[10.20.0.11]:19022 ssh-ed25519 ${a.blob.toString('base64')}\nbeta ${b.pubLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('10.20.0.11') && !text.includes('beta'), 'ssh-keygen hashed the names');
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, 2);
    assert.ok(entries.every((e) => e.hosts.kind === 'hashed'));
    assert.equal(checkHostKey(entries, '10.20.0.11', 19022, a.blob).status, 'match');
    assert.equal(checkHostKey(entries, 'beta', 22, b.blob).status, 'match');
    assert.equal(checkHostKey(entries, '10.20.0.11', 19022, b.blob).status, 'changed');
    assert.equal(checkHostKey(entries, '10.20.0.12', 19022, a.blob).status, 'unknown');
  });

  it('refuses @revoked keys and never lets @cert-authority lines decide', () => {
    const text = [
      `@cert-authority * ssh-ed25519 ${b.blob.toString('base64')}`,
      `@revoked * ssh-ed25519 ${ecdsa.blob.toString('base64')}`,
      `@bogus h ssh-ed25519 ${a.blob.toString('base64')}`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    assert.equal(checkHostKey(entries, 'h', 22, b.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, 'h', 22, a.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, 'h', 22, ecdsa.blob).status, 'revoked');
  });

  it('honours wildcards and negations in host patterns', () => {
    const entries = parseKnownHosts(`10.20.0.*,!10.20.0.99 ssh-ed25519 ${a.blob.toString('base64')}\n`);
    assert.equal(checkHostKey(entries, '10.20.0.10', 22, a.blob).status, 'match');
    assert.equal(checkHostKey(entries, '10.20.0.99', 22, a.blob).status, 'unknown');
    assert.equal(checkHostKey(entries, '10.20.1.10', 22, a.blob).status, 'unknown');
  });

  it('appends accepted keys in OpenSSH format, creating the folder and a 0600 file', async () => {
    const file = path.join(dir, 'new', 'deeper', 'known_hosts');
    await appendKnownHost(file, '127.0.0.1', 19022, a.blob);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    // A file without a final newline gets one before our line.
    writeFileSync(file, readFileSync(file, 'utf8') + `# no newline`);
    await appendKnownHost(file, 'beta', 22, b.blob);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.deepEqual(lines, [`[127.0.0.1]:19022 ssh-ed25519 ${a.blob.toString('base64')}`, '# no newline', `beta ssh-ed25519 ${b.blob.toString('base64')}`, '']);
    // OpenSSH agrees with what we wrote.
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:19022', '-f', file], { encoding: 'utf8' });
    assert.match(found, /ssh-ed25519/);
    const entries = await loadKnownHosts([file, path.join(dir, 'missing')]);
    assert.equal(checkHostKey(entries, 'beta', 22, b.blob).status, 'match');
  });
});
