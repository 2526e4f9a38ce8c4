import type pg from 'pg';
import { addDays } from '../src/dates.js';
import { inTransaction, type Pool } from '../src/db/pool.js';
import { insertDemoCustomers } from '../src/services/demo-data.js';

/** What the benchmark data set is: a pure function of these four numbers. */
export interface BenchDataSpec {
  customers: number;
  /** Exactly this many orders, spread over every customer (skewed). */
  orders: number;
  days: number;
  /** Last day with orders (UTC). Fixed, so two runs on two days measure the same data. */
  endDate: string;
}

export const BENCH_END_DATE = '2026-11-30';

export interface BenchPeriod {
  from: string;
  to: string;
}

export function benchPeriod(spec: BenchDataSpec): BenchPeriod {
  return { from: addDays(spec.endDate, -(spec.days - 1)), to: spec.endDate };
}

/**
 * Seeds the benchmark database inside PostgreSQL (generate_series and a seeded random()),
 * like DemoData, with two differences that matter for a benchmark:
 *  - the order count is exact: each customer gets its share of `orders` by a cubic weight
 *    (about one in ten customers gets none, a few get many times the mean), cut by
 *    cumulative sums so the shares add up to exactly `orders`;
 *  - orders are stored in time order, as a live shop writes them, so one customer's orders
 *    are scattered over the table rather than stored side by side.
 * A data set already present with the same spec is kept: seeding 10M orders is not free.
 */
export class BenchData {
  constructor(private readonly pool: Pool) {}

  async ensure(spec: BenchDataSpec, log: (line: string) => void): Promise<{ seeded: boolean; orders: number; ms: number }> {
    const started = performance.now();
    await this.pool.query('CREATE TABLE IF NOT EXISTS bench_dataset (spec jsonb NOT NULL, orders bigint NOT NULL)');
    const { rows } = await this.pool.query<{ spec: BenchDataSpec; orders: number }>('SELECT spec, orders FROM bench_dataset');
    const present = rows[0];
    if (present && sameSpec(present.spec, spec)) {
      log(`data set present (${spec.customers} customers, ${present.orders} orders, ${spec.days} days): reusing it`);
      return { seeded: false, orders: present.orders, ms: performance.now() - started };
    }
    log(`seeding ${spec.customers} customers and ${spec.orders} orders over ${spec.days} days ...`);
    const orders = await inTransaction(this.pool, (client) => this.seed(client, spec));
    // VACUUM sets the visibility map (index-only scans on orders, as on a table autovacuum
    // keeps up with); ANALYZE gives the planner the new statistics.
    await this.pool.query('VACUUM (ANALYZE) customers');
    await this.pool.query('VACUUM (ANALYZE) orders');
    // Flush the seed's dirty pages now, not during the first measured variant.
    await this.pool.query('CHECKPOINT').catch(() => undefined);
    const ms = performance.now() - started;
    log(`seeded ${orders} orders in ${(ms / 1000).toFixed(1)}s`);
    return { seeded: true, orders, ms };
  }

  private async seed(client: pg.PoolClient, spec: BenchDataSpec): Promise<number> {
    await client.query('TRUNCATE bench_dataset, report_emails, daily_reports, orders, customers RESTART IDENTITY CASCADE');
    // Parallel workers would draw random() in a different order and break determinism.
    await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
    await client.query(`SET LOCAL work_mem = '256MB'`);
    // The generated orders satisfy the foreign key by construction; skipping its per-row
    // trigger makes seeding 10M orders several times faster. Needs a superuser (the embedded
    // server's user is one); with another user the checks simply run.
    const { rows: [role] } = await client.query<{ superuser: boolean }>('SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user');
    if (role?.superuser) await client.query('SET LOCAL session_replication_role = replica');
    await client.query('SELECT setseed(0.42)');
    await insertDemoCustomers(client, spec.customers); // the same customers as DemoData
    const inserted = await client.query(
      `WITH weights AS (
         SELECT id, currency,
                CASE WHEN random() < 0.1 THEN 0 ELSE round(power(random()::numeric, 3), 12) END AS weight
           FROM customers ORDER BY id
       ),
       cumulative AS (
         SELECT id, currency, weight,
                sum(weight) OVER (ORDER BY id) AS upto,
                sum(weight) OVER () AS total
           FROM weights
       ),
       shares AS (
         SELECT id, currency,
                (floor($1::numeric * upto / total) - floor($1::numeric * (upto - weight) / total))::int AS n
           FROM cumulative
       )
       -- updated_at named: session_replication_role = replica also skips the trigger that fills it.
       INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at, updated_at)
       SELECT id, currency, amount_cents, sku, created_at, created_at
         FROM (SELECT s.id, s.currency,
                      500 + floor(random() * random() * 50000)::bigint AS amount_cents,
                      'SKU-' || lpad((1 + floor(power(random(), 2) * 40))::int::text, 3, '0') AS sku,
                      ($3::date + 1)::timestamp AT TIME ZONE 'UTC' - make_interval(secs => floor(random() * $2::int * 86400)::int) AS created_at
                 FROM shares s
                CROSS JOIN LATERAL generate_series(1, s.n) AS k
                ORDER BY s.id, k) generated
        ORDER BY created_at, id`,
      [spec.orders, spec.days, spec.endDate],
    );
    const orders = inserted.rowCount ?? 0;
    await client.query('INSERT INTO bench_dataset (spec, orders) VALUES ($1, $2)', [JSON.stringify(spec), orders]);
    return orders;
  }
}

function sameSpec(a: BenchDataSpec, b: BenchDataSpec): boolean {
  return a.customers === b.customers && a.orders === b.orders && a.days === b.days && a.endDate === b.endDate;
}

/** What every regeneration variant must leave behind, and a fingerprint of the rows' content. */
export interface ReportCheck {
  rows: number;
  /** Order-independent hash of every row's report columns (not generated_at / workflow_id). */
  checksum: string;
}

export async function activeCustomerIds(pool: Pool): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM customers WHERE active ORDER BY id');
  return rows.map((row) => row.id);
}

export async function checkReports(pool: Pool, period: BenchPeriod): Promise<ReportCheck> {
  const { rows: [row] } = await pool.query<{ rows: number; checksum: string | null }>(
    `SELECT count(*)::int AS rows,
            sum(hashtextextended(
              concat_ws('|', customer_id, report_date, currency, order_count, revenue_cents, average_order_cents, top_sku), 0
            )::numeric)::text AS checksum
       FROM daily_reports
      WHERE report_date BETWEEN $1::date AND $2::date`,
    [period.from, period.to],
  );
  return { rows: row?.rows ?? 0, checksum: row?.checksum ?? '0' };
}

/**
 * Every variant starts from here: no report rows, and no dirty pages of the previous
 * variant left for a checkpoint to write during this one.
 */
export async function resetReports(pool: Pool): Promise<void> {
  await pool.query('TRUNCATE daily_reports');
  await pool.query('CHECKPOINT').catch(() => undefined); // needs superuser or pg_checkpoint; optional
}
