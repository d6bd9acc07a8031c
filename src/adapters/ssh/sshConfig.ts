/**
 * Resolves a node's address into SSH connection settings, the way `ssh <node>` would with the
 * operator's `~/.ssh/config`. The file is *parsed* by the `ssh-config` package (quoting, `=`
 * separators, multi-value directives: see docs/adr/0010-ssh-config-and-known-hosts.md); the
 * *evaluation* is ours, because it must differ from a generic one in three ways:
 * - a `Host` line matches when its patterns match the node name (`alpha`, the alias the operator
 *   uses) or the host from tfvars (`10.20.0.10`), so both styles of config work;
 * - `Match exec` is never run (a config file is data here; an unmatchable criterion is false);
 * - only what Lifeboat uses is read: HostName, Port, User, IdentityFile, IdentitiesOnly,
 *   IdentityAgent, UserKnownHostsFile, ProxyJump (one hop), ConnectTimeout, Include.
 * First value wins, as in OpenSSH; IdentityFile accumulates. Explicit port/user on the
 * NodeAddress (the operator's settings) win over the file.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { globSync } from 'tinyglobby';
import type * as SshConfigModule from 'ssh-config' with { 'resolution-mode': 'import' };
import { LifeboatError } from '../../core/errors';
import { msg } from '../../core/procedure/message';
import type { NodeAddress } from '../../core/ports';
import { matchPatternList } from './patterns';

// ssh-config ships ESM types only; its CommonJS build is what `require` (and esbuild) load.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sshConfig = require('ssh-config') as typeof SshConfigModule;
type Line = SshConfigModule.Line;

export interface SshConfigOptions {
  /** Default `~/.ssh/config`; a missing file means "no settings". */
  readonly configPath?: string;
  /** For `~` and `%d`; default `os.homedir()`. */
  readonly homeDir?: string;
  /** For `%u` and `Match localuser`; default the current user. */
  readonly localUser?: string;
  /** For `${VAR}` in paths; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface SshSettings {
  /** The node name (or the jump host's spec): used in messages and logs. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** IdentityFile values, `~` and tokens expanded; empty when the file names none. */
  readonly identityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  /** IdentityAgent: undefined = SSH_AUTH_SOCK, `none` = no agent, else a socket path. */
  readonly identityAgent?: string;
  /** UserKnownHostsFile values, expanded; empty when the file names none. */
  readonly knownHostsFiles: readonly string[];
  readonly connectTimeoutMs?: number;
  /** One ProxyJump hop, itself resolved through the config. */
  readonly proxyJump?: SshSettings;
  /** Directives that matched but that Lifeboat does not honour (logged as warnings by the pool). */
  readonly ignored: readonly string[];
}

/** Directives we read, lower-case. Everything else is ignored silently except those listed below. */
const SINGLE = new Set(['hostname', 'port', 'user', 'identitiesonly', 'identityagent', 'userknownhostsfile', 'proxyjump', 'connecttimeout']);
const REPEATED = new Set(['identityfile']);
/** Directives that would change how we connect and that we do not implement: say so. */
const WARN = new Set(['proxycommand', 'hostkeyalias', 'certificatefile', 'pkcs11provider', 'securitykeyprovider']);

type Collected = Map<string, string[]>;

function values(value: SshConfigModule.Directive['value']): string[] {
  return typeof value === 'string' ? [value] : value.map((v) => v.val);
}

interface WalkContext {
  readonly candidates: readonly string[];
  readonly localUser: string;
  readonly home: string;
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly out: Collected;
  readonly ignored: Set<string>;
  /** The candidate (node name or tfvars host) the current section matched: `%h` in HostName. */
  matched: string;
  depth: number;
}

function set(ctx: WalkContext, param: string, vals: string[]): void {
  const key = param.toLowerCase();
  // `%h` in HostName is the name the section matched (`Host pve-*` + `HostName %h.lan`).
  if (key === 'hostname') vals = vals.map((v) => v.replace(/%(.)/g, (m, c: string) => (c === 'h' ? ctx.matched : c === '%' ? '%' : m)));
  if (REPEATED.has(key)) ctx.out.set(key, [...(ctx.out.get(key) ?? []), ...vals]);
  else if (SINGLE.has(key) && !ctx.out.has(key)) ctx.out.set(key, vals);
  else if (WARN.has(key) && !(vals.length === 1 && vals[0]?.toLowerCase() === 'none')) ctx.ignored.add(param);
}

function matchCriteria(criteria: Record<string, unknown>, ctx: WalkContext): boolean {
  const current = (key: string, fallback: string) => ctx.out.get(key)?.[0] ?? fallback;
  for (const [rawKey, raw] of Object.entries(criteria)) {
    const vals = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.map((v: { val: string }) => v.val) : [];
    const patterns = vals.flatMap((v) => v.split(','));
    const key = rawKey.toLowerCase();
    let ok: boolean;
    if (key === 'all') ok = true;
    else if (key === 'host') ok = ctx.candidates.some((c) => matchPatternList(patterns, current('hostname', c)));
    else if (key === 'originalhost') ok = ctx.candidates.some((c) => matchPatternList(patterns, c));
    else if (key === 'user') ok = matchPatternList(patterns, current('user', 'root'));
    else if (key === 'localuser') ok = matchPatternList(patterns, ctx.localUser);
    else ok = false; // exec, canonical, final, tagged, localnetwork…: never evaluated
    if (!ok) return false;
  }
  return true;
}

async function walk(lines: readonly Line[], ctx: WalkContext, active: boolean): Promise<void> {
  for (const line of lines) {
    if (line.type !== sshConfig.LineType.DIRECTIVE) continue;
    const param = line.param.toLowerCase();
    if ('config' in line) {
      // A Host/Match section: its body applies only when it matches (and its parent was active).
      let matches = false;
      if (active && param === 'host') {
        const patterns = values(line.value);
        const by = ctx.candidates.find((c) => matchPatternList(patterns, c));
        matches = by !== undefined;
        if (by !== undefined) ctx.matched = by;
      } else if (active && param === 'match' && 'criteria' in line) {
        matches = matchCriteria(line.criteria, ctx);
      }
      await walk(line.config, ctx, matches);
    } else if (param === 'include') {
      if (active) await include(values(line.value), ctx);
    } else if (active) {
      set(ctx, line.param, values(line.value));
    }
  }
}

async function include(patterns: readonly string[], ctx: WalkContext): Promise<void> {
  if (ctx.depth >= 16) throw LifeboatError.saying('invalidValue', msg('ssh config: Include nested too deeply'), { setting: 'Include' });
  for (const pattern of patterns) {
    const expanded = expandTilde(pattern, ctx.home);
    // Relative includes are relative to the including configuration's folder (~/.ssh by default).
    const absolute = path.resolve(ctx.baseDir, expanded);
    const files = /[*?[]/.test(absolute)
      ? globSync([absolute], { absolute: true, onlyFiles: true, expandDirectories: false }).sort()
      : [absolute];
    for (const file of files) {
      const text = await readIfExists(file);
      if (text === undefined) continue;
      ctx.depth++;
      await walk(sshConfig.parse(text), ctx, true);
      ctx.depth--;
    }
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

interface TokenValues {
  readonly home: string;
  readonly localUser: string;
  readonly host: string;
  readonly originalHost: string;
  readonly port: number;
  readonly user: string;
  readonly env: NodeJS.ProcessEnv;
}

/** `~`, `${VAR}` and the common `%` tokens of ssh_config(5) "TOKENS" in file-name directives. */
export function expandPath(p: string, t: TokenValues): string {
  const tokens: Record<string, string> = {
    '%': '%', d: t.home, u: t.localUser, h: t.host, n: t.originalHost, p: String(t.port), r: t.user,
  };
  const withTokens = p.replace(/%(.)/g, (m, c: string) => tokens[c] ?? m);
  const withEnv = withTokens.replace(/\$\{(\w+)\}/g, (m, name: string) => t.env[name] ?? m);
  return expandTilde(withEnv, t.home);
}

function parsePort(value: string | undefined, what: string, node: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw LifeboatError.saying('invalidValue', msg('ssh config for {0}: {1} "{2}" is not a TCP port', node, what, value), { node, setting: what, value });
  }
  return n;
}

interface Collection {
  readonly out: Collected;
  readonly ignored: readonly string[];
}

async function collect(candidates: readonly string[], configPath: string, o: Required<Omit<SshConfigOptions, 'configPath'>>): Promise<Collection> {
  const out: Collected = new Map();
  const ignored = new Set<string>();
  const text = await readIfExists(configPath);
  if (text !== undefined) {
    const ctx: WalkContext = {
      candidates, localUser: o.localUser, home: o.homeDir, baseDir: path.dirname(configPath), env: o.env, out, ignored, matched: candidates[0] ?? '', depth: 0,
    };
    await walk(sshConfig.parse(text), ctx, true);
  }
  return { out, ignored: [...ignored] };
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export function parseJumpSpec(spec: string): { host: string; port?: number; user?: string } {
  const m = /^(?:ssh:\/\/)?(?:([^@/]+)@)?(\[[^\]]+\]|[^:/@]+)(?::(\d+))?\/?$/.exec(spec.trim());
  if (!m?.[2]) throw LifeboatError.saying('invalidValue', msg('ProxyJump "{0}" is not [user@]host[:port]', spec), { setting: 'ProxyJump', value: spec });
  const host = m[2].replace(/^\[(.*)\]$/, '$1');
  return { host, ...(m[3] ? { port: parsePort(m[3], 'ProxyJump port', spec) } : {}), ...(m[1] ? { user: m[1] } : {}) };
}

function resolvedOptions(options: SshConfigOptions): Required<Omit<SshConfigOptions, 'configPath'>> & { configPath: string } {
  const homeDir = options.homeDir ?? os.homedir();
  let localUser = options.localUser;
  if (localUser === undefined) {
    try {
      localUser = os.userInfo().username;
    } catch {
      localUser = process.env.USER ?? '';
    }
  }
  return {
    homeDir,
    localUser,
    env: options.env ?? process.env,
    configPath: options.configPath ?? path.join(homeDir, '.ssh', 'config'),
  };
}

/**
 * Settings for one node. `address.name` and `address.host` are both tried against `Host` lines;
 * without a HostName the tfvars host is used. Throws LifeboatError('invalidValue') for a bad Port
 * or an unsupported ProxyJump (more than one hop).
 */
export async function resolveSshSettings(address: NodeAddress, options: SshConfigOptions = {}): Promise<SshSettings> {
  const o = resolvedOptions(options);
  const settings = await resolveOne(address, o);
  const jumpSpec = settings.jump;
  if (jumpSpec === undefined) return settings.settings;
  if (jumpSpec.includes(',')) {
    throw LifeboatError.saying('invalidValue', msg('ssh config for {0}: ProxyJump with several hops ("{1}") is not supported; use one jump host', address.name, jumpSpec), { node: address.name, setting: 'ProxyJump', value: jumpSpec });
  }
  const j = parseJumpSpec(jumpSpec);
  const jump = await resolveOne({ name: j.host, host: j.host, ...(j.port ? { port: j.port } : {}), ...(j.user ? { user: j.user } : {}) }, o);
  // A `Host *` ProxyJump also matches the jump host itself: that is "connect directly", not a second hop.
  if (jump.jump !== undefined && jump.jump !== jumpSpec) {
    throw LifeboatError.saying('invalidValue', msg('ssh config for {0}: the jump host {1} has its own ProxyJump; only one hop is supported', address.name, j.host), { node: address.name, setting: 'ProxyJump', value: jumpSpec });
  }
  return { ...settings.settings, proxyJump: jump.settings };
}

async function resolveOne(address: NodeAddress, o: ReturnType<typeof resolvedOptions>): Promise<{ settings: SshSettings; jump?: string }> {
  const candidates = [...new Set([address.name, address.host])];
  const { out, ignored } = await collect(candidates, o.configPath, o);
  const first = (key: string) => out.get(key)?.[0];
  const originalHost = address.name;
  const host = first('hostname') ?? address.host;
  const port = address.port ?? parsePort(first('port'), 'Port', address.name) ?? 22;
  const user = address.user ?? first('user') ?? 'root';
  const t: TokenValues = { home: o.homeDir, localUser: o.localUser, host, originalHost, port, user, env: o.env };
  const agent = first('identityagent');
  const timeout = first('connecttimeout');
  const timeoutSeconds = timeout !== undefined ? Number(timeout) : NaN;
  const jump = first('proxyjump');
  const settings: SshSettings = {
    name: address.name,
    host,
    port,
    user,
    identityFiles: (out.get('identityfile') ?? []).filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, t)),
    identitiesOnly: first('identitiesonly')?.toLowerCase() === 'yes',
    ...(agent !== undefined ? { identityAgent: agent === 'SSH_AUTH_SOCK' || agent.toLowerCase() === 'none' ? agent : expandPath(agent, t) } : {}),
    knownHostsFiles: (out.get('userknownhostsfile') ?? []).filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, t)),
    ...(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? { connectTimeoutMs: timeoutSeconds * 1000 } : {}),
    ignored,
  };
  return { settings, ...(jump !== undefined && jump.toLowerCase() !== 'none' ? { jump } : {}) };
}
