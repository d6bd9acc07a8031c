/**
 * Guest lookups and the exact Proxmox error texts around them (reference §6, §7).
 */
import { ToolError } from './cli';
import type { ClusterState, GuestState } from './model';
import type { GuestType } from './spec';

export function confPath(node: string, type: GuestType, vmid: number): string {
  return `nodes/${node}/${type === 'qemu' ? 'qemu-server' : 'lxc'}/${vmid}.conf`;
}

/** `Configuration file 'nodes/<node>/qemu-server/<vmid>.conf' does not exist` (rc 2). */
export function noConfig(node: string, type: GuestType, vmid: number): ToolError {
  return new ToolError(`Configuration file '${confPath(node, type, vmid)}' does not exist`, 2);
}

/** The guest `vmid` of type `type` on `node`, or the rc-2 "does not exist" error. */
export function localGuest(state: ClusterState, node: string, type: GuestType, vmid: number): GuestState {
  const g = state.guests[String(vmid)];
  if (!g || g.node !== node || g.type !== type) throw noConfig(node, type, vmid);
  return g;
}

export const kindWord = (type: GuestType): 'VM' | 'CT' => (type === 'qemu' ? 'VM' : 'CT');

/** `VM is locked (backup)` / `CT is locked (backup)`. */
export function lockedError(g: GuestState): ToolError | undefined {
  return g.config.lock ? new ToolError(`${kindWord(g.type)} is locked (${g.config.lock})`) : undefined;
}

export function uptimeSeconds(g: GuestState, now = Date.now()): number {
  return g.status === 'running' && g.startedAt ? Math.max(0, Math.floor((now - g.startedAt) / 1000)) : 0;
}
