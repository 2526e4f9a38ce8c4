import type { Pool } from '../../src/db/pool.js';
import type { ApiOrder } from '../../src/dev/shop/order-store.js';
import type { StoredMessage } from '../support/mailbox.js';
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

/** A day's report as a customer reads it: what a correction compares. */
interface ReportNumbersRow {
  customer_id: number;
  report_date: string;
  order_count: number;
  revenue_cents: string;
  top_sku: string | null;
}

const numbersKey = (row: Pick<ReportNumbersRow, 'order_count' | 'revenue_cents' | 'top_sku'>) => `${row.order_count}/${row.revenue_cents}/${row.top_sku ?? '-'}`;
const pairKey = (customerId: number, day: string) => `${customerId}:${day}`;

/** The final reports emailed before the faulted import: who got which days, and the numbers they read. */
export interface SeededFinalReports {
  days: string[];
  customerIds: number[];
  /** report_emails keys of the final reports (customer:from:to). */
  keys: string[];
  /** The SMTP sink's files after the seeding: every one a final report. */
  files: string[];
  /** `customer:day` → the numbers emailed ('order_count/revenue_cents/top_sku'). */
  numbers: Map<string, string>;
}

/** The report numbers of these customers and days now; a missing row reads 0 orders, 0 revenue (as report_corrections records it). */
export async function reportNumbers(pool: Pool, customerIds: number[], days: string[]): Promise<Map<string, string>> {
  const { rows } = await pool.query<ReportNumbersRow>(
    `SELECT c.id::int AS customer_id, d.day AS report_date, coalesce(r.order_count, 0)::int AS order_count,
            coalesce(r.revenue_cents, 0)::bigint::text AS revenue_cents, r.top_sku
       FROM unnest($1::bigint[]) AS c(id) CROSS JOIN unnest($2::text[]) AS d(day)
       LEFT JOIN daily_reports r ON r.customer_id = c.id AND r.report_date = d.day::date`,
    [customerIds, days],
  );
  return new Map(rows.map((row) => [pairKey(row.customer_id, row.report_date), numbersKey(row)]));
}

/** What the correction checks count. */
export interface CorrectionReport {
  /** (customer, day) pairs whose final report was emailed before the faulted import. */
  emailedDays: number;
  /** Emailed pairs whose numbers now differ from what was emailed. */
  changedDays: number;
  /** Changed pairs without a single correction in the mailbox. */
  changedDaysUncorrected: number;
  /** Revisions (a day's recorded changes, as an import took them) that changed an emailed day's numbers: one correction each is due. */
  correctionsDue: number;
  /** Distinct (customer, day, revision) corrections in the mailbox. */
  correctionsSent: number;
  /** Correction messages beyond the first of their (customer, day, revision). */
  duplicateCorrections: number;
  /** Due corrections absent from the mailbox. */
  correctionsMissing: number;
  /** Corrections for a day never emailed, or a revision that did not change the day's numbers. */
  correctionsUnwarranted: number;
  /** Revisions whose recorded "before" numbers are not what the customer last read (a change recorded by no revision). */
  chainBreaks: number;
  /** report_corrections rows in state 'emailed' without their message, plus messages without such a row. */
  recordsMismatched: number;
  /** Messages other than the seeded final reports and the corrections; report_emails rows other than theirs (or not 'sent'). */
  otherEmails: number;
}

/**
 * The corrections after the imports, from the mailbox (what customers got), report_corrections
 * (each revision's "before" numbers) and the reports now. For every emailed (customer, day),
 * its revisions in order form a chain: the first one's "before" is what was emailed, each
 * next one's "before" is the previous one's "after", the last one's "after" is the report now.
 * A revision whose before and after differ owes exactly one correction; one whose numbers did
 * not change owes none.
 */
export async function checkCorrections(pool: Pool, mailbox: StoredMessage[], seeded: SeededFinalReports): Promise<CorrectionReport> {
  const now = await reportNumbers(pool, seeded.customerIds, seeded.days);
  const { rows: revisions } = await pool.query<ReportNumbersRow & { revision: string; state: string }>(
    `SELECT customer_id::int, report_date::text AS report_date, revision, state, old_order_count AS order_count,
            old_revenue_cents::bigint::text AS revenue_cents, old_top_sku AS top_sku
       FROM report_corrections ORDER BY customer_id, report_date, id`,
  );
  const sentCounts = new Map<string, number>();
  const seededFiles = new Set(seeded.files);
  let otherEmails = 0;
  for (const message of mailbox) {
    if (seededFiles.has(message.file)) continue;
    const day = /^(\d{4}-\d{2}-\d{2})\.\.\1$/.exec(message.period)?.[1];
    if (!message.subject.startsWith('Correction:') || !message.correction || !day) {
      otherEmails++;
      continue;
    }
    const key = `${pairKey(message.customerId, day)}:${message.correction}`;
    sentCounts.set(key, (sentCounts.get(key) ?? 0) + 1);
  }
  const report: CorrectionReport = {
    emailedDays: seeded.numbers.size, changedDays: 0, changedDaysUncorrected: 0, correctionsDue: 0,
    correctionsSent: sentCounts.size, duplicateCorrections: 0, correctionsMissing: 0, correctionsUnwarranted: 0,
    chainBreaks: 0, recordsMismatched: 0, otherEmails,
  };
  for (const n of sentCounts.values()) report.duplicateCorrections += n - 1;

  const byPair = new Map<string, typeof revisions>();
  for (const row of revisions) {
    const key = pairKey(row.customer_id, row.report_date);
    byPair.set(key, [...(byPair.get(key) ?? []), row]);
  }
  const warranted = new Set<string>();
  for (const [pair, emailed] of seeded.numbers) {
    const final = now.get(pair)!;
    const chain = byPair.get(pair) ?? [];
    let corrected = false;
    let read = emailed; // what the customer last read
    chain.forEach((row, i) => {
      const before = numbersKey(row);
      if (before !== read) report.chainBreaks++;
      const after = i + 1 < chain.length ? numbersKey(chain[i + 1]!) : final;
      const key = `${pair}:${row.revision}`;
      if (after !== before) {
        report.correctionsDue++;
        warranted.add(key);
        if (sentCounts.has(key)) corrected = true;
        else report.correctionsMissing++;
      }
      read = after;
    });
    if (final !== emailed) {
      report.changedDays++;
      if (!corrected) report.changedDaysUncorrected++;
    }
  }
  for (const key of sentCounts.keys()) if (!warranted.has(key)) report.correctionsUnwarranted++;

  const emailedRecords = new Set(revisions.filter((row) => row.state === 'emailed').map((row) => `${pairKey(row.customer_id, row.report_date)}:${row.revision}`));
  for (const key of emailedRecords) if (!sentCounts.has(key)) report.recordsMismatched++;
  for (const key of sentCounts.keys()) if (!emailedRecords.has(key)) report.recordsMismatched++;

  const { rows: [emailRows] } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM report_emails
      WHERE NOT (idempotency_key = ANY($1::text[])) AND NOT (idempotency_key LIKE '%:correction:%' AND state = 'sent')`,
    [seeded.keys],
  );
  report.otherEmails += emailRows?.n ?? 0;
  return report;
}
