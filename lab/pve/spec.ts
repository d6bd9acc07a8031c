/**
 * The contract between the simulated Proxmox cluster (lab/pve) and the code that builds a lab
 * (lab/homelab.ts, lab/lab.ts). A ClusterSpec says what exists when a lab starts; `seedCluster`
 * (lab/pve/seed.ts) turns it into the simulator's state directory with real archive files.
 *
 * Addresses: every node and guest keeps the address the operator's tfvars give it (`address`,
 * e.g. 10.20.0.10) and gets a loopback twin (`labAddress`, e.g. 127.20.0.10) where the lab really
 * listens. The lab workspace's tfvars are rewritten from one to the other.
 */

export type GuestType = 'qemu' | 'lxc';
export type Compression = 'zstd' | 'gzip' | 'lzo' | 'none';

export interface StorageSpec {
  /** Storage id, e.g. `local`, `local-lvm`, `backups`. */
  readonly id: string;
  readonly type: 'dir' | 'lvmthin' | 'nfs' | 'pbs';
  /** Proxmox content types, e.g. ['iso', 'vztmpl', 'backup'] or ['images', 'rootdir']. */
  readonly content: readonly string[];
  readonly totalBytes: number;
  /** Bytes already used by things the simulator does not model (OS, ISOs...). */
  readonly baseUsedBytes?: number;
  /** A shared storage (e.g. NFS `backups`) is the same directory on every node. */
  readonly shared?: boolean;
  /**
   * The storage's backup retention (`prune-backups` in storage.cfg, e.g. `{ 'keep-daily': '7' }`).
   * vzdump prunes the guest's older backups on this storage by it unless `--remove 0` or
   * `--prune-backups` is given. Absent = keep all.
   */
  readonly pruneBackups?: Readonly<Record<string, string>>;
}

export interface NodeSpec {
  readonly name: string;
  /** The address in the operator's tfvars (e.g. 10.20.0.10). */
  readonly address: string;
  /** Where the lab's SSH server for this node listens (e.g. 127.20.0.10). */
  readonly labAddress: string;
  readonly storages: readonly StorageSpec[];
}

/** A network service a running guest answers on, so reachability checks are real network checks. */
export type GuestServiceSpec =
  | { readonly kind: 'ssh-banner'; readonly port: number }
  | { readonly kind: 'http'; readonly port: number; readonly name: string; readonly routes: Readonly<Record<string, { status: number; body: string; contentType?: string }>> }
  /** Forwards the port to another local address, e.g. the MinIO container to the lab's S3 server. */
  | { readonly kind: 'tcp-proxy'; readonly port: number; readonly target: { host: string; port: number } };

export interface DiskSpec {
  /** `scsi0`, `virtio0`, `rootfs`, `mp0`... */
  readonly key: string;
  readonly storage: string;
  readonly sizeGiB: number;
}

export interface BackupSpec {
  /** Node-local start time of the backup, `YYYY-MM-DDTHH:MM:SS` (the lab's nodes run in UTC). */
  readonly time: string;
  readonly storage: string;
  readonly compress: Compression;
  readonly notes?: string;
  readonly protected?: boolean;
  /** The archive is really damaged (truncated / bytes flipped) so integrity checks fail. */
  readonly corrupt?: boolean;
}

export interface GuestSpec {
  readonly vmid: number;
  readonly name: string;
  readonly type: GuestType;
  readonly node: string;
  readonly status: 'running' | 'stopped';
  readonly cores: number;
  readonly memoryMiB: number;
  readonly disks: readonly DiskSpec[];
  /** The guest's address as in tfvars (10.20.0.21) and its loopback twin (127.20.0.21). */
  readonly address: string;
  readonly labAddress: string;
  /** QEMU guest agent enabled (`agent: 1`). */
  readonly agent?: boolean;
  readonly tags?: readonly string[];
  readonly protection?: boolean;
  readonly services: readonly GuestServiceSpec[];
  readonly backups: readonly BackupSpec[];
}

export interface BackupJobSpec {
  readonly id: string;
  readonly schedule: string;
  readonly storage: string;
  readonly enabled: boolean;
  readonly mode: 'snapshot' | 'suspend' | 'stop';
  readonly compress: Compression;
  /** Either explicit VMIDs or all guests (optionally on one node). */
  readonly vmids?: readonly number[];
  readonly all?: boolean;
  readonly node?: string;
  readonly pruneBackups?: Readonly<Record<string, string>>;
  readonly comment?: string;
  /** vzdump `notes-template`, e.g. `{{guestname}}` (optional extension). */
  readonly notesTemplate?: string;
}

export interface ClusterSpec {
  readonly clusterName: string;
  readonly nodes: readonly NodeSpec[];
  readonly guests: readonly GuestSpec[];
  readonly jobs: readonly BackupJobSpec[];
}
