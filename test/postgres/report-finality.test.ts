import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, dayHasEnded, localDate, zonedMidnight } from '../../src/dates.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { ReportRows } from '../../src/services/report-rows.js';
import { dayStartSql } from '../../src/services/report-sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { localDayStart } from '../support/truth.js';

const ZONES = [
  'UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'America/Los_Angeles', 'Asia/Kolkata',
  'Pacific/Honolulu', 'Pacific/Kiritimati', 'Asia/Kathmandu', 'America/Santiago', 'America/Havana',
];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(
    `INSERT INTO customers (id, name, email, time_zone) SELECT i, 'Customer ' || i, 'c' || i || '@example.com', ($1::text[])[i] FROM generate_series(1, $2::int) i`,
    [ZONES, ZONES.length],
  );
});
afterAll(() => db.drop());

describe('final and provisional report rows', () => {
  it("marks a row final exactly when its day has ended in the customer's zone, in every demo zone", async () => {
    const regeneration = new ReportRegeneration(db.pool);
    const before = new Date();
    for (const [index, zone] of ZONES.entries()) {
      // The customer's local yesterday, today and tomorrow, as of now.
      const today = localDate(before, zone);
      await regeneration.regenerateBatch({ batch: { customerIds: [index + 1] }, from: addDays(today, -1), to: addDays(today, 1), workflowId: 'finality', dryRun: false });
    }
    const after = new Date();
    const rows = await new ReportRows(db.pool).forCustomers(ZONES.map((_, i) => i + 1), '1900-01-01', '9999-12-31');
    expect(rows).toHaveLength(ZONES.length * 3);
    for (const row of rows) {
      const zone = ZONES[row.customerId - 1]!;
      // Ended before the run started: final; not ended when it finished: provisional.
      if (dayHasEnded(row.reportDate, zone, before)) expect(row.final, `${zone} ${row.reportDate}`).toBe(true);
      if (!dayHasEnded(row.reportDate, zone, after)) expect(row.final, `${zone} ${row.reportDate}`).toBe(false);
    }
    // The invariant, by a query of the test's own: no final row generated before its day ended.
    const { rows: early } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM daily_reports r JOIN customers c ON c.id = r.customer_id
        WHERE r.final AND r.generated_at < ${localDayStart('(r.report_date + 1)', 'c.time_zone')}`,
    );
    expect(early[0]!.n).toBe(0);
    expect(rows.filter((row) => !row.final).length).toBeGreaterThanOrEqual(ZONES.length); // at least every "tomorrow"
  });

  it("agrees with src/dates.ts on where a day starts, also where midnight is skipped or happens twice", async () => {
    for (const [day, zone] of [
      ['2026-09-06', 'America/Santiago'], ['2026-03-08', 'America/Havana'], ['2026-11-01', 'America/New_York'], ['2026-11-04', 'Asia/Kathmandu'],
      // Clocks turned back from 01:00 to 00:00: the day before ends at the first midnight.
      ['2026-11-01', 'America/Havana'], ['2026-10-25', 'Atlantic/Azores'], ['2026-04-05', 'America/Santiago'],
    ] as const) {
      const { rows } = await db.pool.query<{ start: Date }>(`SELECT ${dayStartSql('$1::date', '$2::text')} AS start`, [day, zone]);
      expect(rows[0]!.start.toISOString(), `${zone} ${day}`).toBe(zonedMidnight(day, zone).toISOString());
    }
  });
});
