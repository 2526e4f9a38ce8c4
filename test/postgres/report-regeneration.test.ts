import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { createTestDatabase, reportRows, seedDemo, truthRows, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let regeneration: ReportRegeneration;
const from = '2026-11-01';
const to = '2026-11-10';
const allIds = Array.from({ length: 40 }, (_, i) => i + 1);

beforeAll(async () => {
  db = await createTestDatabase();
  regeneration = new ReportRegeneration(db.pool);
});
beforeEach(async () => {
  await seedDemo(db.pool);
});
afterAll(() => db.drop());

const run = (customerIds: number[], extra: { dryRun?: boolean; workflowId?: string } = {}) =>
  regeneration.regenerateBatch({ batch: { customerIds }, from, to, workflowId: extra.workflowId ?? 'test-run', dryRun: extra.dryRun ?? false });

describe('ReportRegeneration', () => {
  it('writes one row per customer and local day, matching an independent truth query', async () => {
    const result = await run(allIds);
    expect(result).toMatchObject({ customerIds: allIds, rowsWritten: 400, failures: [] });
    const truth = await truthRows(db.pool, allIds, from, to);
    expect(await reportRows(db.pool, allIds, from, to)).toEqual(truth);
    // The demo data is skewed: some customers have no orders at all, some many.
    const perCustomer = new Map<number, number>();
    for (const row of truth) perCustomer.set(row.customer_id, (perCustomer.get(row.customer_id) ?? 0) + row.order_count);
    expect([...perCustomer.values()].some((n) => n === 0)).toBe(true);
    expect(Math.max(...perCustomer.values())).toBeGreaterThan(60);
  });

  it('is idempotent: a second run gives the same rows (apart from generated_at and workflow id)', async () => {
    await run(allIds, { workflowId: 'first' });
    const first = await reportRows(db.pool, allIds, from, to);
    await run(allIds, { workflowId: 'second' });
    expect(await reportRows(db.pool, allIds, from, to)).toEqual(first);
    const { rows } = await db.pool.query('SELECT DISTINCT workflow_id FROM daily_reports');
    expect(rows).toEqual([{ workflow_id: 'second' }]);
  });

  it("leaves other customers' rows and other days untouched", async () => {
    await run(allIds, { workflowId: 'everyone' });
    await db.pool.query(`INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at)
                         SELECT id, currency, 99999, 'SKU-NEW', '2026-11-05T12:00:00Z' FROM customers WHERE id IN (1, 2)`);
    await regeneration.regenerateBatch({ batch: { customerIds: [1] }, from: '2026-11-05', to: '2026-11-05', workflowId: 'just-one', dryRun: false });
    const { rows } = await db.pool.query(`SELECT customer_id, report_date::text AS d FROM daily_reports WHERE workflow_id = 'just-one'`);
    expect(rows).toEqual([{ customer_id: 1, d: '2026-11-05' }]);
    // Customer 2's order is not in its report until customer 2 is regenerated.
    const two = (await reportRows(db.pool, [2], '2026-11-05', '2026-11-05'))[0]!;
    const twoTruth = (await truthRows(db.pool, [2], '2026-11-05', '2026-11-05'))[0]!;
    expect(two.order_count).toBe(twoTruth.order_count - 1);
  });

  it('counts placed orders only: a cancelled order leaves its day\'s row', async () => {
    const { rows } = await db.pool.query<{ id: number; customer_id: number }>(
      `UPDATE orders SET status = 'cancelled' WHERE id IN (SELECT min(id) FROM orders WHERE created_at BETWEEN '2026-11-04' AND '2026-11-07' GROUP BY customer_id) RETURNING id, customer_id`,
    );
    expect(rows.length).toBeGreaterThan(10);
    await run(allIds);
    const report = await reportRows(db.pool, allIds, from, to);
    expect(report).toEqual(await truthRows(db.pool, allIds, from, to));
    const placed = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE status = 'placed' AND created_at BETWEEN '2026-10-30' AND '2026-11-12'`);
    const all = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders WHERE created_at BETWEEN '2026-10-30' AND '2026-11-12'`);
    expect(all.rows[0]!.n - placed.rows[0]!.n).toBe(rows.length);
    // Every order of the period is in exactly one row, so the rows add up to the placed ones.
    expect(report.reduce((sum, row) => sum + row.order_count, 0)).toBe(
      (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM orders o JOIN customers c ON c.id = o.customer_id
                                           WHERE status = 'placed' AND (o.created_at AT TIME ZONE c.time_zone)::date BETWEEN $1 AND $2`, [from, to])).rows[0]!.n,
    );
  });

  it('regenerates an id range of active customers only', async () => {
    const result = await regeneration.regenerateBatch({ batch: { firstId: 10, lastId: 20 }, from, to, workflowId: 'range', dryRun: false });
    expect(result.customerIds).toEqual([10, 11, 12, 13, 14, 15, 16, 18, 19, 20]); // 17 is inactive
    expect(result.rowsWritten).toBe(100);
  });

  it('dry run counts what would change and writes nothing', async () => {
    const dry = await run(allIds, { dryRun: true });
    expect(dry).toMatchObject({ rowsWritten: 0, rowsThatWouldChange: 400 });
    expect(await reportRows(db.pool, allIds, from, to)).toEqual([]);
    await run(allIds);
    expect((await run(allIds, { dryRun: true })).rowsThatWouldChange).toBe(0);
    // One order well inside the period, whatever the customer's time zone: exactly its day's row changes.
    await db.pool.query(`DELETE FROM orders WHERE id = (SELECT min(id) FROM orders WHERE created_at BETWEEN '2026-11-04' AND '2026-11-07')`);
    expect((await run(allIds, { dryRun: true })).rowsThatWouldChange).toBe(1);
  });

  it("isolates a customer whose data breaks regeneration; the others' rows are written", async () => {
    await db.pool.query(`UPDATE customers SET time_zone = 'Mars/Olympus_Mons' WHERE id = 5`);
    const result = await run([4, 5, 6]);
    expect(result.customerIds).toEqual([4, 6]);
    expect(result.failures).toEqual([{ customerId: 5, step: 'regenerate', reason: expect.stringContaining('Mars/Olympus_Mons') }]);
    expect(await reportRows(db.pool, [4, 6], from, to)).toEqual(await truthRows(db.pool, [4, 6], from, to));
  });

  it('never lets a reader see a customer with rows purged and not yet rebuilt', async () => {
    await run(allIds);
    let stop = false;
    const torn: unknown[] = [];
    const reader = (async () => {
      while (!stop) {
        const { rows } = await db.pool.query(
          `SELECT c.id, count(r.report_date)::int AS n FROM customers c
             LEFT JOIN daily_reports r ON r.customer_id = c.id AND r.report_date BETWEEN $1 AND $2
            GROUP BY c.id HAVING count(r.report_date) <> 10`,
          [from, to],
        );
        torn.push(...rows);
      }
    })();
    for (let i = 0; i < 15; i++) await run(allIds, { workflowId: `again-${i}` });
    stop = true;
    await reader;
    expect(torn).toEqual([]);
  });

  it('serialises two concurrent regenerations of the same customers (no deadlock, no duplicate rows)', async () => {
    const results = await Promise.all([run(allIds, { workflowId: 'a' }), run([...allIds].reverse().slice(0, 20), { workflowId: 'b' }), run(allIds, { workflowId: 'c' })]);
    expect(results.every((r) => r.failures.length === 0)).toBe(true);
    expect(await reportRows(db.pool, allIds, from, to)).toEqual(await truthRows(db.pool, allIds, from, to));
  });
});

describe('ReportRegeneration.regenerateBatches', () => {
  const batches = [{ firstId: 1, lastId: 10 }, { firstId: 11, lastId: 20 }, { firstId: 21, lastId: 30 }];
  const request = { batches, from, to, workflowId: 'grouped', dryRun: false };
  const writtenBy = async () =>
    (await db.pool.query<{ workflow_id: string; n: number }>('SELECT workflow_id, count(DISTINCT customer_id)::int AS n FROM daily_reports GROUP BY 1 ORDER BY 1')).rows;

  it('regenerates every batch, reports after each one, and merges the results', async () => {
    const reported: number[] = [];
    const result = await regeneration.regenerateBatches(request, { onBatchDone: (progress) => reported.push(progress.done) });
    expect(reported).toEqual([1, 2, 3]);
    expect(result.customerIds).toEqual([...allIds.slice(0, 30)].filter((id) => id !== 17)); // 17 is inactive
    expect(result.rowsWritten).toBe(29 * 10);
    expect(await reportRows(db.pool, result.customerIds, from, to)).toEqual(await truthRows(db.pool, result.customerIds, from, to));
  });

  it('resumes after the batches an earlier attempt reported done, keeping their results', async () => {
    let progress;
    await regeneration.regenerateBatches({ ...request, batches: batches.slice(0, 1), workflowId: 'attempt-1' }, { onBatchDone: (p) => (progress = structuredClone(p)) });
    const result = await regeneration.regenerateBatches({ ...request, workflowId: 'attempt-2' }, { resume: progress });
    // The first batch is not redone; the result still covers all three.
    expect(await writtenBy()).toEqual([{ workflow_id: 'attempt-1', n: 10 }, { workflow_id: 'attempt-2', n: 19 }]);
    expect(result.customerIds).toHaveLength(29);
    expect(result.rowsWritten).toBe(29 * 10);
  });

  it('ignores progress that does not fit these batches and does them all', async () => {
    const stray = { done: 7, result: { customerIds: [99], rowsWritten: 1, rowsThatWouldChange: 0, failures: [] } };
    const result = await regeneration.regenerateBatches(request, { resume: stray });
    expect(result.customerIds).toHaveLength(29);
    expect(await writtenBy()).toEqual([{ workflow_id: 'grouped', n: 29 }]);
  });
});
