import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import type { SendMailOptions, Transporter } from 'nodemailer';
import type { Pool } from '../db/pool.js';
import type { CustomerFailure } from '../contracts.js';
import { AttemptClaims, DEFAULT_LEASE, EmailAttemptOutOfTimeError, type ClaimLease, ReportsHeldElsewhereError, type SendOutcome } from './email-claims.js';
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
  /**
   * Names this attempt (unique per activity attempt): the claims it takes carry it, and only
   * the attempt holding a claim sends that report. A call without one is an attempt of its own.
   */
  attemptToken?: string;
  dryRun: boolean;
}

export interface SendReportEmailsResult {
  sent: number;
  alreadySent: number;
  skippedNoOrders: number;
  failures: CustomerFailure[];
}

export interface SendReportsOptions {
  onProgress?: (done: number, total: number) => void;
  /** Hears about each message this call handed to SMTP, as its SMTP exchange ends (for metrics). */
  onMessage?: (outcome: SendOutcome) => void;
  /**
   * Aborting stops new sends: the call waits for the sends in flight, marks them, releases
   * the claims it did not send and throws the signal's reason.
   */
  signal?: AbortSignal;
  /** Local time (ms since the epoch) after which no send starts; the call then stops the same way. */
  sendUntil?: number;
  /**
   * Local time until which reports held by another attempt are waited for, once everything
   * else is done: the call tries to claim them again every HELD_RETRY_MS, and sends them as
   * soon as their holder has stopped and released them or its lease has run out. Without it
   * (or once it has passed) the call fails retryably with ReportsHeldElsewhereError.
   */
  waitForHeldUntil?: number;
}

export interface ReportEmailOptions {
  from: string;
  /**
   * Messages in flight at once; at most the transport pool's connections (more are not used):
   * a message nodemailer queues behind a busy connection starts its SMTP exchange later,
   * unchecked, possibly after the call was told to stop or after its lease's deadline.
   */
  concurrency: number;
  /** Customers read, claimed and sent as one chunk (default 500): bounds memory per call. */
  chunkSize?: number;
  /** How long claims are leased (default CLAIM_LEASE_MS); tests shorten it. */
  claimLease?: ClaimLease;
}

interface Recipient {
  id: number;
  name: string;
  email: string;
  key: string;
  /** The existing record for this key, if any. */
  recordRunId: string | null;
  recordState: 'sending' | 'sent' | null;
  /** The retention purge may have deleted this report's record (see loadCandidates). */
  purged: boolean;
}

/** A customer to email, with the records of both reports it may get: the final one and this run's provisional one. */
interface Candidate {
  id: number;
  name: string;
  email: string;
  purged: boolean;
  final: Pick<Recipient, 'key' | 'recordRunId' | 'recordState'>;
  provisional: Pick<Recipient, 'key' | 'recordRunId' | 'recordState'>;
}

/** Successful sends are marked in groups of this many (and at the end). */
const MARK_EVERY = 50;

const DEFAULT_CHUNK_SIZE = 500;

/** How often a call checks whether its claims are due for renewal while its sends run. */
const RENEW_CHECK_MS = 2_000;

/** Pause between tries to mark sent reports after a mark failed (the database restarting). */
const MARK_RETRY_MS = 250;

/** Pause between tries to claim reports another attempt holds (see waitForHeldUntil). */
const HELD_RETRY_MS = 1_000;

interface PreparedChunk {
  /** The reports this attempt holds a claim on and is to send now. */
  mine: Recipient[];
  rows: Map<number, ReportLine[]>;
  skippedNoOrders: number;
  alreadySent: number;
  /** Sent by an earlier attempt of this run (or, in a dry run, would be sent). */
  sentBefore: number;
  /** Customers whose report an earlier attempt of this run has claimed and may still be sending. */
  heldByThisRun: number[];
  /** Customers whose report another run has claimed and may still be sending. */
  heldByOtherRuns: number[];
}

/**
 * Sends report emails at most once per customer and period (once more per run with resend).
 *
 * Before sending, one statement claims a chunk's reports for this attempt (`report_emails`
 * rows in state `sending`, keyed by customer + period, carrying the attempt's token and a
 * lease; see AttemptClaims). Only the attempt holding a claim sends it, and only while its
 * lease cannot have lapsed; sent messages are marked `sent` in groups. A report claimed by
 * someone else is neither sent nor counted: after doing the rest the call waits for it (until
 * waitForHeldUntil), then fails with a retryable ReportsHeldElsewhereError. Only a claim's
 * holder releases it (when it stops) or its lease runs out: nothing frees the claims of a run
 * because the run ended, since one of its attempts may still be sending them. If the worker dies between a send and its
 * mark, the report is sent again with the same Message-ID once the lease has run out, so
 * receivers can drop the redelivery — no sender can know whether a message whose "250 OK"
 * was lost arrived.
 */
export class ReportEmail {
  private readonly reportRows: ReportRows;

  constructor(
    private readonly pool: Pool,
    private readonly transport: Transporter,
    private readonly options: ReportEmailOptions,
  ) {
    this.reportRows = new ReportRows(pool);
    // MAIL FROM takes the bare address of the From header ("Daily reports <reports@…>").
    const [sender] = addressparser(options.from, { flatten: true });
    if (!sender?.address) throw new Error(`MAIL_FROM must name an email address, got '${options.from}'`);
    this.envelopeFrom = sender.address;
  }

  private readonly envelopeFrom: string;

  async sendReports(request: SendReportEmailsRequest, options: SendReportsOptions = {}): Promise<SendReportEmailsResult> {
    const { onProgress, onMessage, signal, sendUntil, waitForHeldUntil } = options;
    const result: SendReportEmailsResult = { sent: 0, alreadySent: 0, skippedNoOrders: 0, failures: [] };
    const total = request.customerIds.length;
    const size = this.options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const limit = pLimit(sendSlots(this.transport, this.options.concurrency));
    const lease = this.options.claimLease ?? DEFAULT_LEASE;
    const claims = new AttemptClaims(this.pool, request.attemptToken ?? randomUUID(), request, lease);
    // Customers whose report another attempt holds (this round): neither sent nor counted.
    let held = { thisRun: [] as number[], otherRuns: [] as number[] };
    let done = 0;
    let sentNow = 0;

    // The first failure (or the abort, or the attempt's time running out) stops new sends;
    // everything already started still finishes and is marked before the call throws it.
    let failure: { error: unknown } | undefined;
    const stop = (error: unknown) => void (failure ??= { error });
    const onAbort = () => stop(signal?.reason ?? new Error('sending report emails was aborted'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort);
    const marker = new SentMarker(claims, stop);
    // Keeps the claims leased while long sends run and no new one starts to renew them.
    const renewal = setInterval(() => void claims.renewIfDue().catch(stop), Math.min(RENEW_CHECK_MS, (lease.ms - lease.safetyMarginMs) / 4));

    const mayStart = async (recipient: Recipient): Promise<boolean> => {
      if (failure) return false;
      if (sendUntil !== undefined && Date.now() >= sendUntil) {
        stop(new EmailAttemptOutOfTimeError(sentNow));
        return false;
      }
      if (await claims.maySend(recipient.key)) return !failure;
      held.otherRuns.push(recipient.id); // its lease lapsed and someone else took it over
      return false;
    };
    // A send is handed to nodemailer only when a connection is free (the limit) and this attempt
    // may still send it, so no message waits in nodemailer's queue past a stop (see sendSlots).
    // nodemailer composes the MIME as it streams it: a message built ahead into a buffer was
    // streamed through nodemailer a second time (~0.13 ms of CPU a message, BENCHMARKS.md).
    const sendOne = async (recipient: Recipient, rows: ReportLine[]) => {
      try {
        if (!(await mayStart(recipient))) return;
        const outcome = await this.send(this.message(recipient, rows, request));
        if (outcome === 'sent') {
          sentNow++;
          result.sent++;
          marker.add(recipient.key);
          onMessage?.(claims.sentOutcome(recipient.key));
        } else {
          onMessage?.('refused');
          result.failures.push({ customerId: recipient.id, step: 'email', reason: outcome.failed });
          await claims.drop(recipient.key);
        }
        onProgress?.(++done, total);
      } catch (error) {
        stop(error); // a 4xx, a lost connection, a failed DELETE: the activity's retry continues
      }
    };

    // Chunk by chunk, so memory stays flat however many customers an activity covers. The
    // next chunk is read and claimed while this one sends, and a chunk's sends overlap the
    // previous chunk's last ones, so the SMTP connections never wait for the database.
    const prepare = (ids: number[]) => {
      const prepared = this.prepareChunk(ids, request, claims);
      prepared.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
      return prepared;
    };
    const sending: Array<Promise<unknown>> = [];
    let next: Promise<PreparedChunk> | undefined;
    const sendAll = async (customerIds: number[]) => {
      const chunks: number[][] = [];
      for (let i = 0; i < customerIds.length; i += size) chunks.push(customerIds.slice(i, i + size));
      next = chunks.length > 0 ? prepare(chunks[0]!) : undefined;
      let previousSends: Promise<unknown> = Promise.resolve();
      for (let i = 0; next && !failure; i++) {
        let chunk: PreparedChunk;
        try {
          chunk = await next;
        } catch (error) {
          stop(error);
          break;
        } finally {
          next = undefined;
        }
        if (!failure && i + 1 < chunks.length) next = prepare(chunks[i + 1]!);
        result.skippedNoOrders += chunk.skippedNoOrders;
        result.alreadySent += chunk.alreadySent;
        result.sent += chunk.sentBefore;
        held.thisRun.push(...chunk.heldByThisRun);
        held.otherRuns.push(...chunk.heldByOtherRuns);
        done += chunks[i]!.length - chunk.mine.length - chunk.heldByThisRun.length - chunk.heldByOtherRuns.length;
        onProgress?.(done, total);
        const sends = Promise.all(chunk.mine.map((recipient) => limit(() => sendOne(recipient, chunk.rows.get(recipient.id) ?? []))));
        sending.push(sends);
        await previousSends; // sendOne never rejects
        previousSends = sends;
      }
      await Promise.all(sending);
    };
    const heldCount = () => held.thisRun.length + held.otherRuns.length;
    const mayWaitForHeld = () => !failure && waitForHeldUntil !== undefined && Date.now() + HELD_RETRY_MS < waitForHeldUntil;
    try {
      await sendAll(request.customerIds);
      // Reports another attempt holds: once it stops it releases them, or its lease runs out;
      // tried again within this attempt, so a rerun converges however few retries it has.
      while (heldCount() > 0 && mayWaitForHeld()) {
        await pause(HELD_RETRY_MS, signal);
        if (failure) break;
        const retry = [...held.thisRun, ...held.otherRuns].sort((a, b) => a - b);
        held = { thisRun: [], otherRuns: [] };
        await sendAll(retry);
      }
    } finally {
      // Every way out: no send left running, every sent report marked, every claim of this
      // attempt that it did not send released for the retry (or another run) to take at once.
      await Promise.all(sending);
      await (next as Promise<PreparedChunk> | undefined)?.catch(() => undefined);
      clearInterval(renewal);
      signal?.removeEventListener('abort', onAbort);
      await marker.flush();
      // A mark that failed (the database restarting mid-chunk) is tried again for as long as
      // this attempt's lease keeps everyone else off those reports: left unmarked, they would
      // be taken over once the lease ran out and sent again.
      while (marker.unmarked().length > 0 && claims.leaseHolds()) {
        await new Promise((resolve) => setTimeout(resolve, MARK_RETRY_MS));
        await marker.flush();
      }
      if (!request.dryRun) await claims.release(marker.unmarked()).catch(stop);
    }
    if (failure) throw failure.error;
    if (heldCount() > 0) throw new ReportsHeldElsewhereError(held.thisRun.length, held.otherRuns.length);
    return result;
  }

  /** Reads one chunk's recipients and report rows, and claims the reports it is to send. */
  private async prepareChunk(customerIds: number[], request: SendReportEmailsRequest, claims: AttemptClaims): Promise<PreparedChunk> {
    const [candidates, rows] = await Promise.all([
      this.loadCandidates({ ...request, customerIds }),
      this.reportRows.linesForCustomers(customerIds, request.from, request.to),
    ]);
    const rowsByCustomer = groupByCustomer(rows);
    // The rows the email shows decide which report it is: one with a day not yet over where the
    // customer is says "so far" and is keyed per run, so it never stands in for the final one.
    const recipients = candidates.map(({ final, provisional, ...customer }): Recipient => ({
      ...customer,
      ...((rowsByCustomer.get(customer.id) ?? []).every((row) => row.final) ? final : provisional),
    }));
    const chunk: PreparedChunk = { mine: [], rows: rowsByCustomer, skippedNoOrders: 0, alreadySent: 0, sentBefore: 0, heldByThisRun: [], heldByOtherRuns: [] };
    const due: Recipient[] = [];
    for (const recipient of recipients) {
      if (!(rowsByCustomer.get(recipient.id) ?? []).some((row) => row.orderCount > 0)) chunk.skippedNoOrders++;
      // No record, but the purge deleted records of this period or later: it was sent, or
      // nobody can tell any more, and a second copy is worse than none. A record, even a
      // claim, speaks for itself (the purge never deletes a claim).
      else if (recipient.recordState === null && recipient.purged) chunk.alreadySent++;
      else if (recipient.recordState !== 'sent') due.push(recipient); // the claim decides
      else countSent(chunk, recipient.recordRunId, request.runId);
    }
    if (request.dryRun) {
      chunk.sentBefore += due.length;
      return chunk;
    }
    const mine = await claims.claim(due.map((r) => ({ customerId: r.id, key: r.key, messageId: messageIdFor(r.key) })));
    chunk.mine = due.filter((r) => mine.has(r.key));
    const missed = due.filter((r) => !mine.has(r.key));
    if (missed.length > 0) await this.countMissed(chunk, missed, request.runId);
    return chunk;
  }

  /**
   * Reports due but not claimed: sent meanwhile (counted as sent) or claimed by an attempt that
   * may still be sending them (counted as held, never as already sent: that attempt may stop
   * without sending them, and then it releases them or its lease runs out).
   */
  private async countMissed(chunk: PreparedChunk, missed: Recipient[], runId: string): Promise<void> {
    const { rows } = await this.pool.query<{ idempotency_key: string; state: 'sending' | 'sent'; run_id: string }>(
      `SELECT idempotency_key, state, coalesce(run_id, '') AS run_id FROM report_emails WHERE idempotency_key = ANY($1::text[])`,
      [missed.map((r) => r.key)],
    );
    const records = new Map(rows.map((row) => [row.idempotency_key, row]));
    for (const recipient of missed) {
      const record = records.get(recipient.key);
      if (record?.state === 'sent') countSent(chunk, record.run_id, runId);
      else if (record?.run_id === runId) chunk.heldByThisRun.push(recipient.id);
      else chunk.heldByOtherRuns.push(recipient.id);
    }
  }

  private async loadCandidates(request: SendReportEmailsRequest): Promise<Candidate[]> {
    // Records from before run ids were kept have none: they count as another run's ('').
    // `purged`: the retention purge deleted this customer's records of periods ending on or
    // before this one's end (report_email_purges), so a missing record may be one it deleted.
    // A resend is keyed per run and never stopped by a record, so the watermark does not apply.
    type Row = {
      id: number; name: string; email: string; run_id: string | null; state: Recipient['recordState'];
      p_run_id: string | null; p_state: Recipient['recordState']; purged: boolean;
    };
    const { rows } = await this.pool.query<Row>(
      `SELECT c.id, c.name, c.email, CASE WHEN e.id IS NOT NULL THEN coalesce(e.run_id, '') END AS run_id, e.state,
              CASE WHEN p.id IS NOT NULL THEN coalesce(p.run_id, '') END AS p_run_id, p.state AS p_state,
              w.customer_id IS NOT NULL AS purged
         FROM customers c
         LEFT JOIN report_emails e ON e.idempotency_key = c.id || ':' || $2 || ':' || $3 || $4
         LEFT JOIN report_emails p ON p.idempotency_key = c.id || ':' || $2 || ':' || $3 || $5
         LEFT JOIN report_email_purges w ON w.customer_id = c.id AND w.purged_through >= $3::date AND NOT $6::boolean
        WHERE c.id = ANY($1::bigint[])
        ORDER BY c.id`,
      [request.customerIds, request.from, request.to, request.resend ? `:resend:${request.runId}` : '', `:provisional:${request.runId}`, request.resend],
    );
    return rows.map((row) => ({
      id: row.id, name: row.name, email: row.email, purged: row.purged,
      final: { key: idempotencyKey(row.id, request), recordRunId: row.run_id, recordState: row.state },
      provisional: { key: provisionalKey(row.id, request), recordRunId: row.p_run_id, recordState: row.p_state },
    }));
  }

  /** The message as nodemailer composes it, with its envelope: the recipient alone. */
  private message(recipient: Recipient, rows: ReportLine[], request: SendReportEmailsRequest): SendMailOptions {
    const content = composeReportEmail(recipient.name, request.from, request.to, rows);
    return {
      from: this.options.from,
      to: { name: recipient.name, address: recipient.email },
      messageId: messageIdFor(recipient.key),
      headers: {
        'X-Report-Customer': String(recipient.id),
        'X-Report-Period': `${request.from}..${request.to}`,
        'X-Report-Final': rows.every((row) => row.final) ? 'yes' : 'no',
      },
      ...content,
      envelope: { from: this.envelopeFrom, to: [recipient.email] },
    };
  }

  private async send(message: SendMailOptions): Promise<'sent' | { failed: string }> {
    try {
      await this.transport.sendMail(message);
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

/**
 * Marks sent reports in groups, so a send costs no database round trip of its own. A failed
 * mark keeps its keys for the next flush and reports the error (which stops new sends).
 */
class SentMarker {
  private pending: string[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly claims: AttemptClaims, private readonly onError: (error: unknown) => void) {}

  add(key: string): void {
    this.pending.push(key);
    if (this.pending.length >= MARK_EVERY) void this.flush();
  }

  /** Never rejects: a failure goes to onError and the keys stay pending. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const keys = this.pending;
      this.pending = [];
      if (keys.length === 0) return;
      try {
        await this.claims.markSent(keys);
      } catch (error) {
        this.pending = [...keys, ...this.pending];
        this.onError(error);
      }
    });
    return this.writing;
  }

  /** Sent, but not (yet) recorded. */
  unmarked(): string[] {
    return [...this.pending];
  }
}

/**
 * Sends in flight at once: never more than a pooled transport has connections. nodemailer
 * queues the rest, and a queued message starts its SMTP exchange whenever a connection frees
 * up, past every check this call makes before a send (a stop, the lease's deadline).
 */
function sendSlots(transport: Transporter, wanted: number): number {
  const inner = (transport as unknown as { transporter?: { name?: string; options?: { maxConnections?: number } } }).transporter;
  const connections = inner?.name === 'SMTP (pool)' ? inner.options?.maxConnections : undefined;
  return connections !== undefined && connections > 0 ? Math.min(wanted, connections) : wanted;
}

/** Waits `ms`, or less if `signal` aborts meanwhile. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    signal?.addEventListener('abort', finish);
  });
}

function countSent(chunk: PreparedChunk, recordRunId: string | null, runId: string): void {
  if (recordRunId === runId) chunk.sentBefore++; // an earlier attempt of this run sent it
  else chunk.alreadySent++;
}

function idempotencyKey(customerId: number, request: SendReportEmailsRequest): string {
  const base = `${customerId}:${request.from}:${request.to}`;
  return request.resend ? `${base}:resend:${request.runId}` : base;
}

/** A report with a day not over yet: once per run, and never the final report's key. */
function provisionalKey(customerId: number, request: SendReportEmailsRequest): string {
  return `${customerId}:${request.from}:${request.to}:provisional:${request.runId}`;
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
