/**
 * Safety copies: the state about to be replaced, saved under `<repo>/.lifeboat/safety/` as
 * `<env>-<timestamp>-serial<N>.tfstate` with a `.sha256` file (sha256sum format), verified by
 * reading the file back. Also the newest verified copy of an environment (the fallback's source
 * when MinIO is gone).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LifeboatError, errorArg } from '../errors';
import { msg } from '../procedure/message';
import { parseState, type TerraformStateV4 } from './model';

export function sha256(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function safetyDir(root: string): string {
  return path.join(root, '.lifeboat', 'safety');
}

/** `2026-11-23T17-20-05Z`: sortable, valid in every file system. */
export function fileTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-');
}

export function safetyCopyPath(root: string, env: string, at: Date, serial: number | undefined): string {
  return path.join(safetyDir(root), `${env}-${fileTimestamp(at)}-serial${serial ?? 'unknown'}.tfstate`);
}

export interface SafetyCopy {
  readonly path: string;
  readonly checksumPath: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** Writes the copy and its checksum, then reads both back; throws safetyPointFailed on any mismatch. */
export async function writeSafetyCopy(file: string, body: Buffer): Promise<SafetyCopy> {
  const hash = sha256(body);
  const checksumPath = `${file}.sha256`;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, body, { flag: 'wx' });
    await fs.writeFile(checksumPath, `${hash}  ${path.basename(file)}\n`, { flag: 'wx' });
  } catch (err) {
    throw LifeboatError.saying('safetyPointFailed', msg('could not write the safety copy {0}: {1}', file, errorArg(err)), { path: file }, { cause: err });
  }
  await verifySafetyCopy(file, hash);
  return { path: file, checksumPath, sha256: hash, bytes: body.length };
}

/** Reads a copy back and checks it against its `.sha256` file (and `expected` when given). */
export async function verifySafetyCopy(file: string, expected?: string): Promise<{ sha256: string; body: Buffer }> {
  let body: Buffer;
  let recorded: string | undefined;
  try {
    body = await fs.readFile(file);
    recorded = (await fs.readFile(`${file}.sha256`, 'utf8')).trim().split(/\s+/)[0];
  } catch (err) {
    throw LifeboatError.saying('safetyPointFailed', msg('could not read back the safety copy {0}: {1}', file, errorArg(err)), { path: file }, { cause: err });
  }
  const actual = sha256(body);
  if (actual !== recorded || (expected !== undefined && actual !== expected)) {
    const text = expected
      ? msg('the safety copy {0} does not match its checksum (file {1}, recorded {2}, expected {3})', file, actual, recorded ?? 'none', expected)
      : msg('the safety copy {0} does not match its checksum (file {1}, recorded {2})', file, actual, recorded ?? 'none');
    throw LifeboatError.saying('safetyPointFailed', text, { path: file });
  }
  return { sha256: actual, body };
}

export interface FoundSafetyCopy {
  readonly path: string;
  readonly serial: number;
  readonly lineage: string;
  readonly sha256: string;
  readonly body: Buffer;
  readonly state: TerraformStateV4;
}

/** The newest safety copy of `env` that passes its checksum and is a valid state, if any. */
export async function newestSafetyCopy(root: string, env: string): Promise<FoundSafetyCopy | undefined> {
  let names: string[];
  try {
    names = await fs.readdir(safetyDir(root));
  } catch {
    return undefined;
  }
  const prefix = `${env}-`;
  const candidates = names.filter((n) => n.startsWith(prefix) && n.endsWith('.tfstate') && /^\d{4}-/.test(n.slice(prefix.length))).sort().reverse();
  for (const name of candidates) {
    const file = path.join(safetyDir(root), name);
    try {
      const { sha256: hash, body } = await verifySafetyCopy(file);
      const parsed = parseState(body);
      if (parsed.ok) return { path: file, serial: parsed.state.serial, lineage: parsed.state.lineage, sha256: hash, body, state: parsed.state };
    } catch {
      // A damaged copy is skipped; the next older one may be good.
    }
  }
  return undefined;
}
