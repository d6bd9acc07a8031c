/**
 * What every networked CLI command needs: the discovered repository, the nodes to reach, an SSH
 * pool with host-key checks, probes, a log on the terminal, and Ctrl-C wired to an AbortSignal.
 */
import * as path from 'node:path';
import { createNetworkProbe, loopbackOnly } from '../adapters/net/probe';
import { createSshPool, sshOptionsFromEnv } from '../adapters/ssh';
import { labGuardedPool } from '../adapters/labGuard';
import { discoverEnvironments, findRepositoryRoot, homelabNodes, type Discovery, type LogSink, type NetworkProbe, type NodeAddress, type NodeShellPool } from '../core';
import type { CliIo } from './commands/environments';
import { t } from './l10n';
import { confirm } from './prompt';

export interface CliRuntime {
  readonly discovery: Discovery;
  readonly nodes: readonly NodeAddress[];
  readonly pool: NodeShellPool;
  readonly probe: NetworkProbe;
  readonly log: LogSink;
  readonly signal: AbortSignal;
  dispose(): void;
}

export interface RuntimeOptions {
  readonly root?: string;
  /** Log lines go to stderr so stdout carries only the JSON. */
  readonly json: boolean;
  readonly verbose?: boolean;
}

export function cliLog(io: CliIo, opts: { json: boolean; verbose?: boolean }): LogSink {
  const write = (line: string) => (opts.json ? io.err(line) : io.out(io.style.dim(line)));
  return {
    trace: () => undefined,
    debug: (m) => { if (opts.verbose) write(m); },
    info: (m) => write(m),
    warn: (m) => io.err(io.style.yellow(m)),
    error: (m) => io.err(io.style.red(typeof m === 'string' ? m : m.message)),
  };
}

export async function openRuntime(io: CliIo, opts: RuntimeOptions): Promise<CliRuntime> {
  const root = opts.root ? path.resolve(io.cwd, opts.root) : (await findRepositoryRoot(io.cwd)) ?? io.cwd;
  const discovery = await discoverEnvironments({ root, env: io.env });
  const log = cliLog(io, opts);
  const nodes = homelabNodes(discovery.environments)
    .filter((n) => n.host !== undefined)
    .map((n): NodeAddress => ({ name: n.name, host: n.host! }));
  const interactive = Boolean(process.stdin.isTTY) && io.env.CI !== 'true';
  const pool = labGuardedPool(createSshPool({
    ...sshOptionsFromEnv(io.env),
    log,
    hostKeyPrompt: async (key) => {
      io.err(t('The SSH host key of {0}:{1} is not known.', key.host, key.port));
      io.err(t('{0} key fingerprint is {1}.', key.algorithm, key.fingerprint));
      if (!interactive) {
        io.err(t('Not accepted: check the fingerprint on the node (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to known_hosts, or run this command in a terminal to accept it.'));
        return false;
      }
      return confirm(t('Accept this key and add it to known_hosts?'), { force: false, interactive });
    },
  }), io.env);
  const controller = new AbortController();
  const onSigint = () => {
    io.err(t('Cancelling… (the current step ends cleanly; press Ctrl-C again to quit at once)'));
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  // The lab sets LIFEBOAT_LAB=1: probes then only ever touch loopback addresses.
  const probe = createNetworkProbe(io.env.LIFEBOAT_LAB === '1' ? { allow: loopbackOnly } : {});
  return {
    discovery, nodes, pool, probe, log, signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSigint);
      pool.dispose();
    },
  };
}
