/** The simulator's connection-drop faults: which command fires them, once, and `armedBy`. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { claimDropFault } from '../../lab/pve/faults';
import { injectFault, listFaults } from '../../lab/pve/control';
import { tempStateDir } from '../../lab/pve/testing';

describe('pve simulator: drop-connection faults', () => {
  let dir: string;
  beforeEach(() => { dir = tempStateDir(); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const LOOKUP = 'pvesh get /nodes/alpha/tasks --source all --vmid 132 --output-format json';

  it('fires on the first matching command of its node, once', async () => {
    await injectFault(dir, { kind: 'drop-connection', node: 'alpha', when: { afterCommandMatching: '/--vmid 132 /', delayMs: 30 } });
    assert.equal(claimDropFault(dir, 'beta', LOOKUP), undefined, 'another node');
    assert.equal(claimDropFault(dir, 'alpha', 'pvesh get /cluster/resources --type vm --output-format json'), undefined);
    assert.deepEqual(claimDropFault(dir, 'alpha', LOOKUP), { delayMs: 30, holdAnswer: false });
    assert.equal(claimDropFault(dir, 'alpha', LOOKUP), undefined, 'one-shot');
  });

  it('with armedBy, the same command drops only once the arming command has run', async () => {
    await injectFault(dir, { kind: 'drop-connection', node: 'alpha', when: { afterCommandMatching: '/^pvesh get \\/nodes\\/alpha\\/tasks --source all --vmid 132 /', armedBy: '/pct restore 132 /', delayMs: 30, holdAnswer: true } });
    assert.equal(claimDropFault(dir, 'alpha', LOOKUP), undefined, 'planning\'s identical read does not drop');
    assert.equal(claimDropFault(dir, 'alpha', 'pct restore 132 backups:backup/vzdump-lxc-132-2026_11_20-01_30_04.tar.zst --storage local-lvm --force 1'), undefined, 'the arming command itself does not drop');
    assert.equal((await listFaults(dir))[0]?.armed, true);
    assert.deepEqual(claimDropFault(dir, 'alpha', LOOKUP), { delayMs: 30, holdAnswer: true }, 'the first read after it does');
    assert.deepEqual(await listFaults(dir), []);
  });
});
