import { performance } from 'node:perf_hooks';
import type { Pool } from '../db/pool.js';

/**
 * How long a claim protects a report from being taken by another attempt or run.
 *
 * It must outlast the time a live attempt needs to learn that it was timed out or cancelled
 * and to stop: Temporal tells it through the response to a heartbeat (sent at least every
 * 2 s, see the worker's heartbeat throttle), so it stops starting sends within a few seconds,
 * then waits for the sends in flight and releases what it did not send. It must also exceed
 * the heartbeat timeout (10 s), after which a retry starts while the old attempt may still be
 * alive. And it bounds how long a report waits after its worker died: a retry takes over once
 * the lease has run out. 30 s covers the first two (2 s, 10 s) with room to spare and keeps the
 * third short: a retry after a worker was killed sends its reports about 30 s later, not a minute.
 */
export const CLAIM_LEASE_MS = 30_000;

/**
 * No send starts later than this before the lease may run out: a send that starts just before
 * that moment has this long to finish before anyone else may take its report over.
 */
export const LEASE_SAFETY_MARGIN_MS = 10_000;

export interface ClaimLease {
  ms: number;
  safetyMarginMs: number;
}

export const DEFAULT_LEASE: ClaimLease = { ms: CLAIM_LEASE_MS, safetyMarginMs: LEASE_SAFETY_MARGIN_MS };

/**
 * What became of one message handed to SMTP, for the caller's metrics: accepted; accepted, but
 * its report's claim was taken over from an attempt whose lease ran out without recording a send
 * (it died, was cut off, or sent and failed to mark it), so the receiver may now have it twice,
 * with the same Message-ID; or refused for good (5xx).
 */
export type SendOutcome = 'sent' | 'sent-again' | 'refused';

export interface ClaimRequest {
  from: string;
  to: string;
  workflowId: string;
  runId: string;
}

/**
 * The claims one attempt holds (`report_emails` rows in state `sending` carrying its token).
 *
 * One statement claims a chunk's reports and renews every other claim of the attempt. Until
 * `deadline` (local clock) the attempt may start sends of the reports in `held`; after it, the
 * lease may have lapsed and another attempt may have taken them, so it renews first. A claim
 * is taken over only when it is released (token NULL) or its lease has run out.
 *
 * The local times are monotonic (performance.now()), not the wall clock: an NTP step back
 * would otherwise stretch `deadline` past the lease the database gave, and the attempt would
 * send reports another attempt had taken over.
 */
export class AttemptClaims {
  private held = new Set<string>();
  /** Keys this attempt took over from another attempt's lapsed claim (see SendOutcome). */
  private takenOver = new Set<string>();
  private deadline = 0;
  private renewAt = 0;
  private leaseEnd = 0;
  private statements: Promise<unknown> = Promise.resolve();
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    readonly token: string,
    private readonly request: ClaimRequest,
    private readonly lease: ClaimLease = DEFAULT_LEASE,
  ) {}

  /**
   * Claims these reports for this attempt (new ones, released ones, ones whose lease ran out)
   * and renews every claim the attempt holds. Returns the keys of `due` it now holds.
   */
  claim(due: Array<{ customerId: number; key: string; messageId: string }>): Promise<Set<string>> {
    const run = this.statements.then(async () => {
      const sentAt = performance.now();
      // The INSERT and the UPDATE share one snapshot, so the UPDATE never sees the rows this
      // statement inserts. A claim still carrying our token was taken by nobody since (taking
      // sets the token), so it is renewed even if its lease has lapsed meanwhile.
      // `prior` is the row as this statement's snapshot saw it: whose claim it was before.
      const { rows } = await this.pool.query<{ idempotency_key: string; taken_over: boolean }>(
        `WITH inserted AS (
           INSERT INTO report_emails (customer_id, period_from, period_to, idempotency_key, message_id, workflow_id, run_id, state, claim_token, lease_until)
           SELECT customer_id, $2::date, $3::date, key, message_id, $4, $5, 'sending', $8, now() + $9 * interval '1 millisecond'
             FROM unnest($1::bigint[], $6::text[], $7::text[]) AS t(customer_id, key, message_id)
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING idempotency_key
         ), claimed AS (
           UPDATE report_emails r
              SET claim_token = $8, lease_until = now() + $9 * interval '1 millisecond', run_id = $5, workflow_id = $4
             FROM report_emails prior
            WHERE prior.id = r.id AND r.state = 'sending'
              AND (r.claim_token = $8
                   OR (r.idempotency_key = ANY($6::text[]) AND (r.claim_token IS NULL OR r.lease_until IS NULL OR r.lease_until <= now())))
           RETURNING r.idempotency_key, coalesce(prior.claim_token <> $8, false) AS taken_over
         )
         SELECT idempotency_key, false AS taken_over FROM inserted UNION ALL SELECT idempotency_key, taken_over FROM claimed`,
        [
          due.map((r) => r.customerId), this.request.from, this.request.to, this.request.workflowId, this.request.runId,
          due.map((r) => r.key), due.map((r) => r.messageId), this.token, this.lease.ms,
        ],
      );
      // Every lease just set started no earlier than `sentAt` by the database's clock, so it
      // lasts at least until sentAt + lease by ours: no clock of the two is compared.
      const usable = this.lease.ms - this.lease.safetyMarginMs;
      this.deadline = sentAt + usable;
      // Renewed (by the next chunk, the next send or the timer) once half of it has gone by.
      this.renewAt = sentAt + usable / 2;
      this.leaseEnd = sentAt + this.lease.ms;
      this.held = new Set(rows.map((row) => row.idempotency_key));
      for (const row of rows) if (row.taken_over) this.takenOver.add(row.idempotency_key);
      return new Set(due.map((r) => r.key).filter((key) => this.held.has(key)));
    });
    this.statements = run.catch(() => undefined);
    return run;
  }

  /** Renews every claim of this attempt (one statement), if half the usable lease has gone by. */
  renewIfDue(): Promise<void> {
    if (performance.now() < this.renewAt || this.held.size === 0) return Promise.resolve();
    this.renewing ??= this.claim([]).then(
      () => void (this.renewing = undefined),
      (error: unknown) => {
        this.renewing = undefined;
        throw error;
      },
    );
    return this.renewing;
  }

  /**
   * Whether this attempt may start sending `key` now: it still holds the claim and the lease
   * cannot have lapsed before the send could finish. Renews first when due.
   */
  async maySend(key: string): Promise<boolean> {
    if (!this.held.has(key)) return false;
    await this.renewIfDue();
    if (performance.now() >= this.deadline) {
      throw new Error(`the email claims could not be renewed in time (lease ${this.lease.ms / 1000} s); the retry continues`);
    }
    return this.held.has(key);
  }

  /** How a send of `key` that the server accepted counts: again, if this attempt took its claim over from a lapsed one. */
  sentOutcome(key: string): SendOutcome {
    return this.takenOver.has(key) ? 'sent-again' : 'sent';
  }

  /** Whether the lease this attempt last got (or renewed) still keeps every other attempt off its claims. */
  leaseHolds(): boolean {
    return performance.now() < this.leaseEnd;
  }

  /**
   * Marks sent reports. Not fenced by the token: the SMTP server accepted the message, and
   * recording that keeps anyone who took the claim over meanwhile from sending it again.
   */
  async markSent(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.pool.query(
      `UPDATE report_emails SET state = 'sent', sent_at = now(), claim_token = NULL, lease_until = NULL
        WHERE idempotency_key = ANY($1::text[]) AND state = 'sending'`,
      [keys],
    );
    for (const key of keys) this.held.delete(key);
  }

  /** A report the SMTP server refused for good: the claim goes, so a later run may try again. */
  async drop(key: string): Promise<void> {
    await this.pool.query(`DELETE FROM report_emails WHERE idempotency_key = $1 AND state = 'sending' AND claim_token = $2`, [key, this.token]);
    this.held.delete(key);
  }

  /**
   * Releases every claim of this attempt except `keep` (sent, but the mark failed: they stay
   * leased, so nobody resends them before the lease runs out). Others may take them at once.
   */
  async release(keep: string[] = []): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE report_emails SET claim_token = NULL, lease_until = NULL
        WHERE claim_token = $1 AND state = 'sending' AND idempotency_key <> ALL($2::text[])`,
      [this.token, keep],
    );
    this.held.clear();
    return rowCount ?? 0;
  }
}

/**
 * The claims of a run that are still leased to one of its attempts. A run that has ended can
 * still have a live attempt: one the server timed out (or whose run was terminated) that has
 * not heard so yet, or is cut off from Temporal and still sending. Nobody but the holder frees
 * such a claim before its lease runs out: releasing it by run would let a second sender start.
 */
export async function liveRunClaims(pool: Pool, runId: string): Promise<{ held: number; leaseEndsInMs: number }> {
  const { rows } = await pool.query<{ held: number; lease_ends_in_ms: number | null }>(
    `SELECT count(*)::int AS held, ceil(extract(epoch FROM max(lease_until) - now()) * 1000)::float8 AS lease_ends_in_ms
       FROM report_emails
      WHERE run_id = $1 AND state = 'sending' AND claim_token IS NOT NULL AND lease_until > now()`,
    [runId],
  );
  return { held: rows[0]?.held ?? 0, leaseEndsInMs: Math.max(0, rows[0]?.lease_ends_in_ms ?? 0) };
}

/** A retryable failure: some reports are held by another attempt (of this run or another). */
export class ReportsHeldElsewhereError extends Error {
  override name = 'ReportsHeldElsewhere';
  constructor(readonly byThisRun: number, readonly byOtherRuns: number) {
    const parts = [
      byThisRun > 0 ? `${byThisRun} still held by an earlier attempt of this run` : '',
      byOtherRuns > 0 ? `${byOtherRuns} held by another run` : '',
    ].filter(Boolean);
    super(
      `${byThisRun + byOtherRuns} report(s) not sent: ${parts.join(', ')}; the retry sends them once that attempt has ` +
        `stopped and released them or its lease (${CLAIM_LEASE_MS / 1000} s) has run out, or counts them if it sent them`,
    );
  }
}

/** A retryable failure: the attempt stopped before its time ran out; the retry continues. */
export class EmailAttemptOutOfTimeError extends Error {
  override name = 'EmailAttemptOutOfTime';
  constructor(readonly sent: number) {
    super(`stopped before the attempt's time ran out, after ${sent} email(s) in this attempt; the retry continues where it stopped`);
  }
}
