/**
 * What a backup verification finds, as data: findings with a severity and the place in the
 * operator's repository they concern (the guest's line in terraform.tfvars), and one row per
 * archive checked. The CLI prints them as a table or JSON; the extension turns them into Problems
 * panel diagnostics, explorer flags and a Markdown report.
 */
import type { Range } from '../config/hcl';
import type { Message } from '../procedure/message';

export type Severity = 'ok' | 'warning' | 'error';

export type FindingCode =
  | 'archive-ok' | 'archive-corrupt' | 'archive-missing' | 'archive-empty' | 'archive-changed' | 'archive-unreadable'
  | 'pbs-verified' | 'pbs-failed' | 'pbs-unverified'
  | 'guest-ok' | 'stale' | 'newest-failed' | 'no-good-backup' | 'never-backed-up' | 'not-covered' | 'guest-missing'
  | 'no-jobs' | 'job-disabled' | 'backup-disabled'
  | 'node-unreachable' | 'storage-unreadable'
  | 'state-ok' | 'state-invalid' | 'state-current-invalid' | 'state-no-current' | 'state-unreadable' | 'state-not-verified' | 'state-versioning'
  | 'reachable' | 'unreachable';

export interface Finding {
  readonly severity: Severity;
  readonly code: FindingCode;
  readonly message: Message;
  readonly environment?: string;
  /** The guest's name as declared (or as the node knows it). */
  readonly guest?: string;
  readonly vmid?: number;
  readonly node?: string;
  readonly volid?: string;
  /** The terraform.tfvars (or backend.tf) the finding concerns, and where in it. */
  readonly file?: string;
  readonly range?: Range;
}

export type IntegrityVerdict =
  | 'ok' | 'corrupt' | 'missing' | 'empty' | 'unchanged' | 'unreadable'
  | 'pbs-ok' | 'pbs-failed' | 'pbs-unverified' | 'not-checked';

/**
 * Against the manifest's reference checksum: `changed` stays so on every run until the operator
 * re-verifies on purpose; `accepted` = changed, re-verified with `--reread`, intact, now the reference.
 */
export type ChecksumState = 'new' | 'unchanged' | 'changed' | 'accepted' | 'none';

export interface ArchiveCheck {
  readonly volid: string;
  readonly node: string;
  readonly storage: string;
  readonly vmid: number;
  readonly guest: string | undefined;
  readonly environment: string | undefined;
  readonly format: string;
  /** As listed by the node. */
  readonly sizeBytes: number;
  readonly ctime: number;
  readonly ageHours: number;
  readonly protected: boolean;
  readonly notes: string | undefined;
  readonly verdict: IntegrityVerdict;
  readonly checksum: ChecksumState;
  readonly sha256: string | undefined;
  /** When `checksum` is `changed`: when the reference checksum was verified. */
  readonly referenceVerifiedAt?: string;
  /** The exact command lines run on the node for this archive. */
  readonly commands: readonly string[];
  /** The node's own words when a check failed. */
  readonly detail: string | undefined;
  readonly durationMs: number;
}

export interface StateVersionCheck {
  readonly environment: string;
  readonly where: string;
  readonly versionId: string | undefined;
  readonly isLatest: boolean;
  readonly valid: boolean;
  readonly reason: string | undefined;
  /** Known from the manifest (version ids never change content): not read again. */
  readonly cached: boolean;
}

export interface VerifyResult {
  readonly full: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly cancelled: boolean;
  readonly findings: readonly Finding[];
  readonly archives: readonly ArchiveCheck[];
  readonly states: readonly StateVersionCheck[];
  readonly counts: { readonly ok: number; readonly warning: number; readonly error: number };
  /** 0 everything ok, 1 warnings, 2 errors (a cancelled run is at least 1). */
  readonly exitCode: 0 | 1 | 2;
}

export function worst(findings: readonly Finding[]): Severity {
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'ok';
}
