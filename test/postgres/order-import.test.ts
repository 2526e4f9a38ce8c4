import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SchemaBreakError } from '../../src/order-record.js';
import { OrderImport, type AffectedDay } from '../../src/services/order-import.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { createTestDatabase, reportRows, seedDemo, truthRows, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let importer: OrderImport;
let currencyOf: Map<number, string>;
const source = 'shop';

beforeAll(async () => {
  db = await createTestDatabase();
  importer = new OrderImport(db.pool);
});
beforeEach(async () => {
  await seedDemo(db.pool);
  const { rows } = await db.pool.query<{ id: number; currency: string }>('SELECT id, currency FROM customers');
  currencyOf = new Map(rows.map((row) => [row.id, row.currency]));
});
afterAll(() => db.drop());

type SourceRecord = Record<string, unknown>;

/** An order as the shop sends it: customer 1's, placed, well inside 2026-11-05 everywhere. */
function order(id: number, overrides: SourceRecord = {}): SourceRecord {
  const customerId = (overrides.customer_id as number | undefined) ?? 1;
  return {
    id,
    customer_id: customerId,
    currency: currencyOf.get(customerId) ?? 'USD',
    amount: '19.99',
    sku: 'SKU-SHOP',
    created_at: '2026-11-05T12:00:00.000Z',
    updated_at: '2026-11-20T08:00:00.000Z',
    status: 'placed',
    ...overrides,
  };
}

const apply = (records: unknown[], extra: { cursorAfter?: { updatedAt: string; id: number } | null; dryRun?: boolean } = {}) =>
  importer.applyPage({ source, records, cursorAfter: extra.cursorAfter ?? null, dryRun: extra.dryRun ?? false });

const stored = async (ids: number[]) =>
  (await db.pool.query(
    `SELECT id, customer_id, currency, amount_cents, sku, created_at, updated_at, status FROM orders WHERE id = ANY($1) ORDER BY id`,
    [ids],
  )).rows;
const snapshot = async () => ({
  orders: (await db.pool.query('SELECT * FROM orders ORDER BY id')).rows,
  quarantine: (await db.pool.query('SELECT * FROM import_quarantine ORDER BY id')).rows,
  cursors: (await db.pool.query('SELECT * FROM import_cursors ORDER BY source')).rows,
});
const byDay = (a: AffectedDay, b: AffectedDay) => a.customerId - b.customerId || a.day.localeCompare(b.day);

describe('OrderImport.applyPage', () => {
  it('inserts new orders, updates changed ones and counts the rest unchanged, amounts in exact cents', async () => {
    const [seeded] = await stored([1]);
    const [same] = await stored([2]);
    const result = await apply([
      order(100001, { amount: '0.10' }),
      order(100002, { amount: '1234.5', customer_id: 3 }),
      order(100003, { amount: '99999.99' }),
      // A correction of a seeded order: newer, another amount.
      order(1, { customer_id: seeded.customer_id, amount: '7.77', created_at: seeded.created_at.toISOString() }),
      // The seeded order 2 as it already is (updated when created): nothing newer.
      order(2, { customer_id: same.customer_id, amount: '1.00', created_at: same.created_at.toISOString(), updated_at: same.updated_at.toISOString() }),
    ]);
    expect(result).toMatchObject({ inserted: 3, updated: 1, unchanged: 1, cancelled: 0, quarantined: 0 });
    expect((await stored([100001, 100002, 100003, 1, 2])).map((row) => [row.id, row.amount_cents])).toEqual([
      [1, 777], [2, same.amount_cents], [100001, 10], [100002, 123450], [100003, 9999999],
    ]);
    expect(await stored([100002])).toEqual([{
      id: 100002, customer_id: 3, currency: currencyOf.get(3), amount_cents: 123450, sku: 'SKU-SHOP',
      created_at: new Date('2026-11-05T12:00:00Z'), updated_at: new Date('2026-11-20T08:00:00Z'), status: 'placed',
    }]);
  });

  it('applies a version only when it is newer: an older page changes nothing', async () => {
    await apply([order(100001, { amount: '5.00', updated_at: '2026-11-20T10:00:00.000Z' })]);
    const older = await apply([order(100001, { amount: '1.00', updated_at: '2026-11-20T09:59:59.999Z' })]);
    expect(older).toMatchObject({ inserted: 0, updated: 0, unchanged: 1, affected: [] });
    const sameTime = await apply([order(100001, { amount: '2.00', updated_at: '2026-11-20T10:00:00.000Z' })]);
    expect(sameTime).toMatchObject({ updated: 0, unchanged: 1 });
    expect((await stored([100001]))[0].amount_cents).toBe(500);
    const newer = await apply([order(100001, { amount: '6.00', updated_at: '2026-11-20T10:00:00.001Z' })]);
    expect(newer).toMatchObject({ updated: 1, unchanged: 0 });
    expect((await stored([100001]))[0].amount_cents).toBe(600);
  });

  it('of one order sent twice in a page, keeps the newer version', async () => {
    const result = await apply([order(100001, { amount: '3.00', updated_at: '2026-11-21T00:00:00.000Z' }), order(100001, { amount: '2.00' })]);
    expect(result).toMatchObject({ inserted: 1, unchanged: 1 });
    expect((await stored([100001]))[0].amount_cents).toBe(300);
  });

  it('is idempotent: the same page applied twice changes nothing the second time', async () => {
    const page = [order(100001), order(100002, { status: 'cancelled' }), order(1, { amount: '8.00', customer_id: (await stored([1]))[0].customer_id }), order(100003, { customer_id: 9999 })];
    const cursorAfter = { updatedAt: '2026-11-20T08:00:00.000Z', id: 100003 };
    const first = await apply(page, { cursorAfter });
    expect(first).toMatchObject({ inserted: 2, updated: 1, cancelled: 1, quarantined: 1 });
    const after = await snapshot();
    const second = await apply(page, { cursorAfter });
    expect(second).toMatchObject({ inserted: 0, updated: 0, unchanged: 3, cancelled: 0, quarantined: 1, affected: [], cursorAdvanced: false });
    const again = await snapshot();
    expect(again.orders).toEqual(after.orders);
    // The bad record is not added again: it is counted as seen again.
    expect(again.quarantine).toHaveLength(1);
    expect(again.quarantine[0]).toMatchObject({ seen_count: 2, first_seen_at: after.quarantine[0].first_seen_at });
  });

  it('moves the cursor forward only, by (updated_at, id), and commits it with the page', async () => {
    const at = (updatedAt: string, id: number) => ({ updatedAt, id });
    expect(await importer.readCursor(source)).toBeNull();
    expect((await apply([order(100001)], { cursorAfter: at('2026-11-20T08:00:00.000Z', 5) })).cursor).toEqual(at('2026-11-20T08:00:00.000Z', 5));
    const behind = await apply([order(100002)], { cursorAfter: at('2026-11-20T07:59:59.999Z', 9) });
    expect(behind).toMatchObject({ inserted: 1, cursorAdvanced: false, cursor: at('2026-11-20T08:00:00.000Z', 5) });
    const sameTimeLowerId = await apply([], { cursorAfter: at('2026-11-20T08:00:00.000Z', 4) });
    expect(sameTimeLowerId.cursorAdvanced).toBe(false);
    expect((await apply([], { cursorAfter: at('2026-11-20T08:00:00.000Z', 6) })).cursorAdvanced).toBe(true);
    expect((await apply([order(100003)], { cursorAfter: null })).cursor).toEqual(at('2026-11-20T08:00:00.000Z', 6));
    expect(await importer.readCursor(source)).toMatchObject({
      source, updatedAt: '2026-11-20T08:00:00.000Z', id: 6, pagesApplied: 5, ordersWritten: 3, recordsQuarantined: 0, committedAt: expect.any(String),
    });
  });

  it('a page that fails after writing its rows leaves both the rows and the cursor as they were', async () => {
    await apply([order(100001)], { cursorAfter: { updatedAt: '2026-11-20T08:00:00.000Z', id: 100001 } });
    const before = await snapshot();
    // The failure comes at the very end of the page's transaction: recording the cursor.
    await db.pool.query(`CREATE FUNCTION fail_cursor_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
                         BEGIN RAISE EXCEPTION 'the cursor cannot be written'; END $$`);
    await db.pool.query(`CREATE TRIGGER fail_cursor BEFORE UPDATE ON import_cursors FOR EACH ROW WHEN (NEW.cursor_id = 666) EXECUTE FUNCTION fail_cursor_for_test()`);
    try {
      const page = [order(100001, { amount: '1.00', updated_at: '2026-11-21T00:00:00.000Z' }), order(100002), order(100003, { amount: '-1.00' })];
      await expect(apply(page, { cursorAfter: { updatedAt: '2026-11-21T00:00:00.000Z', id: 666 } })).rejects.toThrow(/cursor cannot be written/);
      expect(await snapshot()).toEqual(before);
    } finally {
      await db.pool.query('DROP TRIGGER fail_cursor ON import_cursors; DROP FUNCTION fail_cursor_for_test()');
    }
  });

  it('quarantines each kind of bad record with its reason and raw payload, and imports the rest of the page', async () => {
    const customer2 = 2;
    const wrongCurrency = currencyOf.get(customer2) === 'USD' ? 'EUR' : 'USD';
    const missingSku = order(100006);
    delete missingSku.sku;
    const bad: Array<[SourceRecord | string | null, string, string]> = [
      [order(100001, { customer_id: 9999, currency: 'USD' }), 'customer_id', 'unknown-customer'],
      [order(100002, { customer_id: customer2, currency: wrongCurrency }), 'currency', 'wrong-currency'],
      [order(100003, { amount: '-5.00' }), 'amount', 'negative-amount'],
      [order(100004, { amount: '12.345' }), 'amount', 'malformed'],
      [order(100005, { amount: 12.5 }), 'amount', 'malformed'],
      [missingSku, 'sku', 'missing'],
      [order(100007, { created_at: '2026-02-30T10:00:00Z' }), 'created_at', 'malformed'],
      [order(100008, { updated_at: '2026-11-20 08:00' }), 'updated_at', 'malformed'],
      [order(100009, { status: 'refunded' }), 'status', 'unknown-status'],
      [order(100010, { id: -4 }), 'id', 'malformed'],
      ['not an order', 'record', 'not-an-object'],
      [null, 'record', 'not-an-object'],
      [order(100011, { updated_at: '2099-01-01T00:00:00.000Z' }), 'updated_at', 'in-the-future'],
      [order(100012, { created_at: '0000-01-01T00:00:00Z' }), 'created_at', 'malformed'],
      [order(100013, { amount: 'x', extra: JSON.parse('['.repeat(6000) + ']'.repeat(6000)) }), 'record', 'any'],
    ];
    const good = [order(100020), order(100021, { amount: '0', status: 'cancelled' })];
    const result = await apply([good[0], ...bad.map(([record]) => record), good[1]]);
    expect(result).toMatchObject({ inserted: 2, cancelled: 1, quarantined: bad.length });
    expect((await stored([100020, 100021])).map((row) => row.id)).toEqual([100020, 100021]);
    const listed = await importer.listQuarantined({ source, limit: 100 });
    // Not an object (kept as its JSON text), or nested deeper than anyone stores (kept as an excerpt): `{ value }`.
    const payloadOf = (record: unknown) => (typeof record === 'object' && record !== null && !('extra' in record) ? record : { value: expect.any(String) });
    const expected = bad.filter(([, , reason]) => reason !== 'any').map(([record, field, reason]) => ({
      source, field, reason, payload: payloadOf(record), seenCount: 1, retriedAt: null,
      sourceOrderId: typeof record === 'object' && record !== null ? String(record.id) : null, message: expect.stringContaining(field === 'record' ? 'record' : field),
    }));
    expect(listed).toHaveLength(bad.length);
    for (const row of expected) expect(listed).toContainEqual(expect.objectContaining(row));
    // The deeply nested one reached quarantine (whatever its first complaint) instead of failing the page.
    expect(listed.find((row) => row.sourceOrderId === '100013')).toMatchObject({ payload: { value: expect.any(String) } });
    expect(listed.find((row) => row.reason === 'unknown-customer')!.message).toMatch(/customer_id 9999 is not a known customer/);
  });

  it('quarantines a record jsonb cannot hold as it is (a NUL in a string) instead of failing the page', async () => {
    const result = await apply([order(100001, { sku: 'SKU\u0000X', note: 'a\u0000b' }), order(100002)]);
    expect(result).toMatchObject({ inserted: 1, quarantined: 1 });
    const [row] = await importer.listQuarantined({ source, limit: 10 });
    expect(row).toMatchObject({ field: 'sku', reason: 'malformed', payload: expect.objectContaining({ sku: 'SKU\uFFFDX', note: 'a\uFFFDb' }) });
  });

  it('fails a page whose every record lacks a required field, naming it, and writes nothing', async () => {
    const before = await snapshot();
    // A whole page (at least MIN_RECORDS_FOR_SCHEMA_BREAK records) without it is a changed format.
    const page = [order(100001), order(100002, { customer_id: 9999 }), order(100005), order(100006), order(100007)].map(({ sku: _sku, ...rest }) => rest);
    const failure = await apply(page, { cursorAfter: { updatedAt: '2026-11-20T08:00:00.000Z', id: 100007 } }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SchemaBreakError);
    expect(failure).toMatchObject({ name: 'SchemaBreakError', field: 'sku', message: expect.stringContaining('lack the required field sku') });
    expect(await snapshot()).toEqual(before);
    // One record without it is a bad record, not a changed format, even alone on its page (the
    // only news of a quiet 15 minutes must not hold the import up for good).
    const one = order(100003);
    delete one.sku;
    expect(await apply([order(100004), one])).toMatchObject({ inserted: 1, quarantined: 1 });
    const alone = order(100008);
    delete alone.sku;
    expect(await apply([alone])).toMatchObject({ inserted: 0, quarantined: 1 });
  });

  it('dry run: the same counts and days as the real run, and nothing written', async () => {
    const customerOf1 = (await stored([1]))[0].customer_id;
    const page = [order(100001), order(1, { customer_id: customerOf1, status: 'cancelled' }), order(100002, { amount: 'x' })];
    const cursorAfter = { updatedAt: '2026-11-20T08:00:00.000Z', id: 100002 };
    const before = await snapshot();
    const dry = await apply(page, { cursorAfter, dryRun: true });
    expect(await snapshot()).toEqual(before);
    expect(dry).toMatchObject({ inserted: 1, updated: 1, cancelled: 1, quarantined: 1, cursorAdvanced: true });
    expect(await apply(page, { cursorAfter })).toEqual(dry);
  });

  it('a cancelled order leaves the regenerated report, which matches its truth', async () => {
    const regeneration = new ReportRegeneration(db.pool);
    const [victim] = (await db.pool.query(`SELECT o.id, o.customer_id, o.amount_cents, o.created_at FROM orders o JOIN customers c ON c.id = o.customer_id
                                            WHERE c.active AND o.created_at BETWEEN '2026-11-04' AND '2026-11-07' ORDER BY o.id LIMIT 1`)).rows;
    const regenerate = async (days: AffectedDay[]) => {
      for (const { customerId, day } of days) {
        await regeneration.regenerateBatch({ batch: { customerIds: [customerId] }, from: day, to: day, workflowId: 'import-test', dryRun: false });
      }
    };
    const result = await apply([order(victim.id, {
      customer_id: victim.customer_id, amount: (victim.amount_cents / 100).toFixed(2), created_at: victim.created_at.toISOString(), status: 'cancelled',
    })]);
    expect(result).toMatchObject({ updated: 1, cancelled: 1 });
    expect(result.affected).toHaveLength(1);
    const { day } = result.affected[0]!;
    const before = (await truthRows(db.pool, [victim.customer_id], day, day))[0]!;
    await regenerate(result.affected);
    const [row] = await reportRows(db.pool, [victim.customer_id], day, day);
    expect(row).toEqual(before);
    // Counted against the seed (every order placed): the day has one order and its amount fewer.
    const { rows: [all] } = await db.pool.query(`SELECT count(*)::int AS n, sum(amount_cents)::bigint AS cents FROM orders o JOIN customers c ON c.id = o.customer_id
                                                   WHERE o.customer_id = $1 AND (o.created_at AT TIME ZONE c.time_zone)::date = $2`, [victim.customer_id, day]);
    expect({ n: row!.order_count, cents: row!.revenue_cents }).toEqual({ n: all.n - 1, cents: all.cents - victim.amount_cents });
    // Placed again (a newer version): back in the report.
    const revived = await apply([order(victim.id, {
      customer_id: victim.customer_id, amount: (victim.amount_cents / 100).toFixed(2), created_at: victim.created_at.toISOString(), updated_at: '2026-11-21T00:00:00.000Z',
    })]);
    expect(revived.affected).toEqual(result.affected);
    await regenerate(revived.affected);
    expect((await reportRows(db.pool, [victim.customer_id], day, day))[0]).toMatchObject({ order_count: all.n, revenue_cents: all.cents });
  });

  it("names the affected days in each customer's own zone, before and after a change", async () => {
    await db.pool.query(`UPDATE customers SET time_zone = 'Pacific/Honolulu' WHERE id = 7; UPDATE customers SET time_zone = 'Pacific/Kiritimati' WHERE id = 8`);
    // 23:30 UTC on the 5th: 13:30 on the 5th in Honolulu (UTC-10), 13:30 on the 6th in Kiritimati (UTC+14).
    const nearMidnight = '2026-11-05T23:30:00.000Z';
    const inserted = await apply([order(100001, { customer_id: 7, created_at: nearMidnight }), order(100002, { customer_id: 8, created_at: nearMidnight })]);
    expect(inserted.affected).toEqual([{ customerId: 7, day: '2026-11-05' }, { customerId: 8, day: '2026-11-06' }]);
    // Moved to 10:30 UTC on the 6th (00:30 on the 6th in Honolulu, 00:30 on the 7th in Kiritimati): both days change.
    const moved = await apply([
      order(100001, { customer_id: 7, created_at: '2026-11-06T10:30:00.000Z', updated_at: '2026-11-21T00:00:00.000Z' }),
      order(100002, { customer_id: 8, created_at: '2026-11-06T10:30:00.000Z', updated_at: '2026-11-21T00:00:00.000Z' }),
    ]);
    expect([...moved.affected].sort(byDay)).toEqual([
      { customerId: 7, day: '2026-11-05' }, { customerId: 7, day: '2026-11-06' }, { customerId: 8, day: '2026-11-06' }, { customerId: 8, day: '2026-11-07' },
    ]);
    // A newer version that changes nothing a report counts touches no day; an order moving to another customer touches both.
    expect((await apply([order(100001, { customer_id: 7, created_at: '2026-11-06T10:30:00.000Z', updated_at: '2026-11-22T00:00:00.000Z' })]))).toMatchObject({ updated: 1, affected: [] });
    const rehomed = await apply([order(100002, { customer_id: 7, created_at: '2026-11-06T10:30:00.000Z', updated_at: '2026-11-22T00:00:00.000Z' })]);
    expect([...rehomed.affected].sort(byDay)).toEqual([{ customerId: 7, day: '2026-11-06' }, { customerId: 8, day: '2026-11-07' }]);
    // A cancelled order is in no report: inserting one touches no day.
    expect((await apply([order(100003, { status: 'cancelled' })])).affected).toEqual([]);
  });

  it("counts an order of a customer whose zone PostgreSQL refuses on its UTC day, instead of failing the page", async () => {
    await db.pool.query(`UPDATE customers SET time_zone = 'Mars/Olympus_Mons' WHERE id = 5; UPDATE customers SET time_zone = 'Pacific/Kiritimati' WHERE id = 8`);
    const result = await apply([order(100001, { customer_id: 5, created_at: '2026-11-05T23:30:00.000Z' }), order(100002, { customer_id: 8, created_at: '2026-11-05T23:30:00.000Z' })]);
    expect(result).toMatchObject({ inserted: 2, affected: [{ customerId: 5, day: '2026-11-05' }, { customerId: 8, day: '2026-11-06' }] });
  });

  it('serialises pages of one source: a page waits for the one holding the cursor, and no cursor update is lost', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`INSERT INTO import_cursors (source) VALUES ($1)`, [source]);
      await holder.query(`SELECT 1 FROM import_cursors WHERE source = $1 FOR UPDATE`, [source]);
      let done = false;
      const waiting = apply([order(100001)], { cursorAfter: { updatedAt: '2026-11-20T08:00:00.000Z', id: 1 } }).then(() => (done = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(done).toBe(false);
      await holder.query('COMMIT');
      await waiting;
    } finally {
      holder.release();
    }
    // Ten pages at once, in no particular order: the cursor ends at the furthest, every page counted.
    const ids = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5].map((n) => n + 1);
    await Promise.all(ids.map((id) => apply([order(200000 + id)], { cursorAfter: { updatedAt: '2026-11-20T08:00:00.000Z', id } })));
    expect(await importer.readCursor(source)).toMatchObject({ id: 11, pagesApplied: 11, ordersWritten: 11 });
  });
});

describe('OrderImport.retryQuarantined', () => {
  it('imports the records a fixed customer makes valid, resolves them, and keeps the others with their reason', async () => {
    const wrongCurrency = currencyOf.get(2) === 'USD' ? 'EUR' : 'USD';
    await apply([
      order(100001, { customer_id: 9999, currency: 'GBP', created_at: '2026-11-05T23:30:00.000Z' }),
      order(100002, { customer_id: 9999, currency: 'GBP', status: 'cancelled' }),
      order(100003, { customer_id: 2, currency: wrongCurrency }),
      order(100004, { sku: null }),
    ]);
    const open = await importer.listQuarantined({ source, limit: 10 });
    expect(open.map((row) => row.reason).sort()).toEqual(['missing', 'unknown-customer', 'unknown-customer', 'wrong-currency']);
    // Nothing fixed yet: all stay (each once), marked as retried.
    expect(await importer.retryQuarantined({ source })).toMatchObject({ retried: 4, resolvedIds: [], stillQuarantined: 4, inserted: 0 });
    expect(await db.pool.query('SELECT count(*)::int AS n FROM import_quarantine')).toMatchObject({ rows: [{ n: 4 }] });

    await db.pool.query(`INSERT INTO customers (id, name, email, time_zone, currency) VALUES (9999, 'Late', 'late@example.com', 'Pacific/Kiritimati', 'GBP')`);
    const retried = await importer.retryQuarantined({ source });
    const fixedIds = open.filter((row) => row.reason === 'unknown-customer').map((row) => row.id);
    expect(retried).toMatchObject({ retried: 4, resolvedIds: fixedIds, stillQuarantined: 2, inserted: 2, cancelled: 1, affected: [{ customerId: 9999, day: '2026-11-06' }] });
    expect((await stored([100001, 100002, 100003])).map((row) => [row.id, row.customer_id, row.status])).toEqual([[100001, 9999, 'placed'], [100002, 9999, 'cancelled']]);
    const left = await importer.listQuarantined({ source, limit: 10 });
    expect([...left].sort((a, b) => a.sourceOrderId!.localeCompare(b.sourceOrderId!))).toEqual([
      expect.objectContaining({ sourceOrderId: '100003', reason: 'wrong-currency', retriedAt: expect.any(String) }),
      expect.objectContaining({ sourceOrderId: '100004', reason: 'missing', retriedAt: expect.any(String) }),
    ]);
    expect(await db.pool.query('SELECT count(*)::int AS n FROM import_quarantine')).toMatchObject({ rows: [{ n: 4 }] });
    // Only the ids asked for; a resolved record is not retried again.
    expect(await importer.retryQuarantined({ source, ids: fixedIds })).toMatchObject({ retried: 0 });
  });
});

describe('OrderImport: changed days, taken and cleared', () => {
  /** Every pending (customer, day): logged by pages and not moved yet, or moved by a read and not cleared; the latest stamp. */
  const recorded = async () =>
    (await db.pool.query(
      `SELECT customer_id, day, max(recorded_at) AS recorded_at,
              to_char(max(recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS stamp FROM (
         SELECT customer_id, to_char(report_date, 'YYYY-MM-DD') AS day, recorded_at FROM import_affected_days WHERE source = $1
         UNION ALL
         SELECT u.customer_id, to_char(u.report_date, 'YYYY-MM-DD'), l.recorded_at
           FROM import_affected_days_log l, unnest(l.customer_ids, l.report_dates) AS u(customer_id, report_date) WHERE l.source = $1
       ) pending GROUP BY 1, 2 ORDER BY 1, 2`,
      [source],
    )).rows;
  const logRows = async () => (await db.pool.query('SELECT count(*)::int AS n FROM import_affected_days_log WHERE source = $1', [source])).rows[0].n as number;
  const change = (updatedAt: string, amount: string) => order(200001, { updated_at: updatedAt, amount });

  it('a day changed twice before a read is read once, at its latest change; changed after a read, it outlives that read\'s clearing', async () => {
    await apply([change('2026-11-20T08:00:00.000Z', '1.00')]);
    const [first] = await recorded();
    expect(first).toMatchObject({ customer_id: 1, day: '2026-11-05' });
    await apply([change('2026-11-20T09:00:00.000Z', '2.00')]);
    const [second] = await recorded();
    expect(second!.recorded_at.getTime()).toBeGreaterThan(first!.recorded_at.getTime());

    const taken = await importer.takeAffectedDays(source, 100, { maxDays: 50 });
    expect(taken.days).toEqual([expect.objectContaining({ day: '2026-11-05', customerIds: [1], taken: [1] })]);
    // The read moved the log: one row for the day, stamped with its latest change, which names the revision.
    expect(await logRows()).toBe(0);
    expect(taken.days[0]!.revision).toBe(`${source}@${second!.stamp}`);
    // Changed while its regeneration runs: logged after the read, so clearing what was read keeps it.
    await apply([change('2026-11-20T10:00:00.000Z', '3.00')]);
    expect(await importer.clearAffectedDays({ source, day: '2026-11-05', customerIds: [1], takenAt: taken.takenAt })).toBe(1);
    const [again] = await recorded();
    expect(again).toMatchObject({ customer_id: 1, day: '2026-11-05' });
    expect(again!.recorded_at.getTime()).toBeGreaterThan(Date.parse(taken.takenAt));

    // The next read takes it, with a newer revision, and its clearing forgets it.
    const next = await importer.takeAffectedDays(source, 100, { maxDays: 50 });
    expect(next.days[0]!.revision > taken.days[0]!.revision).toBe(true);
    expect(await importer.clearAffectedDays({ source, day: '2026-11-05', customerIds: [1], takenAt: next.takenAt })).toBe(1);
    expect(await recorded()).toEqual([]);
  });

  it('a page logs its days as one row, a dry run logs none, and a read moves every logged day of its source only', async () => {
    const orders = [1, 2, 3].flatMap((customer) =>
      ['2026-11-03T12:00:00.000Z', '2026-11-04T12:00:00.000Z'].map((createdAt, i) =>
        order(300000 + customer * 10 + i, { customer_id: customer, currency: currencyOf.get(customer)!, created_at: createdAt })));
    await importer.applyPage({ source, records: orders.slice(0, 3), cursorAfter: null, dryRun: true });
    expect(await logRows()).toBe(0);
    await apply(orders.slice(0, 3));
    await apply(orders.slice(3));
    await importer.applyPage({ source: 'other-shop', records: [order(399999, { created_at: '2026-11-04T12:00:00.000Z' })], cursorAfter: null, dryRun: false });
    expect(await logRows()).toBe(2);
    const pending = await recorded();
    expect(pending).toHaveLength(6);

    const taken = await importer.takeAffectedDays(source, 100, { maxDays: 50 });
    expect(taken.days.flatMap((day) => day.taken === 'all' ? [] : day.taken.map((customer) => `${customer}@${day.day}`)).sort())
      .toEqual(pending.map((row) => `${row.customer_id}@${row.day}`).sort());
    expect(await logRows()).toBe(0);
    // The other source's page is still logged, for its own read.
    expect((await db.pool.query("SELECT count(*)::int AS n FROM import_affected_days_log WHERE source = 'other-shop'")).rows[0].n).toBe(1);
  });

  it('moves a long log in bounded steps, oldest first, and a read moves whatever is left', async () => {
    // 150 pages of one order each, every one a day of its own for customer 1: more than one move's 100.
    for (let i = 0; i < 150; i++) {
      const day = new Date(Date.UTC(2026, 5, 1) + i * 86_400_000).toISOString().slice(0, 10);
      await apply([order(400000 + i, { created_at: `${day}T12:00:00.000Z` })]);
    }
    expect(await logRows()).toBe(150);
    expect(await importer.moveLoggedDays(source)).toBe(100);
    expect(await logRows()).toBe(50);
    const moved = (await db.pool.query('SELECT count(*)::int AS n FROM import_affected_days WHERE source = $1', [source])).rows[0].n;
    expect(moved).toBe(100);
    // Five more pages, then a read: it moves the 55 still logged, in the transaction that reads.
    for (let i = 150; i < 155; i++) {
      const day = new Date(Date.UTC(2026, 5, 1) + i * 86_400_000).toISOString().slice(0, 10);
      await apply([order(400000 + i, { created_at: `${day}T12:00:00.000Z` })]);
    }
    const days: string[] = [];
    let afterDay: string | undefined;
    for (;;) {
      const taken = await importer.takeAffectedDays(source, 100, { maxDays: 50, ...(afterDay ? { afterDay } : {}) });
      days.push(...taken.days.map((day) => day.day));
      if (!taken.more) break;
      afterDay = taken.days.at(-1)!.day;
    }
    expect(await logRows()).toBe(0);
    expect(new Set(days).size).toBe(155);
    expect(await importer.moveLoggedDays(source)).toBe(0);
  });

  it('clearing a day spares the customers whose regeneration failed, listed or in a failed id range, restamped with its revision', async () => {
    await apply([1, 2, 3, 4, 5].map((customer) => order(500000 + customer, { customer_id: customer, currency: currencyOf.get(customer)!, created_at: '2026-11-05T12:00:00.000Z' })));
    // A later page changes customer 5 alone: the day's revision is its stamp, later than the others'.
    await apply([order(500005, { customer_id: 5, currency: currencyOf.get(5)!, created_at: '2026-11-05T12:00:00.000Z', updated_at: '2026-11-21T08:00:00.000Z', amount: '1.00' })]);
    const taken = await importer.takeAffectedDays(source, 100, { maxDays: 50 });
    const day = taken.days.find((candidate) => candidate.day === '2026-11-05')!;
    expect(day.taken).toEqual([1, 2, 3, 4, 5]);
    const cleared = await importer.clearAffectedDaysSparing({
      source, day: day.day, customerIds: day.taken, takenAt: taken.takenAt, revision: day.revision,
      spared: { customerIds: [1], ranges: [{ firstId: 3, lastId: 4 }] },
    });
    expect(cleared).toBe(2); // customers 2 and 5
    const left = await db.pool.query('SELECT customer_id::int FROM import_affected_days WHERE source = $1 AND report_date = $2 ORDER BY 1', [source, day.day]);
    expect(left.rows.map((row) => row.customer_id)).toEqual([1, 3, 4]);
    // Read again, the spared customers name the same revision: their pending corrections are that revision's.
    const again = await importer.takeAffectedDays(source, 100, { maxDays: 50 });
    expect(again.days).toEqual([expect.objectContaining({ day: day.day, taken: [1, 3, 4], revision: day.revision })]);
    // A plain clear forgets everyone read.
    expect(await importer.clearAffectedDays({ source, day: day.day, customerIds: 'all', takenAt: again.takenAt })).toBe(3);
  });

});
