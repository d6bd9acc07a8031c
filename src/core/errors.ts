import { english, type Message, type MessageArg } from './procedure/message';

/**
 * Typed errors with reasons (GitLens' `PushError.is(err, reason)` idea): surfaces map a reason to a
 * translated message and an action; nothing matches on message text.
 */
export type LifeboatErrorReason =
  // reaching a node
  | 'hostUnreachable' | 'authFailed' | 'hostKeyUnknown' | 'hostKeyRejected' | 'hostKeyChanged' | 'connectionLost'
  // remote commands and their input
  | 'remoteCommandFailed' | 'unexpectedOutput' | 'invalidValue'
  // restore
  | 'noBackup' | 'noBackupOnDate' | 'backupCorrupt' | 'vmidInUse' | 'vmidNotFound' | 'storageMissing' | 'storageFull'
  | 'guestLocked' | 'restoreInProgress' | 'safetyPointFailed' | 'notConfirmed' | 'taskFailed' | 'unreachableAfterRestore' | 'planOutdated'
  // state
  | 'versionNotFound' | 'versioningDisabled' | 'stateLocked' | 'invalidState' | 'storeUnreachable';

export class LifeboatError extends Error {
  override readonly name = 'LifeboatError';
  /** The operator's sentence as data, when the core has one: surfaces translate it (`message` is its English). */
  readonly text: Message | undefined;

  constructor(
    readonly reason: LifeboatErrorReason,
    message: string,
    /** Values for the surface's message (vmid, node, dates…); never secrets. */
    readonly details: Readonly<Record<string, string | number | boolean | undefined>> = {},
    options?: { cause?: unknown; text?: Message },
  ) {
    super(message, options);
    this.text = options?.text;
  }

  /** An error whose message is a translatable sentence (`msg(...)`), its English kept as `message`. */
  static saying(reason: LifeboatErrorReason, text: Message, details: LifeboatError['details'] = {}, options?: { cause?: unknown }): LifeboatError {
    return new LifeboatError(reason, english(text), details, { ...options, text });
  }

  static is(err: unknown, reason?: LifeboatErrorReason): err is LifeboatError {
    return err instanceof LifeboatError && (reason === undefined || err.reason === reason);
  }
}

/**
 * An error as the argument of another sentence ("the safety backup failed: {0}"): its own sentence
 * when it has one, so the surface translates it too; otherwise its message as it came.
 */
export function errorArg(err: unknown): MessageArg {
  if (LifeboatError.is(err) && err.text) return err.text;
  return err instanceof Error ? err.message : String(err);
}

const CANCELLED = Symbol.for('lifeboat.cancelled');

/** Cancellation has its own class with a brand; it is never matched by message text. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  readonly [CANCELLED] = true;

  constructor(message = 'Cancelled') {
    super(message);
  }

  static is(err: unknown): err is CancelledError {
    return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[CANCELLED] === true;
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
