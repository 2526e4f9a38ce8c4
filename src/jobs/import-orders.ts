/**
 * The import job: download the shop's orders from its HTTP API (ORDERS_API_URL), incrementally,
 * and regenerate the report days they change. Workflow: src/workflows/import-orders.ts;
 * activities: src/activities/import-activities.ts; services: order-import (the writes),
 * shop-orders-client (the API), source-lock (one importer per source).
 */
import { fnv1a64, TASK_QUEUE_DEFAULT } from '../contracts.js';
import {
  describeImportSummary,
  IMPORT_ORDERS_WORKFLOW,
  importOrdersInputSchema,
  resolveImportInput,
  type ImportOrdersInput,
  type ImportOrdersSummary,
  type ResolvedImportInput,
} from '../import-orders-contract.js';
import { queueSuffix } from '../temporal/runs.js';
import { CUSTOMER_IDS, PERIOD } from '../temporal/search-attributes.js';
import { describeImportProgress, importProgressQuery, type ImportProgress } from '../workflows/import-progress.js';
import type { JobDefinition } from './job-definition.js';

export const importOrdersJob: JobDefinition<ImportOrdersInput, ResolvedImportInput, ImportOrdersSummary, ImportProgress> = {
  kind: 'import-orders',
  workflowType: IMPORT_ORDERS_WORKFLOW,
  description: "download the shop's new and changed orders from its API, then regenerate the report days they change",
  schema: importOrdersInputSchema(),
  customers: 'existing',
  resolve: resolveImportInput,
  workflowInput: (input) => ({
    ...(input.window ? { since: input.window.since, until: input.window.until } : {}),
    ...(input.window?.customerIds ? { customerIds: input.window.customerIds } : {}),
    dryRun: input.dryRun,
    regenerate: input.regenerate,
    ...(input.retryQuarantined ? { retryQuarantined: true } : {}),
    pageSize: input.pageSize,
    pagesPerActivity: input.pagesPerActivity,
  }),
  workflowId: (input, { taskQueue }) => importOrdersWorkflowId(input, taskQueue),
  searchAttributes: (input) => [
    { key: CUSTOMER_IDS, value: input.window?.customerIds ? input.window.customerIds.map(String) : ['all'] },
    { key: PERIOD, value: input.window ? `${input.window.since}..${input.window.until}` : 'incremental' },
  ],
  staticSummary: (input) =>
    `${input.dryRun ? 'Dry run: ' : ''}import orders from ${input.source}` +
    (input.window ? `, updated ${input.window.since} .. ${input.window.until}${input.window.customerIds ? ` for customers ${input.window.customerIds.join(', ')}` : ''}` : ', from the committed cursor'),
  staticDetails: (input) => `${input.pageSize} orders a page, ${input.pagesPerActivity} pages an activity; reports ${input.regenerate ? 'regenerated' : 'left alone'}.`,
  progress: {
    query: importProgressQuery,
    describe: describeImportProgress,
    bar: (progress) => ({
      done: progress.phase === 'regenerating reports' ? progress.daysDone : progress.pages,
      total: progress.phase === 'regenerating reports' ? progress.daysToRegenerate : 0,
      unit: progress.phase === 'regenerating reports' ? 'days' : 'pages',
      detail: describeImportProgress(progress),
    }),
  },
  summary: {
    describe: describeImportSummary,
    outcome: (summary) => (summary.cancelledRun ? 'cancelled' : summary.regenerationFailures.length > 0 ? 'some-failed' : 'ok'),
    counts: (summary) => ({ failedItems: summary.regenerationFailures.length + (summary.regenerationFailuresNotListed ?? 0), quarantined: summary.quarantined }),
    fixCommands: (summary) => [
      ...(summary.quarantined > 0 ? ['npm run job -- quarantine', '(fix the cause it names, then) npm run job -- import-orders --retry-quarantined --wait'] : []),
      ...summary.regenerationFailures.map((failure) => `npm run job -- rerun-failed '${failure.workflowId}' --wait`),
    ],
  },
  doors: {
    cli: {
      flags: {
        since: { flag: '--since <instant>' },
        until: { flag: '--until <instant>' },
        customerIds: { flag: '--customer <id>', help: "with --since: a customer id whose orders to re-import; repeat for several" },
        dryRun: { flag: '--dry-run' },
        regenerate: { flag: '--no-regenerate', help: 'do not regenerate the report days the import changes' },
        retryQuarantined: { flag: '--retry-quarantined' },
        pageSize: { flag: '--page-size <n>' },
      },
    },
    form: { fields: ['since', 'until', 'dryRun'], roles: ['operator'] },
    // Every 15 minutes (src/schedules.ts), incremental: a run reads from the committed cursor,
    // whatever its scheduled time, so a missed run is made up by the next and backfill has
    // nothing to add.
    schedule: { covers: () => 'the orders changed since the last committed page, to the end of what the shop has' },
  },
};

/**
 * `import-orders:shop` for incremental runs, so Temporal itself refuses a second while one
 * runs (the source lock covers the schedule's runs, whose ids carry their time);
 * `import-orders:shop:2026-11-01T00:00:00.000Z..…[:customers-…][:dry-run]` for a window.
 */
export function importOrdersWorkflowId(input: ResolvedImportInput, taskQueue: string = TASK_QUEUE_DEFAULT): string {
  const window = input.window;
  const ids = window?.customerIds;
  const scope = !window ? '' : `:${window.since}..${window.until}${!ids ? '' : ids.length <= 5 ? `:customer-${ids.join(',')}` : `:customers-${ids.length}-${fnv1a64(ids.join(','))}`}`;
  return `import-orders:${input.source}${scope}${input.dryRun ? ':dry-run' : ''}${queueSuffix(taskQueue, TASK_QUEUE_DEFAULT)}`;
}
