import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { estimateIn, estimateInText, parseRunbook, rtoIn } from '../../../../src/core/runbook/parse';
import { english } from '../../../../src/core/procedure/message';

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
    assert.ok(rb.limits.some((l) => /nested/.test(l.text)), JSON.stringify(rb.limits));
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

describe('runbook parser: estimates and the RTO in common forms', () => {
  it('reads labels, EN and FR: "Durée estimée : 15 min", "Estimated: 2 hours", "Temps estimé : 1h30"', () => {
    assert.equal(estimateInText('Durée estimée : 15 min'), 15);
    assert.equal(estimateInText('Durée estimée\u00a0: 15\u00a0min'), 15, 'French typography: no-break spaces');
    assert.equal(estimateInText('Estimated: 2 hours'), 120);
    assert.equal(estimateInText('Estimated duration: 45 minutes'), 45);
    assert.equal(estimateInText('Temps estimé : 1h30'), 90);
  });

  it('reads hours and minutes: "1h30", "1 h 30", "2h05min", "1 hour 30 minutes", "1 heure et 30 min"', () => {
    assert.equal(estimateIn('Restauration (~1h30)'), 90);
    assert.equal(estimateIn('Restore (about 1 h 30)'), 90);
    assert.equal(estimateInText('Durée : 2h05min'), 125);
    assert.equal(estimateInText('Estimated: 1 hour 30 minutes'), 90);
    assert.equal(estimateInText('Comptez 1 heure et 30 min.'), 90);
    assert.equal(estimateIn('Rebuild (1.5 h)'), 90);
  });

  it('reads an estimate at the end of a heading after a dash: "Step 5: E — 10 minutes"', () => {
    const rb = parseRunbook('# R\n\n## Step 5: E — 10 minutes\n\n```sh\necho e\n```\n\n## Étape 6 : Vérifier – 1h30\n\n```sh\necho f\n```\n');
    assert.deepEqual(rb.steps.map((s) => [s.number, s.title, s.estimateMinutes]), [['5', 'E', 10], ['6', 'Vérifier', 90]]);
  });

  it('reads "about 10 min" and "takes 10 minutes" inside a long sentence, EN and FR', () => {
    assert.equal(estimateInText('Rebuilding the monitoring VM from its backup usually takes about 10 min on the lab hardware.'), 10);
    assert.equal(estimateInText('This step restores the database, which should take 20 minutes if the archive is local.'), 20);
    assert.equal(estimateInText('La restauration de la base depuis la sauvegarde de la nuit prend environ 15 min sur ce matériel.'), 15);
    assert.equal(estimateInText('Prévoir environ 1h30 pour recopier les volumes depuis le stockage de sauvegarde distant.'), 90);
  });

  it('does not take waits, timings inside the step or commands for an estimate', () => {
    assert.equal(estimateInText('Wait about 10 min for the sync to finish before you start the next command.'), undefined);
    assert.equal(estimateInText('Run `sleep 600 # wait 10 min for the sync` and then check the bucket listing.'), undefined);
    assert.equal(estimateInText('Attendez environ 10 min que la synchronisation se termine avant de continuer.'), undefined);
    assert.equal(estimateInText('Backups run every 6 h and are kept for about 14 days on the storage named backups.'), undefined);
    assert.equal(estimateInText('The job retries after about 5 min when the node does not answer on the first try.'), undefined);
    assert.equal(estimateInText('If it does not start within about 2 min, look at the task log on the node.'), undefined);
    const rb = parseRunbook('# R\n\n## Step 1 — Sync\n\n```sh\n# wait 10 min for the sync\nsleep 600\n```\n\nWait about 10 min for the sync, then check it.\n\n## Step 2 — Check\n\n```sh\necho ok\n```\n');
    assert.equal(rb.steps[0]?.estimateMinutes, undefined);
  });

  it('reads the RTO in a table row or column, EN and FR, and not a per-service RTO column', () => {
    const row = parseRunbook('# Plan\n\n| Objective | Value |\n|---|---|\n| RPO | 24 h |\n| RTO | 1h30 |\n\n## Step 1 — A\n\n```sh\necho a\n```\n\n## Step 2 — B\n\n```sh\necho b\n```\n');
    assert.equal(row.rtoMinutes, 90);
    assert.match(row.rtoText ?? '', /RTO/);
    const column = parseRunbook('# PRA\n\n| RPO | RTO |\n|---|---|\n| 24 h | 45 min |\n\n## Étape 1 : A\n\n```sh\necho a\n```\n');
    assert.equal(column.rtoMinutes, 45);
    const fr = parseRunbook('# PRA\n\n| Indicateur | Cible |\n|---|---|\n| Durée maximale d\'interruption (DMIA) | 2 h |\n\n## Étape 1 : A\n\n```sh\necho a\n```\n');
    assert.equal(fr.rtoMinutes, 120);
    const perService = parseRunbook('# PRA\n\n| Service | RTO |\n|---|---|\n| MinIO | 10 min |\n| Gitea | 1 h |\n\n## Step 1 — A\n\n```sh\necho a\n```\n');
    assert.equal(perService.rtoMinutes, undefined);
  });

  it('takes the RTO\'s duration, not the RPO\'s, from a sentence with both', () => {
    assert.equal(rtoIn('RPO 24 h, RTO 1h30.'), 90);
    assert.equal(rtoIn('Perte de données (RPO) : 24 h au plus ; retour en 45 min (RTO).'), 45);
    assert.equal(rtoIn('Everything back in under 45 minutes (RTO); at most one day of data lost (RPO).'), 45);
  });
});

describe('runbook parser: sections between numbered steps', () => {
  const doc = [
    '# Recovery',
    '',
    '### 1) Stop',
    '',
    '```sh',
    'echo one',
    '```',
    '',
    '### 2) Restore',
    '',
    '```sh',
    'echo two',
    '```',
    '',
    '### Step Two',
    '',
    'Then the second half:',
    '',
    '```sh',
    'echo x',
    '```',
    '',
    '### 3) Start',
    '',
    '```sh',
    'echo three',
    '```',
    '',
    '### Troubleshooting',
    '',
    '```sh',
    'journalctl -u pve-cluster',
    '```',
    '',
    '### Contacts',
    '',
    '```sh',
    'echo call-bob',
    '```',
    '',
  ].join('\n');

  it('an unnumbered heading between steps is read as part of the step before it, and limits says so', () => {
    const rb = parseRunbook(doc);
    assert.deepEqual(rb.steps.map((s) => s.number), ['1', '2', '3']);
    assert.deepEqual(rb.steps[1]?.commands.map((c) => c.text), ['echo two', 'echo x']);
    assert.ok(rb.steps[1]?.notes.includes('Step Two'), 'its heading is shown as a sub-section');
    assert.equal(rb.steps[1]?.range.end, 22, 'the step runs until "### 3)"');
    assert.deepEqual(rb.steps[2]?.commands.map((c) => c.text), ['echo three', 'journalctl -u pve-cluster'], 'after the last step, a section with commands too');
    const notes = rb.limits.map(english);
    assert.ok(notes.includes('"Step Two" (line 15) has no step number: it is read as part of step 2.'), notes.join('\n'));
    assert.ok(notes.includes('"Troubleshooting" (line 29) has no step number: it is read as part of step 3.'), notes.join('\n'));
  });

  it('never loses a command silently: commands outside every step are named in limits', () => {
    const rb = parseRunbook(doc);
    assert.ok(!rb.steps.some((s) => s.commands.some((c) => c.text === 'echo call-bob')), 'Contacts is not a step');
    assert.ok(rb.limits.map(english).includes('Commands under "Contacts" (line 37) belong to no step: they are not offered to run.'), JSON.stringify(rb.limits));
    const intro = parseRunbook('# R\n\n```sh\necho before\n```\n\n## Step 1 — A\n\n```sh\necho a\n```\n');
    assert.ok(intro.limits.map(english).some((l) => /before the first step|under "R"/.test(l)), JSON.stringify(intro.limits));
  });

  it('leaves the samples as they were: no attached section, no stray commands', () => {
    for (const f of ['homelab/docs/DISASTER-RECOVERY.md', 'homelab/docs/RESTAURATION-PARTIELLE.md', 'runbooks/numbered.md', 'runbooks/french-letters.md']) {
      assert.deepEqual(parseRunbook(read(f)).limits, [], f);
    }
  });
});
