import { Context, log } from '@temporalio/activity';
import { increments, type JobMetrics } from '../observability/job-metrics.js';
import type { PurgeCounts } from '../purge-old-reports-contract.js';
import type { EmailRecordCursor, PurgeBatchesOptions, PurgeProgress, PurgeScope, ReportPurge, ReportRowCursor } from '../services/report-purge.js';
import { whileHeartbeating } from './heartbeats.js';

export interface PurgeServices {
  reportPurge: ReportPurge;
}

/**
 * One activity's share of a table: up to `maxBatches` batches after `resume`, the previous
 * activity's result (absent: from the start). Counts in the result are for the whole table so far.
 */
export interface PurgeBatchesRequest<Cursor> extends PurgeScope {
  batchSize: number;
  maxBatches: number;
  resume?: PurgeProgress<Cursor>;
}

/**
 * Runs one activity's batches: a retry resumes from the progress its failed attempt last
 * heartbeated (rather than the workflow's older cursor), and a cancel or a timeout, which
 * reaches the attempt through a heartbeat's response, stops it between batches, so an attempt
 * the server gave up on does not keep deleting alongside its retry. Stopped, it returns its
 * progress: the workflow (which waits for a cancelled activity to complete) learns what was
 * deleted; after a timeout the server drops the result and the retry resumes from the heartbeat.
 */
async function purgeBatches<Cursor>(
  request: PurgeBatchesRequest<Cursor>,
  purge: (scope: PurgeScope, options: PurgeBatchesOptions<Cursor>) => Promise<PurgeProgress<Cursor>>,
  metrics: JobMetrics,
): Promise<PurgeProgress<Cursor>> {
  const context = Context.current();
  const { batchSize, maxBatches, resume: fromWorkflow, ...scope } = request;
  const resume = (context.info.heartbeatDetails as PurgeProgress<Cursor> | undefined) ?? fromWorkflow;
  // The job's items are the rows it deletes, counted per batch as it commits.
  const job = metrics.job(context.info.workflowType);
  const newly = increments(resume, (progress: PurgeProgress<Cursor>) => [progress.deleted]);
  return whileHeartbeating<PurgeProgress<Cursor>, PurgeProgress<Cursor>>((report) =>
    purge(scope, {
      batchSize, maxBatches, ...(resume ? { resume } : {}), signal: context.cancellationSignal,
      onBatchDone: (progress) => {
        job.itemsProcessed(newly(progress)[0] ?? 0);
        report(progress);
      },
    }),
  );
}

/** Thin wrappers around ReportPurge: each calls it, heartbeats between batches, logs one line. */
export function createPurgeActivities(services: PurgeServices, metrics: JobMetrics) {
  return {
    async countPurgeable(scope: PurgeScope): Promise<PurgeCounts> {
      const counts = await whileHeartbeating(() => services.reportPurge.count(scope));
      log.info('counted purgeable reports', { cutoff: scope.cutoff, ...counts });
      return counts;
    },

    async purgeReportRows(request: PurgeBatchesRequest<ReportRowCursor>): Promise<PurgeProgress<ReportRowCursor>> {
      const result = await purgeBatches(request, (scope, options) => services.reportPurge.deleteReportRows(scope, options), metrics);
      log.info('purged report rows', { cutoff: request.cutoff, deleted: result.deleted, batches: result.batches, finished: result.finished });
      return result;
    },

    async purgeEmailRecords(request: PurgeBatchesRequest<EmailRecordCursor>): Promise<PurgeProgress<EmailRecordCursor>> {
      const result = await purgeBatches(request, (scope, options) => services.reportPurge.deleteEmailRecords(scope, options), metrics);
      log.info('purged email records', { cutoff: request.cutoff, deleted: result.deleted, batches: result.batches, finished: result.finished });
      return result;
    },
  };
}

export type PurgeActivities = ReturnType<typeof createPurgeActivities>;
