// No vscode import: these decisions are unit-tested in plain Node (test/unit/extension/stateLook.test.ts).
/**
 * How the Terraform state looks in the Recovery explorer: the environment's state mode (on S3, on
 * Lifeboat's local fallback, local by design), the state node, each version (serial, resource count,
 * validity, and how it compares with the guests the nodes run), and the notices above the versions
 * (versioning off, lock held, credentials). The tree only maps these to vscode.TreeItems.
 */
import type { BucketVersioning, EnvironmentConfig, InventoryComparison, StateVersion } from '../../core';
import type { Translate } from '../../shared/problemText';
import { ContextValues } from './contextValues';
import { age } from './presentation';

/** `s3`: the state is in S3. `fallback`: Lifeboat switched it to a local backend (Return applies). `local`: local by design. */
export type StateMode = 's3' | 'fallback' | 'local';

export function stateModeOf(env: EnvironmentConfig): StateMode {
  if (env.backend.type === 's3') return 's3';
  return env.backend.lifeboatFallback ? 'fallback' : 'local';
}

/** Whether the state has an S3 history to list (on S3, or the commented-out backend it returns to). */
export function hasStateHistory(env: EnvironmentConfig): boolean {
  return env.backend.type === 's3' || env.backend.commentedOut !== undefined;
}

export interface StateNodeLook {
  readonly description: string;
  readonly tooltip: string;
  readonly icon: string;
  readonly color: 'list.warningForeground' | undefined;
  /** Drives which of Fall Back / Return the context menu offers. */
  readonly contextValue: string;
}

export function stateNodeLook(env: EnvironmentConfig, t: Translate): StateNodeLook {
  const b = env.backend;
  const mode = stateModeOf(env);
  if (b.type === 's3') {
    return {
      description: `s3://${b.bucket ?? '?'}/${b.key}`,
      tooltip: t('State in bucket {0} at {1}{2}', b.bucket ?? '?', b.endpoint ?? '?', b.useLockfile ? t(', locked with a lock file') : ''),
      icon: 'database',
      color: undefined,
      contextValue: ContextValues.stateS3,
    };
  }
  if (mode === 'fallback') {
    return {
      description: t('LOCAL FALLBACK · S3 {0} set aside', b.commentedOut?.bucket ?? '?'),
      tooltip: t('Fallback mode: Terraform uses the local terraform.tfstate of {0}; its S3 backend ({1}) is set aside in backend.tf. The versions below are the S3 history as it was. When MinIO is back: Return to S3 Backend…', env.name, b.commentedOut?.bucket ?? '?'),
      icon: 'debug-disconnect',
      color: 'list.warningForeground',
      contextValue: ContextValues.stateFallback,
    };
  }
  return {
    description: t('local backend'),
    tooltip: b.commentedOut
      ? t('Local state; the S3 backend ({0}) is commented out in backend.tf', b.commentedOut.bucket ?? '?')
      : t('Local state (no S3 backend configured)'),
    icon: 'database',
    color: undefined,
    contextValue: ContextValues.stateLocal,
  };
}

/** What the environment item adds when its state is on Lifeboat's local fallback. */
export function environmentStateMark(env: EnvironmentConfig, t: Translate): { description: string; tooltip: string; icon: string } | undefined {
  if (stateModeOf(env) !== 'fallback') return undefined;
  return {
    description: t('state: local fallback'),
    tooltip: t('Terraform state on the local fallback backend (MinIO was unavailable): return to S3 when it is back.'),
    icon: 'debug-disconnect',
  };
}

export interface VersionLook {
  readonly label: string;
  readonly description: string;
  readonly icon: string;
  readonly color: 'errorForeground' | 'list.warningForeground' | 'testing.iconPassed' | undefined;
  readonly tooltip: string;
  /** `lifeboat.stateVersion.<current|old>.<valid|invalid|unknown>`, or `.deleteMarker`. */
  readonly contextValue: string;
}

/**
 * A version item. `vsNodes` (from the cached inventory, when there is one) says which guests the
 * version has that no node runs, and the reverse: what restoring it would make Terraform do.
 * A version whose metadata is not read yet is `unknown`: never offered for a restore.
 */
export function stateVersionLook(v: StateVersion, now: Date, t: Translate, vsNodes?: InventoryComparison): VersionLook {
  const label = v.lastModified.toISOString().replace('T', ' ').slice(0, 19);
  const ageText = age(Math.floor(v.lastModified.getTime() / 1000), now, t);
  if (v.isDeleteMarker) {
    return {
      label,
      description: [ageText, t('delete marker'), v.isLatest ? t('current') : undefined].filter(Boolean).join(' · '),
      icon: 'trash',
      color: 'list.warningForeground',
      tooltip: t('Delete marker {0}: the state object was deleted here; older versions are still readable.', v.versionId),
      contextValue: `${ContextValues.stateVersion}.deleteMarker`,
    };
  }
  const meta = v.meta;
  const validity = meta === undefined ? 'unknown' : meta.valid ? 'valid' : 'invalid';
  const nodesText = vsNodes ? nodesSummary(vsNodes, t) : undefined;
  return {
    label,
    description: [
      ageText,
      meta?.valid ? t('serial {0}', meta.serial ?? '?') : undefined,
      meta?.valid ? t('{0} resources', meta.resourceCount) : undefined,
      validity === 'invalid' ? t('INVALID') : validity === 'unknown' ? t('not read yet') : undefined,
      vsNodes && (vsNodes.missingOnNodes.length || vsNodes.missingInState.length) ? t('≠ nodes') : undefined,
      v.isLatest ? t('current') : undefined,
    ].filter(Boolean).join(' · '),
    icon: validity === 'invalid' ? 'error' : v.isLatest ? 'pass-filled' : 'versions',
    color: validity === 'invalid' ? 'errorForeground' : v.isLatest ? 'testing.iconPassed' : undefined,
    tooltip: [
      t('Version {0}', v.versionId),
      t('{0} bytes', v.size),
      meta?.valid ? `serial ${meta.serial ?? '?'} · lineage ${meta.lineage ?? '?'} · terraform ${meta.terraformVersion ?? '?'}` : undefined,
      meta?.valid && meta.outputNames.length ? t('Outputs: {0}', meta.outputNames.join(', ')) : undefined,
      validity === 'invalid' ? t('Not a valid Terraform state: {0}', meta?.invalidReason ?? '') : undefined,
      validity === 'unknown' ? t('Its content has not been read yet: expand the list again to read it.') : undefined,
      nodesText,
    ].filter(Boolean).join('\n'),
    contextValue: [ContextValues.stateVersion, v.isLatest ? 'current' : 'old', validity].join('.'),
  };
}

/** The comparison with the nodes as lines (at most `max` addresses per side). */
export function nodesSummary(c: InventoryComparison, t: Translate, max = 8): string {
  if (!c.missingOnNodes.length && !c.missingInState.length) return t('Compared with the nodes: the same guests ({0}).', c.matched.length);
  const list = (xs: readonly string[]) => xs.slice(0, max).join(', ') + (xs.length > max ? ` … (+${xs.length - max})` : '');
  return [
    c.missingOnNodes.length ? t('In this version, not on the nodes (Terraform would recreate them): {0}', list(c.missingOnNodes.map((r) => `${r.name ?? r.address} (${r.vmid})`))) : undefined,
    c.missingInState.length ? t('On the nodes, not in this version (Terraform would create duplicates): {0}', list(c.missingInState.map((g) => `${g.name ?? '?'} (${g.vmid})`))) : undefined,
  ].filter(Boolean).join('\n');
}

export interface StateNotice {
  readonly id: string;
  readonly text: string;
  readonly detail: string;
  readonly icon: string;
  readonly color: 'errorForeground' | 'list.warningForeground' | undefined;
  readonly command: 'showVersioningHelp' | 'enterS3Credentials' | undefined;
}

/** What must be said above the versions before anyone picks one: versioning off first, then a held lock. */
export function stateNotices(envName: string, bucket: string, versioning: BucketVersioning | undefined, lock: string | undefined, t: Translate): StateNotice[] {
  const out: StateNotice[] = [];
  if (versioning !== undefined && versioning !== 'Enabled') {
    out.push({
      id: `${envName}/state/versioning`,
      text: t('Versioning is off: rollback impossible — how to enable'),
      detail: t('Bucket {0}: versioning is {1}. Older states are not kept and a restore is refused.', bucket, versioning === 'Off' ? t('not enabled') : t('Suspended')),
      icon: 'error',
      color: 'errorForeground',
      command: 'showVersioningHelp',
    });
  }
  if (lock !== undefined) {
    const info = lockInfo(lock);
    out.push({
      id: `${envName}/state/lock`,
      text: info.who ? t('Locked by {0}', info.who) : t('Locked'),
      detail: t('A Terraform run holds the state lock{0}: a restore, fallback or return is refused until it ends.', info.created ? t(' since {0}', info.created) : ''),
      icon: 'lock',
      color: 'list.warningForeground',
      command: undefined,
    });
  }
  return out;
}

function lockInfo(lock: string): { who: string | undefined; created: string | undefined } {
  try {
    const j = JSON.parse(lock) as Record<string, unknown>;
    return { who: typeof j['Who'] === 'string' ? j['Who'] : undefined, created: typeof j['Created'] === 'string' ? j['Created'] : undefined };
  } catch {
    return { who: undefined, created: undefined };
  }
}
