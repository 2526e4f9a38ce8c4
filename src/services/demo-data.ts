import type pg from 'pg';
import { inTransaction, type Pool } from '../db/pool.js';

export interface DemoDataOptions {
  customers: number;
  days: number;
  /** Mean orders per customer per day; the spread is skewed (many small customers, a few large). */
  ordersPerCustomerPerDay: number;
  /** Last day with orders (UTC); the data set is a pure function of the options. */
  endDate: string;
  /** Delete existing customers, orders, reports, the email record and the import's cursor and quarantine first. */
  reset: boolean;
}

export class DemoDataExistsError extends Error {
  override name = 'DemoDataExistsError';
}

/**
 * The demo's customers live in zones that span the extremes, so every run meets them: the
 * furthest behind and ahead of UTC (Honolulu −10, Kiritimati +14: the same wall clock, a day
 * apart), 30- and 45-minute offsets (Kolkata, Kathmandu), DST both ways, and a zone whose
 * midnight is skipped (Santiago, 2026-09-06).
 */
const TIME_ZONES = [
  'UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'America/Los_Angeles', 'Asia/Kolkata',
  'Pacific/Honolulu', 'Pacific/Kiritimati', 'Asia/Kathmandu', 'America/Santiago',
];
export const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'];

/**
 * Customers 1..count with the demo mix: 11 time zones, 4 currencies, every 17th inactive.
 * Shared with the benchmark's data set, so both have the same customers.
 */
export async function insertDemoCustomers(client: pg.PoolClient, count: number): Promise<void> {
  await client.query(
    `INSERT INTO customers (id, name, email, time_zone, currency, active)
     SELECT i,
            'Customer ' || i,
            'customer' || i || '@example.com',
            ($2::text[])[1 + (i % array_length($2::text[], 1))],
            ($3::text[])[1 + ((i / 7) % array_length($3::text[], 1))],
            i % 17 <> 0
       FROM generate_series(1, $1::int) AS i
      ORDER BY i`,
    [count, TIME_ZONES, CURRENCIES],
  );
  await client.query(`SELECT setval(pg_get_serial_sequence('customers', 'id'), greatest($1::int, 1))`, [count]);
}

/**
 * Generates a deterministic, realistic data set inside PostgreSQL (generate_series and a
 * seeded random()), so a million orders take seconds and nothing crosses the wire row by row.
 * Every 17th customer is inactive; about one in ten has no orders; order volume per
 * customer follows a cubic skew, so a few customers have many times the mean.
 */
export class DemoData {
  constructor(private readonly pool: Pool) {}

  async seed(options: DemoDataOptions): Promise<{ customers: number; orders: number }> {
    return inTransaction(this.pool, async (client) => {
      const existing = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
      if ((existing.rows[0]?.n ?? 0) > 0) {
        if (!options.reset) throw new DemoDataExistsError('the database already has customers; pass --reset to replace all demo data');
        // The import's cursor and quarantine describe the orders being deleted: an import after
        // the reset starts from the beginning of the source again. The purge's email watermarks
        // belong to the customers being deleted.
        await client.query('TRUNCATE report_emails, report_email_purges, report_corrections, import_affected_days, import_affected_days_log, daily_reports, orders, customers, import_cursors, import_quarantine RESTART IDENTITY');
      }
      // Parallel workers would draw random() in a different order and break determinism.
      await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
      await client.query('SELECT setseed(0.42)');
      await insertDemoCustomers(client, options.customers);
      const orders = await client.query(
        `WITH weights AS (
           SELECT id, currency,
                  CASE WHEN random() < 0.1 THEN 0 ELSE floor(4 * $1::float8 * $2::int * power(random(), 3))::int END AS n
             FROM customers ORDER BY id
         )
         INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at)
         SELECT w.id, w.currency,
                500 + floor(random() * random() * 50000)::bigint,
                'SKU-' || lpad((1 + floor(power(random(), 2) * 40))::int::text, 3, '0'),
                ($3::date + 1)::timestamp AT TIME ZONE 'UTC' - make_interval(secs => floor(random() * $2::int * 86400)::int)
           FROM weights w
          CROSS JOIN LATERAL generate_series(1, w.n) AS k
          ORDER BY w.id, k`,
        [options.ordersPerCustomerPerDay, options.days, options.endDate],
      );
      await client.query('ANALYZE customers; ANALYZE orders');
      return { customers: options.customers, orders: orders.rowCount ?? 0 };
    });
  }
}
