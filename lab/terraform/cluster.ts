/** The Terraform stand-in's view of the simulated cluster (through lab/pve/model.ts). */
import { createGuest, loadCluster, setGuestStatus } from '../pve/model';
import type { GuestSpec } from '../pve/spec';

export interface ClusterGuest {
  readonly vmid: number;
  readonly name: string;
  readonly type: 'qemu' | 'lxc';
  readonly node: string;
  readonly status: 'running' | 'stopped';
}

export function clusterGuests(stateDir: string): ClusterGuest[] {
  return loadCluster(stateDir).guests.map((g) => ({ vmid: g.vmid, name: g.name, type: g.type, node: g.node, status: g.status }));
}

/** What `apply` does for a guest resource: create it if missing, start it if stopped. */
export async function ensureGuestRunning(stateDir: string, spec: GuestSpec): Promise<'created' | 'started' | 'unchanged'> {
  const existing = loadCluster(stateDir).guests.find((g) => g.vmid === spec.vmid);
  if (!existing) {
    await createGuest(stateDir, { ...spec, status: 'running' });
    return 'created';
  }
  if (existing.status !== 'running') {
    await setGuestStatus(stateDir, spec.vmid, 'running');
    return 'started';
  }
  return 'unchanged';
}
