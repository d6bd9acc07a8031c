/**
 * An error as one sentence the operator reads, shared by the CLI and the extension: each passes its
 * own `t`, so a changed host key, a missing backup or a bad value read the same — and in French —
 * on both. Reasons without words of their own fall back to the error's message.
 */
import { CancelledError, LifeboatError, translate } from '../core';
import type { Translate } from './problemText';

/** The sentence for errors Lifeboat has words for; undefined for the others. */
export function describeKnownError(err: unknown, t: Translate): string | undefined {
  if (CancelledError.is(err)) return t('Cancelled.');
  if (!LifeboatError.is(err)) return undefined;
  const d = err.details;
  const text = (v: unknown) => (v === undefined ? '' : String(v));
  switch (err.reason) {
    case 'hostKeyChanged':
      if (err.text) return translate(err.text, t);
      return t('REFUSED: the SSH host key of {0} has CHANGED since it was recorded in known_hosts. This can be a reinstalled node or an attack. Check the node, then remove the old key with ssh-keygen -R if the change is expected.', text(d.host ?? d.node));
    case 'hostKeyRejected':
      return t('The host key of {0} was not accepted.', text(d.host ?? d.node));
    case 'invalidValue':
      // A setting refused without a field (the SSH configuration's) says its own sentence.
      if (d.field === undefined) return err.text ? translate(err.text, t) : undefined;
      // `expected` is English data; the ones Lifeboat words itself (msg() in the core) have a translation.
      return t('Invalid {0}: {1} (expected {2}).', text(d.field), text(d.value), d.expected === undefined ? '' : t(String(d.expected)));
    case 'noBackupOnDate':
      return t('No backup of {0} on {1}. Backups exist on: {2}.', text(d.vmid), text(d.date), text(d.available));
    case 'noBackup':
      // A chosen backup the node cannot read is not the same as no backup at all.
      if (d.volid !== undefined) return t('The backup {0} is not visible from node {1}: it is on a storage that node cannot read. Restore it on a node that has that storage.', text(d.volid), text(d.node));
      return t('No backup of {0} was found on any storage of any node.', text(d.vmid));
    case 'backupCorrupt': {
      // The damage, then only the previous backup's name: each surface offers it its own way (the
      // CLI's command line, VS Code's button). The core's sentence has the damage as its first part.
      if (d.previousVolid === undefined) return err.text ? translate(err.text, t) : undefined;
      const damage = err.text?.args[0];
      const said = typeof damage === 'object' ? translate(damage, t) : err.message.replace(/; the previous backup is .*$/, '');
      return t('{0}. The previous backup is {1}.', said, text(d.previousVolid));
    }
    default:
      // An error raised with the operator's sentence (LifeboatError.saying) reads in their language.
      return err.text ? translate(err.text, t) : undefined;
  }
}

/** The sentence for any error: the known ones translated, the others by their message. */
export function describeError(err: unknown, t: Translate): string {
  return describeKnownError(err, t) ?? (err instanceof Error ? err.message : String(err));
}
