import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addDays } from '../../src/dates.js';
import { purgeOldReportsJob } from '../../src/jobs/purge-old-reports.js';
import type { FieldProblem } from '../../src/validation.js';
import type { PurgeOldReportsInput, PurgeOldReportsSummary } from '../../src/purge-old-reports-contract.js';
import { ReportPurge, type PurgeBatchesOptions, type PurgeScope, type ReportRowCursor } from '../../src/services/report-purge.js';
import { PERIOD } from '../../src/temporal/search-attributes.js';
import { startJob } from '../../src/temporal/start-job.js';
import { purgeProgressQuery } from '../../src/workflows/purge-progress.js';
import { purgeSnapshot, seedPurgeData } from '../support/purge-data.js';
import { startTemporalTestEnv, workflowFailure, type TemporalTestEnv } from '../support/temporal.js';

/**
 * The real service, except that deleting report rows waits while `gate` is set: lets a test look
 * at (or cancel) a run mid-way. `signal` is the activity's cancellation signal of the call waiting.
 */
class GatedPurge extends ReportPurge {
  gate: Promise<void> | null = null;
  reached: () => void = () => undefined;
  signal: AbortSignal | undefined;
  override async deleteReportRows(scope: PurgeScope, options: PurgeBatchesOptions<ReportRowCursor>) {
    if (this.gate) {
      this.signal = options.signal;
      this.reached();
      await this.gate;
    }
    return super.deleteReportRows(scope, options);
  }
}

let env: TemporalTestEnv;
let gated: GatedPurge;
const today = new Date().toISOString().slice(0, 10);
const cutoff = addDays(today, -30); // retentionDays 30, counted from today (UTC)

beforeAll(async () => {
  env = await startTemporalTestEnv({ services: (pool) => ({ reportPurge: (gated = new GatedPurge(pool)) }) });
});
// 10 days before the cutoff (40 report rows), 9 of whose email records were sent before it (36).
beforeEach(() => seedPurgeData(env.db.pool, addDays(cutoff, -10), addDays(cutoff, 5), new Date().toISOString()));
afterAll(() => env.close());

const start = (input: PurgeOldReportsInput) =>
  startJob(env.client, purgeOldReportsJob, input, { taskQueue: env.taskQueue, startedFrom: 'cli', startedBy: 'test' });

const failureOf = (input: unknown) => workflowFailure(env, 'purgeOldReports', input);

describe('purgeOldReports on the real dev server', () => {
  it('a dry run counts and deletes nothing; its id says so', async () => {
    const before = await purgeSnapshot(env.db.pool);
    const { handle } = await start({ retentionDays: 30, dryRun: true });
    expect(handle.workflowId).toBe(`purge-old-reports:all:before-${cutoff}:dry-run@${env.taskQueue}`);
    const summary: PurgeOldReportsSummary = await handle.result();
    expect(summary).toEqual({
      cutoff, retentionDays: 30, dryRun: true, wouldDelete: { reportRows: 40, emailRecords: 36 },
      reportRowsDeleted: 0, emailRecordsDeleted: 0, cancelled: false,
    });
    expect(await purgeSnapshot(env.db.pool)).toEqual(before);
  });

  it('deletes what is older than the cutoff over several activities; the progress query and search attributes say what it did', async () => {
    // Batches of one row: 41 batches of report rows, more than two activities' worth.
    const { handle } = await start({ retentionDays: 30, batchSize: 1 });
    const summary: PurgeOldReportsSummary = await handle.result();
    expect(summary).toMatchObject({ cutoff, dryRun: false, reportRowsDeleted: 40, emailRecordsDeleted: 36, cancelled: false });
    expect(purgeOldReportsJob.summary.describe(summary)).toBe(`deleted 40 report rows and 36 email records before ${cutoff} (30 days kept)`);
    const { reports, emails } = await purgeSnapshot(env.db.pool);
    expect(reports.every((key) => key.split(' ')[1]! >= cutoff)).toBe(true);
    expect(reports).toHaveLength(4 * 6);
    expect(emails).toHaveLength(4 * 7 + 2);
    expect(await handle.query(purgeProgressQuery)).toEqual({
      phase: 'done', cutoff, dryRun: false, reportRowsToDelete: 40, emailRecordsToDelete: 36, reportRowsDeleted: 40, emailRecordsDeleted: 36,
    });
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(PERIOD)).toBe(`..${addDays(cutoff, -1)}`);
    const activities = (await handle.fetchHistory()).events!.filter((e) => e.activityTaskScheduledEventAttributes).length;
    expect(activities).toBe(1 + 3 + 2); // count, report rows (20 + 20 + 1 batches), email records (20 + 17)
  });

  it('limited to one customer, deletes only that customer\'s old rows', async () => {
    const { handle } = await start({ retentionDays: 30, customerIds: [3] });
    expect(handle.workflowId).toBe(`purge-old-reports:customer-3:before-${cutoff}@${env.taskQueue}`);
    expect(await handle.result()).toMatchObject({ reportRowsDeleted: 10, emailRecordsDeleted: 9 });
    const { rows } = await env.db.pool.query<{ customer_id: number; n: number }>(
      `SELECT customer_id, count(*)::int AS n FROM daily_reports WHERE report_date < $1 GROUP BY 1 ORDER BY 1`, [cutoff]);
    expect(rows).toEqual([{ customer_id: 1, n: 10 }, { customer_id: 2, n: 10 }, { customer_id: 4, n: 10 }]);
  });

  it('answers the progress query mid-run, and a cancel reaches the activity in flight, which stops before its next batch', async () => {
    let open!: () => void;
    gated.gate = new Promise((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (gated.reached = resolve));
    try {
      const { handle } = await start({ retentionDays: 30, batchSize: 1 });
      await reached;
      expect(await handle.query(purgeProgressQuery)).toMatchObject({ phase: 'deleting report rows', cutoff, reportRowsToDelete: 40, reportRowsDeleted: 0 });
      await handle.cancel();
      // The activity hears of the cancel through its next heartbeat (every 2 s).
      const heard = await new Promise<boolean>((resolve) => {
        if (gated.signal?.aborted) return resolve(true);
        const timer = setTimeout(() => resolve(false), 10_000);
        gated.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve(true)));
      });
      gated.gate = null;
      open();
      expect(heard).toBe(true);
      const summary: PurgeOldReportsSummary = await handle.result();
      // It was told before its first batch: nothing deleted, and no activity after it ran.
      expect(summary).toMatchObject({ cancelled: true, reportRowsDeleted: 0, emailRecordsDeleted: 0 });
      expect(purgeOldReportsJob.summary.outcome(summary)).toBe('cancelled');
      const { rows } = await env.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM daily_reports WHERE report_date < $1`, [cutoff]);
      expect(rows[0]!.n).toBe(40);
    } finally {
      gated.gate = null;
      open?.();
    }
  });

  it('continues as new every activitiesPerRun activities, carrying cursors and counts, and deletes exactly the old rows', async () => {
    const before = await purgeSnapshot(env.db.pool);
    // Batches of one row, two activities per run: 3 activities of report rows and 2 of email records, over 3 runs.
    const { handle } = await start({ retentionDays: 30, batchSize: 1, activitiesPerRun: 2 });
    const summary: PurgeOldReportsSummary = await handle.result();
    expect(summary).toEqual({
      cutoff, retentionDays: 30, dryRun: false, wouldDelete: { reportRows: 40, emailRecords: 36 },
      reportRowsDeleted: 40, emailRecordsDeleted: 36, cancelled: false,
    });
    // Exactly the old rows and the records sent and ending before the cutoff are gone.
    const cutoffStart = Date.parse(`${cutoff}T00:00:00Z`);
    const { rows: emails } = await env.db.pool.query<{ key: string; period_to: string; sent_at: Date; state: string }>(
      `SELECT idempotency_key AS key, period_to::text, sent_at, state FROM report_emails`);
    expect(emails.filter((e) => e.period_to < cutoff && e.sent_at.getTime() < cutoffStart && e.state === 'sent')).toEqual([]);
    expect(await purgeSnapshot(env.db.pool)).toEqual({
      reports: before.reports.filter((key) => key.split(' ')[1]! >= cutoff),
      emails: before.emails.filter((key) => emails.some((e) => e.key === key)),
    });
    expect((await purgeSnapshot(env.db.pool)).emails).toHaveLength(before.emails.length - 36);
    // Three runs: the first two continued as new.
    const runs: string[] = [];
    for (let runId: string | undefined = (await handle.describe()).runId; runId; ) {
      runs.unshift(runId);
      const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      runId = history.events![0]!.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    }
    expect(runs).toHaveLength(3);
    expect(await handle.query(purgeProgressQuery)).toMatchObject({ phase: 'done', reportRowsDeleted: 40, emailRecordsDeleted: 36 });
  });

  it('refuses a second argument (the continue-as-new state) on a first run', async () => {
    const before = await purgeSnapshot(env.db.pool);
    const handle = await env.client.workflow.start('purgeOldReports', {
      taskQueue: env.taskQueue, workflowId: `purge-forged-${Date.now()}`,
      args: [{ retentionDays: 30 }, { input: { cutoff: today, customerIds: null, dryRun: false, batchSize: 1, activitiesPerRun: 1 }, wouldDelete: { reportRows: 0, emailRecords: 0 }, reportRows: null, emailRecords: null }],
    });
    const failure = await handle.result().then(() => undefined, (e: unknown) => (e as { cause?: { type?: string; message?: string } }).cause);
    expect(failure).toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('purgeOldReports takes one argument') });
    expect(await purgeSnapshot(env.db.pool)).toEqual(before);
  });

  it.each([
    [{ retentionDays: 5 }, 'retentionDays', 'retentionDays must be a whole number of days from 30 to 3650'],
    [{ dryRun: true }, 'retentionDays', 'retentionDays is required: the days of reports to keep (REPORT_RETENTION_DAYS)'],
    [{ retentionDays: 30, customerIds: [1, 1] }, 'customerIds', 'customerIds must not repeat an id'],
    [{ retentionDays: 30, batchSize: 0 }, 'batchSize', 'batchSize must be a whole number from 1 to 10000'],
    [{ retentionDays: 30, cutoff: '2026-01-01' }, 'input', 'unknown field(s): cutoff'],
  ])('fails %j at once as InvalidInput, non-retryable, naming the field, deleting nothing', async (input, field, message) => {
    const before = await purgeSnapshot(env.db.pool);
    const failure = await failureOf(input);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(message);
    const [problems] = failure.details as [FieldProblem[]];
    expect(problems[0]).toMatchObject({ field });
    expect(problems[0]!.message.startsWith(field === 'input' ? 'input' : field)).toBe(true);
    expect(await purgeSnapshot(env.db.pool)).toEqual(before);
  });
});
