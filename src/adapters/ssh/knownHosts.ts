/**
 * OpenSSH `known_hosts` (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): parsing, lookup of a presented host
 * key, fingerprints and appending an accepted key. Pure functions plus two small file helpers, so the
 * rules that decide whether we talk to a node are unit-tested without a network.
 *
 * Supported: plain host patterns (with `*`, `?`, `!`), comma lists, `[host]:port` for non-22 ports,
 * hashed entries `|1|salt|hmac-sha1` (HashKnownHosts), `@revoked` (the key is refused), comments and
 * blank lines. `@cert-authority` lines are skipped: we do not verify host certificates, and a CA key
 * must never make a plain host key "known" nor "changed".
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { matchPatternList } from './patterns';

export type KnownHostMarker = 'revoked' | 'cert-authority';

export interface KnownHostEntry {
  readonly marker?: KnownHostMarker;
  /** Plain patterns (comma list split), or the salt and HMAC of a hashed entry. */
  readonly hosts: { readonly kind: 'patterns'; readonly patterns: readonly string[] } | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer };
  /** The key type read from inside the blob (not the text field, which a hand edit could get wrong). */
  readonly algorithm: string;
  readonly key: Buffer;
  /** 1-based line number, for messages. */
  readonly line: number;
  readonly file?: string;
}

export type HostKeyCheck =
  | { readonly status: 'match'; readonly entry: KnownHostEntry }
  /** `otherAlgorithms`: key types known for this host that differ from the presented one. */
  | { readonly status: 'unknown'; readonly otherAlgorithms: readonly string[] }
  /** A key of the same type is known for this host and it is not this one. */
  | { readonly status: 'changed'; readonly known: readonly KnownHostEntry[] }
  | { readonly status: 'revoked'; readonly entry: KnownHostEntry };

/** The host field OpenSSH looks up: `host` on port 22, `[host]:port` otherwise; lower-cased. */
export function hostToken(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** `SHA256:` + unpadded base64 of the key blob: what `ssh-keygen -lf` and `ssh` print. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type encoded at the start of an SSH public key blob (`string type, ...`). */
export function keyAlgorithm(keyBlob: Buffer): string | undefined {
  if (keyBlob.length < 4) return undefined;
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return undefined;
  const type = keyBlob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseHosts(field: string): KnownHostEntry['hosts'] | undefined {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash || !BASE64.test(salt) || !BASE64.test(hash)) return undefined;
    const saltBuf = Buffer.from(salt, 'base64');
    const hashBuf = Buffer.from(hash, 'base64');
    if (hashBuf.length !== 20) return undefined;
    return { kind: 'hashed', salt: saltBuf, hash: hashBuf };
  }
  if (field.startsWith('|')) return undefined; // an unknown hash format: never matches anything
  return { kind: 'patterns', patterns: field.split(',').filter((p) => p !== '') };
}

/** Parses a known_hosts file's text. Malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file?: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: ignore the line rather than guess
    }
    const [hostField, , b64] = fields;
    if (!hostField || !b64 || !BASE64.test(b64)) continue;
    const hosts = parseHosts(hostField);
    const key = Buffer.from(b64, 'base64');
    const algorithm = keyAlgorithm(key);
    if (!hosts || !algorithm) continue;
    entries.push({ ...(marker ? { marker } : {}), hosts, algorithm, key, line: i + 1, ...(file ? { file } : {}) });
  }
  return entries;
}

function hostMatches(entry: KnownHostEntry, token: string): boolean {
  if (entry.hosts.kind === 'patterns') return matchPatternList(entry.hosts.patterns, token);
  const mac = createHmac('sha1', entry.hosts.salt).update(token).digest();
  return timingSafeEqual(mac, entry.hosts.hash);
}

/** Decides what to do with the key a server presented for host:port. */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, keyBlob: Buffer): HostKeyCheck {
  const token = hostToken(host, port);
  const algorithm = keyAlgorithm(keyBlob);
  // A revoked key is refused for every host, whatever the host field says about others.
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(keyBlob));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && hostMatches(e, token));
  const same = forHost.find((e) => e.key.equals(keyBlob));
  if (same) return { status: 'match', entry: same };
  const sameType = forHost.filter((e) => e.algorithm === algorithm);
  if (sameType.length > 0) return { status: 'changed', known: sameType };
  return { status: 'unknown', otherAlgorithms: [...new Set(forHost.map((e) => e.algorithm))] };
}

/** Key types known for host:port (to ask the server for one of those first, as OpenSSH does). */
export function knownAlgorithms(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const token = hostToken(host, port);
  return [...new Set(entries.filter((e) => e.marker === undefined && hostMatches(e, token)).map((e) => e.algorithm))];
}

/** The line OpenSSH writes for an accepted key (not hashed, so the operator can read it). */
export function knownHostsLine(host: string, port: number, keyBlob: Buffer): string {
  const algorithm = keyAlgorithm(keyBlob);
  if (!algorithm) throw new Error('not an SSH public key blob');
  return `${hostToken(host, port)} ${algorithm} ${keyBlob.toString('base64')}`;
}

/** Reads and parses every file that exists; a missing file is an empty one. */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/** Appends an accepted key, creating the folder (0700) and the file (0600) when needed. */
export async function appendKnownHost(file: string, host: string, port: number, keyBlob: Buffer): Promise<void> {
  const line = knownHostsLine(host, port, keyBlob);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const current = await fs.readFile(file);
    // A file whose last line lacks its newline would otherwise get our entry glued to it.
    if (current.length > 0 && current[current.length - 1] !== 0x0a) prefix = '\n';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
}
