import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PurgeActivities, PurgeBatchesRequest } from '../activities/purge-activities.js';
import { addDays } from '../dates.js';
import {
  PURGE_DEFAULTS,
  resolvePurgeInput,
  type PurgeCounts,
  type PurgeOldReportsInput,
  type PurgeOldReportsSummary,
  type ResolvedPurgeInput,
} from '../purge-old-reports-contract.js';
import type { EmailRecordCursor, PurgeProgress as TableProgress, ReportRowCursor } from '../services/report-purge.js';
import { CUSTOMER_IDS, PERIOD, STARTED_FROM } from '../temporal/search-attributes.js';
import { describePurgeProgress, initialPurgeProgress, purgeProgressQuery } from './purge-progress.js';
import { resolveAtRunTime } from './run-input.js';

export { purgeProgressQuery, type PurgeProgress } from './purge-progress.js';

// Each heartbeats between batches (and every 2 s): a lost worker's attempt is retried after 10 s.
const activityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 50 },
} as const;
// A cancel reaches the activity in flight (through its heartbeat), which stops after the batch
// it is deleting and returns its progress; the workflow waits for that, so it reports what was deleted.
const { purgeReportRows, purgeEmailRecords } = proxyActivities<PurgeActivities>({
  ...activityOptions,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
// Counting deletes nothing; it runs to its end and a cancel takes effect after it.
const { countPurgeable } = proxyActivities<PurgeActivities>(activityOptions);

/** Carried across continue-as-new: the resolved input, what was counted, and each table's cursor and count (null: not started). */
export interface PurgeResumeState {
  input: ResolvedPurgeInput;
  wouldDelete: PurgeCounts;
  reportRows: TableProgress<ReportRowCursor> | null;
  emailRecords: TableProgress<EmailRecordCursor> | null;
}

/**
 * Deletes daily report rows and email records of days before the cutoff (see
 * purge-old-reports-contract.ts). Steps: validate → count → delete report rows → delete email
 * records → summary; a dry run stops after counting. Each activity deletes up to
 * PURGE_DEFAULTS.batchesPerActivity batches and the next continues from its cursor; every
 * `activitiesPerRun` activities the run continues as new with its cursors and counts, so its
 * history stays bounded however many rows there are. Cancelling stops the activity in flight
 * after its current batch (one transaction), and no further activity runs.
 */
export async function purgeOldReports(rawInput?: PurgeOldReportsInput, resume?: PurgeResumeState): Promise<PurgeOldReportsSummary> {
  if (resume !== undefined && !workflowInfo().continuedFromExecutionRunId) {
    throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: 'invalid input: purgeOldReports takes one argument, the input object' });
  }
  const progress = initialPurgeProgress();
  const report = () => setCurrentDetails(describePurgeProgress(progress));
  setHandler(purgeProgressQuery, () => progress);
  report();

  const input = resume?.input ?? resolveAtRunTime(resolvePurgeInput, rawInput);
  upsertSearchAttributes([
    { key: PERIOD, value: `..${addDays(input.cutoff, -1)}` },
    { key: CUSTOMER_IDS, value: input.customerIds ? input.customerIds.map(String) : ['all'] },
    // Runs started without our client (`temporal workflow start`, another SDK) say so too.
    { key: STARTED_FROM, value: workflowInfo().typedSearchAttributes.get(STARTED_FROM) ?? 'api' },
  ]);
  const scope = { cutoff: input.cutoff, customerIds: input.customerIds };
  Object.assign(progress, { phase: 'counting', cutoff: input.cutoff, dryRun: input.dryRun });
  report();

  const root = CancellationScope.current();
  const wouldDelete = resume?.wouldDelete ?? (await CancellationScope.nonCancellable(() => countPurgeable(scope)));
  let reportRows = resume?.reportRows ?? null;
  let emailRecords = resume?.emailRecords ?? null;
  const show = () => {
    Object.assign(progress, {
      reportRowsToDelete: wouldDelete.reportRows, emailRecordsToDelete: wouldDelete.emailRecords,
      reportRowsDeleted: reportRows?.deleted ?? 0, emailRecordsDeleted: emailRecords?.deleted ?? 0,
    });
    report();
  };
  show();

  if (!input.dryRun) {
    const request = { ...scope, batchSize: input.batchSize, maxBatches: PURGE_DEFAULTS.batchesPerActivity };
    let activities = 0;
    const mayRunAnother = () => !root.consideredCancelled && activities < input.activitiesPerRun;
    progress.phase = 'deleting report rows';
    while (!reportRows?.finished && mayRunAnother()) {
      activities++;
      reportRows = (await untilCancelled(purgeReportRows, request, reportRows)) ?? reportRows;
      show();
    }
    if (reportRows?.finished) progress.phase = 'deleting email records';
    while (reportRows?.finished && !emailRecords?.finished && mayRunAnother()) {
      activities++;
      emailRecords = (await untilCancelled(purgeEmailRecords, request, emailRecords)) ?? emailRecords;
      show();
    }
    if (!root.consideredCancelled && !emailRecords?.finished) {
      return continueAsNew<typeof purgeOldReports>(rawInput, { input, wouldDelete, reportRows, emailRecords });
    }
  }
  const summary: PurgeOldReportsSummary = {
    cutoff: input.cutoff, retentionDays: input.retentionDays, dryRun: input.dryRun, wouldDelete,
    reportRowsDeleted: reportRows?.deleted ?? 0, emailRecordsDeleted: emailRecords?.deleted ?? 0, cancelled: root.consideredCancelled,
  };
  progress.phase = summary.cancelled ? 'cancelling' : 'done';
  report();
  return summary;
}

/**
 * One activity's batches, continuing from `resume`. Undefined when the run was cancelled before
 * the activity started (nothing deleted); an activity cancelled while running returns its progress.
 */
async function untilCancelled<Cursor>(
  purge: (request: PurgeBatchesRequest<Cursor>) => Promise<TableProgress<Cursor>>,
  request: Omit<PurgeBatchesRequest<Cursor>, 'resume'>,
  resume: TableProgress<Cursor> | null,
): Promise<TableProgress<Cursor> | undefined> {
  try {
    return await purge({ ...request, ...(resume ? { resume } : {}) });
  } catch (error) {
    if (isCancellation(error) && CancellationScope.current().consideredCancelled) return undefined;
    throw error;
  }
}
