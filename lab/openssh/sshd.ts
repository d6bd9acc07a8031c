/**
 * The lab's Proxmox nodes behind Debian's OpenSSH: one `sshd -D -e -f <conf>` per node on
 * `<labAddress>:19022`, with the node's simulated tools first on PATH (sshd `SetEnv`), a throw-away
 * HOME (so root's ~/.bashrc is not read) and the simulator's state/node variables. Recipe from
 * ../shared/reference/test-servers.md §B. Also generates the per-lab keys, known_hosts and the
 * ssh client config used by Lifeboat and by the OpenSSH client.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as net from 'node:net';
import { isAlive } from '../s3/ceph';

export const SSHD = '/usr/sbin/sshd';

export interface SshNode {
  readonly name: string;
  /** The operator's address (10.20.0.10) and where the lab listens (127.20.0.10). */
  readonly address: string;
  readonly labAddress: string;
  readonly port: number;
}

export interface SshKeys {
  /** Operator (client) key pair. */
  readonly clientKey: string;
  readonly clientPub: string;
  /** Per node: private host key path (PEM/OpenSSH format) and public key line. */
  readonly hostKeys: Readonly<Record<string, { keyFile: string; pub: string }>>;
  readonly knownHosts: string;
  readonly config: string;
  readonly authorizedKeys: string;
}

function keygen(file: string, comment: string): string {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

/** known_hosts line the way OpenSSH writes it for a non-22 port. */
export function knownHostsLine(host: string, port: number, pub: string): string {
  const [type, b64] = pub.split(/\s+/);
  const h = port === 22 ? host : `[${host}]:${port}`;
  return `${h} ${type} ${b64}`;
}

/** Writes keys, known_hosts (both the lab and the operator addresses) and the ssh client config. */
export function writeSshMaterial(sshDir: string, nodes: readonly SshNode[]): SshKeys {
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const clientKey = path.join(sshDir, 'id_ed25519');
  const clientPub = keygen(clientKey, 'operator@lifeboat-lab');
  const authorizedKeys = path.join(sshDir, 'authorized_keys');
  writeFileSync(authorizedKeys, clientPub + '\n', { mode: 0o600 });
  const hostKeys: Record<string, { keyFile: string; pub: string }> = {};
  const known: string[] = [];
  const config: string[] = ['# Written by `npm run lab -- up`: the simulated homelab\'s Proxmox nodes.', ''];
  const knownHosts = path.join(sshDir, 'known_hosts');
  for (const n of nodes) {
    const keyFile = path.join(sshDir, `ssh_host_ed25519_key.${n.name}`);
    const pub = keygen(keyFile, `root@${n.name}`);
    hostKeys[n.name] = { keyFile, pub };
    known.push(knownHostsLine(n.labAddress, n.port, pub));
    config.push(
      `Host ${n.name} ${n.address} ${n.labAddress}`,
      `    HostName ${n.labAddress}`,
      `    Port ${n.port}`,
      '    User root',
      `    IdentityFile ${clientKey}`,
      '    IdentitiesOnly yes',
      `    UserKnownHostsFile ${knownHosts}`,
      '    StrictHostKeyChecking yes',
      '    LogLevel ERROR',
      '',
    );
  }
  writeFileSync(knownHosts, known.join('\n') + '\n');
  const configFile = path.join(sshDir, 'config');
  writeFileSync(configFile, config.join('\n'));
  return { clientKey, clientPub, hostKeys, knownHosts, config: configFile, authorizedKeys };
}

export interface SshdNodeOptions {
  readonly node: SshNode;
  /** Per-node directory (config, pid, log, home). */
  readonly dir: string;
  readonly binDir: string;
  readonly stateDir: string;
  readonly hostKeyFile: string;
  readonly authorizedKeys: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export function sshdConfig(o: SshdNodeOptions): string {
  const home = path.join(o.dir, 'home');
  const env = {
    PATH: `${o.binDir}:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: home,
    PVE_SIM_STATE: o.stateDir,
    PVE_SIM_NODE: o.node.name,
    ...o.extraEnv,
  };
  for (const [k, v] of Object.entries(env)) if (/\s|"/.test(v)) throw new Error(`sshd SetEnv value with whitespace: ${k}=${v}`);
  return [
    `ListenAddress ${o.node.labAddress}:${o.node.port}`,
    `HostKey ${o.hostKeyFile}`,
    `PidFile ${path.join(o.dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'MaxStartups 100:30:200',
    'MaxSessions 50',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    `SetEnv ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    '',
  ].join('\n');
}

function banner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let data = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('data', (d) => {
      data += d.toString();
      if (data.includes('SSH-2.0')) done(true);
    });
    s.on('error', () => done(false));
    s.on('close', () => resolve(data.includes('SSH-2.0')));
  });
}

/** Starts one node's sshd (setsid, absolute path, -D -e) and waits for its banner. Returns the PID. */
export async function startSshd(o: SshdNodeOptions): Promise<number> {
  mkdirSync('/run/sshd', { recursive: true });
  const home = path.join(o.dir, 'home');
  mkdirSync(home, { recursive: true });
  // Interactive login shells run /etc/profile, which resets PATH: put the tools first again.
  writeFileSync(path.join(home, '.profile'), `export PATH=${o.binDir}:$PATH\n`);
  const conf = path.join(o.dir, 'sshd_config');
  writeFileSync(conf, sshdConfig(o));
  execFileSync(SSHD, ['-t', '-f', conf], { stdio: 'pipe' });
  const logFile = path.join(o.dir, 'sshd.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(SSHD, ['-D', '-e', '-f', conf], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start sshd for ${o.node.name}`);
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) throw new Error(`sshd for ${o.node.name} (pid ${pid}) exited: ${readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ')}`);
    if (await banner(o.node.labAddress, o.node.port)) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd for ${o.node.name} did not answer on ${o.node.labAddress}:${o.node.port}`);
}

export function stopPids(pids: readonly number[], signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

export function readPidFile(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
