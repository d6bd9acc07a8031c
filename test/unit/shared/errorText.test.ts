/**
 * Errors as the operator reads them, in English and in French, the same for the CLI and the
 * extension (src/shared/errorText.ts).
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CancelledError, LifeboatError } from '../../../src/core/errors';
import { msg } from '../../../src/core/procedure/message';
import { describeError, describeKnownError } from '../../../src/shared/errorText';
import type { Translate } from '../../../src/shared/problemText';

const fill = (text: string, args: unknown[]) => text.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));
const en: Translate = (m, ...args) => fill(m, args);
const frBundle = JSON.parse(readFileSync(path.resolve(__dirname, '../../../l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
const fr: Translate = (m, ...args) => fill(frBundle[m] ?? `MISSING(${m})`, args);

describe('shared/errorText', () => {
  it('a changed host key: the refusal and the ssh-keygen -R advice, in French too', () => {
    const err = new LifeboatError('hostKeyChanged', 'host key of 127.20.0.10 changed', { host: '127.20.0.10' });
    assert.match(describeError(err, en), /^REFUSED: the SSH host key of 127\.20\.0\.10 has CHANGED .* ssh-keygen -R /);
    assert.match(describeError(err, fr), /^REFUSÉ : la clé d'hôte SSH de 127\.20\.0\.10 a CHANGÉ .* ssh-keygen -R /);
  });

  // Was a bug (fixed): "backup X is not visible from node" read "No backup of … on any storage".
  it('a chosen backup the node cannot see is not "no backup at all"', () => {
    const hidden = new LifeboatError('noBackup', 'backup local:backup/vzdump-qemu-121-2026_11_20-01_30_02.vma.zst is not visible from node beta', { vmid: 121, volid: 'local:backup/vzdump-qemu-121-2026_11_20-01_30_02.vma.zst', node: 'beta' });
    assert.equal(describeError(hidden, en), 'The backup local:backup/vzdump-qemu-121-2026_11_20-01_30_02.vma.zst is not visible from node beta: it is on a storage that node cannot read. Restore it on a node that has that storage.');
    const none = new LifeboatError('noBackup', 'no backup of 202 on any storage', { vmid: 202 });
    assert.equal(describeError(none, en), 'No backup of 202 was found on any storage of any node.');
  });

  it('a damaged backup names the previous one', () => {
    const err = new LifeboatError('backupCorrupt', 'backup X is empty (0 bytes); the previous backup is Y (2026-11-19 00:30 UTC): restore it with --date 2026-11-19', { previousVolid: 'Y', previousDay: '2026-11-19' });
    assert.equal(describeError(err, en), 'backup X is empty (0 bytes). The previous backup is Y.');
    assert.equal(describeError(err, fr), 'backup X is empty (0 bytes). La sauvegarde précédente est Y.');
  });

  it('an error raised with the operator\'s sentence (LifeboatError.saying) reads in their language', () => {
    const err = LifeboatError.saying('storeUnreachable', msg('MinIO did not come up at {0}: last answer {1} after {2} attempts. Check the container on its node (pct status, pct start) and its logs', 'http://10.20.0.52:9000', 'HTTP 502', 5));
    assert.match(describeError(err, en), /^MinIO did not come up at http:\/\/10\.20\.0\.52:9000: last answer HTTP 502 after 5 attempts/);
    assert.doesNotMatch(describeError(err, fr), /MISSING|did not come up/);
  });

  it('cancellation, and errors without words of their own', () => {
    assert.equal(describeError(new CancelledError(), fr), 'Annulé.');
    assert.equal(describeKnownError(new LifeboatError('taskFailed', 'job errors'), en), undefined);
    assert.equal(describeError(new LifeboatError('taskFailed', 'job errors'), en), 'job errors');
    assert.equal(describeError('plain', en), 'plain');
  });
});
