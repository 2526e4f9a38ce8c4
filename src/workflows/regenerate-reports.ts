import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReportActivities } from '../activities/report-activities.js';
import {
  InvalidInputError,
  MAX_LISTED_FAILURES,
  emptySummary,
  resolveRegenerateInput,
  type CustomerBatch,
  type CustomerFailure,
  type RegenerateReportsInput,
  type RegenerateReportsSummary,
  type ResolvedRegenerateInput,
} from '../contracts.js';

export interface RegenerateProgress {
  phase: 'validating' | 'selecting' | 'regenerating' | 'done';
  batchesDone: number;
  batchesPlanned: number;
  customersDone: number;
  failures: number;
}

export const progressQuery = defineQuery<RegenerateProgress>('progress');

/** Carried across continue-as-new so one logical run can cover any number of customers. */
export interface RegenerateResumeState {
  input: ResolvedRegenerateInput;
  summary: RegenerateReportsSummary;
  afterCustomerId: number;
  progress: RegenerateProgress;
}

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 50 };

const { findUnavailableCustomers, planCustomerBatches } = proxyActivities<ReportActivities>({
  startToCloseTimeout: '1 minute',
  retry,
});
const { regenerateReportBatch } = proxyActivities<ReportActivities>({
  startToCloseTimeout: '5 minutes',
  retry,
});
const { sendReportEmails } = proxyActivities<ReportActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry,
});

/**
 * Regenerates daily report rows for a period and emails each customer its report.
 * Steps: validate → select customers → per batch: purge+regenerate, then email → summary.
 */
export async function regenerateReports(
  rawInput?: RegenerateReportsInput,
  resume?: RegenerateResumeState,
): Promise<RegenerateReportsSummary> {
  const progress: RegenerateProgress = resume?.progress ?? { phase: 'validating', batchesDone: 0, batchesPlanned: 0, customersDone: 0, failures: 0 };
  setHandler(progressQuery, () => progress);

  const input = resume?.input ?? validate(rawInput);
  const summary = resume?.summary ?? emptySummary(input);
  progress.phase = 'selecting';

  let batches: CustomerBatch[];
  let nextAfterId: number | null = null;
  if (input.customerIds) {
    const unavailable = await findUnavailableCustomers(input.customerIds);
    if (unavailable.length > 0) {
      const list = unavailable.map((c) => `${c.customerId} (${c.reason})`).join(', ');
      throw ApplicationFailure.create({
        type: 'InvalidInput',
        nonRetryable: true,
        message: `invalid input: customerIds names customers that cannot be run: ${list}`,
        details: [unavailable],
      });
    }
    batches = sliceIds(input.customerIds, input.batchSize);
  } else {
    const plan = await planCustomerBatches({ afterId: resume?.afterCustomerId ?? 0, batchSize: input.batchSize, maxBatches: input.batchesPerRun });
    batches = plan.batches;
    nextAfterId = plan.nextAfterId;
  }

  progress.phase = 'regenerating';
  progress.batchesPlanned += batches.length;
  await forEachBounded(batches, input.parallelism, async (batch) => {
    await processBatch(batch, input, summary);
    progress.batchesDone++;
    progress.customersDone = summary.customersProcessed;
    progress.failures = summary.failures.length + summary.failuresNotListed;
  });

  if (nextAfterId !== null) {
    return continueAsNew<typeof regenerateReports>(rawInput, { input, summary, afterCustomerId: nextAfterId, progress });
  }
  progress.phase = 'done';
  return summary;
}

async function processBatch(batch: CustomerBatch, input: ResolvedRegenerateInput, summary: RegenerateReportsSummary): Promise<void> {
  const { from, to, dryRun } = input;
  let regenerated;
  try {
    regenerated = await regenerateReportBatch({ batch, from, to, dryRun });
  } catch (error) {
    recordBatchFailure(summary, batch, 'regenerate', error);
    return;
  }
  summary.customersProcessed += regenerated.customerIds.length;
  summary.rowsWritten += regenerated.rowsWritten;
  summary.rowsThatWouldChange += regenerated.rowsThatWouldChange;
  recordFailures(summary, regenerated.failures);
  if (!input.sendEmail || regenerated.customerIds.length === 0) return;
  try {
    const sent = await sendReportEmails({ customerIds: regenerated.customerIds, from, to, resend: input.resend, dryRun });
    summary.emailsSent += sent.sent;
    summary.emailsAlreadySent += sent.alreadySent;
    summary.emailsSkippedNoOrders += sent.skippedNoOrders;
    recordFailures(summary, sent.failures);
  } catch (error) {
    recordBatchFailure(summary, { customerIds: regenerated.customerIds }, 'email', error);
  }
}

function validate(rawInput: unknown): ResolvedRegenerateInput {
  try {
    return resolveRegenerateInput(rawInput, new Date(workflowInfo().startTime));
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: error.message, details: [error.problems] });
    }
    throw error;
  }
}

/** A batch whose activity exhausted its retries: every customer in it is reported failed. */
function recordBatchFailure(summary: RegenerateReportsSummary, batch: CustomerBatch, step: CustomerFailure['step'], error: unknown): void {
  if (!(error instanceof ActivityFailure)) throw error;
  const reason = error.cause?.message ?? error.message;
  if ('customerIds' in batch) {
    recordFailures(summary, batch.customerIds.map((customerId) => ({ customerId, step, reason })));
  } else {
    summary.failedRanges.push({ firstId: batch.firstId, lastId: batch.lastId, step, reason });
  }
}

function recordFailures(summary: RegenerateReportsSummary, failures: CustomerFailure[]): void {
  for (const failure of failures) {
    if (summary.failures.length < MAX_LISTED_FAILURES) summary.failures.push(failure);
    else summary.failuresNotListed++;
  }
}

function sliceIds(ids: number[], size: number): CustomerBatch[] {
  const batches: CustomerBatch[] = [];
  for (let i = 0; i < ids.length; i += size) batches.push({ customerIds: ids.slice(i, i + size) });
  return batches;
}

/** Runs `work` over items with at most `limit` in flight, in order of the list. */
async function forEachBounded<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
