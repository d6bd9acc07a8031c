import * as assert from 'node:assert/strict';
import { guestRpoHours, rpoHoursFor } from '../../../../src/core/inventory/backups';
import type { BackupJob } from '../../../../src/core/inventory/model';
import { largestGapHours, parseCalendarEvent } from '../../../../src/core/inventory/schedule';

const gap = (schedule: string) => {
  const event = parseCalendarEvent(schedule);
  return event ? largestGapHours(event) : undefined;
};

describe('Proxmox calendar events (backup job schedules)', () => {
  it('reads the forms backup jobs use and finds the longest time between two runs', () => {
    const cases: [string, number][] = [
      ['02:00', 24],
      ['2:30', 24],
      ['daily', 24],
      ['*-*-* 02:00', 24],
      ['sun 01:00', 168],
      ['weekly', 168],
      ['SAT 02:00', 168],
      // Friday night to Monday night.
      ['mon..fri 02:00', 72],
      ['mon,wed,fri 03:00', 72],
      ['sat..sun 04:00', 144],
      // A range that wraps past Sunday: fri, sat, sun, mon.
      ['fri..mon 01:00', 96],
      ['2,14:00', 12],
      ['0/6:30', 6],
      ['*/4:00', 4],
      ['*/30', 0.5],
      ['hourly', 1],
      // Friday 22:45 to Monday 08:00.
      ['mon..fri 8..17,22:0/15', 57.25],
      // By the grammar, "02:00,14:00" is 02:00 and 02:14 (minutes 00 and 14, seconds 00), as Proxmox runs it.
      ['02:00,14:00', 23 + 46 / 60],
      ['monthly', 31 * 24],
      ['*-*-01 03:00', 31 * 24],
      ['quarterly', 92 * 24],
    ];
    for (const [schedule, hours] of cases) {
      const found = gap(schedule);
      assert.ok(found !== undefined && Math.abs(found - hours) < 1e-9, `${schedule}: ${found} h, expected ${hours} h`);
    }
  });

  it('keeps weekdays, hours and minutes apart', () => {
    assert.deepEqual(parseCalendarEvent('mon..wed 30/10'), {
      weekdays: new Set([0, 1, 2]),
      months: new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
      days: new Set(Array.from({ length: 31 }, (_, i) => i + 1)),
      hours: Array.from({ length: 24 }, (_, i) => i),
      minutes: [30, 40, 50],
    });
    assert.deepEqual(parseCalendarEvent('fri 12..13:5/20')?.hours, [12, 13]);
    assert.deepEqual(parseCalendarEvent('fri 12..13:5/20')?.minutes, [5, 25, 45]);
    assert.deepEqual(parseCalendarEvent('sat')?.hours, [0], 'no time part: midnight');
  });

  it('refuses what is not a recurring calendar event instead of guessing', () => {
    for (const bad of ['', 'nightly', '25:00', '02:60', 'mon..funday 02:00', '2026-12-24 02:00', '02:00 mon', '*-*-*-* 02:00', '5..2:00', '02:00:00:00', 'mon 02:00 03:00']) {
      assert.equal(parseCalendarEvent(bad), undefined, JSON.stringify(bad));
    }
  });

  it('an RPO is the longest gap plus two hours for the job itself, rounded up to whole hours', () => {
    assert.equal(rpoHoursFor('sun 01:00', 26), 170);
    assert.equal(rpoHoursFor('mon..fri 02:00', 26), 74);
    assert.equal(rpoHoursFor('2,14:00', 26), 14);
    assert.equal(rpoHoursFor('*/30', 26), 3);
    assert.equal(rpoHoursFor('daily', 26), 26);
  });

  describe('guestRpoHours', () => {
    const job = (over: Partial<BackupJob>): BackupJob => ({ id: 'backup-x', schedule: '01:30', enabled: true, storage: 'backups', vmids: [121], exclude: [], node: undefined, mode: 'snapshot', ...over });

    it('the backup block\'s schedule comes first', () => {
      assert.equal(guestRpoHours('sun 01:00', [job({ schedule: '01:30' })], 121, 'alpha', 48), 170);
    });

    it('without a schedule in the block, the enabled job that backs the guest up most often', () => {
      const jobs = [job({ id: 'weekly', schedule: 'sun 01:00' }), job({ id: 'daily', schedule: '03:00' }), job({ id: 'off', schedule: '*/30', enabled: false }), job({ id: 'other', schedule: 'hourly', vmids: [122] })];
      assert.equal(guestRpoHours(undefined, jobs, 121, 'alpha', 48), 26);
      assert.equal(guestRpoHours(undefined, [jobs[0]!], 121, 'alpha', 48), 170);
    });

    it('a job for all guests of a node, with exclusions', () => {
      const all = job({ vmids: 'all', node: 'beta', exclude: [202], schedule: 'sat 02:00' });
      assert.equal(guestRpoHours(undefined, [all], 201, 'beta', 48), 170);
      assert.equal(guestRpoHours(undefined, [all], 202, 'beta', 48), 48, 'excluded');
      assert.equal(guestRpoHours(undefined, [all], 121, 'alpha', 48), 48, 'another node');
    });

    it('no job, an unreadable schedule or an unknown VMID: the fallback', () => {
      assert.equal(guestRpoHours(undefined, [], 121, 'alpha', 48), 48);
      assert.equal(guestRpoHours('whenever', [job({ schedule: 'nightly' })], 121, 'alpha', 48), 48);
      assert.equal(guestRpoHours(undefined, [job({})], undefined, undefined, 48), 48);
    });
  });
});
