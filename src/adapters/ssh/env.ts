/**
 * The SSH settings the CLI and the extension take from the environment. The simulated homelab
 * exports these from `.lab/env`; an operator can use them too:
 * - LIFEBOAT_SSH_CONFIG   an ssh config file to read instead of ~/.ssh/config;
 * - LIFEBOAT_KNOWN_HOSTS  the known_hosts file to read and append to;
 * - LIFEBOAT_SSH_KEY      private key file(s), separated like PATH (`:`), tried before the config's;
 * - SSH_AUTH_SOCK         the ssh-agent socket (used when set).
 */
import * as path from 'node:path';
import type { SshPoolOptions } from './pool';

export type SshEnvOptions = Pick<SshPoolOptions, 'configPath' | 'knownHostsPath' | 'identityFiles' | 'agent'>;

export function sshOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SshEnvOptions {
  const nonEmpty = (v: string | undefined) => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);
  const config = nonEmpty(env.LIFEBOAT_SSH_CONFIG);
  const knownHosts = nonEmpty(env.LIFEBOAT_KNOWN_HOSTS);
  const keys = nonEmpty(env.LIFEBOAT_SSH_KEY)?.split(path.delimiter).filter((k) => k !== '');
  return {
    ...(config ? { configPath: config } : {}),
    ...(knownHosts ? { knownHostsPath: knownHosts } : {}),
    ...(keys && keys.length > 0 ? { identityFiles: keys } : {}),
    // Always present, so an unset SSH_AUTH_SOCK in `env` means "no agent" even if the process has one.
    agent: nonEmpty(env.SSH_AUTH_SOCK) ?? '',
  };
}
