/** The ssh2 adapter: NodeShellPool over SSH, with ssh config and known_hosts handling. */
export { createSshPool, ConnectionLostError, type SshPoolOptions } from './pool';
export { sshOptionsFromEnv, type SshEnvOptions } from './env';
export { resolveSshSettings, type SshSettings, type SshConfigOptions } from './sshConfig';
export {
  appendKnownHost, checkHostKey, fingerprintSha256, knownHostsLine, loadKnownHosts, parseKnownHosts, type HostKeyCheck, type KnownHostEntry,
} from './knownHosts';
