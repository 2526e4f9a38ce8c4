import type { Pool } from '../../src/db/pool.js';
import { addDays } from '../../src/dates.js';

export const PURGE_CUSTOMERS = [1, 2, 3, 4];

/**
 * Customers 1–4, each with a report row for every day of `from`..`to` and an email record per
 * day (sent at 02:00 UTC the next day, keyed as ReportEmail keys a one-day report), plus two records that must outlive any purge: a resend
 * of the first day sent at `resentAt`, and a claim of the first day still sending.
 */
export async function seedPurgeData(pool: Pool, from: string, to: string, resentAt: string): Promise<void> {
  await pool.query('TRUNCATE report_emails, daily_reports, orders, customers RESTART IDENTITY CASCADE');
  await pool.query(`INSERT INTO customers (id, name, email) SELECT i, 'Customer ' || i, 'c' || i || '@example.com' FROM unnest($1::bigint[]) i`, [PURGE_CUSTOMERS]);
  await pool.query(
    `INSERT INTO daily_reports (customer_id, report_date, currency, order_count, revenue_cents, generated_at, workflow_id, final)
     SELECT c, d::date, 'USD', 1, 100, d + interval '1 day', 'seed', true
       FROM unnest($1::bigint[]) c, generate_series($2::date, $3::date, interval '1 day') d`,
    [PURGE_CUSTOMERS, from, to],
  );
  await pool.query(
    `INSERT INTO report_emails (customer_id, period_from, period_to, idempotency_key, message_id, workflow_id, sent_at, state, claim_token, lease_until)
     SELECT c, d::date, d::date, c || ':' || d::date || ':' || d::date, 'm-' || c || '-' || d::date, 'seed',
            (d::date + 1)::timestamp AT TIME ZONE 'UTC' + interval '2 hours', 'sent', NULL, NULL
       FROM unnest($1::bigint[]) c, generate_series($2::date, $3::date, interval '1 day') d`,
    [PURGE_CUSTOMERS, from, to],
  );
  await pool.query(
    `INSERT INTO report_emails (customer_id, period_from, period_to, idempotency_key, message_id, workflow_id, sent_at, state, claim_token, lease_until)
     VALUES (1, $1, $1, 'resend', 'm-resend', 'seed', $2, 'sent', NULL, NULL),
            (2, $1, $1, 'sending', 'm-sending', 'seed', $3, 'sending', 'attempt', now() + interval '1 hour')`,
    [from, resentAt, `${addDays(from, 1)}T02:00:00Z`],
  );
}

/** Every report row's key and every email record's key, for comparing before and after. */
export async function purgeSnapshot(pool: Pool): Promise<{ reports: string[]; emails: string[] }> {
  const reports = await pool.query<{ key: string }>(`SELECT customer_id || ' ' || report_date AS key FROM daily_reports ORDER BY customer_id, report_date`);
  const emails = await pool.query<{ key: string }>(`SELECT idempotency_key AS key FROM report_emails ORDER BY id`);
  return { reports: reports.rows.map((r) => r.key), emails: emails.rows.map((r) => r.key) };
}
