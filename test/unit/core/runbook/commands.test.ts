import * as assert from 'node:assert/strict';
import { destructiveReason, fillPlaceholders, lifeboatMappingOf, placeholdersOf, splitCommands } from '../../../../src/core/runbook/commands';

describe('runbook commands', () => {
  it('splits a block: comments, prompts, continuations, here-documents', () => {
    const block = '# comment\n$ echo one\n\necho two \\\n  --flag \\\n  value\ncat <<EOF > /tmp/x\nline $HOME\nEOF\n';
    assert.deepEqual(splitCommands(block, 'bash').map((c) => [c.text, c.offset]), [
      ['echo one', 1],
      ['echo two --flag value', 3],
      ['cat <<EOF > /tmp/x\nline $HOME\nEOF', 6],
    ]);
  });

  it('takes only prompted lines of a console block', () => {
    assert.deepEqual(splitCommands('$ uptime\n 10:00 up 3 days\n# id -u\n0\n', 'console').map((c) => c.text), ['uptime', 'id -u']);
  });

  it('finds and fills placeholders, but not here-documents or redirections', () => {
    assert.deepEqual(placeholdersOf('x --restore <version-id> --vmid <vmid> <vmid> cat <<EOF < file'), ['version-id', 'vmid']);
    assert.equal(fillPlaceholders('qm start <vmid> # <vmid>', { vmid: '121' }), 'qm start 121 # 121');
  });

  it('maps every known script with its flags', () => {
    assert.deepEqual(lifeboatMappingOf('./scripts/restore/restore-vm.sh 121 --node alpha --target-id 921 --link-down'),
      { script: 'restore-vm.sh', command: 'lifeboat.restoreGuest', args: { vmid: 121, node: 'alpha', targetId: 921, linkDown: true }, unsupported: [] });
    assert.deepEqual(lifeboatMappingOf('bash scripts/restore/restore-tfstate.sh --env=lab --fallback'),
      { script: 'restore-tfstate.sh', command: 'lifeboat.fallbackToLocal', args: { env: 'lab', action: 'fallback' }, unsupported: [] });
    assert.equal(lifeboatMappingOf('./scripts/restore/restore-tfstate.sh --env prod --return')?.command, 'lifeboat.returnToS3');
    assert.deepEqual(lifeboatMappingOf('./scripts/restore/restore-tfstate.sh --env prod --list')?.unsupported, ['list'], 'no procedure lists versions');
    assert.deepEqual(lifeboatMappingOf('./scripts/restore/rebuild-monitoring.sh --mode rebuild')?.args, { mode: 'rebuild' });
    assert.deepEqual(lifeboatMappingOf('./scripts/restore/verify-backups.sh --full --json')?.unsupported, ['--json']);
    assert.deepEqual(lifeboatMappingOf('./scripts/restore/verify-backups.sh --env prod --vmid 121')?.args, { env: 'prod', vmid: 121 });
    assert.deepEqual(lifeboatMappingOf('./scripts/restore/restore-vm.sh 121 --date 2026-11-20')?.unsupported, ['--date']);
    assert.equal(lifeboatMappingOf('./other.sh --force'), undefined);
  });

  it('says why a command is destructive', () => {
    assert.equal(destructiveReason('terraform apply -target=module.minio'), 'apply');
    assert.equal(destructiveReason('terraform destroy'), 'destroy');
    assert.equal(destructiveReason('qmrestore /x.vma.zst 121'), 'restore');
    assert.equal(destructiveReason('rm -rf /var/lib/x'), 'rm -rf');
    assert.equal(destructiveReason('rm -f /tmp/x'), undefined);
    assert.equal(destructiveReason('helm upgrade --force x'), '--force');
    assert.equal(destructiveReason('./scripts/restore/restore-tfstate.sh --env prod --list'), undefined);
    assert.equal(destructiveReason('./scripts/restore/restore-tfstate.sh --env prod --list && terraform apply'), 'apply');
    assert.equal(destructiveReason('./scripts/restore/verify-backups.sh --full'), undefined);
    assert.equal(destructiveReason('terraform plan'), undefined);
    assert.equal(destructiveReason('kubectl delete ns x', ['kubectl\\s+delete']), 'pattern: kubectl\\s+delete');
  });
});
