/**
 * The state store: one JSON document (`cluster.json`) per lab, read and written by many short-lived
 * tool processes at once (several SSH sessions, detached task workers, the guest-services watcher).
 *
 * Why this shape: readers never lock — every write goes to a temporary file that is atomically
 * renamed over the document, so a reader sees either the old or the new version, never a torn one.
 * Writers serialise through an exclusive lock file (`O_CREAT|O_EXCL`) holding the owner's pid, so
 * read-modify-write cycles never lose an update; a lock whose owner died is broken.
 * Everything is synchronous on purpose: tools are tiny one-shot processes and the critical sections
 * are a few milliseconds long.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const sleepBuffer = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread (no busy loop) — only used while waiting for a lock. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepBuffer, 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` while holding `lockFile`. Waits up to `timeoutMs`, breaks locks of dead owners. */
export function withLock<T>(lockFile: string, fn: () => T, timeoutMs = 15000): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(lockFile, 'utf8'));
      } catch {
        continue; // released between our open and read
      }
      // An owner that died (or a lock file left empty by a crash) is stale after a short grace.
      let ageMs = 0;
      try {
        ageMs = Date.now() - fs.statSync(lockFile).mtimeMs;
      } catch {
        continue;
      }
      if ((Number.isFinite(owner) && owner > 0 && !pidAlive(owner)) || (!(owner > 0) && ageMs > 2000) || ageMs > 30000) {
        try {
          fs.unlinkSync(lockFile);
        } catch {
          /* someone else broke it */
        }
        continue;
      }
      if (Date.now() > deadline) throw new Error(`can't lock file '${lockFile}' - got timeout`);
      sleepSync(5 + Math.random() * 10);
    }
  }
  try {
    return fn();
  } finally {
    try {
      fs.unlinkSync(lockFile);
    } catch {
      /* already gone */
    }
  }
}

/** Writes a file atomically: temp file in the same directory, then rename. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function readJson<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
}

/** Read-modify-write of a JSON document under its lock (`<file>.lock`). */
export function updateJson<T, R>(file: string, fallback: T, fn: (doc: T) => R): R {
  return withLock(`${file}.lock`, () => {
    const doc = readJson(file, fallback);
    const result = fn(doc);
    writeFileAtomic(file, JSON.stringify(doc, null, 1));
    return result;
  });
}
