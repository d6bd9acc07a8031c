import * as assert from 'node:assert/strict';
import { destructiveReason, destructiveReasonText, fillPlaceholders, lifeboatMappingOf, placeholdersOf, shellSensitive, splitCommands, withoutComment } from '../../../../src/core/runbook/commands';
import { isSecretName } from '../../../../src/core/runbook/secrets';
import { msg } from '../../../../src/core/procedure/message';

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

  it('reads user@host prompts in console blocks, and drops the output lines', () => {
    const block = [
      'root@pve:~# qm stop 121',
      'user@laptop:~/infra$ terraform plan',
      'No changes.',
      '[root@pve ~]# pct list',
      'VMID       Status     Lock         Name',
      '(venv) alice@box:/srv/app$ ./deploy.sh --check',
      'pve:~# qm list',
      '$ uptime',
    ].join('\n');
    assert.deepEqual(splitCommands(block, 'console').map((c) => [c.text, c.offset]), [
      ['qm stop 121', 0], ['terraform plan', 1], ['pct list', 3], ['./deploy.sh --check', 5], ['qm list', 6], ['uptime', 7],
    ]);
  });

  it('removes a user@host prompt pasted into a sh block, keeps user@host arguments', () => {
    assert.deepEqual(splitCommands('root@pve:~# qm start 121\nssh root@10.20.0.10 pveversion\nscp x root@pve:/tmp/\n', 'bash').map((c) => c.text),
      ['qm start 121', 'ssh root@10.20.0.10 pveversion', 'scp x root@pve:/tmp/']);
  });

  it('strips unquoted trailing comments, keeps # inside quotes and words', () => {
    assert.equal(withoutComment('restore-vm.sh 121 --node alpha # gitea'), 'restore-vm.sh 121 --node alpha');
    assert.equal(withoutComment('echo "a # b" \'c # d\' # real comment'), 'echo "a # b" \'c # d\'');
    assert.equal(withoutComment('echo $# ${#arr[@]} http://x/#top a\\ #b'), 'echo $# ${#arr[@]} http://x/#top a\\ #b');
    assert.equal(withoutComment('true;# after a semicolon'), 'true;');
    assert.equal(withoutComment('echo "it\'s # quoted"'), 'echo "it\'s # quoted"');
  });

  it('a trailing comment no longer hides "Run with Lifeboat" or adds placeholders', () => {
    const [cmd] = splitCommands('./scripts/restore/restore-vm.sh 121 --node alpha # gitea <vmid>\n', 'bash');
    assert.equal(cmd?.text, './scripts/restore/restore-vm.sh 121 --node alpha');
    assert.deepEqual(lifeboatMappingOf(cmd?.text ?? '')?.unsupported, []);
    assert.deepEqual(placeholdersOf(cmd?.text ?? ''), []);
  });

  it('joins continuation lines whose comments are removed; a comment ending in \\ does not continue', () => {
    assert.deepEqual(splitCommands('terraform apply \\\n  -target=module.minio # the bucket host\necho next # \\\necho after\n', 'sh').map((c) => c.text),
      ['terraform apply -target=module.minio', 'echo next', 'echo after']);
    assert.deepEqual(splitCommands('user@host:~$ mc mirror \\\n> --overwrite a b # sync\n', 'console').map((c) => c.text), ['mc mirror > --overwrite a b']);
  });

  it('says which typed values the shell would interpret, and which placeholders are secrets', () => {
    for (const v of ['121', 'alpha', 'v3.ab_c-d', 'prod/terraform.tfstate', 'a=b,c:d@e%f+g']) assert.equal(shellSensitive(v), false, v);
    for (const v of ['x --force', '&& terraform apply', '$(id)', 'a;b', "it's", 'a|b', '*', '`id`', 'a b']) assert.equal(shellSensitive(v), true, v);
    for (const n of ['password', 'minio-password', 'api_token', 'secret', 'ssh-key', 'ACCESS_KEY']) assert.equal(isSecretName(n), true, n);
    for (const n of ['vmid', 'version-id', 'node', 'env']) assert.equal(isSecretName(n), false, n);
  });

  it('says a reason in Lifeboat\'s own words as a sentence to translate, a command\'s word as written', () => {
    assert.deepEqual(destructiveReasonText(destructiveReason('qmrestore /x.vma.zst 121')!), msg('a restore'));
    assert.deepEqual(destructiveReasonText(destructiveReason('kubectl delete ns x', ['kubectl\\s+delete'])!), msg('matches your pattern {0}', 'kubectl\\s+delete'));
    assert.deepEqual(destructiveReasonText('runbook'), msg('marked confirm in the runbook'));
    assert.equal(destructiveReasonText(destructiveReason('terraform apply')!), 'apply');
  });

  it('judges a filled command again: a value can make it destructive', () => {
    const line = './scripts/restore/verify-backups.sh --env <env>';
    assert.equal(destructiveReason(line), undefined);
    assert.equal(destructiveReason(fillPlaceholders(line, { env: 'prod && terraform apply' })), 'apply');
    assert.equal(destructiveReason(fillPlaceholders('helm status <release>', { release: 'x --force' })), '--force');
    assert.equal(destructiveReason(fillPlaceholders('kubectl get <what>', { what: 'ns; kubectl delete ns x' }), ['kubectl\\s+delete']), 'pattern: kubectl\\s+delete');
  });
});
