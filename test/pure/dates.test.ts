import { describe, expect, it } from 'vitest';
import { dayHasEnded, isSupportedDay, localDate, localTime, zonedInstant, zonedMidnight } from '../../src/dates.js';

describe('zonedMidnight', () => {
  it('is the first instant of the day, in any offset', () => {
    expect(zonedMidnight('2026-11-04', 'UTC').toISOString()).toBe('2026-11-04T00:00:00.000Z');
    expect(zonedMidnight('2026-11-04', 'America/Los_Angeles').toISOString()).toBe('2026-11-04T08:00:00.000Z');
    expect(zonedMidnight('2026-11-04', 'Asia/Kathmandu').toISOString()).toBe('2026-11-03T18:15:00.000Z');
    expect(zonedMidnight('2026-11-04', 'Pacific/Kiritimati').toISOString()).toBe('2026-11-03T10:00:00.000Z');
    expect(zonedMidnight('2026-11-04', 'Pacific/Honolulu').toISOString()).toBe('2026-11-04T10:00:00.000Z');
  });

  // Regression: these returned 23:00 of the day before, an instant that belongs to the previous day.
  it.each([
    ['America/Santiago', '2026-09-06', '2026-09-06T04:00:00.000Z'],
    ['America/Havana', '2026-03-08', '2026-03-08T05:00:00.000Z'],
  ])('where midnight is skipped (%s, %s) it is the moment the clock jumps to 01:00', (zone, day, expected) => {
    const start = zonedMidnight(day, zone);
    expect(start.toISOString()).toBe(expected);
    expect(localDate(start, zone)).toBe(day);
    expect(localTime(start, zone)).toBe('01:00');
    expect(localDate(new Date(start.getTime() - 1000), zone)).not.toBe(day);
  });

  it('is unaffected by a clock turned back later that day', () => {
    // New York turns its clock back at 02:00 on 2026-11-01.
    expect(zonedMidnight('2026-11-01', 'America/New_York').toISOString()).toBe('2026-11-01T04:00:00.000Z');
    expect(zonedMidnight('2026-11-02', 'America/New_York').toISOString()).toBe('2026-11-02T05:00:00.000Z');
  });
});

describe('zonedInstant', () => {
  it('takes the first of two readings when the clock is turned back', () => {
    expect(zonedInstant('2026-11-01', '01:30', 'America/New_York').toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });

  it('is the jump itself when the time is skipped', () => {
    // New York skips 02:00-03:00 on 2026-03-08.
    expect(zonedInstant('2026-03-08', '02:00', 'America/New_York').toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(zonedInstant('2026-03-08', '02:30', 'America/New_York').toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(zonedInstant('2026-03-08', '03:30', 'America/New_York').toISOString()).toBe('2026-03-08T07:30:00.000Z');
  });
});

describe('dayHasEnded', () => {
  it("uses the zone's own end of day", () => {
    const at = new Date('2026-11-05T02:00:00Z');
    expect(dayHasEnded('2026-11-04', 'UTC', at)).toBe(true);
    expect(dayHasEnded('2026-11-04', 'America/New_York', at)).toBe(false); // 21:00 there
    expect(dayHasEnded('2026-11-04', 'Pacific/Honolulu', at)).toBe(false);
    expect(dayHasEnded('2026-11-04', 'Pacific/Kiritimati', at)).toBe(true);
    expect(dayHasEnded('2026-11-04', 'America/New_York', new Date('2026-11-05T05:00:00Z'))).toBe(true);
  });
});

describe('isSupportedDay', () => {
  it('refuses days PostgreSQL cannot hold or no report can be about', () => {
    expect(isSupportedDay('0000-01-01')).toBe(false);
    expect(isSupportedDay('1899-12-31')).toBe(false);
    expect(isSupportedDay('1900-01-01')).toBe(true);
    expect(isSupportedDay('9999-12-31')).toBe(true);
    expect(isSupportedDay('2026-02-30')).toBe(false);
  });

  it('knows the Gregorian calendar as Date does: leap years, month lengths, every day from 1900 to 2400', () => {
    expect(['1900-02-29', '2100-02-29', '2026-02-29', '2026-04-31', '2026-13-01', '2026-00-10', '2026-01-00'].map(isSupportedDay)).toEqual(Array(7).fill(false));
    expect(['2000-02-29', '2024-02-29', '2400-02-29', '2026-01-31', '2026-12-31'].map(isSupportedDay)).toEqual(Array(5).fill(true));
    // Against Date itself, every candidate day of every month (31 a month) of five centuries.
    for (let year = 1900; year <= 2400; year++) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 28; day <= 31; day++) {
          const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          // Date.UTC rolls an impossible day into the next month: a real day comes back as itself.
          const byDate = new Date(Date.UTC(year, month - 1, day)).toISOString().slice(0, 10) === text;
          expect(isSupportedDay(text), text).toBe(byDate);
        }
      }
    }
  });
});
