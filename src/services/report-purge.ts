import type { Pool } from '../db/pool.js';
import type { PurgeCounts } from '../purge-old-reports-contract.js';

/** What to purge: everything of days before `cutoff` (YYYY-MM-DD, UTC), for these customers or all. */
export interface PurgeScope {
  cutoff: string;
  customerIds: number[] | null;
}

/** Where a purge of one table has got to: after this key, every old row is gone. */
export type ReportRowCursor = { customerId: number; day: string };
export type EmailRecordCursor = { id: number };

export interface PurgeProgress<Cursor> {
  after: Cursor;
  deleted: number;
  batches: number;
  /** True once the whole table was walked; false when it stopped at maxBatches or a cancel. */
  finished: boolean;
}

export interface PurgeBatchesOptions<Cursor> {
  batchSize: number;
  /** Batches this call deletes at most; the caller continues from `after`. */
  maxBatches: number;
  /** Continue from here (an earlier call's or attempt's progress); absent: from the start. */
  resume?: PurgeProgress<Cursor>;
  onBatchDone?: (progress: PurgeProgress<Cursor>) => void;
  /** Checked between batches: a batch in flight always commits or rolls back whole. */
  signal?: AbortSignal;
}

// Rows of a day before the cutoff. `report_date` is the customer's local day; compared with a
// UTC day (see purge-old-reports-contract.ts). Strictly before: the cutoff day itself is kept.
const OLD_REPORT_ROW = `report_date < $1::date AND ($2::bigint[] IS NULL OR customer_id = ANY($2::bigint[]))`;
// Records of a period that ended before the cutoff and sent before the cutoff day began (UTC).
// A claim still sending (state 'sending') belongs to an attempt at work: never touched.
const OLD_EMAIL_RECORD_OF = (e: string) => `${e}.period_to < $1::date AND ${e}.sent_at < ($1::date::timestamp AT TIME ZONE 'UTC')
  AND ${e}.state = 'sent' AND ($2::bigint[] IS NULL OR ${e}.customer_id = ANY($2::bigint[]))`;
const OLD_EMAIL_RECORD = OLD_EMAIL_RECORD_OF('report_emails');

const COUNT_OLD = `SELECT (SELECT count(*)::int FROM daily_reports WHERE ${OLD_REPORT_ROW}) AS report_rows,
                          (SELECT count(*)::int FROM report_emails WHERE ${OLD_EMAIL_RECORD}) AS email_records`;

// One batch: the next `limit` old rows in key order after the cursor, deleted in one statement.
// Walking the primary key means each call scans from where the last one stopped. The DELETE
// re-checks the rule: a report row's key is its day and customer, so the day is enough; an
// email record's fields change (a claim, a resend), so its DELETE repeats the whole rule.
const DELETE_REPORT_ROWS = `
  WITH doomed AS (
    SELECT customer_id, report_date FROM daily_reports
     WHERE ${OLD_REPORT_ROW} AND (customer_id, report_date) > ($3::bigint, $4::date)
     ORDER BY customer_id, report_date LIMIT $5
  ), deleted AS (
    DELETE FROM daily_reports r USING doomed
     WHERE r.customer_id = doomed.customer_id AND r.report_date = doomed.report_date AND r.report_date < $1::date
    RETURNING 1
  ), last AS (SELECT customer_id, report_date FROM doomed ORDER BY customer_id DESC, report_date DESC LIMIT 1)
  SELECT (SELECT count(*)::int FROM deleted) AS deleted, (SELECT count(*)::int FROM doomed) AS scanned,
         (SELECT customer_id FROM last) AS last_customer_id, (SELECT report_date::text FROM last) AS last_day`;

// Deleting a record forgets that its report was sent, and the record is what stops a second
// send. So the same statement (one transaction) raises the customer's watermark in
// report_email_purges to the latest period it deleted; ReportEmail counts a report of a period
// ending on or before it as already sent (see loadCandidates there).
const DELETE_EMAIL_RECORDS = `
  WITH doomed AS (
    SELECT id FROM report_emails WHERE ${OLD_EMAIL_RECORD} AND id > $3::bigint ORDER BY id LIMIT $4
  ), deleted AS (
    DELETE FROM report_emails e USING doomed
     WHERE e.id = doomed.id AND ${OLD_EMAIL_RECORD_OF('e')}
    RETURNING e.customer_id, e.period_to
  ), watermarks AS (
    INSERT INTO report_email_purges AS w (customer_id, purged_through)
    SELECT customer_id, max(period_to) FROM deleted GROUP BY customer_id
    ON CONFLICT (customer_id) DO UPDATE SET purged_through = greatest(w.purged_through, EXCLUDED.purged_through)
  )
  SELECT (SELECT count(*)::int FROM deleted) AS deleted, (SELECT count(*)::int FROM doomed) AS scanned,
         (SELECT max(id) FROM doomed) AS last_id`;

export const FIRST_REPORT_ROW: ReportRowCursor = { customerId: 0, day: '1900-01-01' };
export const FIRST_EMAIL_RECORD: EmailRecordCursor = { id: 0 };

/**
 * Deletes daily report rows and email records older than a cutoff day, in batches, each
 * batch its own transaction (one statement), so locks are held briefly and a crash loses at
 * most the batch in flight. Idempotent: a rerun, or a retry from any cursor, deletes only what
 * is still there, and never a row of the cutoff day or later.
 *
 * A regeneration of an old day running at the same time (regenerate-reports deletes and
 * re-inserts a customer's rows in one transaction) is never blocked for more than one batch
 * and never sees a half-purged customer: a batch meeting rows it deleted waits for it to
 * commit and skips them, and the rows it writes outlive this run (the next run deletes them).
 * Its email gets a new record, sent now, which is kept until that send is older than the cutoff.
 */
export class ReportPurge {
  constructor(private readonly pool: Pool) {}

  /** What a purge would delete now (a dry run's whole answer). */
  async count(scope: PurgeScope): Promise<PurgeCounts> {
    const { rows } = await this.pool.query<{ report_rows: number; email_records: number }>(COUNT_OLD, [scope.cutoff, scope.customerIds]);
    return { reportRows: rows[0]!.report_rows, emailRecords: rows[0]!.email_records };
  }

  deleteReportRows(scope: PurgeScope, options: PurgeBatchesOptions<ReportRowCursor>): Promise<PurgeProgress<ReportRowCursor>> {
    return this.deleteInBatches(FIRST_REPORT_ROW, options, async (after) => {
      const { rows } = await this.pool.query<{ deleted: number; scanned: number; last_customer_id: number | null; last_day: string | null }>(
        DELETE_REPORT_ROWS, [scope.cutoff, scope.customerIds, after.customerId, after.day, options.batchSize]);
      const row = rows[0]!;
      const last = row.last_customer_id !== null && row.last_day !== null ? { customerId: row.last_customer_id, day: row.last_day } : after;
      return { deleted: row.deleted, scanned: row.scanned, last };
    });
  }

  deleteEmailRecords(scope: PurgeScope, options: PurgeBatchesOptions<EmailRecordCursor>): Promise<PurgeProgress<EmailRecordCursor>> {
    return this.deleteInBatches(FIRST_EMAIL_RECORD, options, async (after) => {
      const { rows } = await this.pool.query<{ deleted: number; scanned: number; last_id: number | null }>(
        DELETE_EMAIL_RECORDS, [scope.cutoff, scope.customerIds, after.id, options.batchSize]);
      const row = rows[0]!;
      return { deleted: row.deleted, scanned: row.scanned, last: row.last_id !== null ? { id: row.last_id } : after };
    });
  }

  private async deleteInBatches<Cursor>(
    first: Cursor,
    options: PurgeBatchesOptions<Cursor>,
    deleteBatch: (after: Cursor) => Promise<{ deleted: number; scanned: number; last: Cursor }>,
  ): Promise<PurgeProgress<Cursor>> {
    const progress: PurgeProgress<Cursor> = options.resume ? { ...options.resume } : { after: first, deleted: 0, batches: 0, finished: false };
    for (let batches = 0; !progress.finished && batches < options.maxBatches && !options.signal?.aborted; batches++) {
      const batch = await deleteBatch(progress.after);
      progress.after = batch.last;
      progress.deleted += batch.deleted;
      progress.batches++;
      // A short batch means nothing old is left after the cursor.
      progress.finished = batch.scanned < options.batchSize;
      options.onBatchDone?.({ ...progress });
    }
    return progress;
  }
}
