/**
 * Fault definitions and the shared faults document (`<stateDir>/faults.json`). Written by
 * `control.ts` (tests, `npm run lab -- fault`), read by every tool invocation, the task workers,
 * the in-process SSH server and storage accounting.
 */
import * as path from 'node:path';
import { readJson, updateJson } from './store';

export type DropWhen =
  /**
   * Substring of the command line (or a regex written `/.../`); the drop happens `delayMs` after that
   * command starts (default 500 ms). With `armedBy` (same syntax), only a matching command that runs
   * after a command matching `armedBy` drops: e.g. the first task-list read after a `qmrestore`
   * was launched, not the identical reads made before it.
   */
  | {
    readonly afterCommandMatching: string;
    readonly delayMs?: number;
    readonly armedBy?: string;
    /** The matching command's answer is held back until the drop: the drop always cuts it in flight. */
    readonly holdAnswer?: boolean;
  }
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
  /** A drop with `armedBy`: a command matching it has run. */
  armed?: boolean;
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

/** A substring, or a regex written `/.../`. */
function patternMatches(pat: string, commandLine: string): boolean {
  if (pat.length > 2 && pat.startsWith('/') && pat.endsWith('/')) return new RegExp(pat.slice(1, -1)).test(commandLine);
  return commandLine.includes(pat);
}

/** Does a drop-connection fault apply to this command line (arming aside)? */
export function dropMatches(when: DropWhen, commandLine: string): boolean {
  if ('afterMs' in when) return true;
  return patternMatches(when.afterCommandMatching, commandLine);
}

export function dropDelayMs(when: DropWhen): number {
  return 'afterMs' in when ? when.afterMs : (when.delayMs ?? 500);
}

/**
 * Atomically claims the first drop-connection fault of `node` matching `commandLine` (removing it
 * unless `repeat`), so that two sessions never both fire a one-shot fault. A fault waiting for its
 * `armedBy` command is armed by it (that command does not drop).
 */
export function claimDropFault(stateDir: string, node: string, commandLine: string): { delayMs: number; holdAnswer: boolean } | undefined {
  if (!storedFaults(stateDir).some((f) => f.fault.kind === 'drop-connection')) return undefined;
  return updateFaults(stateDir, (doc) => {
    const drops = doc.faults.filter((f) => f.fault.kind === 'drop-connection' && f.fault.node === node);
    const armedBy = (f: StoredFault) => (f.fault.kind === 'drop-connection' && 'armedBy' in f.fault.when ? f.fault.when.armedBy : undefined);
    const fires = drops.find((f) => (armedBy(f) === undefined || f.armed) && f.fault.kind === 'drop-connection' && dropMatches(f.fault.when, commandLine));
    if (fires) {
      const f = fires.fault as Extract<Fault, { kind: 'drop-connection' }>;
      if (!f.repeat) doc.faults.splice(doc.faults.indexOf(fires), 1);
      return { delayMs: dropDelayMs(f.when), holdAnswer: 'holdAnswer' in f.when && f.when.holdAnswer === true };
    }
    for (const f of drops) {
      const by = armedBy(f);
      if (by !== undefined && !f.armed && patternMatches(by, commandLine)) f.armed = true;
    }
    return undefined;
  });
}
