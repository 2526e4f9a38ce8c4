import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  continueAsNew,
  executeChild,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ImportActivities } from '../activities/import-activities.js';
import type { PendingDays } from '../services/order-import.js';
import { failureCount } from '../contracts.js';
import {
  addImportCounts,
  emptyImportCounts,
  failedCustomersOf,
  IMPORT_DEFAULTS,
  type ExcludedCustomers,
  resolveImportInput,
  type ImportOrdersInput,
  type ImportOrdersSummary,
  type ResolvedImportInput,
} from '../import-orders-contract.js';
import { CUSTOMER_IDS, PERIOD, STARTED_FROM } from '../temporal/search-attributes.js';
import { describeImportProgress, importProgressQuery, type ImportProgress } from './import-progress.js';
import { regenerateReports } from './regenerate-reports.js';
import { resolveAtRunTime } from './run-input.js';

export { importProgressQuery, type ImportProgress } from './import-progress.js';

// The activity heartbeats every page (and every 2 s): a lost worker's pages resume elsewhere
// within 30 s, after the last page it committed. Retries are unbounded in count but each waits
// as the API asks (429) or backs off to a minute; a refused key or a schema break fails at once.
// Short steps around each day's regeneration; the email step heartbeats every send.
const {
  recordReportsBeforeCorrection, sendReportCorrections, sendReportCorrectionsSparing, retryQuarantinedOrders, takeAffectedDays, clearAffectedDays, clearAffectedDaysSparing,
} = proxyActivities<ImportActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 30 },
});
const { importOrderPages } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  // No maximumAttempts: an outage of the source is waited out, never turned into lost pages.
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['SourceRefused', 'SourceSchemaBreak'] },
});

/** Carried across continue-as-new: what this logical run has done so far, and where the API stopped. */
export interface ImportResumeState {
  input: ResolvedImportInput;
  summary: ImportOrdersSummary;
  apiCursor: string | null;
  /** Set when the pages are done and the report days are being regenerated, after this day. */
  regenerating?: {
    afterDay: string;
    /** Whether the pages were read to the end: if not, the run goes on with them after the days. */
    caughtUp: boolean;
    /** The run was cancelled before it continued as new. */
    cancelled: boolean;
  };
}

/** A run continues as new past this many history events while regenerating days (the limit is 51,200). */
const HISTORY_EVENTS_BEFORE_CONTINUING = 10_000;

/**
 * Runs since this patch send a day's corrections, and forget its changes, for every customer
 * whose regeneration succeeded, even when others failed; runs before it (whose histories have
 * no marker where a child failed) kept the whole day pending and sent nothing for it.
 */
const CORRECTIONS_BESIDE_FAILURES = 'corrections-beside-failed-customers';

/**
 * Downloads the shop's orders (see import-orders-contract.ts) a few pages per activity, then
 * regenerates the report days the changes touched: one child `regenerateReports` run per day,
 * for the customers whose orders changed (or all, past 100), delete-and-replace like every
 * report run. Days are regenerated even when the run is cancelled, so no report is left
 * stale by rows this run already wrote. Page data never enters the history: activities return
 * counts and days only. Every `activitiesPerRun` activities it continues as new.
 */
export async function importOrders(rawInput?: ImportOrdersInput, resume?: ImportResumeState): Promise<ImportOrdersSummary> {
  const info = workflowInfo();
  if (resume !== undefined && !info.continuedFromExecutionRunId) {
    throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: 'invalid input: importOrders takes one argument, the input object' });
  }
  // A scheduled run's window (if its input gives only `since`) ends at its scheduled time.
  const input = resume?.input ?? resolveAtRunTime(resolveImportInput, rawInput);
  const summary: ImportOrdersSummary = resume?.summary ?? {
    ...emptyImportCounts(), source: input.source, dryRun: input.dryRun, window: input.window, cursor: null,
    daysRegenerated: 0, correctionEmailsSent: 0, regenerationFailures: [], cancelledRun: false,
  };
  const progress: ImportProgress = { phase: 'importing', pages: summary.pages, written: summary.inserted + summary.updated, quarantined: summary.quarantined, daysToRegenerate: 0, daysDone: 0 };
  const report = () => setCurrentDetails(describeImportProgress(progress));
  setHandler(importProgressQuery, () => progress);
  report();
  upsertSearchAttributes([
    { key: PERIOD, value: input.window ? `${input.window.since}..${input.window.until}` : 'incremental' },
    { key: CUSTOMER_IDS, value: input.window?.customerIds ? input.window.customerIds.map(String) : ['all'] },
    { key: STARTED_FROM, value: info.typedSearchAttributes.get(STARTED_FROM) ?? 'api' },
  ]);

  const root = CancellationScope.current();
  // The days changed, for a dry run's answer and the progress; those to regenerate are in the database.
  const days = new Set<string>();
  let apiCursor = resume?.apiCursor ?? null;
  // A run continued while regenerating days goes on with them first, then (if the pages were
  // not read to the end) with the pages, from the API cursor it carries.
  const resumingDays = resume?.regenerating;
  let caughtUp = resumingDays?.caughtUp ?? false;
  const cancelledBefore = resumingDays?.cancelled ?? false;
  if (input.retryQuarantined && !resume) {
    const retried = await CancellationScope.nonCancellable(() => retryQuarantinedOrders({ source: input.source }));
    addImportCounts(summary, retried);
    for (const day of retried.days) days.add(day);
  }
  for (let activity = 0; activity < IMPORT_DEFAULTS.activitiesPerRun && !resumingDays && !caughtUp && !cancelledBefore && !root.consideredCancelled; activity++) {
    // An activity in flight finishes its pages: a cancel takes effect between activities.
    const result = await CancellationScope.nonCancellable(() =>
      importOrderPages({ source: input.source, window: input.window, dryRun: input.dryRun, pageSize: input.pageSize, maxPages: input.pagesPerActivity, apiCursor }),
    );
    addImportCounts(summary, result);
    for (const day of result.days) days.add(day);
    apiCursor = result.apiCursor;
    caughtUp = result.caughtUp;
    Object.assign(progress, { pages: summary.pages, written: summary.inserted + summary.updated, quarantined: summary.quarantined, daysToRegenerate: days.size });
    report();
  }

  progress.phase = input.dryRun || !input.regenerate ? 'done' : 'regenerating reports';
  report();
  if (input.dryRun || !input.regenerate) {
    summary.daysRegenerated += input.dryRun ? days.size : 0;
  } else {
    // The days come from the database, recorded with the pages that changed them: none is lost
    // to a retried page, a killed worker or a run that died before regenerating (the next does).
    // A bounded number of days at a time, in day order; a long list continues as new between
    // takes, so the history stays small whatever the import touched.
    const continueAfter = await CancellationScope.nonCancellable(async () => {
      let afterDay = resume?.regenerating?.afterDay;
      progress.daysToRegenerate = progress.daysDone;
      for (;;) {
        const pending = await takeAffectedDays({ source: input.source, ...(afterDay ? { afterDay } : {}) });
        progress.daysToRegenerate += pending.days.length;
        report();
        await regenerateDays(pending, input.source, summary, progress, report);
        if (!pending.more || pending.days.length === 0) return undefined;
        afterDay = pending.days[pending.days.length - 1]!.day;
        if (workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUING) return afterDay;
      }
    });
    if (continueAfter !== undefined) {
      return continueAsNew<typeof importOrders>(rawInput, {
        input, summary, apiCursor, regenerating: { afterDay: continueAfter, caughtUp, cancelled: cancelledBefore || root.consideredCancelled },
      });
    }
  }

  if (root.consideredCancelled || cancelledBefore) {
    summary.cancelledRun = true;
  } else if (!caughtUp) {
    return continueAsNew<typeof importOrders>(rawInput, { input, summary, apiCursor });
  }
  progress.phase = 'done';
  report();
  return summary;
}

/** One child report run per day, one after another (each already runs its batches in parallel). */
async function regenerateDays(pending: PendingDays, source: string, summary: ImportOrdersSummary, progress: ImportProgress, report: () => void): Promise<void> {
  const info = workflowInfo();
  const startedFrom = info.typedSearchAttributes.get(STARTED_FROM) ?? 'api';
  for (const { day, customerIds: ids, taken, revision } of pending.days) {
    // The run id keeps children of a continued run apart from those of the run before it.
    const workflowId = `${info.workflowId}:${info.runId.slice(0, 8)}:reports:${day}`;
    const customerIds = ids === 'all' ? undefined : ids;
    try {
      // Customers whose regeneration failed: their part of the day stays pending, uncorrected.
      let spared: ExcludedCustomers | undefined;
      // Only inactive customers changed: they have no reports; the day is just forgotten.
      if (customerIds?.length !== 0) {
        // The day is regenerated without the report email (its customers already had theirs,
        // or will at the nightly run); customers who were sent its final report get a
        // correction, once per revision (this run and day), saying what changed.
        const args = { ...(customerIds ? { customerIds } : {}), from: day, to: day, sendEmail: false };
        await recordReportsBeforeCorrection({ day, customerIds: customerIds ?? null, revision });
        const regenerated = await executeChild(regenerateReports, {
          workflowId,
          args: [args],
          typedSearchAttributes: [
            { key: STARTED_FROM, value: startedFrom },
            { key: CUSTOMER_IDS, value: customerIds ? customerIds.map(String) : ['all'] },
            { key: PERIOD, value: `${day}..${day}` },
          ],
          memo: { startedBy: `workflow:${info.workflowId}`, startedFrom, input: args },
          staticSummary: `Reports for ${day} after an order import, ${customerIds ? `customers ${customerIds.join(', ')}` : 'all active customers'}`.slice(0, 400),
        });
        if (regenerated.cancelled || failureCount(regenerated) > 0) {
          // Some customers failed (or the run was cancelled). The others get their corrections
          // and are forgotten; the failed ones stay pending, for the next import to regenerate,
          // and get no correction read from a report not rebuilt. Cancelled, or more failures
          // than the child's summary lists, nobody can be told apart: the whole day stays.
          // (Runs from before this patch kept the whole day whenever anyone failed.)
          const failed = regenerated.cancelled ? null : failedCustomersOf(regenerated);
          const partly = failed !== null && patched(CORRECTIONS_BESIDE_FAILURES);
          listFailure(summary, {
            day, workflowId,
            reason: `${regenerated.cancelled ? 'cancelled; ' : ''}${failureCount(regenerated)} customers (or id ranges) failed; ` +
              (partly ? 'their part of the day stays pending for the next import, the others are corrected now' : 'the day is regenerated again by the next import'),
          });
          if (!partly) {
            progress.daysDone++;
            report();
            continue;
          }
          spared = failed;
        } else {
          summary.daysRegenerated++;
        }
        const corrections = spared ? await sendReportCorrectionsSparing({ day, revision, spared }) : await sendReportCorrections({ day, revision });
        summary.correctionEmailsSent += corrections.sent + corrections.alreadySent;
      }
      // Forgotten only once regenerated: a failed day (or a failed customer's part of it) stays pending for the next import.
      if (spared) await clearAffectedDaysSparing({ source, day, taken, takenAt: pending.takenAt, revision, spared });
      else await clearAffectedDays({ source, day, taken, takenAt: pending.takenAt });
    } catch (error) {
      if (!(error instanceof ChildWorkflowFailure) && !(error instanceof ActivityFailure)) throw error;
      listFailure(summary, { day, workflowId, reason: error.cause?.message ?? error.message });
    }
    progress.daysDone++;
    report();
  }
}

/** The first 100 failed days are listed (the summary travels across continue-as-new); the rest are only counted. */
function listFailure(summary: ImportOrdersSummary, failure: ImportOrdersSummary['regenerationFailures'][number]): void {
  if (summary.regenerationFailures.length < 100) summary.regenerationFailures.push(failure);
  else summary.regenerationFailuresNotListed = (summary.regenerationFailuresNotListed ?? 0) + 1;
}

