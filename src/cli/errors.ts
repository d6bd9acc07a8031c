import { describeKnownError } from '../shared/errorText';
import { t } from './l10n';

/**
 * One line that says what happened, in the operator's language where we have the words (the
 * sentences live in src/shared/errorText.ts, shared with the extension); anything else as
 * `lifeboat: <message>`.
 */
export function describeError(err: unknown): string {
  return describeKnownError(err, t) ?? t('lifeboat: {0}', err instanceof Error ? err.message : String(err));
}
