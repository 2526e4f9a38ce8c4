/**
 * Calendar days and time zones: the project's date rules in one place. Sandbox-safe (no
 * Node built-ins), so workflows may import it; but a workflow must not ask it what day it is
 * in a zone (time-zone data changes with Node releases, which would break replay): that is
 * an activity's job.
 *
 * A *day* is a string written YYYY-MM-DD. A customer's local day D is the span from the first
 * instant of D in the customer's zone to the first instant of D+1 there.
 */

/** The days every door accepts: PostgreSQL holds them, and they are plausible for a report. */
export const FIRST_DAY = '1900-01-01';
export const LAST_DAY = '9999-12-31';

/** True for a real calendar day written YYYY-MM-DD (so 2026-02-30 is not one). */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  // Integer arithmetic, no Date: the importer checks two instants of every record it reads.
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** Days in a month of the proleptic Gregorian calendar (as Date and PostgreSQL count them). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** True for a calendar day inside FIRST_DAY..LAST_DAY (year 0000, for one, is not). */
export function isSupportedDay(value: string): boolean {
  return isCalendarDate(value) && value >= FIRST_DAY && value <= LAST_DAY;
}

export const SUPPORTED_DAY_RULE = `must be a day from ${FIRST_DAY} to ${LAST_DAY}`;

export function addDays(isoDay: string, days: number): string {
  const date = new Date(`${isoDay}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `timeZone` at `instant`, as the UTC timestamp of the same wall-clock reading. */
function wallClock(instant: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
}

/** The calendar day (YYYY-MM-DD) that `instant` falls on in `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  return new Date(wallClock(instant.getTime(), timeZone)).toISOString().slice(0, 10);
}

/** The local wall-clock time HH:MM at `instant` in `timeZone`. */
export function localTime(instant: Date, timeZone: string): string {
  return new Date(wallClock(instant.getTime(), timeZone)).toISOString().slice(11, 16);
}

/**
 * The first instant at which the wall clock in `timeZone` reads `time` (HH:MM) or later on
 * `day`. Where that time is skipped (a DST jump, or a midnight that does not exist, as in
 * America/Santiago on 2026-09-06), it is the instant the clock jumps past it; where it
 * happens twice (a clock turned back), it is the first of the two.
 */
export function zonedInstant(day: string, time: string, timeZone: string): Date {
  const wanted = Date.parse(`${day}T${time}:00Z`); // the wall-clock reading, as if it were UTC
  // The zone's offsets a day either side: every transition near `day` lies between them.
  const offsets = new Set([-1, 0, 1].map((d) => wallClock(wanted + d * 86_400_000, timeZone) - (wanted + d * 86_400_000)));
  const exact = [...offsets].map((offset) => wanted - offset).filter((instant) => wallClock(instant, timeZone) === wanted);
  if (exact.length > 0) return new Date(Math.min(...exact));
  // Skipped: between the earliest candidate (still before the jump) and the latest (after it),
  // the wall clock only moves forward, so the first instant reading `time` or later is found by bisection.
  const candidates = [...offsets].map((offset) => wanted - offset);
  let low = Math.min(...candidates); // reads earlier than `time`
  let high = Math.max(...candidates); // reads later than `time`
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (wallClock(middle, timeZone) >= wanted) high = middle;
    else low = middle;
  }
  return new Date(high);
}

/** The first instant of `day` in `timeZone` (01:00 where midnight is skipped). */
export function zonedMidnight(day: string, timeZone: string): Date {
  return zonedInstant(day, '00:00', timeZone);
}

/** True once `day` has ended in `timeZone`, that is, at or after the first instant of the next day. */
export function dayHasEnded(day: string, timeZone: string, now: Date): boolean {
  return now.getTime() >= zonedMidnight(addDays(day, 1), timeZone).getTime();
}
