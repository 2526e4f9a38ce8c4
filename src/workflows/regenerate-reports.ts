import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  type ActivityInterfaceFor,
  type LocalActivityInterfaceFor,
  setHandler,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { ReportActivities } from '../activities/report-activities.js';
import {
  DEFAULTS,
  emptySummary,
  recordFailedRange,
  recordFailures,
  resolveRegenerateInput,
  UNAVAILABLE_CUSTOMERS,
  unavailableCustomersMessage,
  type CustomerBatch,
  type CustomerFailure,
  type RegenerateReportsInput,
  type RegenerateReportsSummary,
  type ResolvedRegenerateInput,
} from '../contracts.js';
import { CUSTOMER_IDS, PERIOD, STARTED_FROM } from '../temporal/search-attributes.js';
import { groupBatches, type BatchGroup } from './batch-groups.js';
import { resolveAtRunTime } from './run-input.js';
import { CHECK_IN_STEP, isSmallRun, LOCAL_EMAIL_ATTEMPT_MS, LOCAL_STEP_FAILURES_RECORDED, SMALL_RUN_PATCH } from './small-runs.js';
import { describeProgress, initialProgress, progressQuery, type RegenerateProgress } from './progress.js';

export { progressQuery, type RegenerateProgress } from './progress.js';

/** Carried across continue-as-new so one logical run can cover any number of customers. */
export interface RegenerateResumeState {
  input: ResolvedRegenerateInput;
  summary: RegenerateReportsSummary;
  afterCustomerId: number;
  progress: RegenerateProgress;
}

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 50 };

// Short reads, done inside the workflow task: each saves a server round trip per run (or page).
const { findUnavailableCustomers, planCustomerBatches } = proxyLocalActivities<ReportActivities>({
  startToCloseTimeout: '30 seconds',
  retry,
});
/** The steps a run schedules per batch group: the same functions, as activities or as local activities. */
type ReportSteps = Pick<ReportActivities, 'regenerateReportBatches' | 'regenerateReportBatch' | 'sendReportEmails'>;

// All heartbeat at least every 2 s: a lost worker's batch is retried elsewhere after 10 s.
const activitySteps: ActivityInterfaceFor<ReportSteps> = proxyActivities<ReportSteps>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry,
});
// Small runs (src/workflows/small-runs.ts): every step inside the workflow task, no task-queue
// hand-off. Backoffs past 5 s wait on a server timer instead of holding the task open.
const localSteps: LocalActivityInterfaceFor<ReportSteps> = proxyLocalActivities<ReportSteps>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '5 seconds',
  retry,
});

/**
 * Regenerates daily report rows for a period and emails each customer its report.
 * Steps: validate → select customers → per batch: purge+regenerate, then email → summary.
 * Cancelling stops it between activities; activities in flight finish their batches, so no customer is half-done.
 * Its end releases no email claims: an attempt the server gave up on may still be sending
 * them. Each attempt releases what it did not send when it stops; a dead worker's claims wait
 * out their lease (src/services/email-claims.ts).
 */
export async function regenerateReports(
  rawInput?: RegenerateReportsInput,
  resume?: RegenerateResumeState,
): Promise<RegenerateReportsSummary> {
  const progress = resume?.progress ?? initialProgress();
  const report = () => setCurrentDetails(describeProgress(progress));
  setHandler(progressQuery, () => progress);
  report();

  // The second argument is this workflow's own continue-as-new state, trusted without
  // validation; a first run given one (`temporal workflow start --input … --input …`) is refused.
  if (resume !== undefined && !workflowInfo().continuedFromExecutionRunId) {
    throw ApplicationFailure.create({
      type: 'InvalidInput',
      nonRetryable: true,
      message: 'invalid input: regenerateReports takes one argument, the input object; the second is only for its own continue-as-new',
    });
  }
  // Decided in the first activation, before any local activity: see GROUPING_DECIDED_FIRST.
  const groupingDecidedFirst = patched(GROUPING_DECIDED_FIRST);
  const input = resume?.input ?? validate(rawInput);
  // Decided in the first activation as well, and only for small runs: a run that was big when
  // it started has no marker and replays big whatever the threshold becomes.
  const steps = isSmallRun(input) && patched(SMALL_RUN_PATCH) ? localSteps : activitySteps;
  // A small run's step that fails for good reports its customers failed, as a big run's does.
  const localFailuresRecorded = steps === localSteps && patched(LOCAL_STEP_FAILURES_RECORDED);
  const summary = resume?.summary ?? emptySummary(input);
  upsertSearchAttributes([
    { key: PERIOD, value: `${input.from}..${input.to}` },
    { key: CUSTOMER_IDS, value: input.customerIds ? input.customerIds.map(String) : ['all'] },
    // Runs started without our client (`temporal workflow start`, another SDK) say so too.
    { key: STARTED_FROM, value: workflowInfo().typedSearchAttributes.get(STARTED_FROM) ?? 'api' },
  ]);
  progress.phase = 'selecting';

  let batches: CustomerBatch[];
  let nextAfterId: number | null = null;
  let checkInStep = false;
  if (input.customerIds) {
    batches = sliceIds(input.customerIds, input.batchSize);
    // A small run whose customers fit one batch lets its one step check them before it writes:
    // one local activity fewer. One batch, so one transaction: a retried attempt never refuses
    // after an earlier attempt committed part of the run. Decided in the first activation.
    checkInStep = steps === localSteps && groupingDecidedFirst && batches.length === 1 && patched(CHECK_IN_STEP);
    if (!checkInStep) await refuseUnavailable(input.customerIds);
    progress.customersTotal = input.customerIds.length;
  } else {
    const plan = await planCustomerBatches({
      afterId: resume?.afterCustomerId ?? 0, batchSize: input.batchSize, maxBatches: input.batchesPerRun,
      ...(input.customerTimeZones ? { timeZones: input.customerTimeZones } : {}),
    });
    batches = plan.batches;
    nextAfterId = plan.nextAfterId;
    progress.customersTotal = summary.customersProcessed + summary.failures.length + summary.failuresNotListed + plan.remainingCustomers;
  }

  progress.phase = 'regenerating';
  const firstBatchNumber = progress.batchesPlanned + 1;
  progress.batchesPlanned += batches.length;
  report();
  // Runs started before batches were grouped replay their history one batch per activity.
  const groups = groupingDecidedFirst || patched(GROUPED_BATCHES)
    ? groupBatches(batches, input.parallelism, input.batchesPerActivity ?? DEFAULTS.batchesPerActivity)
    : batches.map((batch, first): BatchGroup => ({ first, batches: [batch], legacy: true }));
  const root = CancellationScope.current();
  await forEachBounded(groups, input.parallelism, () => root.consideredCancelled, async (group) => {
    // In-flight activities are never cut short: a cancel takes effect between them.
    await CancellationScope.nonCancellable(() => processBatches(steps, group, firstBatchNumber + group.first, input, summary, { checkInStep, localFailuresRecorded }));
    progress.batchesDone += group.batches.length;
    progress.customersDone = summary.customersProcessed;
    progress.failures = summary.failures.length + summary.failuresNotListed;
    report();
  });

  if (root.consideredCancelled) {
    summary.cancelled = true;
    progress.phase = 'cancelling';
  } else if (nextAfterId !== null) {
    return continueAsNew<typeof regenerateReports>(rawInput, { input, summary, afterCustomerId: nextAfterId, progress });
  } else {
    progress.phase = 'done';
  }
  report();
  return summary;
}

/**
 * v0.2 decided grouping with `patched(GROUPED_BATCHES)` right after the planning local activity.
 * That is unsafe: when the SDK records the activity's marker in one workflow task and the code
 * after it runs in the next, replay resolves the activity in the first task, before the patch
 * marker of the second is known, `patched()` answers false and every replay fails with a
 * nondeterminism error (test/fixtures/histories-unreplayable/). Runs since then decide in their
 * first activation, whose task always holds the marker; older runs still replay as they were.
 */
const GROUPING_DECIDED_FIRST = 'grouping-decided-before-planning';
const GROUPED_BATCHES = 'several-batches-per-activity';

function describeGroup(group: BatchGroup, number: number): string {
  const { batches } = group;
  const head = batches.length === 1 ? `batch ${number}` : `batches ${number}–${number + batches.length - 1}`;
  const firstBatch = batches[0]!;
  const lastBatch = batches[batches.length - 1]!;
  if ('firstId' in firstBatch && 'lastId' in lastBatch) return `${head}: customers ${firstBatch.firstId}–${lastBatch.lastId}`;
  const ids = batches.flatMap((batch) => ('customerIds' in batch ? batch.customerIds : []));
  return `${head}: customer ${ids.join(', ').slice(0, 80)}`;
}

async function processBatches(
  steps: ActivityInterfaceFor<ReportSteps> | LocalActivityInterfaceFor<ReportSteps>,
  group: BatchGroup,
  number: number,
  input: ResolvedRegenerateInput,
  summary: RegenerateReportsSummary,
  { checkInStep, localFailuresRecorded }: { checkInStep: boolean; localFailuresRecorded: boolean },
): Promise<void> {
  const { from, to, dryRun } = input;
  const label = describeGroup(group, number);
  const options = { summary: `${dryRun ? 'dry run ' : ''}regenerate ${label}` };
  let regenerated;
  try {
    regenerated = group.legacy
      ? await steps.regenerateReportBatch.executeWithOptions(options, [{ batch: group.batches[0]!, from, to, dryRun }])
      : await steps.regenerateReportBatches.executeWithOptions(options, [{ batches: group.batches, from, to, dryRun, ...(checkInStep ? { refuseUnavailable: true } : {}) }]);
  } catch (error) {
    if (checkInStep) throwIfRefused(error);
    for (const batch of group.batches) recordBatchFailure(summary, batch, 'regenerate', error, localFailuresRecorded);
    return;
  }
  summary.customersProcessed += regenerated.customerIds.length;
  summary.rowsWritten += regenerated.rowsWritten;
  summary.rowsThatWouldChange += regenerated.rowsThatWouldChange;
  recordFailures(summary, regenerated.failures);
  if (!input.sendEmail || regenerated.customerIds.length === 0) return;
  try {
    // An attempt stops before this runs out and its retry continues (resume states of runs
    // started before the field existed lack it: the default is the timeout they ran with).
    const runAttemptMs = (input.emailAttemptTimeoutSeconds ?? DEFAULTS.emailAttemptTimeoutSeconds) * 1000;
    const attemptTimeoutMs = steps === localSteps ? Math.min(runAttemptMs, LOCAL_EMAIL_ATTEMPT_MS) : runAttemptMs;
    // emailMaxAttempts lets a run give up on its emails sooner; rerun-failed sends them later.
    const retryEmails = { ...retry, maximumAttempts: input.emailMaxAttempts ?? DEFAULTS.emailMaxAttempts };
    const sent = await steps.sendReportEmails.executeWithOptions({ summary: `email ${label}`, retry: retryEmails, startToCloseTimeout: attemptTimeoutMs }, [
      { customerIds: regenerated.customerIds, from, to, resend: input.resend, dryRun, runId: workflowInfo().firstExecutionRunId },
    ]);
    summary.emailsSent += sent.sent;
    summary.emailsAlreadySent += sent.alreadySent;
    summary.emailsSkippedNoOrders += sent.skippedNoOrders;
    recordFailures(summary, sent.failures);
  } catch (error) {
    // Range batches are recorded as ranges, so rerun-failed can expand every one: a list of
    // customer ids would be cut at MAX_LISTED_FAILURES, and the rest never re-run.
    if (group.batches.every((batch) => !('customerIds' in batch))) {
      for (const batch of group.batches) recordBatchFailure(summary, batch, 'email', error, localFailuresRecorded);
    } else {
      recordBatchFailure(summary, { customerIds: regenerated.customerIds }, 'email', error, localFailuresRecorded);
    }
  }
}

function validate(rawInput: unknown): ResolvedRegenerateInput {
  // A scheduled or backfilled run computes "yesterday" from its scheduled time, not from
  // when it happens to run: the 2026-11-05 02:00 run regenerates 2026-11-04 even if late.
  return resolveAtRunTime(resolveRegenerateInput, rawInput);
}

async function refuseUnavailable(customerIds: number[]): Promise<void> {
  const unavailable = await findUnavailableCustomers(customerIds);
  if (unavailable.length === 0) return;
  throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: unavailableCustomersMessage(unavailable), details: [unavailable] });
}

/** The small step's refusal (CHECK_IN_STEP) fails the run with the failure refuseUnavailable would have. */
function throwIfRefused(error: unknown): void {
  // A local activity's non-retryable failure reaches the workflow as it was thrown, not as an ActivityFailure.
  const refusal = error instanceof ActivityFailure ? error.cause : error;
  if (refusal instanceof ApplicationFailure && refusal.type === UNAVAILABLE_CUSTOMERS) {
    throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: refusal.message, details: refusal.details ? [...refusal.details] : [] });
  }
}

/**
 * A batch whose step failed for good (its retries exhausted, a non-retryable failure, a
 * timeout): every customer in it is reported failed. An activity's failure arrives as an
 * ActivityFailure, and so does a local activity's timeout or cancellation; a local activity's
 * own failure (a small run's step) arrives as the failure itself, which runs started before
 * LOCAL_STEP_FAILURES_RECORDED let fail the run. Anything else is a bug, and fails the task.
 */
function recordBatchFailure(summary: RegenerateReportsSummary, batch: CustomerBatch, step: CustomerFailure['step'], error: unknown, localFailuresRecorded: boolean): void {
  const stepFailed = error instanceof ActivityFailure || (localFailuresRecorded && error instanceof TemporalFailure);
  if (!stepFailed) throw error;
  const reason = error instanceof ActivityFailure ? error.cause?.message ?? error.message : error.message;
  if ('customerIds' in batch) {
    recordFailures(summary, batch.customerIds.map((customerId) => ({ customerId, step, reason })));
  } else {
    recordFailedRange(summary, { firstId: batch.firstId, lastId: batch.lastId, ...(batch.timeZones ? { timeZones: batch.timeZones } : {}), step, reason });
  }
}

function sliceIds(ids: number[], size: number): CustomerBatch[] {
  const batches: CustomerBatch[] = [];
  for (let i = 0; i < ids.length; i += size) batches.push({ customerIds: ids.slice(i, i + size) });
  return batches;
}

/** Runs `work` over items, at most `limit` at a time, in list order, until `stop()` says so. */
async function forEachBounded<T>(items: T[], limit: number, stop: () => boolean, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !stop()) {
      const index = next++;
      await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
}
