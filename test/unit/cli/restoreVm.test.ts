/**
 * `lifeboat restore-vm` in-process on the fake homelab (src/cli/commands/restoreVm.ts): what it
 * exits with when the refusal comes from the nodes' data rather than from the command line.
 */
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { restoreVmCommand } from '../../../src/cli/commands/restoreVm';
import type { CliIo } from '../../../src/cli/commands/environments';
import type { CliRuntime } from '../../../src/cli/runtime';
import { json } from '../../fakes/fakeNodeShell';
import { NODES, fixture } from '../../fakes/pveHomelab';
import { restoreScenario, type Scenario, type ScenarioOptions } from '../../fakes/restoreScenario';

const plain = (s: string) => s;

async function runCli(vmid: string, options: { date?: string }, arrange: (s: Scenario) => void = () => undefined, scenario: ScenarioOptions = {}) {
  const s = await restoreScenario(scenario);
  arrange(s);
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { cwd: os.tmpdir(), env: { CI: 'true' }, out: (l) => out.push(l), err: (l) => err.push(l), style: { bold: plain, dim: plain, red: plain, yellow: plain, green: plain } };
  const rt: CliRuntime = {
    discovery: { root: os.tmpdir(), environments: [], problems: [] },
    nodes: NODES,
    pool: { shell: (a) => (a.name === 'alpha' ? s.alpha : s.beta), dispose: () => undefined },
    probe: s.probe,
    log: s.log,
    signal: new AbortController().signal,
    dispose: () => undefined,
  };
  const code = await restoreVmCommand(vmid, { ...options, dryRun: true }, io, async () => rt);
  return { code, out, err, s };
}

describe('cli: restore-vm exit codes', () => {
  // Was a bug (fixed): any invalidValue exited 2 (usage), though the command line had been checked
  // already. Here the node's data does it: a container volume storage whose id Lifeboat refuses to
  // put on a command line, named by the archive's rootfs.
  const oddStorage = { active: 1, avail: 100 * 1024 ** 4, content: 'rootdir', enabled: 1, shared: 0, storage: 'bad store', total: 100 * 1024 ** 4, type: 'dir', used: 0 };
  const oddRootfs = (s: Scenario) => {
    s.alpha.on(/^pvesh get \/nodes\/alpha\/vzdump\/extractconfig --volume \S*lxc-131/, json(fixture('extractconfig-lxc-131.conf').replace('rootfs: local-lvm:', 'rootfs: bad store:')));
  };

  it('a value from a node that fails validation is a failure (1) that changed nothing, not a usage error (2)', async () => {
    const r = await runCli('131', { date: '2026-11-20' }, oddRootfs, { alphaStorages: (rows) => [...rows, oddStorage] });
    assert.equal(r.code, 1, r.err.join('\n'));
    assert.deepEqual(r.err.slice(-2), ['Invalid storage: bad store (expected a Proxmox storage id such as local or local-lvm).', 'Nothing was changed.']);
    assert.deepEqual(r.s.alpha.commands.filter((c) => !/^(pvesh get |pvesm path )/.test(c)), [], 'only reads were sent');
  });

  it('the same restore with the usual rootfs plans fine (dry run, exit 0)', async () => {
    const r = await runCli('131', { date: '2026-11-20' }, () => undefined, { alphaStorages: (rows) => [...rows, oddStorage] });
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.ok(r.out.includes('Dry run: nothing was changed.'));
  });
});
