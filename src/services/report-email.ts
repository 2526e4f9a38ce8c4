import pLimit from 'p-limit';
import type { Transporter } from 'nodemailer';
import type { Pool } from '../db/pool.js';
import type { CustomerFailure } from '../contracts.js';
import { composeReportEmail } from './report-email-message.js';
import { ReportRows, type ReportLine } from './report-rows.js';

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
  /** Customers read, claimed and sent as one chunk (default 500): bounds memory per call. */
  chunkSize?: number;
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

const DEFAULT_CHUNK_SIZE = 500;

interface PreparedChunk {
  /** The reports this run holds a claim on and is to send now. */
  mine: Recipient[];
  rows: Map<number, ReportLine[]>;
  skippedNoOrders: number;
  alreadySent: number;
  /** Sent by an earlier attempt of this run (or, in a dry run, would be sent). */
  sentBefore: number;
}

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
    const total = request.customerIds.length;
    const size = this.options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const chunks: number[][] = [];
    for (let i = 0; i < total; i += size) chunks.push(request.customerIds.slice(i, i + size));
    const limit = pLimit(this.options.concurrency);
    const marker = new SentMarker(this.pool);
    let done = 0;
    let transientError: unknown;
    const sendOne = async (recipient: Recipient, rows: ReportLine[]) => {
      if (transientError) return; // stop starting sends; the activity's retry resumes
      const outcome = await this.send(recipient, rows, request).catch((error: unknown) => {
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
      onProgress?.(++done, total);
    };

    // Chunk by chunk, so memory stays flat however many customers an activity covers. The
    // next chunk is read and claimed while this one sends, and a chunk's sends overlap the
    // previous chunk's last ones, so the SMTP connections never wait for the database.
    const prepare = (ids: number[]) => {
      const prepared = this.prepareChunk(ids, request);
      prepared.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      return prepared;
    };
    let next = chunks.length > 0 ? prepare(chunks[0]!) : undefined;
    let previousSends: Promise<unknown> = Promise.resolve();
    for (let i = 0; next && !transientError; i++) {
      const chunk = await next;
      next = i + 1 < chunks.length ? prepare(chunks[i + 1]!) : undefined;
      result.skippedNoOrders += chunk.skippedNoOrders;
      result.alreadySent += chunk.alreadySent;
      result.sent += chunk.sentBefore;
      done += chunks[i]!.length - chunk.mine.length;
      onProgress?.(done, total);
      const sends = Promise.all(chunk.mine.map((recipient) => limit(() => sendOne(recipient, chunk.rows.get(recipient.id) ?? []))));
      await previousSends;
      previousSends = sends;
    }
    await previousSends;
    await next?.catch(() => undefined); // claimed but not sent: this run's retry renews the claims
    await marker.flush();
    if (transientError) throw transientError;
    return result;
  }

  /** Reads one chunk's recipients and report rows, and claims the reports it is to send. */
  private async prepareChunk(customerIds: number[], request: SendReportEmailsRequest): Promise<PreparedChunk> {
    const [recipients, rows] = await Promise.all([
      this.loadRecipients({ ...request, customerIds }),
      this.reportRows.linesForCustomers(customerIds, request.from, request.to),
    ]);
    const rowsByCustomer = groupByCustomer(rows);
    const chunk: PreparedChunk = { mine: [], rows: rowsByCustomer, skippedNoOrders: 0, alreadySent: 0, sentBefore: 0 };
    const due: Recipient[] = [];
    for (const recipient of recipients) {
      if (!(rowsByCustomer.get(recipient.id) ?? []).some((row) => row.orderCount > 0)) chunk.skippedNoOrders++;
      else if (recipient.recordRunId === null || recipient.recordState === 'sending') due.push(recipient); // claim() decides
      else if (recipient.recordRunId === request.runId) chunk.sentBefore++; // an earlier attempt of this run sent it
      else chunk.alreadySent++;
    }
    if (request.dryRun) {
      chunk.sentBefore += due.length;
      return chunk;
    }
    chunk.mine = await this.claim(due, request);
    chunk.alreadySent += due.length - chunk.mine.length; // held by another run that is still at it
    return chunk;
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

  private async send(recipient: Recipient, rows: ReportLine[], request: SendReportEmailsRequest): Promise<'sent' | { failed: string }> {
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

function groupByCustomer(rows: ReportLine[]): Map<number, ReportLine[]> {
  const byCustomer = new Map<number, ReportLine[]>();
  for (const row of rows) {
    const list = byCustomer.get(row.customerId) ?? [];
    list.push(row);
    byCustomer.set(row.customerId, list);
  }
  return byCustomer;
}
