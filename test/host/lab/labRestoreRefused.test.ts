// The restore command on the lab where it must refuse before changing anything: sandbox (202, beta) has
// never been backed up. No confirmation is asked (the command resolves on its own) and 202 is as before.
// The mutating restore is the UI test's (test/ui/lab/restoreFromExplorer.ui.mjs, on k3s-test 201).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { clusterGuests, labApi, ssh, walk } from './labHelpers';

function sandboxState() {
  const g = clusterGuests('beta').find((x) => x.vmid === 202);
  const backups = ssh('beta', 'pvesm list local --vmid 202; pvesm list backups --vmid 202').split('\n').filter((l) => l.includes('vzdump')).length;
  return { status: g?.status, lock: g?.lock ?? null, backups };
}

/** Resolves with the command's result, or rejects when it waits (a modal would wait for an answer). */
async function settles(command: string, arg: unknown, ms = 45_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      vscode.commands.executeCommand(command, arg),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${command} still waiting after ${ms / 1000} s (a confirmation was asked?)`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('lab: restore refused for a guest that was never backed up', () => {
  it('lifeboat.restoreFromNewest { vmid: 202, node: beta } (the CodeLens form) asks nothing and changes nothing', async () => {
    await labApi();
    const before = sandboxState();
    assert.equal(before.backups, 0, 'sandbox has no backup in the lab');
    await settles('lifeboat.restoreFromNewest', { vmid: 202, node: 'beta' });
    assert.deepEqual(sandboxState(), before);
  });

  it('the same from the explorer item (context menu argument)', async () => {
    const api = await labApi();
    const sandbox = await walk(api.recoveryTree, 'lab', 'beta', 'sandbox');
    const before = sandboxState();
    await settles('lifeboat.restoreFromNewest', sandbox.element);
    assert.deepEqual(sandboxState(), before);
  });
});
