/**
 * `pvesh get|delete|set` over the model (reference §0–§5, §9, §11). Only the paths Lifeboat and
 * the pve-home scripts use are routed; anything else answers `no '<method>' handler for '<path>'`.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { type Ctx, ToolError, out, parseArgs } from '../cli';
import { type ClusterState, type GuestState, type NodeState, GiB, disksOf, guestName, readState, storageUsage, findStorage } from '../model';
import { type OutputFormat, renderResult } from '../format';
import { backupsOf } from '../archive';
import { listTasks, parseUpid, readTaskLog, taskStatus } from '../tasks';
import { localGuest, uptimeSeconds } from '../guests';
import { agentInterfaces, lxcInterfaces } from './agent';
import { extractConfig } from './extract';
import { resolveBackupVolume } from '../volumes';
import { removeArchive, retentionString } from '../prune';

const USAGE = 'USAGE: pvesh <COMMAND> [ARGS] [OPTIONS]\n       pvesh create <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh delete <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh ls <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh set <api_path> [OPTIONS] [FORMAT_OPTIONS]\n       pvesh usage <api_path> [OPTIONS]';

const GET_OPTIONS = ['output-format', 'type', 'content', 'vmid', 'volume', 'start', 'limit', 'typefilter', 'source', 'storage', 'target', 'since', 'until', 'statusfilter', 'userfilter', 'format'];
const GET_BOOLEANS = ['enabled', 'noborder', 'noheader', 'human-readable', 'errors', 'current', 'download', 'quiet'];

export async function pvesh(ctx: Ctx, args: string[]): Promise<number> {
  const [method, ...rest] = args;
  if (method !== 'get' && method !== 'delete' && method !== 'set' && method !== 'create' && method !== 'ls' && method !== 'usage') {
    throw new ToolError(method === undefined ? `ERROR: no command specified\n${USAGE}` : `ERROR: unknown command 'pvesh ${method}'\n${USAGE}`);
  }
  const p = parseArgs(rest, [...GET_OPTIONS, 'notes', 'protected'], GET_BOOLEANS, `pvesh ${method} <api_path> [OPTIONS] [FORMAT_OPTIONS]`);
  const apiPath = p.positional[0];
  if (!apiPath) throw new ToolError(`400 not enough arguments\npvesh ${method} <api_path> [OPTIONS] [FORMAT_OPTIONS]`);
  const format = (p.opts['output-format'] ?? 'text') as OutputFormat;
  if (!['text', 'json', 'json-pretty', 'yaml'].includes(format)) throw new ToolError(`400 Parameter verification failed.\noutput-format: value '${format}' does not have a value in the enumeration 'text, json, json-pretty, yaml'\n`);
  const norm = '/' + apiPath.split('/').filter(Boolean).join('/');
  const state = readState(ctx.stateDir);
  let result: unknown;
  if (method === 'get') result = get(ctx, state, norm, p.opts);
  else if (method === 'delete') result = del(ctx, state, norm, p.opts);
  else if (method === 'set') result = set(ctx, state, norm, p.opts);
  else throw new ToolError(`no '${method === 'create' ? 'create' : method}' handler for '${norm}'`);
  out(renderResult(result, format));
  return 0;
}

/** Resolves `{node}` (`localhost` = this node; other cluster nodes are "proxied"). */
function nodeOf(ctx: Ctx, state: ClusterState, name: string): NodeState {
  const n = state.nodes.find((x) => x.name === (name === 'localhost' ? ctx.node : name));
  if (!n) throw new ToolError(`hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`);
  return n;
}

function get(ctx: Ctx, state: ClusterState, path: string, opts: Record<string, string>): unknown {
  let m: RegExpExecArray | null;
  if (path === '/cluster/resources') return clusterResources(ctx, state, opts.type);
  if (path === '/nodes') return state.nodes.map((n) => nodeEntry(ctx, state, n, false));
  if (path === '/cluster/backup') return state.jobs.map(jobEntry);
  if ((m = /^\/cluster\/backup\/([^/]+)$/.exec(path))) {
    const job = state.jobs.find((j) => j.id === m![1]);
    if (!job) throw new ToolError(`job '${m[1]}' does not exist`);
    return jobEntry(job);
  }
  if ((m = /^\/nodes\/([^/]+)\/storage$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    let storages = n.storages;
    if (opts.content) storages = storages.filter((s) => s.content.includes(opts.content!));
    if (opts.storage) storages = storages.filter((s) => s.id === opts.storage);
    return storages.map((s) => {
      const u = storageUsage(ctx.stateDir, state, n.name, s);
      return { active: 1, avail: u.avail, content: s.content.join(','), enabled: 1, shared: s.shared ? 1 : 0, storage: s.id, total: u.total, type: s.type, used: u.used, ...(u.total > 0 ? { used_fraction: Number((u.used / u.total).toFixed(6)) } : {}) };
    });
  }
  if ((m = /^\/nodes\/([^/]+)\/storage\/([^/]+)\/status$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    const s = findStorage(state, n.name, m[2]!);
    if (!s) throw new ToolError('400 Parameter verification failed.\nstorage: No such storage.\n');
    const u = storageUsage(ctx.stateDir, state, n.name, s);
    return { active: 1, avail: u.avail, content: s.content.join(','), enabled: 1, shared: s.shared ? 1 : 0, total: u.total, type: s.type, used: u.used };
  }
  if ((m = /^\/nodes\/([^/]+)\/storage\/([^/]+)\/content$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    const s = findStorage(state, n.name, m[2]!);
    if (!s) throw new ToolError(`storage '${m[2]}' does not exist`);
    if (opts.content && opts.content !== 'backup') return [];
    let rows = backupsOf(ctx.stateDir, state, s);
    if (opts.vmid) rows = rows.filter((b) => new RegExp(`\\S+-${opts.vmid}-\\S+`).test(b.filename));
    return rows.map((b) => ({
      content: 'backup',
      ctime: b.ctime,
      format: b.format,
      ...(b.notes !== undefined ? { notes: b.notes } : {}),
      ...(b.protected ? { protected: 1 } : {}),
      size: b.size,
      subtype: b.subtype,
      ...(opts.vmid ? { vmid: Number(opts.vmid) } : b.vmid !== undefined ? { vmid: b.vmid } : {}),
      volid: b.volid,
    }));
  }
  if ((m = /^\/nodes\/([^/]+)\/tasks$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    let tasks = listTasks(ctx.stateDir, n.name);
    if (opts.vmid) tasks = tasks.filter((t) => t.id === opts.vmid);
    if (opts.typefilter) tasks = tasks.filter((t) => t.type === opts.typefilter);
    // As on a real node: `source` defaults to `archive` (finished tasks only); `active` = running
    // ones; `all` = both. Code that looks for a running task must ask for it.
    const source = opts.source ?? 'archive';
    if (source === 'active') tasks = tasks.filter((t) => t.status === 'running');
    else if (source === 'archive') tasks = tasks.filter((t) => t.status !== 'running');
    const start = Number(opts.start ?? 0);
    const limit = Number(opts.limit ?? 50);
    return tasks.slice(start, start + limit).map((t) => ({ id: t.id, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, upid: t.upid, user: t.user, ...(t.status === 'stopped' ? { endtime: t.endtime, status: t.exitstatus } : {}) }));
  }
  if ((m = /^\/nodes\/([^/]+)\/tasks\/([^/]+)\/(status|log)$/.exec(path))) {
    nodeOf(ctx, state, m[1]!);
    const upid = decodeURIComponent(m[2]!);
    if (!parseUpid(upid)) throw new ToolError(`400 Parameter verification failed.\nupid: unable to parse worker upid '${upid}'\n`);
    const st = taskStatus(ctx.stateDir, upid);
    if (!st) throw new ToolError(`no such task`);
    if (m[3] === 'status') {
      return { id: st.id, node: st.node, pid: st.pid, pstart: st.pstart, starttime: st.starttime, status: st.status, type: st.type, upid: st.upid, user: st.user, ...(st.status === 'stopped' ? { exitstatus: st.exitstatus } : {}) };
    }
    const lines = readTaskLog(ctx.stateDir, upid);
    const start = Number(opts.start ?? 0);
    const limit = Number(opts.limit ?? 50);
    const page = lines.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
    return page.length === 0 && lines.length === 0 ? [{ n: 1, t: 'no content' }] : page;
  }
  if ((m = /^\/nodes\/([^/]+)\/qemu\/(\d+)\/agent\/network-get-interfaces$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    return { result: agentInterfaces(localGuest(state, n.name, 'qemu', Number(m[2]))) };
  }
  if ((m = /^\/nodes\/([^/]+)\/lxc\/(\d+)\/interfaces$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    return lxcInterfaces(localGuest(state, n.name, 'lxc', Number(m[2])));
  }
  if ((m = /^\/nodes\/([^/]+)\/(qemu|lxc)\/(\d+)\/config$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    const g = localGuest(state, n.name, m[2] as 'qemu' | 'lxc', Number(m[3]));
    return configJson(g);
  }
  if ((m = /^\/nodes\/([^/]+)\/(qemu|lxc)\/(\d+)\/status\/current$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    const g = localGuest(state, n.name, m[2] as 'qemu' | 'lxc', Number(m[3]));
    return { ...guestResource(ctx, state, g), ...(g.config.lock ? { lock: g.config.lock } : {}) };
  }
  if ((m = /^\/nodes\/([^/]+)\/(qemu|lxc)$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    return Object.values(state.guests)
      .filter((g) => g.node === n.name && g.type === m![2])
      .map((g) => {
        const r = guestResource(ctx, state, g) as Record<string, unknown>;
        delete r.id;
        delete r.node;
        delete r.type;
        return r;
      });
  }
  if ((m = /^\/nodes\/([^/]+)\/vzdump\/extractconfig$/.exec(path))) {
    nodeOf(ctx, state, m[1]!);
    if (!opts.volume) throw new ToolError('400 Parameter verification failed.\nvolume: property is missing and it is not optional\n');
    return extractConfig(ctx, opts.volume);
  }
  if ((m = /^\/nodes\/([^/]+)\/status$/.exec(path))) {
    const n = nodeOf(ctx, state, m[1]!);
    return nodeEntry(ctx, state, n, true);
  }
  if ((m = /^\/storage\/([^/]+)$/.exec(path))) {
    const s = state.nodes.flatMap((n) => n.storages).find((x) => x.id === m![1]);
    if (!s) throw new ToolError(`storage '${m[1]}' does not exist`);
    return { content: s.content.join(','), digest: 'f0e1d2c3b4a5968778695a4b3c2d1e0f12345678', path: s.path, ...(s.pruneBackups ? { 'prune-backups': retentionString(s.pruneBackups) } : {}), ...(s.shared ? { shared: 1 } : {}), storage: s.id, type: s.type };
  }
  if (path === '/version') return { release: '9.1', repoid: 'c9f5b8f4e0a3b2d1', version: '9.1.1' };
  throw new ToolError(`no 'get' handler for '${path}'`);
}

function del(ctx: Ctx, state: ClusterState, path: string, _opts: Record<string, string>): unknown {
  const m = /^\/nodes\/([^/]+)\/storage\/([^/]+)\/content\/(.+)$/.exec(path);
  if (!m) throw new ToolError(`no 'delete' handler for '${path}'`);
  const n = nodeOf(ctx, state, m[1]!);
  const volid = decodeURIComponent(m[3]!);
  const full = volid.includes(':') ? volid : `${m[2]}:${volid}`;
  const vol = resolveBackupVolume(state, n.name, full);
  if (!fs.existsSync(vol.path)) throw new ToolError(`unable to delete '${full}' - no such volume`);
  if (fs.existsSync(`${vol.path}.protected`)) throw new ToolError(`cannot remove protected archive '${vol.path}'`);
  removeArchive(ctx.stateDir, vol);
  out(`Removed volume '${full}'\n`);
  return null;
}

function set(ctx: Ctx, state: ClusterState, path: string, opts: Record<string, string>): unknown {
  const m = /^\/nodes\/([^/]+)\/storage\/([^/]+)\/content\/(.+)$/.exec(path);
  if (!m) throw new ToolError(`no 'set' handler for '${path}'`);
  const n = nodeOf(ctx, state, m[1]!);
  const volid = decodeURIComponent(m[3]!);
  const vol = resolveBackupVolume(state, n.name, volid.includes(':') ? volid : `${m[2]}:${volid}`);
  if (!fs.existsSync(vol.path)) throw new ToolError(`volume '${volid}' does not exist`);
  if (opts.notes !== undefined) fs.writeFileSync(`${vol.path}.notes`, opts.notes);
  if (opts.protected === '1') fs.writeFileSync(`${vol.path}.protected`, '');
  if (opts.protected === '0') fs.rmSync(`${vol.path}.protected`, { force: true });
  return null;
}

// ---------------------------------------------------------------------------------------------

function hash(n: number): number {
  return (Math.imul(n + 1, 2654435761) >>> 0) / 4294967296;
}

/** The guest entry of `/cluster/resources` (reference §3), with stable pseudo-statistics. */
function guestResource(ctx: Ctx, state: ClusterState, g: GuestState): Record<string, unknown> {
  const running = g.status === 'running';
  const maxdisk = g.type === 'qemu' ? (disksOf(g.config)[0]?.sizeBytes ?? 0) : (disksOf(g.config).find((d) => d.key === 'rootfs')?.sizeBytes ?? 0);
  const maxmem = Number(g.config.memory ?? 512) * 1024 * 1024;
  const up = uptimeSeconds(g);
  if (!g.config.name && !g.config.hostname) {
    // A guest being created (restore in progress) has no RRD data yet.
    return { id: `${g.type}/${g.vmid}`, node: g.node, status: 'unknown', type: g.type, vmid: g.vmid, ...(g.config.lock ? { lock: g.config.lock } : {}) };
  }
  const r: Record<string, unknown> = {
    cpu: running ? Number((0.005 + hash(g.vmid) * 0.05).toFixed(4)) : 0,
    disk: g.type === 'lxc' && running ? Math.round(maxdisk * (state.dataFraction[String(g.vmid)] ?? 0.2)) : 0,
    diskread: running ? Math.round(hash(g.vmid + 1) * 200 * 1024 * 1024) : 0,
    diskwrite: running ? Math.round(hash(g.vmid + 2) * 50 * 1024 * 1024) : 0,
    id: `${g.type}/${g.vmid}`,
    maxcpu: Number(g.config.cores ?? 1),
    maxdisk,
    maxmem,
    mem: running ? Math.round(maxmem * (0.3 + hash(g.vmid + 3) * 0.4)) : 0,
    name: guestName(g),
    netin: running ? Math.round(hash(g.vmid + 4) * 1e8) : 0,
    netout: running ? Math.round(hash(g.vmid + 5) * 5e7) : 0,
    node: g.node,
    status: g.status,
    template: 0,
    type: g.type,
    uptime: up,
    vmid: g.vmid,
  };
  if (g.type === 'qemu') r.memhost = running ? Math.round((r.mem as number) * 1.015) : 0;
  if (g.config.lock) r.lock = g.config.lock;
  if (g.config.tags) r.tags = g.config.tags;
  void ctx;
  return r;
}

function nodeEntry(ctx: Ctx, state: ClusterState, n: NodeState, detailed: boolean): Record<string, unknown> {
  const local = n.storages.find((s) => s.id === 'local') ?? n.storages[0];
  const u = local ? storageUsage(ctx.stateDir, state, n.name, local) : { total: 0, used: 0 };
  const idx = state.nodes.indexOf(n);
  const base = {
    cpu: Number((0.02 + idx * 0.01).toFixed(4)),
    disk: u.used,
    id: `node/${n.name}`,
    level: '',
    maxcpu: 8,
    maxdisk: u.total,
    maxmem: 64 * GiB,
    mem: Math.round((12 + idx * 3) * GiB),
    node: n.name,
    status: 'online',
    type: 'node',
    uptime: Math.max(0, Math.floor((Date.now() - n.bootedAt) / 1000)),
  };
  if (detailed) return { cpu: base.cpu, uptime: base.uptime, memory: { total: base.maxmem, used: base.mem, free: base.maxmem - base.mem }, pveversion: 'pve-manager/9.1.1/42db4a6cf33dac83', kversion: 'Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2 (2025-07-22T10:04Z)' };
  return { ...base, ssl_fingerprint: fingerprint(n.name) };
}

function fingerprint(seed: string): string {
  let h = 0;
  return Array.from({ length: 32 }, (_, i) => {
    h = Math.imul(h ^ (seed.charCodeAt(i % seed.length) + i), 16777619) >>> 0;
    return (h & 0xff).toString(16).toUpperCase().padStart(2, '0');
  }).join(':');
}

function clusterResources(ctx: Ctx, state: ClusterState, type: string | undefined): unknown[] {
  if (type !== undefined && !['vm', 'storage', 'node', 'sdn', 'pool'].includes(type)) {
    throw new ToolError(`400 Parameter verification failed.\ntype: value '${type}' does not have a value in the enumeration 'vm, storage, node, sdn'\n`);
  }
  const outList: unknown[] = [];
  if (!type || type === 'vm') {
    const guests = Object.values(state.guests).sort((a, b) => (String(a.vmid) < String(b.vmid) ? -1 : 1));
    for (const g of guests) outList.push(guestResource(ctx, state, g));
  }
  if (!type || type === 'node') for (const n of state.nodes) outList.push(nodeEntry(ctx, state, n, false));
  if (!type || type === 'storage') {
    for (const n of state.nodes) {
      for (const s of n.storages) {
        const u = storageUsage(ctx.stateDir, state, n.name, s);
        outList.push({ content: s.content.join(','), disk: u.used, id: `storage/${n.name}/${s.id}`, maxdisk: u.total, node: n.name, plugintype: s.type, shared: s.shared ? 1 : 0, status: 'available', storage: s.id, type: 'storage' });
      }
    }
  }
  return outList;
}

function jobEntry(j: ClusterState['jobs'][number]): Record<string, unknown> {
  return {
    ...(j.comment ? { comment: j.comment } : {}),
    compress: j.compress === 'none' ? '0' : j.compress,
    enabled: j.enabled ? 1 : 0,
    id: j.id,
    mode: j.mode,
    ...(j.enabled ? { 'next-run': nextRun(j.schedule) } : {}),
    ...(j.node ? { node: j.node } : {}),
    ...(j.notesTemplate ? { 'notes-template': j.notesTemplate } : {}),
    ...(j.pruneBackups ? { 'prune-backups': j.pruneBackups } : {}),
    schedule: j.schedule,
    storage: j.storage,
    type: 'vzdump',
    ...(j.all ? { all: 1 } : { vmid: (j.vmids ?? []).join(',') }),
  };
}

/** Next run of a simple `HH:MM` or `<dow> HH:MM` schedule (node time = UTC). */
function nextRun(schedule: string): number | undefined {
  const m = /(\d{1,2}):(\d{2})$/.exec(schedule);
  if (!m) return undefined;
  const now = new Date();
  const t = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), Number(m[1]), Number(m[2])));
  if (t.getTime() <= now.getTime()) t.setUTCDate(t.getUTCDate() + 1);
  return Math.floor(t.getTime() / 1000);
}

/** `/nodes/{node}/{qemu|lxc}/{vmid}/config` JSON: integers where PVE's schema has integers. */
function configJson(g: GuestState): Record<string, unknown> {
  const ints = new Set(['cores', 'sockets', 'onboot', 'protection', 'template', 'swap', 'unprivileged', 'cpuunits', 'balloon', 'vcpus']);
  if (g.type === 'lxc') ints.add('memory');
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(g.config)) r[k] = ints.has(k) && /^\d+$/.test(v) ? Number(v) : v;
  r.digest = digestOf(g.config);
  return r;
}

function digestOf(config: Record<string, string>): string {
  // Proxmox' digest is the SHA-1 of the config file; ours is over the sorted lines.
  const text = Object.keys(config).sort().map((k) => `${k}: ${config[k]}`).join('\n');
  return createHash('sha1').update(text).digest('hex');
}
