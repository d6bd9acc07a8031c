/**
 * The interfaces the core needs from the outside world. Adapters implement them (src/adapters);
 * the extension and the CLI pass them in. Shaped so that a `vscode.LogOutputChannel` *is* a LogSink.
 */
export interface LogSink {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

/** A LogSink that drops everything (tests, quiet CLI runs). */
export const silentLog: LogSink = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

// ---- remote shells (Proxmox nodes over SSH) ------------------------------------------------------

/** How to reach a node. The host comes from tfvars; settings and ~/.ssh/config may refine it. */
export interface NodeAddress {
  /** The Proxmox node name (alpha). Also tried as an alias in ~/.ssh/config. */
  readonly name: string;
  /** The address from tfvars (10.20.0.10). */
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
}

export interface RemoteRunOptions {
  readonly signal?: AbortSignal;
  /** Called with each chunk of output as it arrives (for streaming to a log). */
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
  readonly stdin?: string | Buffer;
}

export interface RemoteResult {
  /** The remote exit code; null when the channel closed without one (connection lost). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A shell on one Proxmox node. `command` is a complete POSIX shell command line built by
 * `src/core/proxmox/shell.ts` (the one place that quotes arguments); implementations never
 * build command lines themselves.
 */
export interface NodeShell {
  readonly node: string;
  exec(command: string, options?: RemoteRunOptions): Promise<RemoteResult>;
}

/** What the operator is asked when a node presents a host key not in known_hosts. */
export interface UnknownHostKey {
  readonly host: string;
  readonly port: number;
  readonly algorithm: string;
  /** `SHA256:<base64 without padding>`, as `ssh` prints it. */
  readonly fingerprint: string;
}

/** Returns true only when the operator explicitly accepted the key (then it is written to known_hosts). */
export type HostKeyPrompt = (key: UnknownHostKey) => Promise<boolean>;

/** One connection per node, reused and multiplexed; implemented in src/adapters/ssh. */
export interface NodeShellPool {
  shell(address: NodeAddress): NodeShell;
  /** Closes every connection. */
  dispose(): void;
}

// ---- network probes (reachability after a restore, health endpoints) ---------------------------

export interface NetworkProbe {
  /** True when a TCP connection to host:port is accepted within the timeout. */
  tcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** ICMP echo where the platform allows it; `unavailable` when ping cannot run here. */
  ping(host: string, timeoutMs: number, signal?: AbortSignal): Promise<'ok' | 'failed' | 'unavailable'>;
  /** An HTTP GET: the status and up to 64 KiB of body, or the network error's code (ECONNREFUSED…). */
  http(url: string, timeoutMs: number, signal?: AbortSignal): Promise<{ status: number; body: string } | { error: string }>;
}

/** Waits, abortably; injected so tests and the simulated lab can run fast. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

// ---- Terraform state store (versioned S3: MinIO, or radosgw in the lab) -------------------------

export type BucketVersioning = 'Enabled' | 'Suspended' | 'Off';

/** One version of the state object as the store lists it. Version ids are opaque strings. */
export interface StoredVersion {
  readonly versionId: string;
  readonly lastModified: Date;
  readonly size: number;
  /** The current version (S3 `IsLatest`). */
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
}

/**
 * One state object (bucket + key) in a versioned store. Implementations map a refused or failed
 * connection to `LifeboatError('storeUnreachable', …, { sent })` (`sent: false` when the request
 * never reached the server) and a missing version to `LifeboatError('versionNotFound')`.
 */
export interface StateStore {
  readonly endpoint: string;
  readonly bucket: string;
  readonly key: string;
  versioning(signal?: AbortSignal): Promise<BucketVersioning>;
  /** Every version of the key, all pages, delete markers included, newest first. */
  listVersions(signal?: AbortSignal): Promise<StoredVersion[]>;
  /** The bytes of one version; `undefined` = the current one. */
  read(versionId: string | undefined, signal?: AbortSignal): Promise<Buffer>;
  /** Writes a new current version; returns its id when the server says it (radosgw does on PUT). */
  write(body: Buffer, signal?: AbortSignal): Promise<string | undefined>;
  /** The `<key>.tflock` object of `use_lockfile`, or undefined when no lock is held. */
  readLock(signal?: AbortSignal): Promise<string | undefined>;
  /**
   * Whether the server answers and the bucket exists. Rejects with `authFailed` when the server
   * answers but refuses the credentials: that is not "down", and no fallback may be built on it.
   */
  health(signal?: AbortSignal): Promise<{ readonly ok: true } | { readonly ok: false; readonly error: string }>;
}

// ---- terraform -----------------------------------------------------------------------------------

export interface TerraformRunOptions {
  readonly cwd: string;
  /** The complete environment of the process (credentials go here, never on the command line). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** Each output line as it arrives. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface TerraformResult {
  /** The exit code; null when the process was killed (cancelled) or could not start. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TerraformRunner {
  /** Runs `terraform <args>`; never rejects on a non-zero exit. */
  run(args: readonly string[], options: TerraformRunOptions): Promise<TerraformResult>;
}
