/**
 * What the Proxmox nodes report: guests, storages, backups, backup jobs. Built by `loadInventory`,
 * matched with what the repository declares (`DeclaredGuest`).
 */
import type { DeclaredGuest } from '../model/environment';
import type { GuestType } from '../proxmox/commands';
import type { Message } from '../procedure/message';

export interface Guest {
  readonly vmid: number;
  readonly type: GuestType;
  readonly name: string | undefined;
  readonly node: string;
  /** running, stopped, paused, unknown… as Proxmox says. */
  readonly status: string;
  readonly lock: string | undefined;
  readonly template: boolean;
  readonly maxdiskBytes: number | undefined;
  readonly tags: readonly string[];
}

export interface Storage {
  readonly node: string;
  readonly id: string;
  readonly type: string;
  readonly content: readonly string[];
  readonly active: boolean;
  readonly shared: boolean;
  readonly totalBytes: number;
  readonly usedBytes: number;
  readonly availBytes: number;
}

export type Compression = 'zstd' | 'gzip' | 'lzo' | 'bzip2' | 'none' | 'pbs';

export interface Backup {
  readonly volid: string;
  /** The node it was listed from (for a shared storage: the first node that listed it). */
  readonly node: string;
  readonly storage: string;
  readonly vmid: number;
  readonly type: GuestType;
  /** `vma.zst`, `tar.zst`, `pbs-vm`… */
  readonly format: string;
  readonly compression: Compression;
  /** Epoch seconds. */
  readonly ctime: number;
  readonly sizeBytes: number;
  readonly notes: string | undefined;
  readonly protected: boolean;
  readonly pbs: boolean;
  /** PBS verification state; undefined = never verified (or not PBS). */
  readonly verification: 'ok' | 'failed' | undefined;
}

export interface BackupJob {
  readonly id: string;
  readonly schedule: string | undefined;
  readonly enabled: boolean;
  readonly storage: string | undefined;
  readonly vmids: readonly number[] | 'all';
  readonly exclude: readonly number[];
  readonly node: string | undefined;
  readonly mode: string | undefined;
}

export interface NodeInventory {
  readonly node: string;
  readonly reachable: boolean;
  /** Why the node could not be read (a LifeboatError reason; `text`, its sentence to translate), when not reachable. */
  readonly error: { reason: string; message: string; text?: Message } | undefined;
  readonly storages: readonly Storage[];
  /** Backup storages whose listing failed (a stale NFS mount, a PBS server down); the rest loaded. */
  readonly unreadableStorages: readonly { readonly storage: string; readonly message: string; readonly text?: Message }[];
}

export interface Inventory {
  readonly loadedAt: Date;
  readonly nodes: readonly NodeInventory[];
  readonly guests: readonly Guest[];
  /** Newest first. */
  readonly backups: readonly Backup[];
  readonly jobs: readonly BackupJob[];
}

/**
 * Where Lifeboat learnt a guest's VMID: the node that runs it, an explicit `vmid` in tfvars, the
 * Terraform state's `vm_id` (a state read without the network), or the notes of backups whose
 * VMID no node runs any more (`{{guestname}}` notes templates).
 */
export type VmidSource = 'node' | 'tfvars' | 'state' | 'backup-notes';

/** A declared guest with what the nodes know about it. */
export interface MatchedGuest {
  readonly declared: DeclaredGuest | undefined;
  readonly guest: Guest | undefined;
  /** Newest first. For a guest no node has, the backups of its resolved VMID. */
  readonly backups: readonly Backup[];
  /** The guest's VMID; for a guest no node has, resolved from tfvars, the state or backup notes. */
  readonly vmid: number | undefined;
  readonly vmidSource: VmidSource | undefined;
  /**
   * A guest no node has whose name the notes of backups under several VMIDs carry: Lifeboat does
   * not choose one (the backups stay under "Backups without a guest").
   */
  readonly candidateVmids: readonly number[];
}

/** The backups of one VMID that no node runs and no declared guest claims. */
export interface OrphanBackups {
  readonly vmid: number;
  readonly type: GuestType;
  /** Newest first. */
  readonly backups: readonly Backup[];
}
