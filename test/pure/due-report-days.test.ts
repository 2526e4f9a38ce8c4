import { describe, expect, it } from 'vitest';
import { addDays, dayHasEnded, localDate, localTime, zonedInstant } from '../../src/dates.js';
import { dueDaysInWindow } from '../../src/services/due-report-days.js';
import { backfillOf, declaredSchedules } from '../../src/schedules.js';
import { loadConfig } from '../../src/config.js';

const DEMO_ZONES = [
  'UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'America/Los_Angeles', 'Asia/Kolkata',
  'Pacific/Honolulu', 'Pacific/Kiritimati', 'Asia/Kathmandu', 'America/Santiago', 'America/Havana',
];
const HOUR = 3_600_000;

/** Every (zone, day) the hourly schedule reports between two instants, and the window end that reported it. */
function sweep(zones: string[], from: Date, hours: number, at: string, minute = 0) {
  const reported: Array<{ zone: string; day: string; windowEnd: Date }> = [];
  for (let i = 0; i < hours; i++) {
    const end = new Date(from.getTime() + i * HOUR + minute * 60_000);
    for (const [day, dueZones] of dueDaysInWindow(zones, new Date(end.getTime() - HOUR), end, at)) {
      for (const zone of dueZones) reported.push({ zone, day, windowEnd: end });
    }
  }
  return reported;
}

describe('the hourly nightly schedule', () => {
  // Around both DST changes of 2026 (Santiago skips midnight on 2026-09-06, Havana on
  // 2026-03-08; New York skips 02:00 on 2026-03-08 and repeats 01:00 on 2026-11-01).
  it.each([
    ['2026-03-05T00:00:00Z', '02:00'],
    ['2026-09-03T00:00:00Z', '00:00'],
    ['2026-09-03T00:00:00Z', '02:00'],
    ['2026-10-30T00:00:00Z', '01:30'],
  ])('reports every zone\'s every day exactly once, after the day ended, around %s (at %s)', (start, at) => {
    const reported = sweep(DEMO_ZONES, new Date(start), 24 * 8, at);
    const seen = new Map<string, number>();
    for (const { zone, day, windowEnd } of reported) {
      seen.set(`${zone} ${day}`, (seen.get(`${zone} ${day}`) ?? 0) + 1);
      // The invariant: no day is reported (as final) before it has ended where the customer is.
      expect(dayHasEnded(day, zone, windowEnd), `${zone} ${day} reported at ${windowEnd.toISOString()}`).toBe(true);
      // ...and it is reported within the hour after `at` on the next local day.
      const dueAt = zonedInstant(addDays(day, 1), at, zone).getTime();
      expect(windowEnd.getTime() - dueAt).toBeGreaterThanOrEqual(0);
      expect(windowEnd.getTime() - dueAt).toBeLessThan(HOUR);
    }
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    // Every zone's days in the middle of the sweep (the edges are cut by the sweep itself) are all there.
    for (const zone of DEMO_ZONES) {
      for (let d = 2; d <= 5; d++) expect(seen.get(`${zone} ${addDays(start.slice(0, 10), d)}`), `${zone} day +${d}`).toBe(1);
    }
  });

  it('reports a Los Angeles customer at 02:00 Los Angeles time and a Tokyo customer at 02:00 Tokyo time', () => {
    const reported = sweep(['America/Los_Angeles', 'Asia/Tokyo', 'Asia/Kathmandu'], new Date('2026-11-04T00:00:00Z'), 48, '02:00');
    const when = (zone: string, day: string) => reported.find((r) => r.zone === zone && r.day === day)!.windowEnd;
    expect(localTime(when('America/Los_Angeles', '2026-11-04'), 'America/Los_Angeles')).toBe('02:00');
    expect(localDate(when('America/Los_Angeles', '2026-11-04'), 'America/Los_Angeles')).toBe('2026-11-05');
    expect(localTime(when('Asia/Tokyo', '2026-11-04'), 'Asia/Tokyo')).toBe('02:00');
    // UTC+5:45 reaches 02:00 at 20:15 UTC: the next hourly run, 21:00 UTC, is 02:45 in Kathmandu.
    expect(localTime(when('Asia/Kathmandu', '2026-11-04'), 'Asia/Kathmandu')).toBe('02:45');
  });

  it('in one window, Honolulu and Kiritimati (same wall clock, a day apart) get different days', () => {
    const due = dueDaysInWindow(['Pacific/Honolulu', 'Pacific/Kiritimati'], new Date('2026-11-05T11:00:00Z'), new Date('2026-11-05T12:00:00Z'), '02:00');
    expect(Object.fromEntries(due)).toEqual({ '2026-11-04': ['Pacific/Honolulu'], '2026-11-05': ['Pacific/Kiritimati'] });
  });

  it("the declared backfill window covers exactly the scheduled times at which the days fell due somewhere", () => {
    const [daily] = declaredSchedules(loadConfig({}));
    const window = backfillOf(daily!)!.window('2026-11-04', '2026-11-06');
    // The earliest zone (UTC+14) reaches 02:00 on the 5th at 12:00 UTC on the 4th; the latest
    // (UTC−12) reaches 02:00 on the 7th at 14:00 UTC on the 7th, reported by the 15:00 run.
    expect(window.start.toISOString()).toBe('2026-11-04T12:00:00.000Z');
    expect(window.end.toISOString()).toBe('2026-11-07T14:59:59.000Z');
    const hours = Math.floor((window.end.getTime() - window.start.getTime()) / HOUR) + 1;
    const reported = sweep(['Pacific/Kiritimati', 'Etc/GMT+12', 'UTC'], window.start, hours, '02:00');
    for (const zone of ['Pacific/Kiritimati', 'Etc/GMT+12', 'UTC']) {
      for (const day of ['2026-11-04', '2026-11-05', '2026-11-06']) expect(reported.filter((r) => r.zone === zone && r.day === day), `${zone} ${day}`).toHaveLength(1);
    }
  });
});
