import type { Pool } from '../../src/db/pool.js';
import type { ApiOrder } from '../../src/dev/shop/order-store.js';
import { truthRowsSql } from '../support/truth.js';

/** What the import fault scenarios check after the imports, with SQL of their own and the shop's data set. */
export interface ImportInvariantReport {
  /** Orders in both, with some field different from the shop's. */
  ordersWrong: number;
  /** Shop orders absent from `orders`. */
  ordersMissing: number;
  /** Rows of `orders` the shop does not have, or an id twice. */
  ordersDuplicated: number;
  ordersInShop: number;
  ordersInDatabase: number;
  /** Report rows that exist and differ from their truth. */
  reportRowsWrong: number;
  /** (active customer, day) with placed orders and no report row. */
  reportRowsMissing: number;
}

/** Every order in PostgreSQL spelled as the API spells it, so rows compare field by field with the shop's. */
export const ORDERS_AS_API_SQL = `
  SELECT id::int, customer_id::int, currency::text, to_char(amount_cents / 100.0, 'FM999999999990.00') AS amount, sku,
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
         to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at, status
    FROM orders`;

const FIELDS = ['id', 'customer_id', 'currency', 'amount', 'sku', 'created_at', 'updated_at', 'status'] as const;

const sameOrder = (a: ApiOrder, b: ApiOrder) => FIELDS.every((field) => a[field] === b[field]);

/** Compares `orders` with the shop's data set by id: wrong, missing and extra (or twice-seen) rows. */
export function compareOrders(shop: ApiOrder[], database: ApiOrder[]): Pick<ImportInvariantReport, 'ordersWrong' | 'ordersMissing' | 'ordersDuplicated'> {
  const stored = new Map<number, ApiOrder>();
  let duplicated = 0;
  for (const row of database) {
    if (stored.has(row.id)) duplicated++;
    else stored.set(row.id, row);
  }
  const shopIds = new Set(shop.map((order) => order.id));
  let wrong = 0;
  let missing = 0;
  for (const order of shop) {
    const row = stored.get(order.id);
    if (!row) missing++;
    else if (!sameOrder(order, row)) wrong++;
  }
  for (const id of stored.keys()) if (!shopIds.has(id)) duplicated++;
  return { ordersWrong: wrong, ordersMissing: missing, ordersDuplicated: duplicated };
}

/**
 * After the imports: `orders` equals the shop's data set field by field, and every report row
 * of an active customer equals its truth (an import regenerates only the days whose orders
 * changed, so rows are compared where they exist, and a row is required wherever the customer
 * placed orders that day).
 */
export async function checkImportInvariants(pool: Pool, shop: ApiOrder[], from: string, to: string): Promise<ImportInvariantReport> {
  const { rows } = await pool.query<ApiOrder>(ORDERS_AS_API_SQL);
  const { rows: [reports] } = await pool.query<{ wrong: number; missing: number }>(
    `WITH truth AS (${truthRowsSql('c.active')}),
          actual AS (SELECT r.customer_id, r.report_date::text AS report_date, r.order_count, r.revenue_cents
                       FROM daily_reports r JOIN customers c ON c.id = r.customer_id AND c.active
                      WHERE r.report_date BETWEEN $1 AND $2)
     SELECT count(*) FILTER (WHERE a.customer_id IS NOT NULL
                               AND (t.order_count IS DISTINCT FROM a.order_count OR t.revenue_cents IS DISTINCT FROM a.revenue_cents))::int AS wrong,
            count(*) FILTER (WHERE a.customer_id IS NULL AND t.order_count > 0)::int AS missing
       FROM truth t LEFT JOIN actual a USING (customer_id, report_date)`,
    [from, to],
  );
  return {
    ...compareOrders(shop, rows),
    ordersInShop: shop.length,
    ordersInDatabase: rows.length,
    reportRowsWrong: reports?.wrong ?? 0,
    reportRowsMissing: reports?.missing ?? 0,
  };
}

/**
 * Polls, while the import runs, that the committed cursor is never ahead of the rows it covers:
 * in one snapshot of PostgreSQL, the cursor and `orders`; then the shop's orders. Every shop
 * order at or before the cursor in (updated_at, id) order must be stored, field for field.
 * (Sound against a shop that changes meanwhile: a change is stamped after every updated_at so
 * far, so an order at or before the cursor now was that very version when the cursor moved.)
 */
export function startCursorWatcher(pool: Pool, shopOrders: () => Promise<ApiOrder[]>, intervalMs = 1_000) {
  let stop = false;
  let checks = 0;
  let ahead = 0;
  let wake: (() => void) | undefined;
  const check = async () => {
    const client = await pool.connect();
    let cursor: { at: number; id: number } | undefined;
    let rows: ApiOrder[] = [];
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows: [row] } = await client.query<{ at: Date | null; id: string | null }>(
        "SELECT cursor_updated_at AS at, cursor_id AS id FROM import_cursors WHERE source = 'shop'",
      );
      if (row?.at && row.id !== null) {
        cursor = { at: row.at.getTime(), id: Number(row.id) };
        rows = (await client.query<ApiOrder>(ORDERS_AS_API_SQL)).rows;
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    if (!cursor) return;
    const stored = new Map(rows.map((order) => [order.id, order]));
    for (const order of await shopOrders()) {
      const at = Date.parse(order.updated_at);
      if (at > cursor.at || (at === cursor.at && order.id > cursor.id)) continue;
      const row = stored.get(order.id);
      if (!row || !sameOrder(order, row)) ahead++;
    }
    checks++;
  };
  const loop = (async () => {
    while (!stop) {
      await check().catch(() => undefined); // PostgreSQL down in that scenario
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs);
      });
    }
    await check().catch(() => undefined); // once more, at the end
  })();
  return {
    stop: async () => {
      stop = true;
      wake?.();
      await loop;
      return { checks, ahead };
    },
  };
}
