import type { Pool } from '../db/pool.js';
import type { DueDay, DueDayPlan } from '../daily-reports-contract.js';
import { addDays, isTimeZone, localDate, zonedInstant } from '../dates.js';

/**
 * The local days that became due in the window (start, end] for each zone: day D is due in
 * zone Z at the first instant Z's clock reads `at` on D+1, which is always after D has ended
 * there (also where that time or midnight is skipped; see zonedInstant). Consecutive
 * windows therefore make every zone's every day due exactly once.
 */
export function dueDaysInWindow(timeZones: string[], start: Date, end: Date, at: string): Map<string, string[]> {
  const due = new Map<string, string[]>();
  for (const zone of timeZones) {
    const today = localDate(end, zone);
    // A window is at most a day long, so only the last few local days can fall due in it.
    for (let back = 1; back <= 3; back++) {
      const day = addDays(today, -back);
      const dueAt = zonedInstant(addDays(day, 1), at, zone).getTime();
      if (dueAt > start.getTime() && dueAt <= end.getTime()) due.set(day, [...(due.get(day) ?? []), zone]);
    }
  }
  return due;
}

/** Decides, from the active customers' zones, which days the nightly run at a given time reports. */
export class DueReportDays {
  constructor(private readonly pool: Pool) {}

  async plan(request: { windowStart: string; windowEnd: string; at: string }): Promise<DueDayPlan> {
    const { rows } = await this.pool.query<{ time_zone: string; customers: number }>(
      'SELECT time_zone, count(*)::int AS customers FROM customers WHERE active GROUP BY time_zone ORDER BY time_zone',
    );
    const known = rows.filter((row) => isTimeZone(row.time_zone));
    const customersIn = new Map(known.map((row) => [row.time_zone, row.customers]));
    const due = dueDaysInWindow(known.map((row) => row.time_zone), new Date(request.windowStart), new Date(request.windowEnd), request.at);
    const days: DueDay[] = [...due.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, timeZones]) => ({ day, timeZones, customers: timeZones.reduce((sum, zone) => sum + (customersIn.get(zone) ?? 0), 0) }));
    // Customers with a zone nobody knows are never due: they are reported instead, once a day,
    // in the window where UTC's day falls due.
    const utcDue = dueDaysInWindow(['UTC'], new Date(request.windowStart), new Date(request.windowEnd), request.at).size > 0;
    return {
      days,
      unknownTimeZones: utcDue ? rows.filter((row) => !isTimeZone(row.time_zone)).map((row) => ({ timeZone: row.time_zone, customers: row.customers })) : [],
    };
  }
}
