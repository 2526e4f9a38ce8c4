import type { MetricCounter, MetricHistogram, MetricMeter } from '@temporalio/common';
import type { SendOutcome } from '../services/email-claims.js';
import type { StartedFrom } from '../temporal/runs.js';

/**
 * Our own Prometheus series, one named instrument each (README, "Metrics", lists them all).
 * They are recorded on the Temporal runtime's meter, so the runtime's exporter serves them
 * next to its own series (src/observability/runtime.ts); it appends `_total` to counters and
 * the unit to histograms. Labels take bounded values only: the job's kind from the registry,
 * an outcome, a door, a table, an email kind. Never a customer, a workflow id or an address.
 * The job's label is `job_kind`, not `job`: Prometheus gives every scraped series its own `job`
 * (the scrape job), and would rename ours to `exported_job`.
 */
const NAMES = {
  runsStarted: 'durable_jobs_runs_started',
  runsFinished: 'durable_jobs_runs_finished',
  runDuration: 'durable_jobs_run_duration',
  itemsProcessed: 'durable_jobs_items_processed',
  itemsFailed: 'durable_jobs_items_failed',
  rowsWritten: 'durable_jobs_rows_written',
  emailsSent: 'durable_jobs_emails_sent',
  emailsFailed: 'durable_jobs_emails_failed',
  emailsRedelivered: 'durable_jobs_emails_redelivered',
  importRowsFetched: 'durable_jobs_import_rows_fetched',
  importRowsUpserted: 'durable_jobs_import_rows_upserted',
  importRowsQuarantined: 'durable_jobs_import_rows_quarantined',
} as const;

/**
 * Bucket bounds of our histograms (by name without unit), for the runtime's exporter. Runs last
 * from a second (one customer) to hours (a million orders, a backfill).
 */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [NAMES.runDuration]: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200],
};

/** How a run ended: the registry's outcome of a completed run (ok, some-failed, cancelled), or failed. */
export type RunMetricOutcome = 'ok' | 'some-failed' | 'cancelled' | 'failed';

/** Which email a send was: a daily report, or a correction of one already sent. */
export type EmailKind = 'report' | 'correction';

/** Tables our jobs write rows to. */
export type WrittenTable = 'daily_reports' | 'orders';

// Every door a run can be started from; a run without DjStartedFrom (a bare `temporal workflow start`) is 'unknown'.
const DOORS: Record<StartedFrom, true> = { cli: true, schedule: true, admin: true, api: true, start: true };

/** The series of one job (its kind is the `job_kind` label of each). */
export interface JobCounters {
  runStarted(startedFrom: string | undefined): void;
  runFinished(outcome: RunMetricOutcome, seconds: number): void;
  itemsProcessed(count: number): void;
  itemsFailed(count: number): void;
  rowsWritten(table: WrittenTable, count: number): void;
  /** One message handed to SMTP, by what became of it (see SendOutcome). */
  email(kind: EmailKind, outcome: SendOutcome): void;
  importRows(counts: { fetched?: number; inserted?: number; updated?: number; quarantined?: number }): void;
}

export class JobMetrics {
  private readonly counters: Record<Exclude<keyof typeof NAMES, 'runDuration'>, MetricCounter>;
  private readonly runDuration: MetricHistogram;

  /** `kindOf` maps a workflow type to its job's kind (the registry's); an unknown type is 'other'. */
  constructor(meter: MetricMeter, private readonly kindOf: (workflowType: string) => string | undefined) {
    const counter = (name: string, description: string) => meter.createCounter(name, undefined, description);
    this.counters = {
      runsStarted: counter(NAMES.runsStarted, 'Runs started (a continue-as-new chain is one run)'),
      runsFinished: counter(NAMES.runsFinished, 'Runs finished, by outcome: ok, some-failed, cancelled, failed'),
      itemsProcessed: counter(NAMES.itemsProcessed, "Units of a job's work done: customers, order records, rows purged, days planned"),
      itemsFailed: counter(NAMES.itemsFailed, 'Units of work that failed: customers not regenerated, order records quarantined'),
      rowsWritten: counter(NAMES.rowsWritten, 'Rows inserted or updated in PostgreSQL, by table'),
      emailsSent: counter(NAMES.emailsSent, 'Messages the SMTP server accepted'),
      emailsFailed: counter(NAMES.emailsFailed, 'Messages the SMTP server refused for good (5xx): the customer is listed in the run\'s failures'),
      emailsRedelivered: counter(NAMES.emailsRedelivered, 'Messages sent again after the attempt that had claimed them stopped without recording a send: possibly a second copy, with the same Message-ID'),
      importRowsFetched: counter(NAMES.importRowsFetched, 'Order records read from the source API'),
      importRowsUpserted: counter(NAMES.importRowsUpserted, 'Orders inserted or updated by the import, by change'),
      importRowsQuarantined: counter(NAMES.importRowsQuarantined, 'Order records set aside in import_quarantine'),
    };
    this.runDuration = meter.createHistogram(NAMES.runDuration, 'float', 'seconds', 'Run duration from the first start to the end of the last continue-as-new execution');
  }

  /** The series of the job a workflow type belongs to (an activity's `info.workflowType`). */
  job(workflowType: string | undefined): JobCounters {
    const job = (workflowType === undefined ? undefined : this.kindOf(workflowType)) ?? 'other';
    const c = this.counters;
    const add = (counter: MetricCounter, count: number, tags: Record<string, string> = {}) => {
      if (count > 0) counter.add(count, { job_kind: job, ...tags });
    };
    return {
      runStarted: (startedFrom) => add(c.runsStarted, 1, { started_from: startedFrom && startedFrom in DOORS ? startedFrom : 'unknown' }),
      runFinished: (outcome, seconds) => {
        add(c.runsFinished, 1, { outcome });
        this.runDuration.record(Math.max(0, seconds), { job_kind: job, outcome });
      },
      itemsProcessed: (count) => add(c.itemsProcessed, count),
      itemsFailed: (count) => add(c.itemsFailed, count),
      rowsWritten: (table, count) => add(c.rowsWritten, count, { table }),
      email: (kind, outcome) => {
        if (outcome === 'refused') return add(c.emailsFailed, 1, { email: kind });
        add(c.emailsSent, 1, { email: kind });
        if (outcome === 'sent-again') add(c.emailsRedelivered, 1, { email: kind });
      },
      importRows: ({ fetched = 0, inserted = 0, updated = 0, quarantined = 0 }) => {
        add(c.importRowsFetched, fetched);
        add(c.importRowsUpserted, inserted, { change: 'inserted' });
        add(c.importRowsUpserted, updated, { change: 'updated' });
        add(c.importRowsQuarantined, quarantined);
      },
    };
  }
}

/**
 * Turns cumulative progress (what a retry resumed from, plus what it did since) into increments,
 * so each unit is counted once, by the attempt that did it, as it is done: `measure` reads the
 * counts out of a progress report, `from` is where this attempt started.
 */
export function increments<P>(from: P | undefined, measure: (progress: P) => number[]): (progress: P) => number[] {
  let last = from === undefined ? [] : measure(from);
  return (progress) => {
    const now = measure(progress);
    const delta = now.map((value, i) => Math.max(0, value - (last[i] ?? 0)));
    last = now;
    return delta;
  };
}
