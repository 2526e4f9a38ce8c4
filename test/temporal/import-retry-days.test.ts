import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/pool.js';
import type { ImportOrdersSummary } from '../../src/import-orders-contract.js';
import { importOrdersJob } from '../../src/jobs/import-orders.js';
import { insertDemoCustomers } from '../../src/services/demo-data.js';
import { startJob } from '../../src/temporal/start-job.js';
import { reportRows, truthRows } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

/**
 * Found by the import fault suite's design: importOrderPages kept the report days it collected
 * only in memory, so when an attempt committed a page with changes and then failed (429, 5xx,
 * a cut body, PostgreSQL, kill -9), the retry resumed after that page (or re-read it, finding
 * it unchanged) and the days of the pages the failed attempt wrote were never regenerated.
 * Now every page logs its days in its own statement (import_affected_days_log, moved to
 * import_affected_days when they are read), and the workflow regenerates what is recorded there.
 */
let env: TemporalTestEnv;
const CUSTOMERS = 20;

beforeAll(async () => {
  env = await startTemporalTestEnv({
    shop: { customers: CUSTOMERS, days: 3, ordersPerCustomerPerDay: 2, endDate: '2026-11-10' },
    // No overlap: the second import's first page is exactly the cursor's order, so its requests are known in advance.
    settings: { ORDERS_API_MAX_REQUESTS_PER_SECOND: '200', ORDERS_IMPORT_OVERLAP_SECONDS: '0' },
  });
  await inTransaction(env.db.pool, (client) => insertDemoCustomers(client, CUSTOMERS));
});
afterAll(() => env?.close());

let runs = 0;
async function startImport(input: { pageSize: number; pagesPerActivity: number }) {
  const { handle } = await startJob(env.client, importOrdersJob, input, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test', now: new Date(Date.now() + runs++ * 1000) });
  return handle;
}
async function importOrders(input: { pageSize: number; pagesPerActivity: number }): Promise<ImportOrdersSummary> {
  return (await (await startImport(input)).result()) as ImportOrdersSummary;
}

describe('import-orders: a retried page activity', () => {
  it('still regenerates the report days that its failed attempt had written', async () => {
    await importOrders({ pageSize: 1000, pagesPerActivity: 10 });
    // Two late orders: the next import reads [the cursor's own order], [late 1], [late 2], one a page.
    await env.shop!.addOrder({ customerId: 3, createdAt: '2026-11-09T12:00:00.000Z', amount: '42.50', sku: 'LATE-1' });
    await env.shop!.addOrder({ customerId: 4, createdAt: '2026-11-08T12:00:00.000Z', amount: '17.25', sku: 'LATE-2' });
    const before = await env.shop!.requestCounts();
    // Two requests pass, the third (after late 1's page committed) gets a 429 with Retry-After 5 s.
    await env.shop!.rateLimit({ perSecond: 0.2, burst: 2 });
    try {
      const summary = await importOrders({ pageSize: 1, pagesPerActivity: 10 });
      expect(summary.inserted).toBe(2);
    } finally {
      await env.shop!.reset();
    }
    const after = await env.shop!.requestCounts();
    expect((after.byStatus[429] ?? 0) - (before.byStatus[429] ?? 0)).toBeGreaterThan(0); // the fault bit
    // Customer 3's day of late 1 must have been regenerated: its row equals its truth.
    const truth = await truthRows(env.db.pool, [3, 4], '2026-11-07', '2026-11-11');
    const reports = await reportRows(env.db.pool, [3, 4], '2026-11-07', '2026-11-11');
    expect(reports).toEqual(truth.filter((row) => reports.some((r) => r.customer_id === row.customer_id && r.report_date === row.report_date)));
    expect(truth.filter((row) => row.order_count > 0).every((row) => reports.some((r) => r.customer_id === row.customer_id && r.report_date === row.report_date))).toBe(true);
  }, 90_000);
});

describe('import-orders: a page activity retried after some of its pages', () => {
  it('writes at most pagesPerActivity pages in all its attempts, then hands over to the next activity', async () => {
    for (let i = 1; i <= 5; i++) await env.shop!.addOrder({ customerId: 5 + i, createdAt: '2026-11-09T10:00:00.000Z', amount: `${i}.00`, sku: `RETRY-${i}` });
    const before = await env.shop!.requestCounts();
    // Two requests pass; then one every 2 s, each 429 answered with Retry-After. With pages of one
    // order, an attempt writes a page or two before its next fetch is refused, and is retried.
    await env.shop!.rateLimit({ perSecond: 0.5, burst: 2 });
    let handle: Awaited<ReturnType<typeof startImport>>;
    try {
      handle = await startImport({ pageSize: 1, pagesPerActivity: 3 });
      expect(((await handle.result()) as ImportOrdersSummary).inserted).toBe(5);
    } finally {
      await env.shop!.reset();
    }
    const after = await env.shop!.requestCounts();
    expect((after.byStatus[429] ?? 0) - (before.byStatus[429] ?? 0)).toBeGreaterThan(0); // the fault bit
    const history = await handle.fetchHistory();
    const pagesPerActivity = (history.events ?? [])
      .filter((event) => event.activityTaskCompletedEventAttributes)
      .map((event) => defaultPayloadConverter.fromPayload<{ pages?: number; apiCursor?: unknown }>(event.activityTaskCompletedEventAttributes!.result!.payloads![0]!))
      .filter((result) => typeof result === 'object' && result !== null && 'apiCursor' in result)
      .map((result) => result.pages);
    // Before the fix a retry counted its pages from 0 again: the first activity wrote 4 or more.
    expect(pagesPerActivity.length).toBeGreaterThanOrEqual(2);
    expect(pagesPerActivity.every((pages) => pages !== undefined && pages <= 3)).toBe(true);
    expect(pagesPerActivity.reduce((sum, pages) => sum! + pages!, 0)).toBeGreaterThanOrEqual(6);
  }, 90_000);
});
