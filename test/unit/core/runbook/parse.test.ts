import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRunbook } from '../../../../src/core/runbook/parse';

const fixtures = path.resolve(__dirname, '../../../fixtures');
const read = (rel: string) => readFileSync(path.join(fixtures, rel), 'utf8');

/** Runs fn and fails when it takes longer than ms (hostile inputs must not hang the parser). */
function within<T>(ms: number, fn: () => T): T {
  const start = performance.now();
  const out = fn();
  const took = performance.now() - start;
  assert.ok(took < ms, `took ${Math.round(took)} ms, limit ${ms} ms`);
  return out;
}

describe('runbook parser: the English sample (DISASTER-RECOVERY.md)', () => {
  const rb = parseRunbook(read('homelab/docs/DISASTER-RECOVERY.md'), { fileName: 'DISASTER-RECOVERY.md' });

  it('finds the five numbered steps with their estimates and the 45-minute RTO', () => {
    assert.equal(rb.title, 'Disaster recovery: rebuild the homelab');
    assert.equal(rb.stepsFrom, 'numbered');
    assert.deepEqual(rb.steps.map((s) => s.number), ['1', '2', '3', '4', '5']);
    assert.deepEqual(rb.steps.map((s) => s.estimateMinutes), [10, 5, 10, 15, 5]);
    assert.equal(rb.steps[0]?.title, 'Bring MinIO back');
    assert.equal(rb.rtoMinutes, 45);
    assert.equal(rb.estimatedMinutes, 45);
  });

  it('keeps "Before you start" as runbook prerequisites and "Contacts" out of the steps', () => {
    assert.equal(rb.prerequisites.length, 5);
    assert.match(rb.prerequisites[3]?.text ?? '', /MINIO_ROOT_PASSWORD/);
    assert.ok(!rb.steps.some((s) => /contacts|before/i.test(s.title)));
  });

  it('reads commands one per line, with source lines, placeholders and destructive flags', () => {
    const step2 = rb.steps[1]!;
    assert.deepEqual(step2.commands.map((c) => c.text), [
      './scripts/restore/restore-tfstate.sh --env prod --list',
      './scripts/restore/restore-tfstate.sh --env prod --restore <version-id>',
      'cd infrastructure/proxmox/environments/prod && terraform plan',
    ]);
    assert.deepEqual(step2.commands[1]?.placeholders, ['version-id']);
    assert.equal(step2.commands[0]?.destructive, undefined, '--list only reads');
    assert.ok(step2.commands[1]?.destructive);
    assert.equal(step2.commands[2]?.destructive, undefined);
    const lines = read('homelab/docs/DISASTER-RECOVERY.md').split('\n');
    for (const c of rb.steps.flatMap((s) => s.commands)) assert.equal(lines[c.line]?.trim(), c.text, `line of ${c.id}`);
    assert.equal(rb.steps[3]?.commands.length, 4);
  });

  it('reads checklist items, expected results, warnings and tables', () => {
    assert.equal(rb.steps[2]?.checklist.length, 3);
    assert.equal(rb.steps[4]?.checklist.length, 4);
    assert.ok(rb.steps.flatMap((s) => s.checklist).every((c) => !c.checked));
    assert.equal(rb.steps[0]?.expected.length, 2);
    assert.match(rb.steps[0]?.warnings[0] ?? '', /local backend/);
    assert.match(rb.steps[1]?.expected[0] ?? '', /No changes/);
    assert.deepEqual(rb.steps[3]?.tables[0]?.header, ['VMID', 'Name', 'Type']);
    assert.equal(rb.steps[3]?.tables[0]?.rows.length, 4);
  });

  it('maps the known scripts to Lifeboat commands', () => {
    const vm = rb.steps[3]?.commands[0]?.lifeboat;
    assert.deepEqual(vm, { script: 'restore-vm.sh', command: 'lifeboat.restoreGuest', args: { vmid: 131, node: 'alpha' }, unsupported: [] });
    assert.equal(rb.steps[0]?.commands[0]?.lifeboat?.command, 'lifeboat.rebuildMinio');
    assert.equal(rb.steps[2]?.commands[0]?.lifeboat?.command, 'lifeboat.rebuildMonitoring');
    assert.equal(rb.steps[4]?.commands[0]?.lifeboat?.command, 'lifeboat.verifyBackups');
    assert.deepEqual(rb.steps[1]?.commands[1]?.lifeboat?.args, { env: 'prod', action: 'restore', versionId: '<version-id>' });
    assert.equal(rb.steps[1]?.commands[1]?.lifeboat?.command, 'lifeboat.restoreTfstate');
    assert.deepEqual(rb.steps[1]?.commands[0]?.lifeboat?.unsupported, ['list']);
  });

  it('gives stable ids: the same text gives the same ids, editing one step changes only its hash', () => {
    const source = read('homelab/docs/DISASTER-RECOVERY.md');
    const again = parseRunbook(source);
    assert.deepEqual(again.steps.map((s) => s.id), rb.steps.map((s) => s.id));
    assert.equal(new Set(rb.steps.map((s) => s.id)).size, 5);
    const edited = parseRunbook(source.replace('--mode restore', '--mode rebuild'));
    assert.deepEqual(edited.steps.map((s) => s.id), rb.steps.map((s) => s.id));
    const changed = edited.steps.filter((s, i) => s.hash !== rb.steps[i]?.hash).map((s) => s.number);
    assert.deepEqual(changed, ['3']);
  });
});

describe('runbook parser: the French sample (RESTAURATION-PARTIELLE.md)', () => {
  const rb = parseRunbook(read('homelab/docs/RESTAURATION-PARTIELLE.md'));

  it('finds "Étape A" to "Étape D" with commands inside numbered lists', () => {
    assert.deepEqual(rb.steps.map((s) => s.number), ['A', 'B', 'C', 'D']);
    assert.equal(rb.steps[0]?.title, 'une VM ou un conteneur');
    assert.equal(rb.steps[0]?.commands.length, 3);
    assert.equal(rb.steps[0]?.checklist.length, 2);
    assert.match(rb.steps[1]?.expected[0] ?? '', /aucun changement/);
  });

  it('does not offer Lifeboat for a flag it has no equivalent for (--date)', () => {
    const dated = rb.steps[0]?.commands[2]?.lifeboat;
    assert.deepEqual(dated?.unsupported, ['--date']);
    assert.equal(dated?.args.targetId, 921);
  });
});

describe('runbook parser: other shapes', () => {
  it('falls back to the heading outline, reads console prompts, continuations and block ids', () => {
    const rb = parseRunbook(read('runbooks/outline-only.md'));
    assert.equal(rb.stepsFrom, 'outline');
    assert.deepEqual(rb.steps.map((s) => s.title), ['Check the certificates', 'Restart the service']);
    assert.equal(rb.rtoMinutes, 20);
    assert.equal(rb.steps[0]?.estimateMinutes, 3);
    assert.deepEqual(rb.steps[0]?.commands.map((c) => c.text), ['ls /etc/ssl/private', 'openssl x509 -in /etc/ssl/certs/proxy.pem -noout -enddate']);
    assert.equal(rb.steps[0]?.checklist[0]?.checked, true);
    assert.equal(rb.steps[1]?.id, 'restart-proxy');
    assert.deepEqual(rb.steps[1]?.commands.map((c) => c.id), ['restart-proxy-1', 'restart-proxy-2']);
    assert.equal(rb.steps[1]?.commands[1]?.text, 'journalctl -u caddy --since "5 min ago" --no-pager');
    assert.deepEqual(rb.steps[1]?.expected, ['the unit is `active (running)`']);
  });

  it('reads French letters, accents or not, "Durée :", "Duree :", "environ" and an RTO in hours', () => {
    const rb = parseRunbook(read('runbooks/french-letters.md'));
    assert.deepEqual(rb.steps.map((s) => s.number), ['A', 'B', 'C']);
    assert.deepEqual(rb.steps.map((s) => s.estimateMinutes), [5, 20, 10]);
    assert.equal(rb.rtoMinutes, 90);
    assert.equal(rb.prerequisites.length, 2);
    assert.deepEqual(rb.steps[1]?.commands[0]?.placeholders, ['vmid']);
    assert.match(rb.steps[1]?.warnings[0] ?? '', /écrase/);
    assert.deepEqual(rb.steps[1]?.expected, ['le conteneur 940 démarre']);
    assert.deepEqual(rb.steps[2]?.checklist.map((c) => c.checked), [false, true]);
  });

  it('reads "### 3." numbering, prerequisites, rm -rf and terraform apply as destructive, tables', () => {
    const rb = parseRunbook(read('runbooks/numbered.md'));
    assert.deepEqual(rb.steps.map((s) => s.number), ['1', '2', '3']);
    assert.deepEqual(rb.steps.map((s) => s.estimateMinutes), [2, undefined, 5]);
    assert.equal(rb.rtoMinutes, 30);
    assert.equal(rb.steps[0]?.commands[0]?.text, 'systemctl stop unbound');
    assert.deepEqual(rb.steps[1]?.prerequisites, ['the backup disk is mounted on `/mnt/backup`.']);
    assert.deepEqual(rb.steps[1]?.commands.map((c) => c.destructive), ['rm -rf', undefined, 'apply']);
    assert.equal(rb.steps[2]?.tables[0]?.rows[0]?.[1], '93.184.216.34');
  });

  it('marks commands matching the settings patterns', () => {
    const rb = parseRunbook(read('runbooks/numbered.md'), { destructivePatterns: ['systemctl stop', '(invalid'] });
    assert.equal(rb.steps[0]?.commands[0]?.destructive, 'pattern: systemctl stop');
  });
});

describe('runbook parser: hostile input', () => {
  it('keeps raw HTML and scripts as text and ignores bad attributes', () => {
    const rb = within(2_000, () => parseRunbook(read('runbooks/hostile.md')));
    assert.equal(rb.steps.length, 2);
    assert.match(rb.title, /<script>/, 'the title is text, shown as text');
    assert.equal(rb.steps[0]?.commands[0]?.text, 'echo "<script>alert(1)</script>"');
    assert.match(rb.steps[0]?.commands[0]?.id ?? '', /^[a-z0-9-]+$/, 'an id attribute with quotes and tags is not used');
    assert.equal(rb.steps[0]?.checklist[0]?.text, "<script>alert('checklist')</script>");
    assert.equal(rb.steps[1]?.commands[0]?.text, 'echo ok');
  });

  it('reads a 5 MB file in bounded time and says it was cut', function () {
    this.timeout(20_000);
    const block = '## Step 1 — Big (about 1 min)\n\n```sh\necho hi\n```\n\n' + '- [ ] item with `code` and *emphasis* and [a link](http://x)\n'.repeat(90_000);
    assert.ok(block.length > 5_000_000);
    const rb = within(10_000, () => parseRunbook(block));
    assert.equal(rb.steps.length, 1);
    assert.equal(rb.limits.length, 1);
    assert.ok(rb.steps[0]!.checklist.length > 1000);
  });

  it('survives 2,000 levels of nested lists and blockquotes', () => {
    let nested = '## Step 1 — Deep\n\n';
    for (let i = 0; i < 2_000; i++) nested += `${'  '.repeat(i)}- level ${i}\n`;
    nested += '\n' + '>'.repeat(2_000) + ' deep quote\n\n```sh\necho still here\n```\n';
    const rb = within(5_000, () => parseRunbook(nested));
    assert.equal(rb.steps.length, 1);
    assert.ok(rb.limits.some((l) => /nested/.test(l)), JSON.stringify(rb.limits));
  });

  it('does not backtrack on long lines of near-matches', () => {
    const evil = `# ${'Step '.repeat(20_000)}\n\nRTO ${'1'.repeat(50_000)}\n\n~ ${'9 '.repeat(50_000)}\n\n## ${'Étape '.repeat(10_000)}A\n`;
    within(3_000, () => parseRunbook(evil));
  });

  it('parses an empty file', () => {
    const rb = parseRunbook('', { fileName: 'empty.md' });
    assert.deepEqual(rb.steps, []);
    assert.equal(rb.title, 'empty');
    assert.equal(rb.stepsFrom, 'none');
  });
});
