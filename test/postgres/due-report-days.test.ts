import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DueReportDays } from '../../src/services/due-report-days.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(
    `INSERT INTO customers (id, name, email, time_zone, active) VALUES
       (1, 'A', 'a@example.com', 'Pacific/Honolulu', true), (2, 'B', 'b@example.com', 'Pacific/Kiritimati', true),
       (3, 'C', 'c@example.com', 'Pacific/Kiritimati', true), (4, 'D', 'd@example.com', 'Mars/Olympus_Mons', true),
       (5, 'E', 'e@example.com', 'Pacific/Honolulu', false)`,
  );
});
afterAll(() => db.drop());

describe('DueReportDays.plan', () => {
  it("lists the days due in the window from the active customers' zones, with how many customers each covers", async () => {
    const plan = await new DueReportDays(db.pool).plan({ windowStart: '2026-11-05T11:00:00.000Z', windowEnd: '2026-11-05T12:00:00.000Z', at: '02:00' });
    expect(plan.days).toEqual([
      { day: '2026-11-04', timeZones: ['Pacific/Honolulu'], customers: 1 },
      { day: '2026-11-05', timeZones: ['Pacific/Kiritimati'], customers: 2 },
    ]);
    expect(plan.unknownTimeZones).toEqual([]); // not the window where UTC's day falls due
  });

  it('lists customers with a zone nobody knows once a day: in the window where UTC reaches `at`, and in no other', async () => {
    const days = new DueReportDays(db.pool);
    const windows = Array.from({ length: 24 }, (_, hour) => {
      const end = new Date(Date.UTC(2026, 10, 5, hour + 1));
      return { windowStart: new Date(end.getTime() - 3_600_000).toISOString(), windowEnd: end.toISOString(), at: '02:00' };
    });
    const listed = [];
    for (const window of windows) if ((await days.plan(window)).unknownTimeZones.length > 0) listed.push(window.windowEnd);
    expect(listed).toEqual(['2026-11-05T02:00:00.000Z']);
    expect((await days.plan(windows[1]!)).unknownTimeZones).toEqual([{ timeZone: 'Mars/Olympus_Mons', customers: 1 }]);
  });
});
