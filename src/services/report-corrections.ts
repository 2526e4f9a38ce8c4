import { randomUUID } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import { inTransaction, type Pool } from '../db/pool.js';
import { isExcludedCustomer, type ExcludedCustomers } from '../import-orders-contract.js';
import { composeCorrectionEmail, describeChanges, type ReportNumbers } from './correction-email-message.js';
import { AttemptClaims, DEFAULT_LEASE, type ClaimLease, type SendOutcome } from './email-claims.js';

export interface CorrectionsRequest {
  day: string;
  /** The import run that changed the day: one correction per customer, day and revision. */
  revision: string;
}

export interface SendCorrectionsResult {
  sent: number;
  /** Sent by an earlier attempt of the same revision. */
  alreadySent: number;
  /** The day was regenerated but its numbers did not change: no email. */
  unchanged: number;
}

/** Another attempt still holds some of these corrections: this one stops, and its retry sends what is left. */
export class CorrectionsHeldElsewhereError extends Error {
  override name = 'CorrectionsHeldElsewhereError';
}

/**
 * Correction emails for reports already sent. Around the regeneration of a day whose orders
 * changed: `recordBefore` keeps the report of every customer who was sent a final report
 * covering that day, then (the day regenerated) `send` emails each whose numbers changed what
 * changed. Each email is a report_emails record keyed by customer, day and revision, claimed
 * by attempt like every report email (src/services/email-claims.ts): at most once, under
 * every fault. Provisional reports (sent before the day ended) get no correction: the final
 * report follows anyway.
 */
export class ReportCorrections {
  constructor(
    private readonly pool: Pool,
    private readonly transport: Transporter,
    private readonly options: { from: string; lease?: ClaimLease },
  ) {}

  /**
   * Idempotent: a retry (or a repeat) of the same revision keeps the first snapshot. Returns the
   * customers kept. "Before" is what the customer last read: an earlier revision of the day
   * whose correction was never sent (its send gave up, or its day's run failed) hands over its
   * own "before" and is superseded by this one, so one correction covers both changes; without
   * one, the report as it stands (the final report sent, or the last correction's "now").
   */
  async recordBefore(request: CorrectionsRequest & { customerIds: number[] | null }): Promise<number> {
    return inTransaction(this.pool, async (client) => {
      // One revision of a day at a time: two imports recording different revisions of the same
      // day would each miss the other's uncommitted rows and both start from the same "before".
      await client.query("SELECT pg_advisory_xact_lock(hashtext('report-corrections:' || $1))", [request.day]);
      const { rowCount } = await client.query(
        `INSERT INTO report_corrections (customer_id, report_date, revision, currency, old_order_count, old_revenue_cents, old_top_sku)
         SELECT DISTINCT ON (e.customer_id) e.customer_id, $1::date, $3, c.currency,
                CASE WHEN u.id IS NOT NULL THEN u.old_order_count ELSE coalesce(r.order_count, 0) END,
                CASE WHEN u.id IS NOT NULL THEN u.old_revenue_cents ELSE coalesce(r.revenue_cents, 0) END,
                CASE WHEN u.id IS NOT NULL THEN u.old_top_sku ELSE r.top_sku END
           FROM report_emails e
           JOIN customers c ON c.id = e.customer_id
           LEFT JOIN daily_reports r ON r.customer_id = e.customer_id AND r.report_date = $1::date
           -- The earliest correction of this customer and day still due (not sent by any attempt).
           LEFT JOIN LATERAL (
             SELECT k.id, k.old_order_count, k.old_revenue_cents, k.old_top_sku FROM report_corrections k
              WHERE k.customer_id = e.customer_id AND k.report_date = $1::date AND k.state = 'pending' AND k.revision < $3
                -- Not sent, and not being sent: an attempt that holds its claim (leased) may still send it.
                AND NOT EXISTS (SELECT 1 FROM report_emails s
                                  WHERE s.idempotency_key = k.customer_id || ':' || $4 || ':' || $4 || ':correction:' || k.revision
                                    AND (s.state = 'sent' OR (s.claim_token IS NOT NULL AND s.lease_until > now())))
              ORDER BY k.id LIMIT 1
           ) u ON true
          WHERE e.state = 'sent' AND e.period_from <= $1::date AND e.period_to >= $1::date
            -- The final report's own key (customer:from:to): not a resend, a provisional email or a correction.
            AND e.idempotency_key = e.customer_id || ':' || to_char(e.period_from, 'YYYY-MM-DD') || ':' || to_char(e.period_to, 'YYYY-MM-DD')
            AND ($2::bigint[] IS NULL OR e.customer_id = ANY($2::bigint[]))
          ORDER BY e.customer_id
         ON CONFLICT (customer_id, report_date, revision) DO NOTHING`,
        [request.day, request.customerIds, request.revision, request.day],
      );
      // Earlier revisions still due for the customers this one covers: this one's email says it all.
      // (One whose email went out after all is recorded as sent, not superseded.)
      // (Only older revisions, and only ones no attempt has claimed: a claim may still be sent.
      // The key is built from the text parameter, not the date, so DateStyle cannot change it.)
      await client.query(
        `UPDATE report_corrections k SET state = 'superseded'
          WHERE k.report_date = $1::date AND k.state = 'pending' AND k.revision < $2
            AND EXISTS (SELECT 1 FROM report_corrections n WHERE n.customer_id = k.customer_id AND n.report_date = k.report_date AND n.revision = $2)
            AND NOT EXISTS (SELECT 1 FROM report_emails s
                              WHERE s.idempotency_key = k.customer_id || ':' || $3 || ':' || $3 || ':correction:' || k.revision
                                AND (s.state = 'sent' OR (s.claim_token IS NOT NULL AND s.lease_until > now())))`,
        [request.day, request.revision, request.day],
      );
      return rowCount ?? 0;
    });
  }

  /**
   * Emails the pending corrections of this day and revision whose numbers changed. Those of
   * `except` (customers whose regeneration failed: their report was not rebuilt) are left
   * pending, untouched, for the import that regenerates them.
   */
  async send(request: CorrectionsRequest & { except?: ExcludedCustomers; workflowId: string; runId: string; attemptToken?: string; signal?: AbortSignal; onSent?: (outcome: SendOutcome) => void }): Promise<SendCorrectionsResult> {
    const result: SendCorrectionsResult = { sent: 0, alreadySent: 0, unchanged: 0 };
    const { rows: read } = await this.pool.query<{
      id: number; customer_id: number; name: string; email: string; currency: string;
      old_order_count: number; old_revenue_cents: number; old_top_sku: string | null;
      new_order_count: number; new_revenue_cents: number; new_top_sku: string | null;
    }>(
      `SELECT k.id, k.customer_id::int, c.name, c.email, k.currency, k.old_order_count, k.old_revenue_cents::float8 AS old_revenue_cents, k.old_top_sku,
              coalesce(r.order_count, 0) AS new_order_count, coalesce(r.revenue_cents, 0)::float8 AS new_revenue_cents, r.top_sku AS new_top_sku
         FROM report_corrections k
         JOIN customers c ON c.id = k.customer_id
         LEFT JOIN daily_reports r ON r.customer_id = k.customer_id AND r.report_date = k.report_date
        WHERE k.revision = $1 AND k.report_date = $2::date AND k.state = 'pending'
        ORDER BY k.customer_id`,
      [request.revision, request.day],
    );
    // Compared with a report that was not rebuilt, a correction would read "unchanged" and never be sent.
    const rows = read.filter((row) => !isExcludedCustomer(request.except, row.customer_id));
    const numbers = (prefix: 'old' | 'new', row: (typeof rows)[number]): ReportNumbers => ({
      orderCount: row[`${prefix}_order_count`], revenueCents: row[`${prefix}_revenue_cents`], topSku: row[`${prefix}_top_sku`],
    });
    const changed = rows.filter((row) => describeChanges(numbers('old', row), numbers('new', row), row.currency).length > 0);
    const unchangedIds = rows.filter((row) => !changed.includes(row)).map((row) => row.id);
    if (unchangedIds.length > 0) {
      await this.pool.query(`UPDATE report_corrections SET state = 'unchanged' WHERE id = ANY($1::bigint[])`, [unchangedIds]);
      result.unchanged = unchangedIds.length;
    }
    if (changed.length === 0) return result;

    const keyOf = (row: (typeof rows)[number]) => `${row.customer_id}:${request.day}:${request.day}:correction:${request.revision}`;
    const claims = new AttemptClaims(this.pool, request.attemptToken ?? randomUUID(), { from: request.day, to: request.day, workflowId: request.workflowId, runId: request.runId }, this.options.lease ?? DEFAULT_LEASE);
    const due = changed.map((row) => ({ customerId: row.customer_id, key: keyOf(row), messageId: messageIdFor(keyOf(row)) }));
    const held = await claims.claim(due);
    // A later revision may have superseded some between the read above and the claim (it only
    // supersedes rows nobody has claimed): those are the later revision's to tell, not ours.
    const { rows: still } = await this.pool.query<{ id: number }>(`SELECT id FROM report_corrections WHERE id = ANY($1::bigint[]) AND state = 'pending'`, [changed.map((row) => row.id)]);
    const stillPending = new Set(still.map((row) => Number(row.id)));
    // Sent, but the mark failed: their claims stay leased, so no retry resends them before the lease runs out.
    const sentUnmarked: string[] = [];
    try {
      for (const row of changed) {
        const key = keyOf(row);
        if (!held.has(key)) continue;
        if (!stillPending.has(Number(row.id))) {
          await claims.drop(key);
          continue;
        }
        if (request.signal?.aborted) throw request.signal.reason ?? new Error('sending corrections was aborted');
        if (!(await claims.maySend(key))) continue;
        const content = composeCorrectionEmail(row.name, request.day, row.currency, numbers('old', row), numbers('new', row));
        await this.transport.sendMail({
          from: this.options.from,
          to: { name: row.name, address: row.email },
          messageId: messageIdFor(key),
          headers: { 'X-Report-Customer': String(row.customer_id), 'X-Report-Period': `${request.day}..${request.day}`, 'X-Report-Correction': request.revision },
          ...content,
        });
        request.onSent?.(claims.sentOutcome(key)); // as the server accepted it, whether or not the mark below succeeds
        await claims.markSent([key]).catch((error: unknown) => {
          sentUnmarked.push(key);
          throw error;
        });
        await this.pool.query(`UPDATE report_corrections SET state = 'emailed' WHERE id = $1`, [row.id]);
        result.sent++;
      }
    } finally {
      await claims.release(sentUnmarked);
    }
    // The ones this attempt did not hold: sent by an earlier attempt, or held by one still alive.
    const missed = changed.filter((row) => !held.has(keyOf(row)) && stillPending.has(Number(row.id)));
    if (missed.length > 0) {
      const { rows: records } = await this.pool.query<{ idempotency_key: string; state: string }>(
        'SELECT idempotency_key, state FROM report_emails WHERE idempotency_key = ANY($1::text[])',
        [missed.map(keyOf)],
      );
      const sentKeys = new Set(records.filter((record) => record.state === 'sent').map((record) => record.idempotency_key));
      const done = missed.filter((row) => sentKeys.has(keyOf(row)));
      if (done.length > 0) await this.pool.query(`UPDATE report_corrections SET state = 'emailed' WHERE id = ANY($1::bigint[])`, [done.map((row) => row.id)]);
      result.alreadySent = done.length;
      if (done.length < missed.length) {
        throw new CorrectionsHeldElsewhereError(`${missed.length - done.length} corrections of ${request.day} are held by another attempt that may still be sending; retrying after its lease`);
      }
    }
    return result;
  }
}

/** Stable per correction: a redelivery carries the same Message-ID. */
function messageIdFor(key: string): string {
  return `<correction.${key.replace(/[^A-Za-z0-9.-]+/g, '.')}@durable-jobs>`;
}
