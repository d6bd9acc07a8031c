/**
 * Reads every node in parallel (one SSH connection each, commands multiplexed): guests from
 * /cluster/resources, storages with free space, the backups on every storage that holds backups,
 * and the backup jobs. A node that cannot be read is reported as such; the others still load.
 */
import { CancelledError, LifeboatError, errorArg, throwIfAborted } from '../errors';
import { msg } from '../procedure/message';
import type { LogSink, NodeAddress, NodeShell, NodeShellPool } from '../ports';
import { pvesh } from '../proxmox/commands';
import {
  BackupContentSchema, BackupJobSchema, ClusterResourceSchema, StorageStatusSchema, parseJson,
  type BackupContentRecord, type BackupJobRecord,
} from '../proxmox/records';
import { commandLine, type CommandSpec } from '../proxmox/shell';
import { DIR_VOLID_RE, PBS_VOLID_RE } from '../proxmox/validate';
import type { Backup, BackupJob, Compression, Guest, Inventory, NodeInventory, Storage } from './model';
import { z } from 'zod';

export interface LoadInventoryOptions {
  readonly nodes: readonly NodeAddress[];
  readonly pool: NodeShellPool;
  readonly log: LogSink;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

/** Runs a command that must succeed and parses its JSON output. */
export async function runJson<T>(shell: NodeShell, spec: CommandSpec, schema: z.ZodType<T, z.ZodTypeDef, unknown>, signal?: AbortSignal): Promise<T> {
  const line = commandLine(spec);
  const result = await shell.exec(line, { signal });
  if (result.code !== 0) {
    throw LifeboatError.saying('remoteCommandFailed', msg('{0} failed on {1} (exit {2}): {3}', line, shell.node, result.code ?? 'none', result.stderr.trim()), {
      node: shell.node, command: line, exitCode: result.code ?? undefined, stderr: result.stderr.trim().slice(0, 500),
    });
  }
  try {
    return parseJson(schema, result.stdout);
  } catch (err) {
    throw LifeboatError.saying('unexpectedOutput', msg('{0} on {1} printed something Lifeboat cannot read: {2}', line, shell.node, errorArg(err)), { node: shell.node, command: line }, { cause: err });
  }
}

export async function loadInventory(options: LoadInventoryOptions): Promise<Inventory> {
  const perNode = await Promise.all(options.nodes.map((address) => loadNode(address, options)));
  throwIfAborted(options.signal);
  const guests = new Map<string, Guest>();
  const backups = new Map<string, Backup>();
  const jobs = new Map<string, BackupJob>();
  for (const n of perNode) {
    for (const g of n.guests) guests.set(`${g.node}/${g.vmid}`, g);
    // A shared storage is one directory seen from every node: one backup. A node-local storage
    // with the same name on two nodes holds two different files.
    for (const b of n.backups) {
      const shared = n.inventory.storages.find((s) => s.id === b.storage)?.shared ?? false;
      const key = shared ? b.volid : `${b.node}/${b.volid}`;
      if (!backups.has(key)) backups.set(key, b);
    }
    for (const j of n.jobs) jobs.set(j.id, j);
  }
  return {
    loadedAt: (options.now ?? (() => new Date()))(),
    nodes: perNode.map((n) => n.inventory),
    guests: [...guests.values()].sort((a, b) => a.vmid - b.vmid),
    backups: [...backups.values()].sort((a, b) => b.ctime - a.ctime || a.volid.localeCompare(b.volid)),
    jobs: [...jobs.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}

async function loadNode(address: NodeAddress, options: LoadInventoryOptions): Promise<{ inventory: NodeInventory; guests: Guest[]; backups: Backup[]; jobs: BackupJob[] }> {
  const node = address.name;
  const started = Date.now();
  try {
    const shell = options.pool.shell(address);
    const [resources, storageRecords, jobRecords] = await Promise.all([
      runJson(shell, pvesh.clusterResources('vm'), z.array(ClusterResourceSchema), options.signal),
      runJson(shell, pvesh.nodeStorages(node), z.array(StorageStatusSchema), options.signal),
      runJson(shell, pvesh.backupJobs(), z.array(BackupJobSchema), options.signal),
    ]);
    const storages = storageRecords.map((s): Storage => ({
      node,
      id: s.storage ?? '?',
      type: s.type,
      content: s.content.split(',').map((c) => c.trim()).filter(Boolean),
      active: s.active ?? false,
      shared: s.shared ?? false,
      totalBytes: s.total ?? 0,
      usedBytes: s.used ?? 0,
      availBytes: s.avail ?? 0,
    }));
    const backupStorages = storages.filter((s) => s.active && s.content.includes('backup'));
    // One storage that cannot be listed (or whose id cannot go on a command line) must not hide the
    // node's guests and other backups: each listing, command included, settles on its own.
    const settled = await Promise.allSettled(
      backupStorages.map(async (s) => {
        const rows = await runJson(shell, pvesh.backupContent(node, s.id), z.array(BackupContentSchema), options.signal);
        return rows.map((r) => toBackup(r, node, s.id, options.log));
      }),
    );
    throwIfAborted(options.signal);
    const listings = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const unreadableStorages = settled.flatMap((r, i) => {
      if (r.status === 'fulfilled') return [];
      const message = r.reason instanceof Error ? r.reason.message : String(r.reason);
      options.log.warn(`${node}: storage ${backupStorages[i]!.id} could not be listed: ${message}`);
      const text = LifeboatError.is(r.reason) ? r.reason.text : undefined;
      return [{ storage: backupStorages[i]!.id, message, ...(text ? { text } : {}) }];
    });
    const guests = resources
      .filter((r) => (r.type === 'qemu' || r.type === 'lxc') && r.vmid !== undefined)
      .map((r): Guest => ({
        vmid: r.vmid!,
        type: r.type as 'qemu' | 'lxc',
        name: r.name,
        node: r.node ?? node,
        status: r.status ?? 'unknown',
        lock: r.lock,
        template: r.template ?? false,
        maxdiskBytes: r.maxdisk,
        tags: r.tags ? r.tags.split(/[;,\s]+/).filter(Boolean) : [],
      }));
    options.log.info(`${node}: ${guests.length} guest(s), ${storages.length} storage(s), ${listings.flat().length} backup(s) in ${Date.now() - started} ms`);
    return {
      inventory: { node, reachable: true, error: undefined, storages, unreadableStorages },
      guests,
      backups: listings.flat().filter((b): b is Backup => b !== undefined),
      jobs: jobRecords.map(toJob),
    };
  } catch (err) {
    if (CancelledError.is(err)) throw err;
    const reason = LifeboatError.is(err) ? err.reason : 'hostUnreachable';
    const message = err instanceof Error ? err.message : String(err);
    options.log.warn(`${node}: not read (${reason}): ${message}`);
    const text = LifeboatError.is(err) ? err.text : undefined;
    return { inventory: { node, reachable: false, error: { reason, message, ...(text ? { text } : {}) }, storages: [], unreadableStorages: [] }, guests: [], backups: [], jobs: [] };
  }
}

export function compressionOf(format: string): Compression {
  if (format.startsWith('pbs-')) return 'pbs';
  if (format.endsWith('.zst')) return 'zstd';
  if (format.endsWith('.gz') || format === 'tgz') return 'gzip';
  if (format.endsWith('.lzo')) return 'lzo';
  if (format.endsWith('.bz2')) return 'bzip2';
  return 'none';
}

function toBackup(r: BackupContentRecord, node: string, storage: string, log?: LogSink): Backup | undefined {
  // A name that is not a vzdump volid is data we cannot act on safely: leave it out, say so.
  if (!DIR_VOLID_RE.test(r.volid) && !PBS_VOLID_RE.test(r.volid)) {
    log?.warn(`${node}: ignoring ${JSON.stringify(r.volid)} on ${storage}: not a vzdump backup name`);
    return undefined;
  }
  const type = r.subtype === 'qemu' || r.format.startsWith('vma') || r.format === 'pbs-vm' || /vzdump-qemu-/.test(r.volid)
    ? 'qemu'
    : r.subtype === 'lxc' || r.subtype === 'openvz' || r.format === 'pbs-ct' || /vzdump-(lxc|openvz)-/.test(r.volid) ? 'lxc' : undefined;
  const vmid = r.vmid ?? Number(/-(\d{3,9})-/.exec(r.volid)?.[1]);
  if (!type || !Number.isFinite(vmid)) return undefined;
  const state = r.verification?.state;
  return {
    volid: r.volid,
    node,
    storage,
    vmid,
    type,
    format: r.format,
    compression: compressionOf(r.format),
    ctime: r.ctime,
    sizeBytes: r.size ?? r['approximate-size'] ?? 0,
    notes: r.notes,
    protected: r.protected ?? false,
    pbs: r.format.startsWith('pbs-'),
    verification: state === 'ok' || state === 'failed' ? state : undefined,
  };
}

function toJob(r: BackupJobRecord): BackupJob {
  const ids = (v: string | number | undefined) => String(v ?? '').split(/[,\s]+/).filter(Boolean).map(Number).filter(Number.isFinite);
  return {
    id: r.id,
    schedule: r.schedule,
    enabled: r.enabled ?? true,
    storage: r.storage,
    vmids: r.all ? 'all' : ids(r.vmid),
    exclude: ids(r.exclude),
    node: r.node,
    mode: r.mode,
  };
}
