/**
 * The set-based SQL that turns orders into daily report rows, shared by the service and
 * the benchmark's lower-bound variants so that every variant does exactly the same work.
 *
 * $1 bigint[] customer ids, $2 first local day, $3 last local day (inclusive).
 * A customer's local day D is [D 00:00, D+1 00:00) in the customer's time zone; every
 * zone is within ±14 h of UTC, so the UTC window [D-1, D+2) covers it and keeps the
 * orders index usable. Every day of the period gets a row, also days without orders.
 * Only placed orders count: a cancelled order stays in `orders` (the source may revive it)
 * but leaves the reports.
 * A row is final when it is generated after its day ended in the customer's zone (now() is
 * the transaction's start, so a row generated across midnight stays provisional); the
 * start of a day is dayStartSql, the first instant of D also where midnight is skipped or
 * repeated (tested against src/dates.ts).
 */
/**
 * SQL for the first instant of local day `day` (a date expression) in `zone`, as src/dates.ts
 * defines it. `day::timestamp AT TIME ZONE zone` alone is wrong where midnight happens twice
 * (America/Havana on 2026-11-01, Atlantic/Azores on 2026-10-25 turn 01:00 back to 00:00):
 * PostgreSQL takes the second midnight, an hour after the previous day ended, so the nightly
 * run made there at DAILY_REPORTS_AT 00:xx wrote provisional rows nothing ever replaced.
 * 23:00 the evening before, plus an hour, is the first midnight; where midnight is skipped
 * both give the jump.
 */
export function dayStartSql(day: string, zone: string): string {
  return `least(${day}::timestamp AT TIME ZONE ${zone}, ((${day}::timestamp - interval '1 hour') AT TIME ZONE ${zone}) + interval '1 hour')`;
}

const freshRows = `
  WITH target AS (
    -- Converting a fixed instant checks every customer's time zone, also one without orders.
    SELECT id, time_zone, currency FROM customers
     WHERE id = ANY($1::bigint[]) AND (timestamptz '2000-01-01Z' AT TIME ZONE time_zone) IS NOT NULL
  ),
  agg AS (
    SELECT o.customer_id,
           (o.created_at AT TIME ZONE t.time_zone)::date AS report_date,
           count(*)::int AS order_count,
           sum(o.amount_cents)::bigint AS revenue_cents,
           mode() WITHIN GROUP (ORDER BY o.sku) AS top_sku
      FROM orders o
      JOIN target t ON t.id = o.customer_id
     WHERE o.status = 'placed'
       AND o.created_at >= (($2::date - 1)::timestamp AT TIME ZONE 'UTC')
       AND o.created_at <  (($3::date + 2)::timestamp AT TIME ZONE 'UTC')
       AND (o.created_at AT TIME ZONE t.time_zone)::date BETWEEN $2::date AND $3::date
     GROUP BY 1, 2
  )
  SELECT t.id AS customer_id,
         d.day::date AS report_date,
         t.currency,
         coalesce(a.order_count, 0) AS order_count,
         coalesce(a.revenue_cents, 0) AS revenue_cents,
         round(a.revenue_cents::numeric / a.order_count)::bigint AS average_order_cents,
         a.top_sku,
         now() >= ${dayStartSql('(d.day::date + 1)', 't.time_zone')} AS final
    FROM target t
   CROSS JOIN generate_series($2::date, $3::date, interval '1 day') AS d(day)
    LEFT JOIN agg a ON a.customer_id = t.id AND a.report_date = d.day::date`;

export const PURGE_REPORT_ROWS = `
  DELETE FROM daily_reports
   WHERE customer_id = ANY($1::bigint[]) AND report_date BETWEEN $2::date AND $3::date`;

/** $4 is the workflow id recorded on every written row. */
export const INSERT_REPORT_ROWS = `
  INSERT INTO daily_reports
    (customer_id, report_date, currency, order_count, revenue_cents, average_order_cents, top_sku, final, generated_at, workflow_id)
  SELECT customer_id, report_date, currency, order_count, revenue_cents, average_order_cents, top_sku, final, now(), $4
    FROM (${freshRows}) fresh`;

/** Dry run: how many rows a regeneration would add, change or remove, writing nothing. */
export const COUNT_REPORT_CHANGES = `
  WITH fresh AS (${freshRows}),
  current AS (
    SELECT customer_id, report_date, currency, order_count, revenue_cents, average_order_cents, top_sku, final
      FROM daily_reports
     WHERE customer_id = ANY($1::bigint[]) AND report_date BETWEEN $2::date AND $3::date
  )
  SELECT count(*)::int AS changes
    FROM fresh FULL JOIN current USING (customer_id, report_date)
   WHERE fresh IS DISTINCT FROM current`;

/**
 * Locks the customers about to be regenerated, in id order (so concurrent runs cannot
 * deadlock), and returns the ids that exist. Two runs touching the same customer
 * therefore purge and rebuild it one after the other, never interleaved.
 */
export const LOCK_CUSTOMERS_BY_ID = `
  SELECT id FROM customers WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE`;

/** $3: only customers in these time zones (text[]), or null for all. */
export const LOCK_ACTIVE_CUSTOMERS_IN_RANGE = `
  SELECT id FROM customers
   WHERE active AND id BETWEEN $1 AND $2 AND ($3::text[] IS NULL OR time_zone = ANY($3::text[]))
   ORDER BY id FOR NO KEY UPDATE`;
