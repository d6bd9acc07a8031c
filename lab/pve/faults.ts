/**
 * Fault definitions and the shared faults document (`<stateDir>/faults.json`). Written by
 * `control.ts` (tests, `npm run lab -- fault`), read by every tool invocation, the task workers,
 * the in-process SSH server and storage accounting.
 */
import * as path from 'node:path';
import { readJson, updateJson } from './store';

export type DropWhen =
  /** Substring of the command line (or a regex written `/.../`); the drop happens `delayMs` after that command starts (default 500 ms). */
  | { readonly afterCommandMatching: string; readonly delayMs?: number }
  /** `afterMs` after the next command starts on that node. */
  | { readonly afterMs: number };

export type Fault =
  /** Kill the node's SSH connection (in-process server: socket destroyed; OpenSSH: the sshd session process is killed). Fires once unless `repeat`. */
  | { readonly kind: 'drop-connection'; readonly node: string; readonly when: DropWhen; readonly repeat?: boolean }
  /** The storage reports (and enforces) only `leaveBytes` available. */
  | { readonly kind: 'fill-storage'; readonly node: string; readonly storage: string; readonly leaveBytes: number }
  /** Damages an archive file once, at injection (the file stays damaged after clearFaults). */
  | { readonly kind: 'corrupt-archive'; readonly volid: string; readonly node?: string }
  /** `qm stop|shutdown` / `pct stop|shutdown` of that guest fail (lock timeout), the guest keeps running. */
  | { readonly kind: 'refuse-stop'; readonly vmid: number }
  /** Tasks of that type (e.g. `qmrestore`, `vzdump`, `qmstart`), optionally only for one vmid, end in `TASK ERROR: <message>`. */
  | { readonly kind: 'fail-task'; readonly type: string; readonly vmid?: number; readonly message: string }
  /** Every tool invocation sleeps `delayMs` first (a slow link or a loaded node). */
  | { readonly kind: 'slow'; readonly delayMs: number };

export interface StoredFault {
  readonly id: string;
  readonly fault: Fault;
  readonly createdAt: number;
}

interface FaultsDoc {
  faults: StoredFault[];
}

export function faultsPath(stateDir: string): string {
  return path.join(stateDir, 'faults.json');
}

export function storedFaults(stateDir: string): StoredFault[] {
  return readJson<FaultsDoc>(faultsPath(stateDir), { faults: [] }).faults;
}

export function activeFaults(stateDir: string): Fault[] {
  return storedFaults(stateDir).map((f) => f.fault);
}

export function updateFaults<R>(stateDir: string, fn: (doc: FaultsDoc) => R): R {
  return updateJson<FaultsDoc, R>(faultsPath(stateDir), { faults: [] }, fn);
}

/** Does a drop-connection fault apply to this command line? */
export function dropMatches(when: DropWhen, commandLine: string): boolean {
  if ('afterMs' in when) return true;
  const pat = when.afterCommandMatching;
  if (pat.length > 2 && pat.startsWith('/') && pat.endsWith('/')) return new RegExp(pat.slice(1, -1)).test(commandLine);
  return commandLine.includes(pat);
}

export function dropDelayMs(when: DropWhen): number {
  return 'afterMs' in when ? when.afterMs : (when.delayMs ?? 500);
}

/**
 * Atomically claims the first drop-connection fault of `node` matching `commandLine` (removing it
 * unless `repeat`), so that two sessions never both fire a one-shot fault.
 */
export function claimDropFault(stateDir: string, node: string, commandLine: string): number | undefined {
  if (!storedFaults(stateDir).some((f) => f.fault.kind === 'drop-connection')) return undefined;
  return updateFaults(stateDir, (doc) => {
    const idx = doc.faults.findIndex((f) => f.fault.kind === 'drop-connection' && f.fault.node === node && dropMatches(f.fault.when, commandLine));
    if (idx < 0) return undefined;
    const f = doc.faults[idx]!.fault as Extract<Fault, { kind: 'drop-connection' }>;
    if (!f.repeat) doc.faults.splice(idx, 1);
    return dropDelayMs(f.when);
  });
}
