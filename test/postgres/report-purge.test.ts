import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { ReportEmail, type SendReportEmailsRequest } from '../../src/services/report-email.js';
import { ReportPurge, type PurgeScope } from '../../src/services/report-purge.js';
import { createTestDatabase, testLogger, type TestDatabase } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { PURGE_CUSTOMERS, purgeSnapshot, seedPurgeData } from '../support/purge-data.js';

const from = '2026-01-01';
const to = '2026-01-20';
const cutoff = '2026-01-10';
const all: PurgeScope = { cutoff, customerIds: null };

let db: TestDatabase;
let purge: ReportPurge;
let sink: SmtpSink;
let transport: Transporter;
let email: ReportEmail;
beforeAll(async () => {
  db = await createTestDatabase();
  purge = new ReportPurge(db.pool);
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-purge-mail-')), 0, testLogger);
  transport = nodemailer.createTransport(sink.url, { pool: true, maxConnections: 2 } as object);
  email = new ReportEmail(db.pool, transport, { from: 'Reports <reports@test>', concurrency: 2 });
});
beforeEach(async () => {
  await seedPurgeData(db.pool, from, to, '2026-03-01T09:00:00Z');
  fs.rmSync(sink.dir, { recursive: true, force: true });
  fs.mkdirSync(sink.dir);
});
afterAll(async () => {
  transport.close();
  await sink.stop();
  await db.drop();
});

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
    expect(after.emails).toEqual(expect.arrayContaining(['resend', 'sending', '1:2026-01-09:2026-01-09']));
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

  it('the DELETE re-checks the whole rule: a record resent or moved to another customer while the batch waits for it is kept', async () => {
    // Another transaction changes two old records after the batch chose them and before it
    // deletes them: one is sent again today (sent_at now), one now belongs to a customer out of scope.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`UPDATE report_emails SET sent_at = now() WHERE idempotency_key = '2:2026-01-02:2026-01-02'`);
      await other.query(`UPDATE report_emails SET customer_id = 3 WHERE idempotency_key = '2:2026-01-03:2026-01-03'`);
      const running = purge.deleteEmailRecords({ cutoff, customerIds: [1, 2] }, { batchSize: 1000, maxBatches: 1 });
      // Wait until the purge's DELETE waits for the rows the other transaction holds.
      for (let waited = 0; ; waited += 20) {
        const { rows } = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%DELETE FROM report_emails%'`);
        if (rows.length > 0) break;
        if (waited > 5_000) throw new Error('the purge never waited for the locked rows');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await other.query('COMMIT');
      expect((await running).deleted).toBe(14); // 8 + 8 old records of customers 1 and 2, less those two
    } finally {
      await other.end();
    }
    expect((await purgeSnapshot(db.pool)).emails).toEqual(expect.arrayContaining(['2:2026-01-02:2026-01-02', '2:2026-01-03:2026-01-03']));
  });
});

describe('ReportPurge and ReportEmail: a purged email record still stops a second send', () => {
  const oldDay = '2026-01-03';
  const sendOldDay = (overrides: Partial<SendReportEmailsRequest> = {}) => email.sendReports({
    customerIds: PURGE_CUSTOMERS, from: oldDay, to: oldDay, resend: false, workflowId: 'regen-old-day', runId: 'run-old-day', dryRun: false, ...overrides,
  });
  // A regeneration of the old day rebuilds its report rows (the purge deleted them) before it emails.
  const rebuildOldDay = () => db.pool.query(
    `INSERT INTO daily_reports (customer_id, report_date, currency, order_count, revenue_cents, generated_at, workflow_id, final)
     SELECT c, $2::date, 'USD', 1, 100, now(), 'regen-old-day', true FROM unnest($1::bigint[]) c`, [PURGE_CUSTOMERS, oldDay]);

  it('after a purge, an email of a period before the cutoff is counted as already sent and not sent; a resend sends it', async () => {
    await purge.deleteEmailRecords(all, { batchSize: 5, maxBatches: 1000 });
    await purge.deleteReportRows(all, { batchSize: 5, maxBatches: 1000 });
    expect((await purgeSnapshot(db.pool)).emails).not.toContain(`1:${oldDay}:${oldDay}`);
    const { rows } = await db.pool.query(`SELECT customer_id::int, purged_through::text FROM report_email_purges ORDER BY 1`);
    // The latest period each customer's deleted records covered (the 9th's record, sent on the 10th, is kept).
    expect(rows).toEqual(PURGE_CUSTOMERS.map((id) => ({ customer_id: id, purged_through: '2026-01-08' })));
    await rebuildOldDay();

    expect(await sendOldDay()).toEqual({ sent: 0, alreadySent: 4, skippedNoOrders: 0, failures: [] });
    expect(readMailbox(sink.dir)).toEqual([]);
    // Nothing claimed either: no record of a send that did not happen.
    expect((await db.pool.query(`SELECT 1 FROM report_emails WHERE period_to = $1`, [oldDay])).rows).toEqual([]);

    expect(await sendOldDay({ resend: true })).toMatchObject({ sent: 4, alreadySent: 0 });
    expect(readMailbox(sink.dir).map((m) => m.customerId).sort()).toEqual(PURGE_CUSTOMERS);
  });

  it('the watermark is per customer and only where records were deleted: customers out of the purge\'s scope are unaffected', async () => {
    // Email records only: the day's report rows are still there.
    await purge.deleteEmailRecords({ cutoff, customerIds: [2] }, { batchSize: 1000, maxBatches: 1000 });
    // Customers 1, 3 and 4 keep their record of the day, except 3's, which was never sent.
    await db.pool.query(`DELETE FROM report_emails WHERE idempotency_key = '3:${oldDay}:${oldDay}'`);
    expect(await sendOldDay()).toEqual({ sent: 1, alreadySent: 3, skippedNoOrders: 0, failures: [] });
    expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual([3]);
  });

  it('a dry run records no watermark', async () => {
    await purge.count(all);
    expect((await db.pool.query('SELECT 1 FROM report_email_purges')).rows).toEqual([]);
  });
});
