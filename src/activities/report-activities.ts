import { Context, log } from '@temporalio/activity';
import type { CustomerBatch } from '../contracts.js';
import type { CustomerSelection } from '../services/customer-selection.js';
import type { ReportEmail } from '../services/report-email.js';
import type { ReportRegeneration } from '../services/report-regeneration.js';

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
 * Heartbeats every few seconds while `work` runs, so a worker that dies mid-batch is noticed
 * within the heartbeat timeout instead of the (much longer) start-to-close timeout.
 */
async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), 2_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** Thin wrappers: each calls one service method and logs one line. */
export function createReportActivities(services: ReportServices) {
  return {
    async findUnavailableCustomers(customerIds: number[]) {
      const unavailable = await services.customerSelection.findUnavailable(customerIds);
      log.info('checked requested customers', { requested: customerIds.length, unavailable: unavailable.length });
      return unavailable;
    },

    async planCustomerBatches(request: { afterId: number; batchSize: number; maxBatches: number }) {
      const plan = await services.customerSelection.planActiveBatches(request.afterId, request.batchSize, request.maxBatches);
      log.info('planned batches', { afterId: request.afterId, batches: plan.batches.length, more: plan.nextAfterId !== null });
      return plan;
    },

    async regenerateReportBatch(request: { batch: CustomerBatch; from: string; to: string; dryRun: boolean }) {
      const result = await whileHeartbeating(() => services.reportRegeneration.regenerateBatch({ ...request, workflowId: workflowId() }));
      log.info('regenerated batch', { customers: result.customerIds.length, rows: result.rowsWritten, failures: result.failures.length });
      return result;
    },

    async sendReportEmails(request: { customerIds: number[]; from: string; to: string; resend: boolean; dryRun: boolean; runId: string }) {
      const context = Context.current();
      const result = await whileHeartbeating(() =>
        services.reportEmail.sendReports({ ...request, workflowId: workflowId() }, (done, total) => context.heartbeat({ done, total })),
      );
      log.info('sent report emails', { sent: result.sent, alreadySent: result.alreadySent, failures: result.failures.length });
      return result;
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
