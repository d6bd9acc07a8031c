/**
 * Formats from reference/proxmox.md. Every value that reaches a remote shell is checked here first
 * (then quoted by shell.ts): a value that does not match is refused with `invalidValue`.
 */
import { LifeboatError } from '../errors';
import { english, msg, type Message } from '../procedure/message';

export const VMID_RE = /^[1-9][0-9]{2,8}$/;
/** pve-storage-id: starts with a letter, then letters, digits, `-`, `_`, `.`. */
export const STORAGE_ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
/** Node names are host names. */
export const NODE_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const BACKUP_EXT = String.raw`(?:tgz|(?:tar|vma)(?:\.(?:gz|lzo|zst|bz2))?)`;
/** A vzdump archive on a file storage: `local:backup/vzdump-qemu-100-2026_01_02-03_04_05.vma.zst`. */
export const DIR_VOLID_RE = new RegExp(String.raw`^([a-z][a-z0-9\-_.]*[a-z0-9]):backup/(vzdump-(qemu|lxc|openvz)-([1-9][0-9]{2,8})-(\d{4})_(\d{2})_(\d{2})-(\d{2})_(\d{2})_(\d{2})\.(${BACKUP_EXT}))$`, 'i');
/** A Proxmox Backup Server snapshot: `pbs:backup/vm/100/2026-01-02T03:04:05Z`. */
export const PBS_VOLID_RE = /^([a-z][a-z0-9\-_.]*[a-z0-9]):backup\/(vm|ct)\/([1-9][0-9]{2,8})\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/i;
export const UPID_RE = /^UPID:[a-zA-Z0-9-]+:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:[a-z]+:[^:\s]*:[^:\s]+:$/;
export const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function invalid(field: string, value: unknown, expected: Message): LifeboatError {
  return LifeboatError.saying('invalidValue', msg('{0} {1} is not valid: expected {2}', field, JSON.stringify(value) ?? String(value), expected), { field, value: String(value), expected: english(expected) });
}

export function parseVmid(value: unknown, field = 'VMID'): number {
  // No trimming: a value that is not exactly a VMID is refused, never repaired.
  const text = typeof value === 'number' ? String(value) : String(value ?? '');
  if (!VMID_RE.test(text)) throw invalid(field, value, msg('a number from 100 to 999999999'));
  return Number(text);
}

export function checkStorageId(value: string, field = 'storage'): string {
  if (!STORAGE_ID_RE.test(value)) throw invalid(field, value, msg('a Proxmox storage id such as local or local-lvm'));
  return value;
}

export function checkNodeName(value: string): string {
  if (!NODE_RE.test(value)) throw invalid('node', value, msg('a Proxmox node name'));
  return value;
}

export function checkVolid(value: string): string {
  if (!DIR_VOLID_RE.test(value) && !PBS_VOLID_RE.test(value)) throw invalid('volume', value, msg('a vzdump backup volume id'));
  return value;
}

export function checkUpid(value: string): string {
  if (!UPID_RE.test(value)) throw invalid('task', value, msg('a Proxmox task id (UPID)'));
  return value;
}

/** `YYYY-MM-DD` that is a real calendar day. */
export function parseDay(value: string): { year: number; month: number; day: number } {
  const m = DATE_RE.exec(value.trim());
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (!m || probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) {
    throw invalid('date', value, msg('a day written YYYY-MM-DD, e.g. 2026-11-21'));
  }
  return { year: y, month: mo, day: d };
}
