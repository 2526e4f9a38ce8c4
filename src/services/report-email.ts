import pLimit from 'p-limit';
import type { Transporter } from 'nodemailer';
import { inTransaction, type Pool } from '../db/pool.js';
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

/**
 * Sends report emails at most once per customer and period. The send happens inside the
 * transaction that records it: a concurrent or retried send of the same report waits on that
 * row and then skips. If the process dies after the SMTP server accepted a message but before
 * the commit, the retry sends again with the same Message-ID so receivers can drop it.
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
    const limit = pLimit(this.options.concurrency);
    let done = 0;
    await Promise.all(
      recipients.map((recipient) =>
        limit(async () => {
          const rows = rowsByCustomer.get(recipient.id) ?? [];
          if (!rows.some((row) => row.orderCount > 0)) result.skippedNoOrders++;
          else if (recipient.sentBy === request.runId && !request.resend) result.sent++;
          else if (recipient.sentBy !== null && !request.resend) result.alreadySent++;
          else if (request.dryRun) result.sent++;
          else {
            const outcome = await this.sendOnce(recipient, rows, request);
            if (outcome === 'sent') result.sent++;
            else if (outcome === 'already-sent') result.alreadySent++;
            else result.failures.push({ customerId: recipient.id, step: 'email', reason: outcome.failed });
          }
          onProgress?.(++done, recipients.length);
        }),
      ),
    );
    return result;
  }

  private async loadRecipients(request: SendReportEmailsRequest) {
    // A record from this same run means an earlier attempt of this activity sent it:
    // that counts as sent by this run, not as sent before.
    const { rows } = await this.pool.query<{ id: number; name: string; email: string; sentBy: string | null }>(
      `SELECT c.id, c.name, c.email, CASE WHEN e.id IS NULL THEN NULL ELSE coalesce(e.run_id, '') END AS "sentBy"
         FROM customers c
         LEFT JOIN report_emails e ON e.idempotency_key = c.id || ':' || $2 || ':' || $3
        WHERE c.id = ANY($1::bigint[])
        ORDER BY c.id`,
      [request.customerIds, request.from, request.to],
    );
    return rows;
  }

  private async sendOnce(
    recipient: { id: number; name: string; email: string },
    rows: ReportRow[],
    request: SendReportEmailsRequest,
  ): Promise<'sent' | 'already-sent' | { failed: string }> {
    const key = idempotencyKey(recipient.id, request);
    const messageId = `<report.${key.replace(/[^A-Za-z0-9.-]+/g, '.')}@durable-jobs>`;
    return inTransaction(this.pool, async (client) => {
      const claimed = await client.query(
        `INSERT INTO report_emails (customer_id, period_from, period_to, idempotency_key, message_id, workflow_id, run_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [recipient.id, request.from, request.to, key, messageId, request.workflowId, request.runId],
      );
      if (claimed.rowCount === 0) {
        const { rows: [record] } = await client.query<{ run_id: string | null }>('SELECT run_id FROM report_emails WHERE idempotency_key = $1', [key]);
        return record?.run_id === request.runId ? ('sent' as const) : ('already-sent' as const);
      }
      const content = composeReportEmail(recipient.name, request.from, request.to, rows);
      try {
        await this.transport.sendMail({
          from: this.options.from,
          to: { name: recipient.name, address: recipient.email },
          messageId,
          headers: { 'X-Report-Customer': String(recipient.id), 'X-Report-Period': `${request.from}..${request.to}` },
          ...content,
        });
      } catch (error) {
        // A permanent rejection (5xx) of this message is this recipient's failure; anything
        // else is retried. A failed login (EAUTH, 535) is configuration, not the recipient.
        const { responseCode: code, code: kind } = error as { responseCode?: number; code?: string };
        if (kind !== 'EAUTH' && code !== undefined && code >= 500 && code < 600) {
          throw new PermanentSendFailure(`SMTP rejected the message (${code})`);
        }
        throw error;
      }
      return 'sent' as const;
    }).catch((error: unknown) => {
      if (error instanceof PermanentSendFailure) return { failed: error.message };
      throw error;
    });
  }
}

class PermanentSendFailure extends Error {}

function idempotencyKey(customerId: number, request: SendReportEmailsRequest): string {
  const base = `${customerId}:${request.from}:${request.to}`;
  return request.resend ? `${base}:resend:${request.runId}` : base;
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
