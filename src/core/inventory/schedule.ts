/**
 * Proxmox calendar events — the `schedule` of a backup job — read far enough to know how far apart
 * two runs can be, which is what the recovery point objective follows. No installed library reads
 * this format (cron parsers do not), so this is the subset backup jobs use, after the spec:
 *   Proxmox VE admin guide, "Calendar Events" (https://pve.proxmox.com/pve-docs/pve-admin-guide.html#chapter_calendar_events),
 *   the same format as Proxmox Backup Server's (https://pbs.proxmox.com/docs/calendarevents.html):
 *
 *   [WEEKDAY] [[YEARS-]MONTHS-DAYS] [HOURS:MINUTES[:SECONDS]]
 *
 * - weekdays `mon`…`sun`, as a list (`mon,wed,fri`) or a range (`mon..fri`, wrapping `sat..mon`);
 * - every number field: a value, a list `2,14`, a range `8..17`, a repetition `0/15` (from 0 every
 *   15), `*` or `*\/N`, and combinations of these (`0,8..17/2`);
 * - a time with one field is minutes (`*\/30` = every 30 minutes); no time at all = 00:00;
 * - the words `minutely`, `hourly`, `daily`, `weekly`, `monthly`, `yearly`/`annually`,
 *   `quarterly`, `semiannually`/`semi-annually`.
 * A year other than `*` (a one-off) and systemd's extensions Proxmox does not document (`~`,
 * time zones) are not read: the caller falls back to the configured RPO.
 *
 * Note that `02:00,14:00` is, by this grammar, hours `02`, minutes `00,14`, seconds `00` — 02:00
 * and 02:14 every day, as Proxmox itself runs it; twice a day is written `2,14:00`.
 */

export interface CalendarEvent {
  /** 0 = Monday … 6 = Sunday. */
  readonly weekdays: ReadonlySet<number>;
  /** 1 … 12. */
  readonly months: ReadonlySet<number>;
  /** 1 … 31. */
  readonly days: ReadonlySet<number>;
  /** Sorted. */
  readonly hours: readonly number[];
  /** Sorted. */
  readonly minutes: readonly number[];
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const SPECIAL: Readonly<Record<string, string>> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  weekly: 'mon *-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
  'semi-annually': '*-01,07-01 00:00:00',
};

/** The event, or undefined when the text is not a recurring calendar event this reader knows. */
export function parseCalendarEvent(text: string): CalendarEvent | undefined {
  const normalized = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (!normalized) return undefined;
  const tokens = (SPECIAL[normalized] ?? normalized).split(' ');
  let weekdays: Set<number> | undefined;
  let date: { months: Set<number>; days: Set<number> } | undefined;
  let time: { hours: number[]; minutes: number[] } | undefined;
  for (const [i, token] of tokens.entries()) {
    if (/^[a-z]/.test(token)) {
      if (i !== 0) return undefined;
      weekdays = parseWeekdays(token);
      if (!weekdays) return undefined;
    } else if (token.includes('-')) {
      if (date || time) return undefined;
      date = parseDate(token);
      if (!date) return undefined;
    } else {
      if (time) return undefined;
      time = parseTime(token);
      if (!time) return undefined;
    }
  }
  return {
    weekdays: weekdays ?? new Set(range(0, 6)),
    months: date?.months ?? new Set(range(1, 12)),
    days: date?.days ?? new Set(range(1, 31)),
    hours: time?.hours ?? [0],
    minutes: time?.minutes ?? [0],
  };
}

/**
 * The longest time between two consecutive runs, in hours, over four years of calendar (every
 * weekday, month length and leap day comes round). Undefined when it runs fewer than twice.
 */
export function largestGapHours(event: CalendarEvent): number | undefined {
  // 2024-01-01 is a Monday; four years include one leap year. Node-local time, without DST shifts.
  const start = Date.UTC(2024, 0, 1);
  const dayMs = 86_400_000;
  const times = event.hours.flatMap((h) => event.minutes.map((m) => (h * 60 + m) * 60_000));
  let previous: number | undefined;
  let largest = 0;
  for (let day = 0; day < 4 * 365 + 1; day++) {
    const at = new Date(start + day * dayMs);
    if (!event.weekdays.has((at.getUTCDay() + 6) % 7) || !event.months.has(at.getUTCMonth() + 1) || !event.days.has(at.getUTCDate())) continue;
    for (const offset of times) {
      const run = at.getTime() + offset;
      if (previous !== undefined) largest = Math.max(largest, run - previous);
      previous = run;
    }
  }
  return largest > 0 ? largest / 3_600_000 : undefined;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function parseWeekdays(token: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const item of token.split(',')) {
    const [a, b, ...rest] = item.split('..');
    const from = WEEKDAYS.indexOf(a ?? '');
    const to = b === undefined ? from : WEEKDAYS.indexOf(b);
    if (from < 0 || to < 0 || rest.length) return undefined;
    for (let d = from; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === to) break;
    }
  }
  return out;
}

/** `[YEARS-]MONTHS-DAYS`; only every year (`*`) is recurring. */
function parseDate(token: string): { months: Set<number>; days: Set<number> } | undefined {
  const parts = token.split('-');
  if (parts.length === 3 && parts[0] !== '*') return undefined;
  if (parts.length !== 2 && parts.length !== 3) return undefined;
  const [monthText, dayText] = parts.slice(-2) as [string, string];
  const months = parseField(monthText, 1, 12);
  const days = parseField(dayText, 1, 31);
  return months && days ? { months: new Set(months), days: new Set(days) } : undefined;
}

/** `HOURS:MINUTES[:SECONDS]`, or `MINUTES` alone (every hour). Seconds are checked, not used. */
function parseTime(token: string): { hours: number[]; minutes: number[] } | undefined {
  const parts = token.split(':');
  if (parts.length > 3) return undefined;
  const [first, second, third] = parts as [string, string | undefined, string | undefined];
  if (second === undefined) {
    const minutes = parseField(first, 0, 59);
    return minutes ? { hours: range(0, 23), minutes } : undefined;
  }
  const hours = parseField(first, 0, 23);
  const minutes = parseField(second, 0, 59);
  if (third !== undefined && !parseField(third, 0, 59)) return undefined;
  return hours && minutes ? { hours, minutes } : undefined;
}

/** A comma list of `*`, `N`, `A..B`, `N/S`, `A..B/S`, `*\/S` within [min, max]; sorted, unique. */
function parseField(text: string, min: number, max: number): number[] | undefined {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\*|\d{1,4})(?:\.\.(\d{1,4}))?(?:\/(\d{1,4}))?$/.exec(item);
    if (!m) return undefined;
    const from = m[1] === '*' ? min : Number(m[1]);
    if (m[1] === '*' && m[2] !== undefined) return undefined;
    const to = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined || m[1] === '*' ? max : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (from < min || from > max || to < from || to > max || step < 1) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}
