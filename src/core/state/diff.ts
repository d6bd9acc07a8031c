/**
 * Resource-level comparison of two state versions, and of a version with what the Proxmox nodes
 * actually run (to help the operator choose which version to bring back).
 */
import type { DeclaredGuest } from '../model/environment';
import type { Guest, Inventory } from '../inventory/model';
import { instances, stateGuests, type StateGuestRef, type TerraformStateV4 } from './model';

export interface ChangedResource {
  readonly address: string;
  /** Top-level attribute names whose values differ. */
  readonly attributes: readonly string[];
}

export interface StateDiff {
  /** In `to`, not in `from`. */
  readonly added: readonly string[];
  /** In `from`, not in `to`. */
  readonly removed: readonly string[];
  readonly changed: readonly ChangedResource[];
  readonly unchanged: number;
  readonly serial: { readonly from: number; readonly to: number };
  readonly lineageDiffers: boolean;
  readonly outputs: { readonly added: readonly string[]; readonly removed: readonly string[] };
}

/** What changes going from `from` to `to` (e.g. from the current state to a version to restore). */
export function diffStates(from: TerraformStateV4, to: TerraformStateV4): StateDiff {
  const a = new Map(instances(from).map((i) => [i.address, i.attributes]));
  const b = new Map(instances(to).map((i) => [i.address, i.attributes]));
  const added = [...b.keys()].filter((k) => !a.has(k)).sort();
  const removed = [...a.keys()].filter((k) => !b.has(k)).sort();
  const changed: ChangedResource[] = [];
  let unchanged = 0;
  for (const [address, attrs] of a) {
    const other = b.get(address);
    if (!other) continue;
    const keys = [...new Set([...Object.keys(attrs), ...Object.keys(other)])].sort();
    const differing = keys.filter((k) => stable(attrs[k]) !== stable(other[k]));
    if (differing.length) changed.push({ address, attributes: differing });
    else unchanged++;
  }
  changed.sort((x, y) => x.address.localeCompare(y.address));
  const outFrom = Object.keys(from.outputs);
  const outTo = Object.keys(to.outputs);
  return {
    added, removed, changed, unchanged,
    serial: { from: from.serial, to: to.serial },
    lineageDiffers: from.lineage !== to.lineage,
    outputs: { added: outTo.filter((o) => !outFrom.includes(o)).sort(), removed: outFrom.filter((o) => !outTo.includes(o)).sort() },
  };
}

/** Whether two states hold the same content (key order aside): same serial, lineage, outputs, resources… */
export function sameState(a: TerraformStateV4, b: TerraformStateV4): boolean {
  return stable(a) === stable(b);
}

/** JSON with sorted keys, so attribute order does not count as a change. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)))
      : value,
  ) ?? 'undefined';
}

export interface InventoryComparison {
  /** Resources of the version whose VMID no node runs (restoring it would make Terraform recreate them). */
  readonly missingOnNodes: readonly StateGuestRef[];
  /** Guests of this environment the nodes run but the version does not know (Terraform would create duplicates). */
  readonly missingInState: readonly Guest[];
  /** Resources whose guest exists. */
  readonly matched: readonly StateGuestRef[];
}

/**
 * Compares a version with the nodes. `declared` (the environment's tfvars guests) limits the
 * reverse direction to this environment's guests; without it every guest counts.
 */
export function compareWithInventory(state: TerraformStateV4, inventory: Inventory, declared?: readonly DeclaredGuest[]): InventoryComparison {
  return compareGuestsWithInventory(stateGuests(state), inventory, declared);
}

/** The same comparison from the guests a version's metadata recorded (no second read of the version). */
export function compareGuestsWithInventory(refs: readonly StateGuestRef[], inventory: Inventory, declared?: readonly DeclaredGuest[]): InventoryComparison {
  const live = new Set(inventory.guests.map((g) => g.vmid));
  const inState = new Set(refs.map((r) => r.vmid));
  const ours = (g: Guest) => !declared || declared.some((d) => (d.vmid !== undefined && d.vmid === g.vmid) || (d.name === g.name && (d.kind === 'vm') === (g.type === 'qemu')));
  return {
    missingOnNodes: refs.filter((r) => !live.has(r.vmid)),
    missingInState: inventory.guests.filter((g) => !g.template && !inState.has(g.vmid) && ours(g)),
    matched: refs.filter((r) => live.has(r.vmid)),
  };
}
