/**
 * Fault injection for tests and `npm run lab -- fault ...`. Faults live in `<stateDir>/faults.json`
 * and are read by every tool invocation, task worker and SSH server of the lab:
 *
 * - `drop-connection` — the in-process SSH server destroys the client's socket (no SSH disconnect
 *   message, like a network drop) and kills the process groups of that connection's commands;
 *   under OpenSSH the tool that matches walks up its ancestors to the `sshd: root@notty` session
 *   process and a detached helper SIGKILLs it after the delay, which closes the TCP connection.
 *   Detached task workers survive both. One-shot unless `repeat: true`.
 * - `fill-storage` — storage accounting reports `avail = leaveBytes` (vzdump/restore then fail).
 * - `corrupt-archive` — the file is truncated at injection (permanent, like real damage).
 * - `refuse-stop` — stop/shutdown tasks of the guest fail with a lock/powerdown timeout.
 * - `fail-task` — tasks of that type (and vmid) end in `TASK ERROR: <message>`.
 * - `slow` — every tool invocation sleeps first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { type Fault, type StoredFault, storedFaults, updateFaults } from './faults';
import { readState } from './model';
import { corruptFile, dumpDir } from './archive';

export type { Fault, DropWhen, StoredFault } from './faults';

/** Injects a fault; returns its id (for removeFault). `corrupt-archive` damages the file now. */
export async function injectFault(stateDir: string, fault: Fault): Promise<string> {
  if (fault.kind === 'corrupt-archive') corruptFile(archivePathOf(stateDir, fault.volid, fault.node));
  const id = randomBytes(6).toString('hex');
  updateFaults(stateDir, (doc) => {
    doc.faults.push({ id, fault, createdAt: Date.now() });
  });
  return id;
}

/** Removes every fault (damaged archives stay damaged). */
export async function clearFaults(stateDir: string): Promise<void> {
  updateFaults(stateDir, (doc) => {
    doc.faults = [];
  });
}

export async function removeFault(stateDir: string, id: string): Promise<void> {
  updateFaults(stateDir, (doc) => {
    doc.faults = doc.faults.filter((f) => f.id !== id);
  });
}

export async function listFaults(stateDir: string): Promise<StoredFault[]> {
  return storedFaults(stateDir);
}

/** The real file of a backup volid (`local:backup/vzdump-...`), on `node` or wherever it exists. */
export function archivePathOf(stateDir: string, volid: string, node?: string): string {
  const m = /^([^:]+):backup\/([^/]+)$/.exec(volid);
  if (!m) throw new Error(`unable to parse volume ID '${volid}'`);
  const state = readState(stateDir);
  for (const n of state.nodes) {
    if (node && n.name !== node) continue;
    const st = n.storages.find((s) => s.id === m[1]);
    if (!st) continue;
    const file = path.join(dumpDir(st), m[2]!);
    if (fs.existsSync(file)) return file;
  }
  throw new Error(`can't find file '${volid}'`);
}
