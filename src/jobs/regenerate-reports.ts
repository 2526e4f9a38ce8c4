/**
 * The report job: purge and regenerate daily report rows for a period, then email each
 * customer its report. Workflow: src/workflows/regenerate-reports.ts; activities:
 * src/activities/report-activities.ts; services: report-regeneration, report-email.
 */
import {
  DEFAULTS,
  failureCount,
  fnv1a64,
  LIMITS,
  MAX_LISTED_FAILURES,
  REGENERATE_REPORTS_WORKFLOW,
  regenerateReportsInputSchema,
  resolveRegenerateInput,
  TASK_QUEUE_DEFAULT,
  workflowInputOf,
  type RegenerateReportsInput,
  type RegenerateReportsSummary,
  type ResolvedRegenerateInput,
} from '../contracts.js';
import { reportTuning } from '../config.js';
import { addDays, localDate, zonedMidnight } from '../dates.js';
import { CUSTOMER_IDS, PERIOD } from '../temporal/search-attributes.js';
import { queueSuffix } from '../temporal/runs.js';
import { describeProgress, progressQuery, type RegenerateProgress } from '../workflows/progress.js';
import type { JobDefinition } from './job-definition.js';

export const regenerateReportsJob: JobDefinition<RegenerateReportsInput, ResolvedRegenerateInput, RegenerateReportsSummary, RegenerateProgress> = {
  kind: 'regenerate-reports',
  workflowType: REGENERATE_REPORTS_WORKFLOW,
  description: 'purge and regenerate daily report rows for a period, then email each customer its report',
  schema: regenerateReportsInputSchema(),
  defaultsFromConfig: reportTuning,
  resolve: resolveRegenerateInput,
  workflowInput: workflowInputOf,
  workflowId: (input, { taskQueue }) => regenerateReportsWorkflowId(input, taskQueue),
  searchAttributes: (input) => [
    { key: CUSTOMER_IDS, value: input.customerIds ? input.customerIds.map(String) : ['all'] },
    { key: PERIOD, value: `${input.from}..${input.to}` },
  ],
  staticSummary: (input) => {
    const scope = input.customerIds ? `customers ${input.customerIds.join(', ')}` : 'all active customers';
    return `${input.dryRun ? 'Dry run: ' : ''}regenerate reports for ${scope}, ${input.from}..${input.to}`;
  },
  staticDetails: (input) =>
    `Email: ${input.sendEmail ? (input.resend ? 'resend' : 'yes') : 'no'}; batch size ${input.batchSize}, parallelism ${input.parallelism}, ` +
    `up to ${input.batchesPerActivity} batches per activity.`,
  progress: {
    query: progressQuery,
    describe: describeProgress,
    bar: (progress) => ({
      done: progress.customersDone,
      total: progress.customersTotal,
      unit: 'customers',
      detail: `batch ${progress.batchesDone}/${progress.batchesPlanned} | ${progress.phase}`,
    }),
  },
  summary: {
    describe: describeSummary,
    outcome: (summary) => (summary.cancelled ? 'cancelled' : failureCount(summary) > 0 ? 'some-failed' : 'ok'),
    // Failed customers, plus each failed id range of an all-customer run as one.
    counts: (summary) => ({ failedItems: failureCount(summary), quarantined: 0 }),
    fixCommands: (summary, workflowId) => (failureCount(summary) > 0 ? [`npm run job -- rerun-failed '${workflowId}' --wait`] : []),
  },
  doors: {
    cli: {
      flags: {
        customerIds: { flag: '--customer <id>', help: 'a customer id; repeat for several (default: all active customers)' },
        from: { flag: '--from <YYYY-MM-DD>' },
        to: { flag: '--to <YYYY-MM-DD>' },
        sendEmail: { flag: '--no-email', help: 'do not send report emails' },
        resend: { flag: '--resend' },
        dryRun: { flag: '--dry-run' },
        batchSize: { flag: '--batch-size <n>' },
        parallelism: { flag: '--parallelism <n>' },
        batchesPerActivity: { flag: '--batches-per-activity <n>' },
      },
    },
    form: {
      fields: ['from', 'to', 'sendEmail', 'resend', 'dryRun'],
      roles: ['operator'],
      // Yesterday (UTC) with email: what a run without input does, shown so the operator sees it.
      defaults: (now) => {
        const yesterday = addDays(now.toISOString().slice(0, 10), -1);
        return { from: yesterday, to: yesterday, sendEmail: DEFAULTS.sendEmail, resend: DEFAULTS.resend, dryRun: DEFAULTS.dryRun };
      },
    },
    // A schedule of this job (the nightly job is the usual one) reports, at each scheduled time,
    // the day before it in the input's `timeZone`: its default period reads the scheduled time.
    schedule: {
      covers: (scheduledAt, input) => {
        if (typeof input.from === 'string' || typeof input.to === 'string') return `${input.from ?? input.to}..${input.to ?? input.from}, the period its input fixes`;
        const zone = typeof input.timeZone === 'string' ? input.timeZone : 'UTC';
        return `${addDays(localDate(scheduledAt, zone), -1)}, the day before its scheduled time in ${zone} (each customer's rows cover that day in the customer's own zone)`;
      },
      backfill: {
        maxDays: LIMITS.maxRangeDays,
        // Day D is reported by the runs scheduled on D + 1 in the zone: every time of that day.
        window: (from, to, input) => {
          const zone = typeof input.timeZone === 'string' ? input.timeZone : 'UTC';
          return { start: zonedMidnight(addDays(from, 1), zone), end: new Date(zonedMidnight(addDays(to, 2), zone).getTime() - 1000) };
        },
      },
    },
  },
  rerunFailed: {
    async inputs(summary, ranInput, helpers) {
      const notes: string[] = [];
      const ids = new Set(summary.failures.map((failure) => failure.customerId));
      for (const range of summary.failedRanges) for (const id of await helpers.activeIdsInRange(range.firstId, range.lastId, range.timeZones)) ids.add(id);
      if (summary.failuresNotListed > 0) {
        notes.push(`${summary.failuresNotListed} failed customers were not listed in the summary (it lists ${MAX_LISTED_FAILURES}); they are not in this re-run: re-run the whole period for those`);
      }
      if ((summary.failedRangesNotListed ?? 0) > 0) {
        notes.push(
          `${summary.failedRangesNotListed} failed id ranges were not listed in the summary (it lists ${MAX_LISTED_FAILURES}); ` +
            'their customers are not in this re-run: re-run the whole period for those (npm run job -- regenerate-reports --from … --to …)',
        );
      }
      // The original run's options, every one of them (the settings fill what it did not say);
      // only who and when change: these customers, the period it ran (so no zone for "yesterday").
      const { customerTimeZones: _zones, timeZone: _zone, ...options } = ranInput;
      // A run names at most LIMITS.maxCustomerIds customers: a failed range of an all-customer
      // run can hold more, so they are re-run in as many runs as that takes.
      const sorted = [...ids].sort((a, b) => a - b);
      const inputs: RegenerateReportsInput[] = [];
      for (let i = 0; i < sorted.length; i += LIMITS.maxCustomerIds) {
        inputs.push({ ...helpers.defaults, ...options, customerIds: sorted.slice(i, i + LIMITS.maxCustomerIds), from: summary.from, to: summary.to, dryRun: summary.dryRun });
      }
      if (inputs.length > 1) notes.push(`${sorted.length} failed customers: re-running them in ${inputs.length} runs of at most ${LIMITS.maxCustomerIds}`);
      return { inputs, notes };
    },
  },
};

function describeSummary(summary: RegenerateReportsSummary): string {
  const rows = summary.dryRun ? `${summary.rowsThatWouldChange} rows would change (dry run)` : `${summary.rowsWritten} rows written`;
  const customers = summary.failures.length + summary.failuresNotListed;
  const ranges = summary.failedRanges.length + (summary.failedRangesNotListed ?? 0);
  const failed = [
    ...(customers > 0 ? [`${customers} customer${customers === 1 ? '' : 's'} failed`] : []),
    ...(ranges > 0 ? [`${ranges} batch${ranges === 1 ? '' : 'es'} of customers (id ranges) failed`] : []),
  ];
  return `${summary.cancelled ? 'cancelled after ' : ''}${summary.customersProcessed} customers, ${rows}, ${summary.emailsSent} emails sent, ` +
    `${summary.emailsAlreadySent} already sent, ${summary.emailsSkippedNoOrders} skipped (no orders), ${failed.length > 0 ? failed.join(', ') : 'no failures'}`;
}

/**
 * Readable ids: what, for whom, which period. Manual runs of the same scope and period get
 * the same id, so Temporal itself refuses a second one while the first is running. Runs on
 * another task queue than the default carry it in the id, so deployments never block each other.
 *
 * More than 5 customers are named by count, first and last id, and a hash of the exact
 * sorted id list (`customers-6-1..9-3f2a…`): readable, the same for the same set in any
 * order, different for different sets (count and first id alone made unrelated runs
 * collide, and the second was refused as "already running").
 */
export function regenerateReportsWorkflowId(input: ResolvedRegenerateInput, taskQueue: string = TASK_QUEUE_DEFAULT): string {
  const ids = input.customerIds ? [...input.customerIds].sort((a, b) => a - b) : null;
  const zones = input.customerTimeZones;
  const scope = !ids
    ? zones
      ? zones.length <= 3 ? `all-in-${zones.join(',')}` : `all-in-${zones.length}-zones-${fnv1a64(zones.join(','))}`
      : 'all'
    : ids.length <= 5
      ? `customer-${ids.join(',')}`
      : `customers-${ids.length}-${ids[0]}..${ids[ids.length - 1]}-${fnv1a64(ids.join(','))}`;
  const period = input.from === input.to ? input.from : `${input.from}..${input.to}`;
  return `regenerate-reports:${scope}:${period}${input.dryRun ? ':dry-run' : ''}${queueSuffix(taskQueue, TASK_QUEUE_DEFAULT)}`;
}
