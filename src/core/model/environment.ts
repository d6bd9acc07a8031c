/**
 * What Lifeboat learns from the operator's repository, before any network access: environments,
 * their Proxmox nodes, the guests they declare, backup settings, MinIO and monitoring, and where
 * each environment keeps its Terraform state. Every part remembers its source range so the editor
 * surfaces (CodeLens, diagnostics) point at the right line.
 */
import type { Range } from '../config/hcl';
import type { Secret } from './secret';

export type GuestKind = 'vm' | 'container';

/** A guest as declared in tfvars (`vms = { "gitea" = {...} }`). VMIDs come later, from the nodes. */
export interface DeclaredGuest {
  readonly name: string;
  readonly kind: GuestKind;
  readonly environment: string;
  /** The node it is placed on: its own `node`/`target_node` key, else the environment's default node. */
  readonly node: string | undefined;
  readonly ip: string | undefined;
  readonly cores: number | undefined;
  readonly memoryMiB: number | undefined;
  readonly diskGiB: number | undefined;
  readonly tags: readonly string[];
  /** An explicit `vmid`/`vm_id` when the operator wrote one. */
  readonly vmid: number | undefined;
  /** The range of the entry's key (`"gitea"`), where its CodeLens goes. */
  readonly range: Range;
}

export interface ProxmoxNodeRef {
  readonly name: string;
  /** The address SSH goes to (the endpoint's host, or the monitoring list's `ip`). */
  readonly host: string | undefined;
  /** Where Lifeboat learnt about it. */
  readonly source: 'default_node' | 'proxmox_nodes';
}

export interface BackupSettings {
  readonly enabled: boolean | undefined;
  readonly schedule: string | undefined;
  readonly storage: string | undefined;
  readonly mode: string | undefined;
  readonly compress: string | undefined;
  readonly retention: Readonly<Record<string, number>>;
  readonly range: Range;
}

export interface MinioSettings {
  readonly ip: string | undefined;
  readonly port: number;
  readonly consolePort: number | undefined;
  readonly rootUser: string | undefined;
  readonly rootPassword: Secret | undefined;
  readonly buckets: readonly string[];
  readonly range: Range;
}

export interface MonitoringSettings {
  readonly vmIp: string | undefined;
  readonly nodes: readonly { readonly name: string; readonly ip: string | undefined; readonly tokenValue: Secret | undefined }[];
  readonly retentionDays: number | undefined;
  readonly grafanaAdminPassword: Secret | undefined;
  readonly range: Range;
}

export interface S3Backend {
  readonly type: 's3';
  readonly bucket: string | undefined;
  readonly key: string;
  readonly region: string | undefined;
  /** `endpoints.s3` (Terraform ≥ 1.6) or the legacy `endpoint`. */
  readonly endpoint: string | undefined;
  readonly usePathStyle: boolean;
  readonly useLockfile: boolean;
  readonly range: Range | undefined;
}

export type BackendConfig =
  | S3Backend
  | {
      readonly type: 'local';
      /**
       * The s3 backend this environment returns to: in backend.tf's comments (the monitoring
       * environment's bootstrap case, or a Lifeboat fallback), else in Lifeboat's newest backup of
       * backend.tf (`backend.tf.lifeboat-<timestamp>.bak`).
       */
      readonly commentedOut: S3Backend | undefined;
      /** Set (true) when Lifeboat switched this environment to the local backend (its fallback note or backup). */
      readonly lifeboatFallback?: boolean;
    };

export interface EnvironmentConfig {
  readonly name: string;
  /** Absolute directory of the environment. */
  readonly dir: string;
  readonly tfvarsPath: string;
  readonly backendPath: string | undefined;
  readonly endpoint: string | undefined;
  readonly defaultNode: string | undefined;
  readonly apiToken: Secret | undefined;
  readonly nodes: readonly ProxmoxNodeRef[];
  readonly guests: readonly DeclaredGuest[];
  readonly backup: BackupSettings | undefined;
  readonly minio: MinioSettings | undefined;
  readonly monitoring: MonitoringSettings | undefined;
  readonly backend: BackendConfig;
  /** `module "<name>"` blocks found in the environment's `*.tf` files. */
  readonly modules: readonly string[];
  /** Top-level tfvars keys and where they are, for editor surfaces. */
  readonly blocks: Readonly<Record<string, Range>>;
}

export type DiscoveryProblemReason = 'syntax' | 'unreadable' | 'noEnvironments';

/** A file that could not be read. Other environments still load. */
export interface DiscoveryProblem {
  readonly file: string;
  /** One-based, for messages. */
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly reason: DiscoveryProblemReason;
  readonly excerpt: string | undefined;
  readonly detail: string | undefined;
}

export interface Discovery {
  readonly root: string;
  readonly environments: readonly EnvironmentConfig[];
  readonly problems: readonly DiscoveryProblem[];
}
