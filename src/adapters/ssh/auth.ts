/**
 * The authentication methods offered to a node, in OpenSSH's order: the agent first (unless
 * IdentitiesOnly restricts us to the named files), then each identity file. Only unencrypted keys
 * are usable: Lifeboat never asks for a passphrase (an agent is the way to use a protected key),
 * so an encrypted key is skipped with a log line saying so.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { utils, type AgentAuthMethod, type PublicKeyAuthMethod } from 'ssh2';
import type { LogSink } from '../../core/ports';

export interface AuthInputs {
  readonly node: string;
  readonly user: string;
  /** An agent socket, or undefined for none. */
  readonly agent: string | undefined;
  /** Explicit files (settings, environment, ssh config): a missing one is worth a log line. */
  readonly explicitFiles: readonly string[];
  /** Defaults (~/.ssh/id_ed25519…), tried only without explicit files; silently absent. */
  readonly defaultFiles: readonly string[];
  readonly identitiesOnly: boolean;
  readonly log: LogSink;
}

export function defaultIdentityFiles(home: string): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(home, '.ssh', f));
}

async function loadKey(file: string, explicit: boolean, node: string, log: LogSink): Promise<Buffer | undefined> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    if (explicit) log.info(`[${node}] SSH identity ${file} not readable (${(err as NodeJS.ErrnoException).code ?? String(err)}); skipped`);
    return undefined;
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) {
    if (/encrypted/i.test(parsed.message)) {
      log.info(`[${node}] SSH identity ${file} is passphrase-protected; skipped (load it into ssh-agent to use it)`);
    } else {
      log.warn(`[${node}] SSH identity ${file} is not a private key ssh2 can read: ${parsed.message}; skipped`);
    }
    return undefined;
  }
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first?.isPrivateKey()) {
    log.warn(`[${node}] SSH identity ${file} holds no private key; skipped`);
    return undefined;
  }
  return data;
}

/** Returns the methods to try, in order; empty when there is nothing to authenticate with. */
export type Method = AgentAuthMethod | PublicKeyAuthMethod;

export async function authMethods(i: AuthInputs): Promise<Method[]> {
  const methods: Method[] = [];
  const files = i.explicitFiles.length > 0 ? i.explicitFiles : i.defaultFiles;
  if (i.agent && !(i.identitiesOnly && i.explicitFiles.length > 0)) {
    methods.push({ type: 'agent', username: i.user, agent: i.agent });
  }
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file)) continue;
    seen.add(file);
    const key = await loadKey(file, i.explicitFiles.length > 0, i.node, i.log);
    if (key) methods.push({ type: 'publickey', username: i.user, key });
  }
  return methods;
}
