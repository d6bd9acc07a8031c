import { CancelledError, LifeboatError } from '../core';
import { t } from './l10n';

/** One line that says what happened, in the operator's language where we have the words. */
export function describeError(err: unknown): string {
  if (CancelledError.is(err)) return t('Cancelled.');
  if (LifeboatError.is(err)) {
    switch (err.reason) {
      case 'hostKeyChanged':
        return t('REFUSED: the SSH host key of {0} has CHANGED since it was recorded in known_hosts. This can be a reinstalled node or an attack. Check the node, then remove the old key with ssh-keygen -R if the change is expected.', String(err.details.host ?? err.details.node ?? ''));
      case 'hostKeyRejected':
        return t('The host key of {0} was not accepted.', String(err.details.host ?? err.details.node ?? ''));
      case 'invalidValue':
        return t('Invalid {0}: {1} (expected {2}).', String(err.details.field ?? ''), String(err.details.value ?? ''), String(err.details.expected ?? ''));
      case 'noBackupOnDate':
        return t('No backup of {0} on {1}. Backups exist on: {2}.', String(err.details.vmid ?? ''), String(err.details.date ?? ''), String(err.details.available ?? ''));
      case 'noBackup':
        return t('No backup of {0} was found on any storage of any node.', String(err.details.vmid ?? ''));
      default:
        return t('lifeboat: {0}', err.text ? t(err.text.text, ...err.text.args) : err.message);
    }
  }
  return t('lifeboat: {0}', err instanceof Error ? err.message : String(err));
}
