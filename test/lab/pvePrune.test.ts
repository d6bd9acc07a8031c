/**
 * The simulator's backup retention (lab/pve/prune.ts) against pve-storage's marking rules: each rule
 * keeps the newest backup of each period not already kept by an earlier rule; protected backups are
 * neither removed nor counted.
 */
import * as assert from 'node:assert/strict';
import { parseRetention, pruneMarks, prunes, retentionString } from '../../lab/pve/prune';

const at = (iso: string, prot = false) => ({ id: iso, ctime: Date.parse(`${iso}Z`) / 1000, protected: prot });
const marks = (group: ReturnType<typeof at>[], keep: Record<string, string>) => Object.fromEntries(pruneMarks(group, keep).map((x) => [x.entry.id, x.mark]));

describe('pve simulator: backup retention (prune)', () => {
  it('keep-daily keeps the newest backup of each day: a second backup the same day pushes the earlier one out', () => {
    const group = [at('2026-01-05T01:30:00'), at('2026-01-05T17:09:48'), at('2026-01-04T01:30:00'), at('2026-01-03T01:30:00')];
    assert.deepEqual(marks(group, { 'keep-daily': '2' }), {
      '2026-01-05T17:09:48': 'keep', '2026-01-05T01:30:00': 'remove', '2026-01-04T01:30:00': 'keep', '2026-01-03T01:30:00': 'remove',
    });
  });

  it('later rules only keep periods the earlier rules did not cover (ISO weeks, months)', () => {
    // 2026-01-05 is a Monday (week 2); 01-04 and 01-03 are in week 1; 2025-12-20 is in week 51 of 2025.
    const group = [at('2026-01-05T01:00:00'), at('2026-01-04T01:00:00'), at('2026-01-03T01:00:00'), at('2025-12-20T01:00:00'), at('2025-11-20T01:00:00')];
    assert.deepEqual(marks(group, { 'keep-last': '1', 'keep-weekly': '2', 'keep-monthly': '1' }), {
      '2026-01-05T01:00:00': 'keep', // keep-last
      '2026-01-04T01:00:00': 'keep', // week 1 of 2026 (newest in it)
      '2026-01-03T01:00:00': 'remove', // same week
      '2025-12-20T01:00:00': 'keep', // week 51 of 2025: the second new week
      '2025-11-20T01:00:00': 'keep', // keep-monthly: November is not covered yet
    });
  });

  it('protected backups stay and do not take a slot', () => {
    const group = [at('2026-01-05T17:00:00', true), at('2026-01-05T01:30:00'), at('2026-01-04T01:30:00')];
    assert.deepEqual(marks(group, { 'keep-last': '1' }), { '2026-01-05T17:00:00': 'protected', '2026-01-05T01:30:00': 'keep', '2026-01-04T01:30:00': 'remove' });
  });

  it('no retention or keep-all keeps everything', () => {
    const group = [at('2026-01-05T01:30:00'), at('2026-01-04T01:30:00')];
    assert.equal(prunes({}), false);
    assert.equal(prunes({ 'keep-all': '1' }), false);
    assert.deepEqual(Object.values(marks(group, { 'keep-all': '1', 'keep-last': '1' })), ['keep', 'keep']);
  });

  it('reads and prints retention strings as vzdump does', () => {
    assert.deepEqual(parseRetention('keep-last=3,keep-daily=7'), { 'keep-last': '3', 'keep-daily': '7' });
    assert.equal(retentionString({ 'keep-weekly': '4', 'keep-daily': '7' }), 'keep-daily=7,keep-weekly=4');
    assert.throws(() => parseRetention('keep-forever=1'), /unknown or malformed retention 'keep-forever=1'/);
  });
});
