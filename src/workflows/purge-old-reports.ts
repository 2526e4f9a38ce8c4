import {
  CancellationScope,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PurgeActivities, PurgeBatchesRequest } from '../activities/purge-activities.js';
import { addDays } from '../dates.js';
import { PURGE_DEFAULTS, resolvePurgeInput, type PurgeOldReportsInput, type PurgeOldReportsSummary } from '../purge-old-reports-contract.js';
import type { EmailRecordCursor, PurgeProgress as TableProgress, ReportRowCursor } from '../services/report-purge.js';
import { CUSTOMER_IDS, PERIOD, STARTED_FROM } from '../temporal/search-attributes.js';
import { describePurgeProgress, initialPurgeProgress, purgeProgressQuery } from './purge-progress.js';
import { resolveAtRunTime } from './run-input.js';

export { purgeProgressQuery, type PurgeProgress } from './purge-progress.js';

// Each heartbeats between batches (and every 2 s): a lost worker's attempt is retried after 10 s.
const { countPurgeable, purgeReportRows, purgeEmailRecords } = proxyActivities<PurgeActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 50 },
});

/**
 * Deletes daily report rows and email records of days before the cutoff (see
 * purge-old-reports-contract.ts). Steps: validate → count → delete report rows → delete email
 * records → summary; a dry run stops after counting. Each activity deletes up to
 * PURGE_DEFAULTS.batchesPerActivity batches and the next continues from its cursor, so the
 * history grows by one activity per that many batches (20,000 rows by default). Cancelling
 * stops it between activities; the activity in flight finishes its batches.
 */
export async function purgeOldReports(rawInput?: PurgeOldReportsInput): Promise<PurgeOldReportsSummary> {
  const progress = initialPurgeProgress();
  const report = () => setCurrentDetails(describePurgeProgress(progress));
  setHandler(purgeProgressQuery, () => progress);
  report();

  const input = resolveAtRunTime(resolvePurgeInput, rawInput);
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
  // Activities are never cut short: a cancel takes effect between them.
  const wouldDelete = await CancellationScope.nonCancellable(() => countPurgeable(scope));
  progress.reportRowsToDelete = wouldDelete.reportRows;
  progress.emailRecordsToDelete = wouldDelete.emailRecords;
  const summary: PurgeOldReportsSummary = {
    cutoff: input.cutoff, retentionDays: input.retentionDays, dryRun: input.dryRun, wouldDelete,
    reportRowsDeleted: 0, emailRecordsDeleted: 0, cancelled: false,
  };

  if (!input.dryRun) {
    const request = { ...scope, batchSize: input.batchSize, maxBatches: PURGE_DEFAULTS.batchesPerActivity };
    progress.phase = 'deleting report rows';
    report();
    await untilFinished<ReportRowCursor>(request, (r) => purgeReportRows(r), root, (deleted) => {
      summary.reportRowsDeleted = progress.reportRowsDeleted = deleted;
      report();
    });
    if (!root.consideredCancelled) {
      progress.phase = 'deleting email records';
      report();
      await untilFinished<EmailRecordCursor>(request, (r) => purgeEmailRecords(r), root, (deleted) => {
        summary.emailRecordsDeleted = progress.emailRecordsDeleted = deleted;
        report();
      });
    }
  }
  summary.cancelled = root.consideredCancelled;
  progress.phase = summary.cancelled ? 'cancelling' : 'done';
  report();
  return summary;
}

/** Calls `purge` activity after activity, each continuing from the last one's cursor, until the table is done or the run is cancelled. */
async function untilFinished<Cursor>(
  request: Omit<PurgeBatchesRequest<Cursor>, 'resume'>,
  purge: (request: PurgeBatchesRequest<Cursor>) => Promise<TableProgress<Cursor>>,
  root: CancellationScope,
  onDeleted: (deleted: number) => void,
): Promise<void> {
  let resume: TableProgress<Cursor> | undefined;
  while (!resume?.finished && !root.consideredCancelled) {
    const last: TableProgress<Cursor> | undefined = resume;
    resume = await CancellationScope.nonCancellable(() => purge({ ...request, ...(last ? { resume: last } : {}) }));
    onDeleted(resume.deleted);
  }
}
