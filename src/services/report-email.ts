import pLimit from 'p-limit';
import type { Transporter } from 'nodemailer';
import type { Pool } from '../db/pool.js';
import type { CustomerFailure } from '../contracts.js';
import { composeReportEmail } from './report-email-message.js';
import { ReportRows, type ReportRow } from './report-rows.js';

export interface SendReportEmailsRequest {
  customerIds: number[];
  from: string;
  to: string;
  /** Send even if this period's report was already sent (once more per workflow run). */
  resend: boolean;
  /** The workflow id, recorded with the send. */
  workflowId: string;
  /** The run's first execution id: a retry of this run skips what it sent; a resend is once per run. */
  runId: string;
  dryRun: boolean;
}

export interface SendReportEmailsResult {
  sent: number;
  alreadySent: number;
  skippedNoOrders: number;
  failures: CustomerFailure[];
}

export interface ReportEmailOptions {
  from: string;
  /** Messages in flight at once; the transport's pool bounds connections. */
  concurrency: number;
}

interface Recipient {
  id: number;
  name: string;
  email: string;
  key: string;
  /** The existing record for this key, if any. */
  recordRunId: string | null;
  recordState: 'sending' | 'sent' | null;
}

/** Successful sends are marked in groups of this many (and at the end). */
const MARK_EVERY = 50;

/**
 * A claim another run has held this long without finishing is taken over: that run was
 * terminated, or has been failing for longer than its retries wait (the takeover resends with
 * the same Message-ID). A live run renews its claims on every attempt.
 */
const STALE_CLAIM = '15 minutes';

/**
 * Sends report emails at most once per customer and period (once more per run with resend).
 *
 * Before sending, one statement claims every report to send (a `report_emails` row in state
 * `sending`, keyed by customer + period); only the run holding a claim sends it, so a second
 * run, a concurrent run or a retry of another run skips it. Sent messages are marked `sent` in
 * groups. If the worker dies between a send and its mark, the run's retry sends the claimed
 * report again with the same Message-ID, so receivers can drop the redelivery — no sender
 * can know whether a message whose "250 OK" was lost arrived.
 */
export class ReportEmail {
  private readonly reportRows: ReportRows;

  constructor(
    private readonly pool: Pool,
    private readonly transport: Transporter,
    private readonly options: ReportEmailOptions,
  ) {
    this.reportRows = new ReportRows(pool);
  }

  async sendReports(request: SendReportEmailsRequest, onProgress?: (done: number, total: number) => void): Promise<SendReportEmailsResult> {
    const result: SendReportEmailsResult = { sent: 0, alreadySent: 0, skippedNoOrders: 0, failures: [] };
    const recipients = await this.loadRecipients(request);
    const rowsByCustomer = groupByCustomer(await this.reportRows.forCustomers(request.customerIds, request.from, request.to));
    const due: Recipient[] = [];
    for (const recipient of recipients) {
      if (!(rowsByCustomer.get(recipient.id) ?? []).some((row) => row.orderCount > 0)) result.skippedNoOrders++;
      else if (recipient.recordRunId === null || recipient.recordState === 'sending') due.push(recipient); // claim() decides
      else if (recipient.recordRunId === request.runId) result.sent++; // an earlier attempt of this run sent it
      else result.alreadySent++;
    }
    if (request.dryRun) {
      result.sent += due.length;
      return result;
    }
    const mine = await this.claim(due, request);
    result.alreadySent += due.length - mine.length; // held by another run that is still at it

    const limit = pLimit(this.options.concurrency);
    const marker = new SentMarker(this.pool);
    let done = recipients.length - mine.length;
    let transientError: unknown;
    await Promise.all(
      mine.map((recipient) =>
        limit(async () => {
          if (transientError) return; // stop starting sends; the activity's retry resumes
          const outcome = await this.send(recipient, rowsByCustomer.get(recipient.id) ?? [], request).catch((error: unknown) => {
            transientError ??= error;
            return 'transient' as const;
          });
          if (outcome === 'sent') {
            result.sent++;
            await marker.add(recipient.key).catch((error: unknown) => void (transientError ??= error));
          } else if (outcome !== 'transient') {
            await this.pool.query(`DELETE FROM report_emails WHERE idempotency_key = $1 AND state = 'sending'`, [recipient.key]);
            result.failures.push({ customerId: recipient.id, step: 'email', reason: outcome.failed });
          }
          onProgress?.(++done, recipients.length);
        }),
      ),
    );
    await marker.flush();
    if (transientError) throw transientError;
    return result;
  }

  private async loadRecipients(request: SendReportEmailsRequest): Promise<Recipient[]> {
    // Records from before run ids were kept have none: they count as another run's ('').
    const { rows } = await this.pool.query<{ id: number; name: string; email: string; run_id: string | null; state: 'sending' | 'sent' | null }>(
      `SELECT c.id, c.name, c.email, CASE WHEN e.id IS NOT NULL THEN coalesce(e.run_id, '') END AS run_id, e.state
         FROM customers c
         LEFT JOIN report_emails e ON e.idempotency_key = c.id || ':' || $2 || ':' || $3 || $4
        WHERE c.id = ANY($1::bigint[])
        ORDER BY c.id`,
      [request.customerIds, request.from, request.to, request.resend ? `:resend:${request.runId}` : ''],
    );
    return rows.map((row) => ({
      id: row.id, name: row.name, email: row.email,
      key: idempotencyKey(row.id, request), recordRunId: row.run_id, recordState: row.state,
    }));
  }

  /**
   * Claims every due report: inserts the new ones, then renews this run's own claims (from an
   * earlier attempt) and takes over stale ones. Returns the reports this run now holds.
   */
  private async claim(due: Recipient[], request: SendReportEmailsRequest): Promise<Recipient[]> {
    if (due.length === 0) return [];
    const keys = due.map((r) => r.key);
    await this.pool.query(
      `INSERT INTO report_emails (customer_id, period_from, period_to, idempotency_key, message_id, workflow_id, run_id, state)
       SELECT customer_id, $2::date, $3::date, key, message_id, $4, $5, 'sending'
         FROM unnest($1::bigint[], $6::text[], $7::text[]) AS t(customer_id, key, message_id)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [due.map((r) => r.id), request.from, request.to, request.workflowId, request.runId, keys, keys.map(messageIdFor)],
    );
    // sent_at holds the claim's time while the state is 'sending'.
    const { rows } = await this.pool.query<{ idempotency_key: string }>(
      `UPDATE report_emails SET run_id = $2, workflow_id = $3, sent_at = now()
        WHERE idempotency_key = ANY($1::text[]) AND state = 'sending'
          AND (run_id = $2 OR sent_at < now() - $4::interval)
       RETURNING idempotency_key`,
      [keys, request.runId, request.workflowId, STALE_CLAIM],
    );
    const held = new Set(rows.map((row) => row.idempotency_key));
    return due.filter((recipient) => held.has(recipient.key));
  }

  private async send(recipient: Recipient, rows: ReportRow[], request: SendReportEmailsRequest): Promise<'sent' | { failed: string }> {
    const content = composeReportEmail(recipient.name, request.from, request.to, rows);
    try {
      await this.transport.sendMail({
        from: this.options.from,
        to: { name: recipient.name, address: recipient.email },
        messageId: messageIdFor(recipient.key),
        headers: { 'X-Report-Customer': String(recipient.id), 'X-Report-Period': `${request.from}..${request.to}` },
        ...content,
      });
      return 'sent';
    } catch (error) {
      // A permanent rejection (5xx) of this message is this recipient's failure; anything
      // else is retried. A failed login (EAUTH, 535) is configuration, not the recipient.
      const { responseCode: code, code: kind } = error as { responseCode?: number; code?: string };
      if (kind !== 'EAUTH' && code !== undefined && code >= 500 && code < 600) return { failed: `SMTP rejected the message (${code})` };
      throw error;
    }
  }
}

/** Marks sent reports in groups, so a send costs no database round trip of its own. */
class SentMarker {
  private pending: string[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly pool: Pool) {}

  add(key: string): Promise<void> {
    this.pending.push(key);
    return this.pending.length >= MARK_EVERY ? this.flush() : Promise.resolve();
  }

  flush(): Promise<void> {
    const keys = this.pending;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      if (keys.length > 0) {
        await this.pool.query(`UPDATE report_emails SET state = 'sent', sent_at = now() WHERE idempotency_key = ANY($1::text[])`, [keys]);
      }
    });
    return this.writing;
  }
}

function idempotencyKey(customerId: number, request: SendReportEmailsRequest): string {
  const base = `${customerId}:${request.from}:${request.to}`;
  return request.resend ? `${base}:resend:${request.runId}` : base;
}

/** Stable per report (and per resend run): a redelivery carries the same Message-ID. */
function messageIdFor(key: string): string {
  return `<report.${key.replace(/[^A-Za-z0-9.-]+/g, '.')}@durable-jobs>`;
}

function groupByCustomer(rows: ReportRow[]): Map<number, ReportRow[]> {
  const byCustomer = new Map<number, ReportRow[]>();
  for (const row of rows) {
    const list = byCustomer.get(row.customerId) ?? [];
    list.push(row);
    byCustomer.set(row.customerId, list);
  }
  return byCustomer;
}
