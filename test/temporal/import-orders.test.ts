import fs from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zonedInstant } from '../../src/dates.js';
import { inTransaction } from '../../src/db/pool.js';
import { DEFAULT_RATE_LIMIT } from '../../src/dev/shop/faults.js';
import type { ImportOrdersInput, ImportOrdersSummary } from '../../src/import-orders-contract.js';
import { importOrdersJob } from '../../src/jobs/import-orders.js';
import { insertDemoCustomers } from '../../src/services/demo-data.js';
import { startJob } from '../../src/temporal/start-job.js';
import { importProgressQuery } from '../../src/workflows/import-progress.js';
import { reportRows, truthRows } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { childEnv, runScript } from '../bad-input/support.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
const CUSTOMERS = 40;
// Every 17th demo customer is inactive and gets no reports.
const activeIds = Array.from({ length: CUSTOMERS }, (_, i) => i + 1).filter((id) => id % 17 !== 0);
let runs = 0;

beforeAll(async () => {
  // The shop's small demo data set: 40 customers, 3 days ending 2026-11-10.
  env = await startTemporalTestEnv({ shop: { customers: CUSTOMERS, days: 3, ordersPerCustomerPerDay: 3, endDate: '2026-11-10' }, settings: { ORDERS_API_MAX_REQUESTS_PER_SECOND: '200' } });
  await inTransaction(env.db.pool, (client) => insertDemoCustomers(client, CUSTOMERS));
});
afterAll(() => env?.close());

/** Runs an import to its end; each gets its own workflow id (the default is one per source). */
async function importOrders(input: ImportOrdersInput = {}): Promise<ImportOrdersSummary> {
  const { handle } = await startJob(env.client, importOrdersJob, { pageSize: 50, pagesPerActivity: 4, ...input }, {
    taskQueue: `${env.taskQueue}`, startedFrom: 'api', startedBy: 'test', now: new Date(Date.now() + runs++ * 1000),
  });
  return (await handle.result()) as ImportOrdersSummary;
}

/** Every order in PostgreSQL as the API spells it, for a field-by-field comparison with the shop. */
async function ordersInDatabase() {
  const { rows } = await env.db.pool.query(
    `SELECT id::int, customer_id::int, currency::text, to_char(amount_cents / 100.0, 'FM999999999990.00') AS amount, sku,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at, status
       FROM orders ORDER BY id`,
  );
  return rows;
}

/**
 * The reports match the orders: every report row equals its truth, and every day with
 * orders has its row. (An import regenerates the days whose orders changed; a day that never
 * had an order gets no row, where a report run over a period writes one with zeros.)
 */
async function expectReportsTrue() {
  const truth = await truthRows(env.db.pool, activeIds, '2026-11-01', '2026-11-12');
  const reports = await reportRows(env.db.pool, activeIds, '2026-11-01', '2026-11-12');
  const key = (row: { customer_id: number; report_date: string }) => `${row.customer_id}:${row.report_date}`;
  const truthByKey = new Map(truth.map((row) => [key(row), row]));
  for (const row of reports) expect(row).toEqual(truthByKey.get(key(row)));
  const reported = new Set(reports.map(key));
  expect(truth.filter((row) => row.order_count > 0 && !reported.has(key(row)))).toEqual([]);
}

async function shopOrders() {
  return (await env.shop!.snapshot()).sort((a, b) => a.id - b.id);
}

describe('import-orders through the real worker and the embedded shop API', () => {
  it('imports every order of the shop, field by field, and regenerates the days it touched', async () => {
    const summary = await importOrders();
    const shop = await shopOrders();
    expect(summary).toMatchObject({ inserted: shop.length, updated: 0, quarantined: 0, regenerationFailures: [] });
    expect(summary.pages).toBe(Math.ceil(shop.length / 50));
    expect(await ordersInDatabase()).toEqual(shop);
    expect(summary.daysRegenerated).toBeGreaterThanOrEqual(3);
    await expectReportsTrue();
  });

  it('a second import finds nothing new: the cursor was committed with the rows', async () => {
    const summary = await importOrders();
    expect(summary).toMatchObject({ inserted: 0, updated: 0, quarantined: 0 });
    expect(summary.daysRegenerated).toBe(0);
  });

  it('a late order for a past day, a correction and a cancellation reach the reports at the next import', async () => {
    const [first, second] = await shopOrders();
    await env.shop!.addOrder({ customerId: 3, createdAt: '2026-11-09T12:00:00.000Z', amount: '42.50', sku: 'LATE-1' });
    await env.shop!.correctAmount(first!.id, '999.99');
    await env.shop!.cancel(second!.id);
    const summary = await importOrders();
    expect(summary).toMatchObject({ inserted: 1, updated: 2, cancelled: 1, quarantined: 0, regenerationFailures: [] });
    expect(await ordersInDatabase()).toEqual(await shopOrders());
    await expectReportsTrue();
  });

  it('rides out 5xx bursts, cut bodies and a 429 with Retry-After, and imports exactly once', async () => {
    await env.shop!.addOrder({ customerId: 5, createdAt: '2026-11-10T08:00:00.000Z', amount: '10.00', sku: 'AFTER-FAULTS' });
    await env.shop!.fail5xx(2);
    await env.shop!.cutMidBody(1);
    const before = await env.shop!.requestCounts();
    // One request a second, no burst: the importer (200 a second here) meets 429s and waits as asked.
    await env.shop!.rateLimit({ perSecond: 1, burst: 1 });
    try {
      const summary = await importOrders({ since: '2026-11-01T00:00:00Z', pageSize: 100 });
      expect(summary).toMatchObject({ inserted: 1, quarantined: 0 });
    } finally {
      await env.shop!.rateLimit(DEFAULT_RATE_LIMIT);
    }
    const after = await env.shop!.requestCounts();
    expect((after.byStatus[429] ?? 0) - (before.byStatus[429] ?? 0)).toBeGreaterThan(0);
    expect((after.byStatus[500] ?? 0) + (after.byStatus[502] ?? 0) + (after.byStatus[503] ?? 0)).toBeGreaterThanOrEqual(2);
    expect(await ordersInDatabase()).toEqual(await shopOrders());
  }, 90_000);

  it('quarantines bad records with their reason, imports the rest of the page', async () => {
    await env.shop!.addOrder({ customerId: 6, createdAt: '2026-11-10T09:00:00.000Z', amount: '11.00', sku: 'GOOD' });
    await env.shop!.addOrder({ customerId: 999, createdAt: '2026-11-10T09:00:00.000Z', amount: '12.00', sku: 'UNKNOWN-CUSTOMER', currency: 'USD' });
    const summary = await importOrders();
    expect(summary).toMatchObject({ inserted: 1, quarantined: 1 });
    const { rows } = await env.db.pool.query("SELECT reason, payload->>'sku' AS sku FROM import_quarantine WHERE resolved_at IS NULL");
    expect(rows).toEqual([expect.objectContaining({ sku: 'UNKNOWN-CUSTOMER' })]);
    // The CLI lists it: readable by default (no payload), everything with --json.
    const listed = await runScript('job', ['quarantine'], childEnv(env));
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(rows[0].reason);
    expect(listed.stdout).not.toContain('UNKNOWN-CUSTOMER');
    expect(listed.stdout).toContain('--retry-quarantined');
    const json = await runScript('job', ['quarantine', '--json'], childEnv(env));
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ reason: rows[0].reason, payload: expect.objectContaining({ sku: 'UNKNOWN-CUSTOMER', customer_id: 999 }) })]);
  }, 60_000);

  it('a schema break (a required field missing from a whole page) fails the run at once, naming the field, and writes nothing', async () => {
    await env.shop!.addOrder({ customerId: 7, createdAt: '2026-11-10T10:00:00.000Z', amount: '13.00', sku: 'NEVER' });
    await env.shop!.schemaBreak('customer_id');
    const before = await ordersInDatabase();
    try {
      const error = await importOrders().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause?.cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe('SourceSchemaBreak');
      expect((cause as ApplicationFailure).message).toContain('customer_id');
      expect(await ordersInDatabase()).toEqual(before);
    } finally {
      await env.shop!.schemaBreak(null);
    }
  });

  it('a dry run says what it would do and writes nothing; a window re-import for one customer touches only theirs', async () => {
    const before = await ordersInDatabase();
    const dry = await importOrders({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, inserted: 1 });
    expect(await ordersInDatabase()).toEqual(before);
    const window = await importOrders({ since: '2026-01-01T00:00:00Z', customerIds: [7] });
    expect(window.skipped).toBeGreaterThan(0);
    expect(window.inserted).toBe(1); // customer 7's order from the schema-break test
    // Every order of the shop but the quarantined one (customer 999 does not exist here).
    expect(await ordersInDatabase()).toEqual((await shopOrders()).filter((order) => order.customer_id !== 999));
  });

  it('a late order for a day whose final report was emailed sends one correction, saying what changed, once per import', async () => {
    const day = '2026-11-09';
    // Two customers with orders that day get its final report (long over in every zone); a third does not.
    const withOrders = (await truthRows(env.db.pool, activeIds, day, day)).filter((row) => row.order_count > 0).map((row) => row.customer_id);
    const [emailedOne, emailedTwo, notEmailed] = withOrders as [number, number, number];
    const { handle } = await startRegenerateReports(env.client, { customerIds: [emailedOne, emailedTwo], from: day, to: day }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
    const emailed = await handle.result();
    expect(emailed, JSON.stringify(emailed)).toMatchObject({ emailsSent: 2 });
    const mailBefore = readMailbox(env.sink.dir).length;
    const before = (await reportRows(env.db.pool, [emailedOne], day, day))[0]!;
    // Late orders at midday of that day where each customer is.
    const zoneOf = async (id: number) => (await env.db.pool.query<{ time_zone: string }>('SELECT time_zone FROM customers WHERE id = $1', [id])).rows[0]!.time_zone;
    for (const customerId of [emailedOne, notEmailed]) {
      await env.shop!.addOrder({ customerId, createdAt: zonedInstant(day, '12:00', await zoneOf(customerId)).toISOString(), amount: '100.00', sku: 'LATE-CORRECTION' });
    }
    const summary = await importOrders();
    expect(summary).toMatchObject({ inserted: 2, correctionEmailsSent: 1, regenerationFailures: [] });
    const corrections = readMailbox(env.sink.dir).filter((m) => m.subject.startsWith('Correction'));
    expect(corrections).toEqual([expect.objectContaining({ customerId: emailedOne, period: `${day}..${day}`, subject: `Correction: your sales report for ${day}` })]);
    const after = (await reportRows(env.db.pool, [emailedOne], day, day))[0]!;
    expect(after.order_count).toBe(before.order_count + 1);
    const body = fs.readFileSync(path.join(env.sink.dir, corrections[0]!.file), 'utf8');
    expect(body).toContain(`orders: ${before.order_count} =E2=86=92 ${after.order_count}`);
    expect(readMailbox(env.sink.dir).length).toBe(mailBefore + 1);
    // Nothing new: no second correction.
    await importOrders();
    expect(readMailbox(env.sink.dir).length).toBe(mailBefore + 1);
    const { rows } = await env.db.pool.query('SELECT customer_id::int, state FROM report_corrections WHERE report_date = $1 ORDER BY 1', [day]);
    expect(rows).toEqual([{ customer_id: emailedOne, state: 'emailed' }]);
  }, 60_000);

  it("one customer whose regeneration fails keeps only its own part of the day pending: the others' corrections go out at once, its own once it is fixed", async () => {
    const day = '2026-11-08';
    const zoneOf = async (id: number) => (await env.db.pool.query<{ time_zone: string }>('SELECT time_zone FROM customers WHERE id = $1', [id])).rows[0]!.time_zone;
    // Two customers with orders that day, whose local midday is on that day in UTC too (a
    // customer whose zone PostgreSQL refuses has its orders counted on their UTC day).
    const candidates: number[] = [];
    for (const row of await truthRows(env.db.pool, activeIds, day, day)) {
      if (row.order_count > 0 && zonedInstant(day, '12:00', await zoneOf(row.customer_id)).toISOString().startsWith(day)) candidates.push(row.customer_id);
    }
    expect(candidates.length).toBeGreaterThanOrEqual(2);
    const [fine, broken] = candidates as [number, number];
    const brokenZone = await zoneOf(broken);
    const { handle } = await startRegenerateReports(env.client, { customerIds: [fine, broken], from: day, to: day }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
    expect(await handle.result()).toMatchObject({ emailsSent: 2 });
    const corrections = () => readMailbox(env.sink.dir).filter((m) => m.subject === `Correction: your sales report for ${day}`).map((m) => m.customerId).sort();
    // The broken customer's order first, the fine one's a moment later, each a page of its own:
    // the day's revision is then the fine customer's change, later than the broken one's.
    for (const customerId of [broken, fine]) {
      await env.shop!.addOrder({ customerId, createdAt: zonedInstant(day, '12:00', await zoneOf(customerId)).toISOString(), amount: '55.00', sku: 'LATE-PARTLY' });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // The broken customer's zone is one PostgreSQL refuses: its regeneration fails, every time.
    await env.db.pool.query(`UPDATE customers SET time_zone = 'Mars/Olympus_Mons' WHERE id = $1`, [broken]);
    try {
      const first = await importOrders({ pageSize: 1 });
      expect(first.inserted).toBe(2);
      // Before the fix: no correction for anyone, the whole day pending.
      expect(corrections()).toEqual([fine]);
      const pending = await env.db.pool.query('SELECT customer_id::int FROM import_affected_days WHERE report_date = $1 ORDER BY 1', [day]);
      expect(pending.rows).toEqual([{ customer_id: broken }]);
      expect(first.regenerationFailures).toEqual([expect.objectContaining({ day, reason: expect.stringContaining('the others are corrected now') })]);
    } finally {
      await env.db.pool.query('UPDATE customers SET time_zone = $2 WHERE id = $1', [broken, brokenZone]);
    }
    // Fixed: the next import regenerates the broken customer's part and sends its correction, once.
    const second = await importOrders();
    expect(second).toMatchObject({ inserted: 0, regenerationFailures: [] });
    expect(corrections()).toEqual([fine, broken].sort());
    await importOrders();
    expect(corrections()).toEqual([fine, broken].sort());
    expect((await reportRows(env.db.pool, [fine, broken], day, day))).toEqual(await truthRows(env.db.pool, [fine, broken], day, day));
    // No correction left pending (one left under the first import's revision would later tell a stale change).
    const states = await env.db.pool.query('SELECT customer_id::int, state FROM report_corrections WHERE report_date = $1 ORDER BY 1, 2', [day]);
    expect(states.rows).toEqual([{ customer_id: Math.min(fine, broken), state: 'emailed' }, { customer_id: Math.max(fine, broken), state: 'emailed' }]);
  }, 90_000);

  it('answers its progress query while it runs', async () => {
    await env.shop!.slow(300);
    try {
      const { handle } = await startJob(env.client, importOrdersJob, { pageSize: 10, pagesPerActivity: 1, since: '2026-11-08T00:00:00Z', dryRun: true }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
      let progress;
      for (let i = 0; i < 40 && !progress?.pages; i++) {
        progress = await handle.query(importProgressQuery);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(progress?.pages).toBeGreaterThan(0);
      await handle.cancel();
      await handle.result().catch(() => undefined);
    } finally {
      await env.shop!.slow(0);
    }
  }, 60_000);

  it('a quarantined order is imported once its customer exists, and not before', async () => {
    const still = await importOrders({ retryQuarantined: true });
    expect(still).toMatchObject({ resolvedFromQuarantine: 0 });
    await env.db.pool.query("INSERT INTO customers (id, name, email, time_zone, currency) VALUES (999, 'Late Customer', 'late@example.com', 'UTC', 'USD')");
    const retried = await importOrders({ retryQuarantined: true });
    expect(retried).toMatchObject({ resolvedFromQuarantine: 1, inserted: 1, regenerationFailures: [] });
    expect(await ordersInDatabase()).toEqual(await shopOrders());
    const { rows } = await env.db.pool.query('SELECT count(*)::int AS open FROM import_quarantine WHERE resolved_at IS NULL');
    expect(rows[0].open).toBe(0);
  });

  it('retryQuarantined has no dry run: refused at the door, naming the field', () => {
    expect(() => importOrdersJob.resolve({ retryQuarantined: true, dryRun: true }, new Date())).toThrow(/retryQuarantined imports what is now valid; it has no dry run/);
  });
});
