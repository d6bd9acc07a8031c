/**
 * Proxmox commands as data (CommandSpec). Every argument is validated here and quoted by shell.ts.
 * The builders mirror reference/proxmox.md; the simulated nodes answer the same commands.
 */
import type { CommandSpec } from './shell';
import { checkNodeName, checkStorageId, checkUpid, checkVolid, parseVmid } from './validate';

export type GuestType = 'qemu' | 'lxc';
const json = ['--output-format', 'json'];

export const pvesh = {
  clusterResources: (type?: 'vm' | 'storage' | 'node'): CommandSpec =>
    ({ program: 'pvesh', args: ['get', '/cluster/resources', ...(type ? ['--type', type] : []), ...json] }),
  nodeStorages: (node: string, opts: { content?: 'backup' } = {}): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/storage`, ...(opts.content ? ['--content', opts.content] : []), ...json] }),
  storageStatus: (node: string, storage: string): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/storage/${checkStorageId(storage)}/status`, ...json] }),
  backupContent: (node: string, storage: string, vmid?: number): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/storage/${checkStorageId(storage)}/content`, '--content', 'backup', ...(vmid ? ['--vmid', String(parseVmid(vmid))] : []), ...json] }),
  backupJobs: (): CommandSpec => ({ program: 'pvesh', args: ['get', '/cluster/backup', ...json] }),
  /** Running AND finished tasks: the API lists finished ones only unless `--source all`. */
  tasks: (node: string, vmid?: number): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/tasks`, '--source', 'all', ...(vmid ? ['--vmid', String(parseVmid(vmid))] : []), ...json] }),
  /** Running tasks of a guest, as a table (for a human to read in a report). */
  activeTasks: (node: string, vmid: number): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/tasks`, '--source', 'active', '--vmid', String(parseVmid(vmid))] }),
  taskStatus: (node: string, upid: string): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/tasks/${checkUpid(upid)}/status`, ...json] }),
  taskLog: (node: string, upid: string, start: number): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/tasks/${checkUpid(upid)}/log`, '--start', String(start), '--limit', '500', ...json] }),
  guestConfig: (node: string, type: GuestType, vmid: number): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/${type}/${parseVmid(vmid)}/config`, ...json] }),
  agentInterfaces: (node: string, vmid: number): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/qemu/${parseVmid(vmid)}/agent/network-get-interfaces`, ...json] }),
  lxcInterfaces: (node: string, vmid: number): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/lxc/${parseVmid(vmid)}/interfaces`, ...json] }),
  extractConfig: (node: string, volid: string): CommandSpec =>
    ({ program: 'pvesh', args: ['get', `/nodes/${checkNodeName(node)}/vzdump/extractconfig`, '--volume', checkVolid(volid), ...json] }),
};

/** `qm` for VMs, `pct` for containers. */
export const guest = {
  status: (type: GuestType, vmid: number): CommandSpec => ({ program: tool(type), args: ['status', String(parseVmid(vmid))] }),
  start: (type: GuestType, vmid: number): CommandSpec => ({ program: tool(type), args: ['start', String(parseVmid(vmid))] }),
  stop: (type: GuestType, vmid: number): CommandSpec => ({ program: tool(type), args: ['stop', String(parseVmid(vmid))] }),
  shutdown: (type: GuestType, vmid: number, timeoutSeconds: number): CommandSpec =>
    ({ program: tool(type), args: ['shutdown', String(parseVmid(vmid)), '--timeout', String(Math.round(timeoutSeconds))] }),
  setProtection: (type: GuestType, vmid: number, on: boolean): CommandSpec =>
    ({ program: tool(type), args: ['set', String(parseVmid(vmid)), '--protection', on ? '1' : '0'] }),
  setLinkDown: (type: GuestType, vmid: number, net0: string): CommandSpec =>
    ({ program: tool(type), args: ['set', String(parseVmid(vmid)), '--net0', withLinkDown(net0)] }),
};

function tool(type: GuestType): string {
  return type === 'qemu' ? 'qm' : 'pct';
}

function withLinkDown(net0: string): string {
  if (/[\s'"]/.test(net0)) throw new Error('unexpected characters in net0');
  return /(^|,)link_down=/.test(net0) ? net0.replace(/link_down=\d/, 'link_down=1') : `${net0},link_down=1`;
}

export interface RestoreOptions {
  readonly storage?: string;
  readonly force: boolean;
  readonly unique?: boolean;
}

/** `qmrestore <archive> <vmid>` / `pct restore <vmid> <archive>`, never started automatically. */
export function restoreCommand(type: GuestType, volid: string, vmid: number, opts: RestoreOptions): CommandSpec {
  const options = [
    ...(opts.storage ? ['--storage', checkStorageId(opts.storage)] : []),
    ...(opts.force ? ['--force', '1'] : []),
    ...(opts.unique ? ['--unique', '1'] : []),
  ];
  return type === 'qemu'
    ? { program: 'qmrestore', args: [checkVolid(volid), String(parseVmid(vmid)), ...options] }
    : { program: 'pct', args: ['restore', String(parseVmid(vmid)), checkVolid(volid), ...options] };
}

/**
 * The safety point: a real backup of the guest about to be replaced.
 * - `--remove 0`: vzdump's default prunes the storage's older backups of the guest by the retention
 *   (`prune-backups`) right after the new one is written, which can delete the very backup that is
 *   about to be restored (reference §10). A safety point must never remove anything.
 * - `--protected 1`: the next backup job's pruning skips it (and it does not take a retention slot
 *   from the nightly backups), so it stays the way back until the operator deletes it
 *   (`backupVolume.unprotect`, then `backupVolume.remove`).
 */
export function vzdumpCommand(vmid: number, storage: string, notes: string): CommandSpec {
  if (/[\n\r{}]/.test(notes)) throw new Error('notes must be one line without template braces');
  return { program: 'vzdump', args: [String(parseVmid(vmid)), '--storage', checkStorageId(storage), '--mode', 'snapshot', '--compress', 'zstd', '--remove', '0', '--protected', '1', '--notes-template', notes] };
}

/** A backup volume's API path: `/nodes/<node>/storage/<storage>/content/<volid>`. */
function contentPath(node: string, volid: string): string {
  const checked = checkVolid(volid);
  return `/nodes/${checkNodeName(node)}/storage/${checked.slice(0, checked.indexOf(':'))}/content/${checked}`;
}

/** Lifting a backup's protection, then deleting it (what the operator does with a safety point once the guest is good). */
export const backupVolume = {
  unprotect: (node: string, volid: string): CommandSpec => ({ program: 'pvesh', args: ['set', contentPath(node, volid), '--protected', '0'] }),
  remove: (node: string, volid: string): CommandSpec => ({ program: 'pvesh', args: ['delete', contentPath(node, volid)] }),
};

/** `pvesm path <volid>`: the archive's absolute path on the node (file storages only). */
export function volumePath(volid: string): CommandSpec {
  return { program: 'pvesm', args: ['path', checkVolid(volid)] };
}

/**
 * A quick integrity test of a compressed archive on the node: the compression layer's own test
 * (zstd/gzip/lzop -t). For an uncompressed archive, tar lists it (lxc) or vma verifies it (qemu).
 */
export function quickIntegrityCommand(format: string, path: string): CommandSpec {
  if (format.endsWith('.zst')) return { program: 'zstd', args: ['-q', '-t', path] };
  if (format.endsWith('.gz') || format === 'tgz') return { program: 'gzip', args: ['-t', path] };
  if (format.endsWith('.lzo')) return { program: 'lzop', args: ['-t', path] };
  if (format === 'vma') return { program: 'vma', args: ['verify', path] };
  return { program: 'tar', args: ['-tf', path] };
}

export { checkNodeName, checkStorageId, checkVolid, parseVmid };
