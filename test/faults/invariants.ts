import type { Pool } from '../../src/db/pool.js';
import { localDayStart, truthRowsSql } from '../support/truth.js';
import { readMailbox } from '../support/mailbox.js';

export interface InvariantReport {
  rowsWrong: number;
  emailsMissing: number;
  /** Customers that received two or more *different* messages for the period. */
  emailsDuplicated: number;
  /** Extra deliveries of a message with the same Message-ID (an unknowable-outcome resend). */
  sameIdRedeliveries: number;
  /** Rows marked final, or final emails sent, before their day had ended in the customer's zone. */
  finalTooEarly: number;
}

/**
 * Checks the outcome with SQL of its own (not the code under test) and with what the SMTP
 * server actually stored: every active customer's rows equal a truth query over the orders,
 * and every active customer with orders got exactly one distinct email for the period.
 */
export async function checkInvariants(pool: Pool, mailDir: string, from: string, to: string): Promise<InvariantReport> {
  const truth = truthRowsSql('c.active');
  const { rows: [wrong] } = await pool.query<{ n: number }>(
    `WITH truth AS (${truth}),
          actual AS (SELECT r.customer_id, r.report_date::text AS report_date, r.order_count, r.revenue_cents
                       FROM daily_reports r JOIN customers c ON c.id = r.customer_id AND c.active
                      WHERE r.report_date BETWEEN $1 AND $2)
     SELECT count(*)::int AS n FROM truth FULL JOIN actual USING (customer_id, report_date)
      WHERE truth.order_count IS DISTINCT FROM actual.order_count OR truth.revenue_cents IS DISTINCT FROM actual.revenue_cents`,
    [from, to],
  );
  const { rows: expected } = await pool.query<{ customer_id: number }>(
    `SELECT customer_id FROM (${truth}) t GROUP BY customer_id HAVING sum(order_count) > 0`,
    [from, to],
  );
  const period = `${from}..${to}`;
  const messages = readMailbox(mailDir).filter((m) => m.period === period);
  const idsByCustomer = new Map<number, Set<string>>();
  for (const message of messages) {
    const ids = idsByCustomer.get(message.customerId) ?? new Set<string>();
    ids.add(message.messageId);
    idsByCustomer.set(message.customerId, ids);
  }
  const distinct = [...idsByCustomer.values()].reduce((sum, ids) => sum + ids.size, 0);
  // The day ends at the first instant of the next local day, computed by PostgreSQL (not src/dates.ts).
  const { rows: [early] } = await pool.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM daily_reports r JOIN customers c ON c.id = r.customer_id
              WHERE r.report_date BETWEEN $1 AND $2 AND r.final
                AND r.generated_at < ${localDayStart('(r.report_date + 1)', 'c.time_zone')})
          + (SELECT count(*) FROM report_emails e JOIN customers c ON c.id = e.customer_id
              WHERE e.period_to BETWEEN $1 AND $2 AND e.state = 'sent' AND e.idempotency_key NOT LIKE '%:provisional:%'
                AND e.sent_at < ${localDayStart('(e.period_to + 1)', 'c.time_zone')}) AS n`,
    [from, to],
  );
  return {
    finalTooEarly: Number(early?.n ?? 0),
    rowsWrong: wrong?.n ?? 0,
    emailsMissing: expected.filter((row) => !idsByCustomer.has(Number(row.customer_id))).length,
    emailsDuplicated: [...idsByCustomer.values()].filter((ids) => ids.size > 1).length,
    sameIdRedeliveries: messages.length - distinct,
  };
}

/**
 * Polls like a reader of the reports would, counting every moment at which an active
 * customer had fewer or more rows for the period than days in it (purged, not rebuilt).
 */
export function startTornReadWatcher(pool: Pool, from: string, to: string, days: number) {
  let stop = false;
  let torn = 0;
  let polls = 0;
  const loop = (async () => {
    while (!stop) {
      try {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             SELECT c.id FROM customers c
               LEFT JOIN daily_reports r ON r.customer_id = c.id AND r.report_date BETWEEN $1 AND $2
              WHERE c.active GROUP BY c.id HAVING count(r.customer_id) <> $3) t`,
          [from, to, days],
        );
        torn += rows[0]?.n ?? 0;
        polls++;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200)); // PostgreSQL down in that scenario
      }
    }
  })();
  return {
    stop: async () => {
      stop = true;
      await loop;
      return { torn, polls };
    },
  };
}
