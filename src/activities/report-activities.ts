import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { UNAVAILABLE_CUSTOMERS, unavailableCustomersMessage, type CustomerBatch } from '../contracts.js';
import type { CustomerSelection } from '../services/customer-selection.js';
import { whileHeartbeating } from './heartbeats.js';
import { LEASE_SAFETY_MARGIN_MS } from '../services/email-claims.js';
import { increments, type JobCounters, type JobMetrics } from '../observability/job-metrics.js';
import type { ReportEmail } from '../services/report-email.js';
import type { BatchesProgress, RegenerateBatchResult, ReportRegeneration } from '../services/report-regeneration.js';

export interface ReportServices {
  customerSelection: CustomerSelection;
  reportRegeneration: ReportRegeneration;
  reportEmail: ReportEmail;
}

function workflowId(): string {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('report activities run only inside a workflow');
  return execution.workflowId;
}

/**
 * How long before its start-to-close timeout an email attempt starts no more sends: the last
 * ones then finish, are marked and the rest released before the server gives up on it (a
 * fifth of the timeout, at most the lease's own safety margin).
 */
function stopMarginMs(startToCloseMs: number): number {
  return Math.min(LEASE_SAFETY_MARGIN_MS, startToCloseMs / 5);
}

/** A batch result's counts, as the job's series: customers done and failed, rows written. */
function recordRegenerated(job: JobCounters, [customers = 0, failures = 0, rows = 0]: number[]): void {
  job.itemsProcessed(customers);
  job.itemsFailed(failures);
  job.rowsWritten('daily_reports', rows);
}

const regeneratedCounts = (result: RegenerateBatchResult) => [result.customerIds.length, result.failures.length, result.rowsWritten];

/** Thin wrappers: each calls one service method and logs one line. */
export function createReportActivities(services: ReportServices, metrics: JobMetrics) {
  return {
    async findUnavailableCustomers(customerIds: number[]) {
      const unavailable = await services.customerSelection.findUnavailable(customerIds);
      log.info('checked requested customers', { requested: customerIds.length, unavailable: unavailable.length });
      return unavailable;
    },

    async planCustomerBatches(request: { afterId: number; batchSize: number; maxBatches: number; timeZones?: string[] }) {
      const plan = await services.customerSelection.planActiveBatches(request.afterId, request.batchSize, request.maxBatches, request.timeZones);
      log.info('planned batches', { afterId: request.afterId, batches: plan.batches.length, more: plan.nextAfterId !== null });
      return plan;
    },

    async regenerateReportBatches({ refuseUnavailable, ...request }: { batches: CustomerBatch[]; from: string; to: string; dryRun: boolean; refuseUnavailable?: boolean }) {
      // A small run's only step checks its customers itself, before it writes anything (the workflow's CHECK_IN_STEP).
      if (refuseUnavailable) {
        const unavailable = await services.customerSelection.findUnavailable(request.batches.flatMap((batch) => ('customerIds' in batch ? batch.customerIds : [])));
        if (unavailable.length > 0) {
          throw ApplicationFailure.create({ type: UNAVAILABLE_CUSTOMERS, nonRetryable: true, message: unavailableCustomersMessage(unavailable), details: [unavailable] });
        }
      }
      // A retry resumes after the batches the failed attempt reported done.
      const { info } = Context.current();
      const resume = info.heartbeatDetails as BatchesProgress | undefined;
      const job = metrics.job(info.workflowType);
      const newly = increments(resume, (progress: BatchesProgress) => regeneratedCounts(progress.result));
      const result = await whileHeartbeating<RegenerateBatchResult, BatchesProgress>((report) =>
        services.reportRegeneration.regenerateBatches({ ...request, workflowId: workflowId() }, {
          resume,
          onBatchDone: (progress) => {
            recordRegenerated(job, newly(progress)); // each batch as it commits
            report(progress);
          },
        }),
      );
      log.info('regenerated batches', { batches: request.batches.length, resumedAfter: resume?.done ?? 0, customers: result.customerIds.length, rows: result.rowsWritten, failures: result.failures.length });
      return result;
    },

    /** Deprecated: what runs started before batches were grouped still schedule (see the workflow's patch). */
    async regenerateReportBatch(request: { batch: CustomerBatch; from: string; to: string; dryRun: boolean }) {
      const result = await whileHeartbeating(() => services.reportRegeneration.regenerateBatch({ ...request, workflowId: workflowId() }));
      recordRegenerated(metrics.job(Context.current().info.workflowType), regeneratedCounts(result));
      log.info('regenerated batch', { customers: result.customerIds.length, rows: result.rowsWritten, failures: result.failures.length });
      return result;
    },

    /**
     * Sends as one attempt: its claims carry a token naming the attempt, and it stops (waits
     * for its sends in flight, marks them, releases the rest) when Temporal cancels it or times
     * it out, which reaches it through a heartbeat's response, or just before its own
     * start-to-close timeout. Either way the retry continues where it stopped. Reports another
     * attempt holds (one that may still be sending) are waited for until that same moment.
     */
    async sendReportEmails(request: { customerIds: number[]; from: string; to: string; resend: boolean; dryRun: boolean; runId: string }) {
      const context = Context.current();
      const { info } = context;
      // The random part keeps two live executions apart that share the rest: a local activity's
      // attempt numbers start again at 1 when another worker retries its workflow task, while the
      // first worker's execution may still be sending (cut off from Temporal, not dead).
      const attemptToken = `${info.workflowExecution?.runId}:${info.activityId}:${info.attempt}:${randomUUID()}`;
      const sendUntil = Date.now() + info.startToCloseTimeoutMs - stopMarginMs(info.startToCloseTimeoutMs);
      const job = metrics.job(info.workflowType);
      const result = await whileHeartbeating((report: (details: { done: number; total: number }) => void) =>
        services.reportEmail.sendReports(
          { ...request, workflowId: workflowId(), attemptToken },
          {
            onProgress: (done, total) => report({ done, total }), onMessage: (outcome) => job.email('report', outcome),
            signal: context.cancellationSignal, sendUntil, waitForHeldUntil: sendUntil,
          },
        ),
      );
      log.info('sent report emails', { sent: result.sent, alreadySent: result.alreadySent, failures: result.failures.length, attempt: info.attempt });
      return result;
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
