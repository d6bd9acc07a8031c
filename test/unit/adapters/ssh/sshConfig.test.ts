import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LifeboatError } from '../../../../src/core/errors';
import { sshOptionsFromEnv } from '../../../../src/adapters/ssh/env';
import { matchPatternList } from '../../../../src/adapters/ssh/patterns';
import { parseJumpSpec, resolveSshSettings } from '../../../../src/adapters/ssh/sshConfig';

describe('ssh adapter: ssh config resolution', () => {
  let home: string;
  let configPath: string;
  const write = (text: string) => writeFileSync(configPath, text);
  const resolve = (name: string, host: string, extra: { port?: number; user?: string } = {}) =>
    resolveSshSettings({ name, host, ...extra }, { configPath, homeDir: home, localUser: 'op', env: { LAB: '/lab' } });

  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-sshcfg-'));
    mkdirSync(path.join(home, '.ssh'));
    configPath = path.join(home, '.ssh', 'config');
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('defaults to the tfvars host, port 22 and root without a config file', async () => {
    const s = await resolve('alpha', '10.20.0.10');
    assert.equal(s.host, '10.20.0.10');
    assert.equal(s.port, 22);
    assert.equal(s.user, 'root');
    assert.deepEqual(s.identityFiles, []);
    assert.deepEqual(s.knownHostsFiles, []);
    assert.equal(s.proxyJump, undefined);
  });

  it('matches Host patterns against the node name, then the tfvars host; first value wins', async () => {
    write([
      'Host alpha',
      '  HostName 127.20.0.10',
      '  Port 19022',
      '  IdentityFile ~/.ssh/lab_key',
      '  UserKnownHostsFile ~/.ssh/lab_known_hosts /etc/other',
      'Host 10.20.0.*',
      '  User pveadmin',
      '  Port 2222',
      '  IdentityFile "%d/keys/%r at %h"',
      'Host *',
      '  User nobody',
      '  IdentitiesOnly yes',
    ].join('\n'));
    const s = await resolve('alpha', '10.20.0.10');
    assert.equal(s.host, '127.20.0.10');
    assert.equal(s.port, 19022, 'the alias block comes first in the file, so its Port wins');
    assert.equal(s.user, 'pveadmin', 'User from the address block, not from Host *');
    assert.deepEqual(s.identityFiles, [path.join(home, '.ssh/lab_key'), path.join(home, 'keys/pveadmin at 127.20.0.10')]);
    assert.deepEqual(s.knownHostsFiles, [path.join(home, '.ssh/lab_known_hosts'), '/etc/other']);
    assert.equal(s.identitiesOnly, true);
    const beta = await resolve('beta', '10.20.0.11');
    assert.equal(beta.host, '10.20.0.11');
    assert.equal(beta.port, 2222);
    const other = await resolve('gamma', '192.168.1.5');
    assert.equal(other.user, 'nobody');
    assert.equal(other.port, 22);
  });

  it('expands %h in HostName to the name the section matched', async () => {
    write('Host pve-*\n  HostName %h.lan\nHost 10.9.*\n  HostName %h\n  Port 2\n');
    assert.equal((await resolve('pve-a', '10.20.0.10')).host, 'pve-a.lan');
    const byAddress = await resolve('gamma', '10.9.0.1');
    assert.equal(byAddress.host, '10.9.0.1');
    assert.equal(byAddress.port, 2);
  });

  it('lets explicit port and user from the node address win over the file', async () => {
    write('Host alpha\n  HostName 127.20.0.10\n  Port 19022\n  User admin\n');
    const s = await resolve('alpha', '10.20.0.10', { port: 22022, user: 'lifeboat' });
    assert.equal(s.host, '127.20.0.10');
    assert.equal(s.port, 22022);
    assert.equal(s.user, 'lifeboat');
  });

  it('handles wildcards, ? and negation like OpenSSH', async () => {
    write('Host pve-? !pve-x\n  Port 2200\nHost pve-*\n  Port 2300\n');
    assert.equal((await resolve('pve-a', '10.0.0.1')).port, 2200);
    assert.equal((await resolve('pve-x', '10.0.0.1')).port, 2300);
    assert.equal((await resolve('pve-ab', '10.0.0.1')).port, 2300, '? matches exactly one character');
    assert.equal(matchPatternList(['pve-?'], 'pve-'), false);
    assert.equal(matchPatternList(['ALPHA'], 'alpha'), true);
  });

  it('accepts = separators, case-insensitive keywords, Include and Match host; never runs Match exec', async () => {
    const marker = path.join(home, 'exec-ran');
    mkdirSync(path.join(home, '.ssh', 'conf.d'));
    writeFileSync(path.join(home, '.ssh', 'conf.d', 'nodes.conf'), 'Host beta\n  hostname=127.20.0.11\n');
    write([
      'Include conf.d/*.conf',
      `Match exec "touch ${marker}"`,
      '  Port 1',
      'Match host 127.20.0.11',
      '  PORT=19022',
      'Host *',
      '  IdentityFile ${LAB}/id_%u',
    ].join('\n'));
    const s = await resolve('beta', '10.20.0.11');
    assert.equal(s.host, '127.20.0.11');
    assert.equal(s.port, 19022);
    assert.deepEqual(s.identityFiles, ['/lab/id_op']);
    assert.throws(() => rmSync(marker), /ENOENT/, 'Match exec must not run');
  });

  it('resolves one ProxyJump hop through the config and refuses two', async () => {
    write([
      'Host alpha',
      '  HostName 10.20.0.10',
      '  ProxyJump bastion',
      'Host bastion',
      '  HostName 192.0.2.1',
      '  Port 2022',
      '  User jump',
      'Host beta',
      '  ProxyJump admin@gw:2200,bastion',
      'Host gamma',
      '  ProxyJump alpha',
    ].join('\n'));
    const s = await resolve('alpha', '10.20.0.10');
    assert.equal(s.proxyJump?.host, '192.0.2.1');
    assert.equal(s.proxyJump?.port, 2022);
    assert.equal(s.proxyJump?.user, 'jump');
    await assert.rejects(resolve('beta', '10.20.0.11'), (e: unknown) => LifeboatError.is(e, 'invalidValue') && /several hops/.test(e.message));
    await assert.rejects(resolve('gamma', '10.20.0.12'), (e: unknown) => LifeboatError.is(e, 'invalidValue') && /only one hop/.test(e.message));
    assert.deepEqual(parseJumpSpec('ssh://u@[fe80::1]:22'), { host: 'fe80::1', port: 22, user: 'u' });
  });

  it('rejects a Port that is not a port and reports unsupported directives', async () => {
    write('Host alpha\n  Port http\nHost beta\n  ProxyCommand nc %h %p\n');
    await assert.rejects(resolve('alpha', '10.20.0.10'), (e: unknown) => LifeboatError.is(e, 'invalidValue'));
    assert.deepEqual((await resolve('beta', '10.20.0.11')).ignored, ['ProxyCommand']);
  });

  it('reads the lab variables with sshOptionsFromEnv', () => {
    assert.deepEqual(sshOptionsFromEnv({
      LIFEBOAT_SSH_CONFIG: '/lab/ssh/config', LIFEBOAT_KNOWN_HOSTS: '/lab/ssh/known_hosts', LIFEBOAT_SSH_KEY: '/lab/ssh/id_ed25519:/k2',
    }), { configPath: '/lab/ssh/config', knownHostsPath: '/lab/ssh/known_hosts', identityFiles: ['/lab/ssh/id_ed25519', '/k2'], agent: '' });
    assert.deepEqual(sshOptionsFromEnv({ SSH_AUTH_SOCK: '/run/agent.sock', LIFEBOAT_SSH_CONFIG: '' }), { agent: '/run/agent.sock' });
  });
});
