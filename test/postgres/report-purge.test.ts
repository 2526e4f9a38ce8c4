import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReportPurge, type PurgeScope } from '../../src/services/report-purge.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { purgeSnapshot, seedPurgeData } from '../support/purge-data.js';

const from = '2026-01-01';
const to = '2026-01-20';
const cutoff = '2026-01-10';
const all: PurgeScope = { cutoff, customerIds: null };

let db: TestDatabase;
let purge: ReportPurge;
beforeAll(async () => {
  db = await createTestDatabase();
  purge = new ReportPurge(db.pool);
});
beforeEach(() => seedPurgeData(db.pool, from, to, '2026-03-01T09:00:00Z'));
afterAll(() => db.drop());

/** What must survive, by the test's own rule: rows of the cutoff day or later; records whose period ends on or after it, sent on or after it, or still sending. */
async function expectedSurvivors(customerIds: number[] | null) {
  const inScope = (customerId: number) => customerIds === null || customerIds.includes(customerId);
  const reports = await db.pool.query<{ key: string }>(
    `SELECT customer_id || ' ' || report_date AS key FROM daily_reports ORDER BY customer_id, report_date`);
  const emails = await db.pool.query<{ key: string; customer_id: number; period_to: string; sent_at: Date; state: string }>(
    `SELECT idempotency_key AS key, customer_id, period_to, sent_at, state FROM report_emails ORDER BY id`);
  return {
    reports: reports.rows.filter((r) => !inScope(Number(r.key.split(' ')[0])) || r.key.split(' ')[1]! >= cutoff).map((r) => r.key),
    emails: emails.rows
      .filter((e) => !inScope(e.customer_id) || e.period_to >= cutoff || e.sent_at.getTime() >= Date.parse(`${cutoff}T00:00:00Z`) || e.state !== 'sent')
      .map((e) => e.key),
  };
}

const runAll = (scope = all, batchSize = 1000) => ({
  reports: purge.deleteReportRows(scope, { batchSize, maxBatches: 1000 }),
  emails: purge.deleteEmailRecords(scope, { batchSize, maxBatches: 1000 }),
});

describe('ReportPurge', () => {
  it('deletes exactly the report rows of days before the cutoff and the email records sent and ending before it', async () => {
    const expected = await expectedSurvivors(null);
    const { reports, emails } = runAll();
    // 9 old days × 4 customers; records of days up to the 8th (the 9th's was sent on the 10th).
    expect(await reports).toMatchObject({ deleted: 36, finished: true });
    expect(await emails).toMatchObject({ deleted: 32, finished: true });
    const after = await purgeSnapshot(db.pool);
    expect(after).toEqual(expected);
    // Nothing of the cutoff day or later is gone; the resend and the live claim are kept.
    expect(after.reports.filter((key) => key.endsWith(cutoff))).toHaveLength(4);
    expect(after.emails).toEqual(expect.arrayContaining(['resend', 'sending', `1:2026-01-09`]));
  });

  it('a dry run counts the same rows and deletes nothing', async () => {
    const before = await purgeSnapshot(db.pool);
    expect(await purge.count(all)).toEqual({ reportRows: 36, emailRecords: 32 });
    expect(await purge.count({ cutoff, customerIds: [3] })).toEqual({ reportRows: 9, emailRecords: 8 });
    expect(await purgeSnapshot(db.pool)).toEqual(before);
  });

  it('limited to some customers, touches no other customer', async () => {
    const scope = { cutoff, customerIds: [2, 4] };
    const expected = await expectedSurvivors([2, 4]);
    const { reports, emails } = runAll(scope);
    expect((await reports).deleted).toBe(18);
    expect((await emails).deleted).toBe(16);
    expect(await purgeSnapshot(db.pool)).toEqual(expected);
    expect(await purge.count(all)).toEqual({ reportRows: 18, emailRecords: 16 }); // customers 1 and 3 keep theirs
  });

  it('is idempotent: a second run deletes nothing', async () => {
    await Promise.all(Object.values(runAll()));
    const after = await purgeSnapshot(db.pool);
    const again = runAll();
    expect(await again.reports).toMatchObject({ deleted: 0, finished: true, batches: 1 });
    expect(await again.emails).toMatchObject({ deleted: 0, finished: true, batches: 1 });
    expect(await purgeSnapshot(db.pool)).toEqual(after);
  });

  it.each([1, 5, 9, 36, 37])('batches of %i rows delete the same, in as many batches as that takes', async (batchSize) => {
    const expected = await expectedSurvivors(null);
    const seen: number[] = [];
    const result = await purge.deleteReportRows(all, { batchSize, maxBatches: 1000, onBatchDone: (p) => seen.push(p.deleted) });
    expect(result.deleted).toBe(36);
    // A full last batch needs one more, empty, to know it was the last.
    expect(result.batches).toBe(Math.floor(36 / batchSize) + 1);
    expect(seen.at(-1)).toBe(36);
    await purge.deleteEmailRecords(all, { batchSize, maxBatches: 1000 });
    expect(await purgeSnapshot(db.pool)).toEqual(expected);
  });

  it('stops after maxBatches, and a later call (or a retry after a crash) continues from the cursor', async () => {
    const expected = await expectedSurvivors(null);
    const first = await purge.deleteReportRows(all, { batchSize: 5, maxBatches: 3 });
    expect(first).toMatchObject({ deleted: 15, batches: 3, finished: false });
    // A retry from an older cursor (the last heartbeat before a crash) redoes nothing harmful.
    const fromStart = await purge.deleteReportRows(all, { batchSize: 5, maxBatches: 2 });
    expect(fromStart).toMatchObject({ deleted: 10, finished: false });
    const rest = await purge.deleteReportRows(all, { batchSize: 5, maxBatches: 1000, resume: fromStart });
    expect(rest).toMatchObject({ deleted: 21, finished: true });
    await purge.deleteEmailRecords(all, { batchSize: 5, maxBatches: 1000 });
    expect(await purgeSnapshot(db.pool)).toEqual(expected);
  });

  it('stops between batches once its signal is aborted', async () => {
    const controller = new AbortController();
    const result = await purge.deleteReportRows(all, { batchSize: 5, maxBatches: 1000, onBatchDone: () => controller.abort(), signal: controller.signal });
    expect(result).toMatchObject({ deleted: 5, batches: 1, finished: false });
  });
});
