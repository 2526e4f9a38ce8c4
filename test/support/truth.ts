/**
 * The expected report rows, computed independently of the service's SQL: one correlated
 * aggregate per customer and local day, the simplest statement of what a report is: placed
 * orders only (a cancelled order leaves the reports).
 * $1 first day, $2 last day; `customerFilter` is a condition on `c` (customers).
 */
export function truthRowsSql(customerFilter: string): string {
  const ordersOfDay = `FROM orders o WHERE o.customer_id = c.id AND o.status = 'placed'
                AND o.created_at >= ${localDayStart('d::date', 'c.time_zone')}
                AND o.created_at < ${localDayStart('(d::date + 1)', 'c.time_zone')}`;
  return `SELECT c.id AS customer_id, d::date::text AS report_date, c.currency,
            (SELECT count(*) ${ordersOfDay})::int AS order_count,
            (SELECT coalesce(sum(amount_cents), 0) ${ordersOfDay})::bigint AS revenue_cents
       FROM customers c, generate_series($1::date, $2::date, interval '1 day') d
      WHERE ${customerFilter}`;
}


/**
 * The first instant of local day `day` in `zone`, stated here on its own: midnight, or where
 * midnight is skipped the jump past it, or where it happens twice the first of the two (plain
 * `AT TIME ZONE` takes the second: an hour before it, plus an hour, is the first).
 */
export function localDayStart(day: string, zone: string): string {
  return `least(${day}::timestamp AT TIME ZONE ${zone}, ((${day}::timestamp - interval '1 hour') AT TIME ZONE ${zone}) + interval '1 hour')`;
}
