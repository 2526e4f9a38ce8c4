/**
 * The retention job: delete daily report rows and email records of days before a cutoff
 * (REPORT_RETENTION_DAYS before today, UTC). Workflow: src/workflows/purge-old-reports.ts;
 * activities: src/activities/purge-activities.ts; service: src/services/report-purge.ts.
 */
import type { Config } from '../config.js';
import { fnv1a64, TASK_QUEUE_DEFAULT } from '../contracts.js';
import { addDays } from '../dates.js';
import {
  describePurgeSummary,
  PURGE_DEFAULTS,
  PURGE_OLD_REPORTS_WORKFLOW,
  purgeCutoff,
  purgeOldReportsInputSchema,
  purgeWorkflowInput,
  resolvePurgeInput,
  type PurgeOldReportsInput,
  type PurgeOldReportsSummary,
  type ResolvedPurgeInput,
} from '../purge-old-reports-contract.js';
import { queueSuffix } from '../temporal/runs.js';
import { CUSTOMER_IDS, PERIOD } from '../temporal/search-attributes.js';
import { describePurgeProgress, purgeProgressQuery, type PurgeProgress } from '../workflows/purge-progress.js';
import type { JobDefinition } from './job-definition.js';

export const purgeOldReportsJob: JobDefinition<PurgeOldReportsInput, ResolvedPurgeInput, PurgeOldReportsSummary, PurgeProgress> = {
  kind: 'purge-old-reports',
  workflowType: PURGE_OLD_REPORTS_WORKFLOW,
  description: 'delete daily report rows and email records of days before the retention cutoff (REPORT_RETENTION_DAYS before today, UTC)',
  schema: purgeOldReportsInputSchema(),
  defaultsFromConfig: (config) => purgeSettings(config),
  customers: 'existing',
  resolve: resolvePurgeInput,
  workflowInput: purgeWorkflowInput,
  workflowId: (input, { taskQueue }) => purgeOldReportsWorkflowId(input, taskQueue),
  searchAttributes: (input) => [
    { key: CUSTOMER_IDS, value: input.customerIds ? input.customerIds.map(String) : ['all'] },
    // The days it deletes, inclusive, as DjPeriod spells every job's days.
    { key: PERIOD, value: `..${addDays(input.cutoff, -1)}` },
  ],
  staticSummary: (input) => {
    const scope = input.customerIds ? `customers ${input.customerIds.join(', ')}` : 'every customer';
    return `${input.dryRun ? 'Dry run: ' : ''}purge reports and email records before ${input.cutoff} (${input.retentionDays} days kept) for ${scope}`;
  },
  staticDetails: (input) => `Batch size ${input.batchSize} rows per transaction; up to ${PURGE_DEFAULTS.batchesPerActivity} batches per activity.`,
  progress: {
    query: purgeProgressQuery,
    describe: describePurgeProgress,
    bar: (progress) => ({
      done: progress.reportRowsDeleted + progress.emailRecordsDeleted,
      total: progress.reportRowsToDelete + progress.emailRecordsToDelete,
      unit: 'rows',
      detail: progress.phase,
    }),
  },
  summary: {
    describe: describePurgeSummary,
    outcome: (summary) => (summary.cancelled ? 'cancelled' : 'ok'),
    counts: () => ({ failedItems: 0, quarantined: 0 }),
  },
  doors: {
    cli: {
      flags: {
        retentionDays: { flag: '--retention-days <n>' },
        customerIds: { flag: '--customer <id>', help: 'a customer id; repeat for several (default: every customer)' },
        dryRun: { flag: '--dry-run' },
        batchSize: { flag: '--batch-size <n>' },
      },
    },
    // Started from a customer's page, which fills customerIds.
    // A destructive job's form starts as a dry run: deleting is a second, deliberate click.
    form: { fields: ['retentionDays', 'dryRun'], roles: ['operator'], defaults: () => ({ dryRun: true }) },
    // No backfill: a run deletes everything before its cutoff, so the latest run covers every
    // earlier one; there is nothing a missed run leaves behind that the next does not delete.
    schedule: {
      covers: (scheduledAt, input) => {
        const retentionDays = typeof input.retentionDays === 'number' ? input.retentionDays : PURGE_DEFAULTS.retentionDays;
        return `report rows and email records of days before ${purgeCutoff(scheduledAt, retentionDays)} (${retentionDays} days before ${scheduledAt.toISOString().slice(0, 10)}, UTC)`;
      },
    },
  },
};

/**
 * Readable and collision-free: `purge-old-reports:all:before-2025-10-27`, with `:dry-run` and
 * `@queue` (off the default queue) when they apply. A second purge of the same scope and
 * cutoff is refused while one runs (both would walk the same rows); a dry run never blocks a
 * real one. More than 5 customers are named by count, first and last id and a hash of the set.
 */
export function purgeOldReportsWorkflowId(input: ResolvedPurgeInput, taskQueue: string = TASK_QUEUE_DEFAULT): string {
  const ids = input.customerIds;
  const scope = !ids
    ? 'all'
    : ids.length <= 5
      ? `customer-${ids.join(',')}`
      : `customers-${ids.length}-${ids[0]}..${ids[ids.length - 1]}-${fnv1a64(ids.join(','))}`;
  return `purge-old-reports:${scope}:before-${input.cutoff}${input.dryRun ? ':dry-run' : ''}${queueSuffix(taskQueue, TASK_QUEUE_DEFAULT)}`;
}

/** What the settings give every purge our doors start: the weekly schedule's input, and the CLI's and admin page's defaults. */
export function purgeSettings(config: Pick<Config, 'REPORT_RETENTION_DAYS'>): PurgeOldReportsInput {
  return { retentionDays: config.REPORT_RETENTION_DAYS };
}
