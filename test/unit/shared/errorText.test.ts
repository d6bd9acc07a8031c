/**
 * Errors as the operator reads them, in English and in French, the same for the CLI and the
 * extension (src/shared/errorText.ts).
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { mapConnectError } from '../../../src/adapters/ssh/connect';
import { CancelledError, LifeboatError, errorArg } from '../../../src/core/errors';
import type { StateStore } from '../../../src/core/ports';
import { msg } from '../../../src/core/procedure/message';
import { parseVmid } from '../../../src/core/proxmox/validate';
import { planGuestRestore } from '../../../src/core/restore/guestRestore';
import { requireNoLock } from '../../../src/core/state/restore';
import { restoreScenario } from '../../fakes/restoreScenario';
import { describeError, describeKnownError } from '../../../src/shared/errorText';
import type { Translate } from '../../../src/shared/problemText';

const fill = (text: string, args: unknown[]) => text.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));
const en: Translate = (m, ...args) => fill(m, args);
const frBundle = JSON.parse(readFileSync(path.resolve(__dirname, '../../../l10n/bundle.l10n.fr.json'), 'utf8')) as Record<string, string>;
const fr: Translate = (m, ...args) => fill(frBundle[m] ?? `MISSING(${m})`, args);

/** The error a call rejects or throws with. */
async function caught(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

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

  describe('errors the core and the adapters raise read in French, their English message unchanged', () => {
    it('a lock on the state: who and since when inside the French sentence', async () => {
      const store = { bucket: 'tfstate-prod', key: 'prod/terraform.tfstate', readLock: async () => JSON.stringify({ ID: 'abc-123', Who: 'operator@laptop', Created: '2026-11-23T16:00:00Z', Operation: 'OperationTypeApply' }) } as unknown as StateStore;
      const err = await caught(() => requireNoLock(store));
      assert.equal((err as Error).message, 'the state is locked by operator@laptop since 2026-11-23T16:00:00Z (OperationTypeApply): another Terraform run may be writing it. Nothing was changed. Wait for it to end; if you are sure nobody runs Terraform, remove the lock with: terraform force-unlock abc-123');
      assert.equal(describeError(err, fr), "l'état est verrouillé par operator@laptop depuis 2026-11-23T16:00:00Z (OperationTypeApply) : une autre exécution de Terraform est peut-être en train de l'écrire. Rien n'a été modifié. Attendez qu'elle se termine ; si vous êtes sûr que personne n'exécute Terraform, retirez le verrou avec : terraform force-unlock abc-123");
    });

    it('a refused SSH key (adapter)', () => {
      const err = mapConnectError(Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }), { node: 'alpha', host: '10.0.0.11', port: 22, user: 'root' });
      assert.equal(err.message, 'SSH authentication refused for root@10.0.0.11:22 (alpha): no offered key was accepted');
      assert.equal(describeError(err, fr), 'authentification SSH refusée pour root@10.0.0.11:22 (alpha) : aucune des clés proposées n\'a été acceptée');
    });

    it('a VMID in use by another guest, refused at planning', async () => {
      const s = await restoreScenario();
      const err = await caught(() => planGuestRestore({ vmid: 121, targetId: 131 }, s.deps));
      assert.ok(LifeboatError.is(err, 'vmidInUse'), String(err));
      assert.match(describeError(err, fr), /^le VMID 131 est déjà utilisé par \S+ sur alpha ; choisissez un identifiant libre$/);
    });

    it('a damaged backup at planning: the damage in French, then only the previous backup\'s name', async () => {
      const NIGHTLY_20 = 'backups:backup/vzdump-qemu-121-2026_11_20-00_30_02.vma.zst';
      const s = await restoreScenario({ backupsContent: (rows) => rows.filter((r) => r.volid !== 'backups:backup/vzdump-qemu-121-2026_11_20-13_05_40.vma.zst').map((r) => (r.volid === NIGHTLY_20 ? { ...r, size: 0 } : r)) });
      const err = await caught(() => planGuestRestore({ vmid: 121 }, s.deps));
      assert.match((err as Error).message, /^backup backups:backup\/vzdump-qemu-121-2026_11_20-00_30_02\.vma\.zst is empty \(0 bytes\); the previous backup is \S+ \(2026-11-19 00:30 UTC\): restore it with --date 2026-11-19$/);
      assert.equal(describeError(err, en), `backup ${NIGHTLY_20} is empty (0 bytes). The previous backup is backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst.`);
      assert.equal(describeError(err, fr), `la sauvegarde ${NIGHTLY_20} est vide (0 octet). La sauvegarde précédente est backups:backup/vzdump-qemu-121-2026_11_19-01_30_02.vma.zst.`);
    });

    it('a value refused by a validator: its expectation translated too', () => {
      const err = (() => { try { return parseVmid('12a'); } catch (e) { return e; } })();
      assert.equal((err as Error).message, 'VMID "12a" is not valid: expected a number from 100 to 999999999');
      assert.equal(describeError(err, fr), 'VMID invalide : 12a (attendu : un nombre de 100 à 999999999).');
    });

    it('a cause inside an error is translated with it', () => {
      const inner = LifeboatError.saying('storageFull', msg('storage {0} on {1} has {2} free; the backup\'s disks need {3}', 'local-lvm', 'alpha', '2.0 GiB', '32.0 GiB'));
      const err = LifeboatError.saying('safetyPointFailed', msg('the safety backup failed: {0}', errorArg(inner)));
      assert.equal(err.message, 'the safety backup failed: storage local-lvm on alpha has 2.0 GiB free; the backup\'s disks need 32.0 GiB');
      assert.equal(describeError(err, fr), 'la sauvegarde de sécurité a échoué : le stockage local-lvm sur alpha a 2.0 GiB de libre ; les disques de la sauvegarde demandent 32.0 GiB');
    });

    it('an SSH configuration setting refused without a field says its own sentence, not "Invalid : …"', () => {
      const err = LifeboatError.saying('invalidValue', msg('ProxyJump "{0}" is not [user@]host[:port]', 'a b'), { setting: 'ProxyJump', value: 'a b' });
      assert.equal(describeError(err, fr), 'ProxyJump « a b » n\'est pas de la forme [user@]host[:port]');
    });
  });

  it('cancellation, and errors without words of their own', () => {
    assert.equal(describeError(new CancelledError(), fr), 'Annulé.');
    assert.equal(describeKnownError(new LifeboatError('taskFailed', 'job errors'), en), undefined);
    assert.equal(describeError(new LifeboatError('taskFailed', 'job errors'), en), 'job errors');
    assert.equal(describeError('plain', en), 'plain');
  });
});
