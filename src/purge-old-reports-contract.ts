/**
 * The contract of the purge job, `purgeOldReports`: its input, the rules that resolve it, and
 * what a run returns. Shared by every door and by the workflow itself. Sandbox-safe: no Node
 * built-ins.
 *
 * The cutoff is a calendar day, counted in UTC: `retentionDays` days before the UTC day of the
 * run's time (its scheduled time for a scheduled run). Every report row of a day before the
 * cutoff is deleted, whatever the customer's zone: a row's `report_date` is the customer's own
 * local day, and comparing it with a UTC day is off by at most the zone's offset (under a day),
 * which a retention of at least PURGE_LIMITS.minRetentionDays days makes harmless. An email
 * record is deleted when both its period ended before the cutoff and it was sent before the
 * cutoff day began (UTC): a resend of an old period today is recent activity, and is kept.
 */
import { z } from 'zod';
import { addDays, localDate } from './dates.js';
import { InvalidInputError, parseInput, type FieldProblem } from './validation.js';
import { isoDate, LIMITS } from './contracts.js';

export { InvalidInputError, type FieldProblem } from './validation.js';

export const PURGE_OLD_REPORTS_WORKFLOW = 'purgeOldReports';

/** Guard rails; changing them is a code change, reviewed like one. */
export const PURGE_LIMITS = {
  /** A shorter retention could delete reports customers still look at (and emails whose records stop a resend). */
  minRetentionDays: 30,
  maxRetentionDays: 3650,
  maxBatchSize: 10_000,
  maxActivitiesPerRun: 1000,
} as const;

export const PURGE_DEFAULTS = {
  /**
   * REPORT_RETENTION_DAYS' default (src/config.ts). The input has none: a destructive run says
   * how much it keeps, and every door passes the setting (defaultsFromConfig).
   */
  retentionDays: 400,
  dryRun: false,
  batchSize: 1000,
  /** Batches one activity deletes before it reports back with its cursor. */
  batchesPerActivity: 20,
  /**
   * Activities one run executes before it continues as new with its cursors and counts, so the
   * history stays small (about 7 events an activity) however many rows there are.
   */
  activitiesPerRun: 100,
} as const;

const retentionRule = `must be a whole number of days from ${PURGE_LIMITS.minRetentionDays} to ${PURGE_LIMITS.maxRetentionDays}`;
const retentionRequired = 'is required: the days of reports to keep (REPORT_RETENTION_DAYS)';
const batchSizeRule = `must be a whole number from 1 to ${PURGE_LIMITS.maxBatchSize}`;
const activitiesRule = `must be a whole number from 1 to ${PURGE_LIMITS.maxActivitiesPerRun}`;

const purgeOldReportsInput = z
  .strictObject(
    {
      retentionDays: z
        .number({ error: (issue) => (issue.input === undefined ? retentionRequired : retentionRule) })
        .int(retentionRule)
        .min(PURGE_LIMITS.minRetentionDays, `${retentionRule} (a shorter retention would delete recent reports)`)
        .max(PURGE_LIMITS.maxRetentionDays, retentionRule)
        .describe('keep this many days before today (UTC); older reports and email records are deleted (required; the doors pass REPORT_RETENTION_DAYS)'),
      customerIds: z
        .array(z.number({ error: 'must be a list of customer ids (positive integers)' }).int().positive(), {
          error: 'must be a list of customer ids (positive integers)',
        })
        .min(1, 'must name at least one customer, or be left out for every customer')
        .max(LIMITS.maxCustomerIds, `may name at most ${LIMITS.maxCustomerIds} customers; leave it out to purge every customer`)
        .optional()
        .describe('customer ids to purge (default: every customer, active or not)'),
      asOf: isoDate()
        .optional()
        .describe('the UTC day the retention counts back from (default: today; a scheduled run: its scheduled day); the doors fix it when they start a run'),
      dryRun: z.boolean({ error: 'must be true or false' }).optional()
        .describe('count what would be deleted; delete nothing'),
      batchSize: z
        .number({ error: batchSizeRule })
        .int(batchSizeRule)
        .min(1, batchSizeRule)
        .max(PURGE_LIMITS.maxBatchSize, batchSizeRule)
        .optional()
        .describe(`rows deleted per transaction (default ${PURGE_DEFAULTS.batchSize})`),
      activitiesPerRun: z
        .number({ error: activitiesRule })
        .int(activitiesRule)
        .min(1, activitiesRule)
        .max(PURGE_LIMITS.maxActivitiesPerRun, activitiesRule)
        .optional()
        .describe(`activities (of ${PURGE_DEFAULTS.batchesPerActivity} batches each) a run executes before it continues as new, keeping its history small (default ${PURGE_DEFAULTS.activitiesPerRun})`),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
  )
  .optional();

/** purgeOldReports' input schema (a function, not the schema: see regenerateReportsInputSchema in src/contracts.ts). */
export const purgeOldReportsInputSchema = () => purgeOldReportsInput;

export type PurgeOldReportsInput = NonNullable<z.input<typeof purgeOldReportsInput>>;

/** The input with every default filled in, and the cutoff it means at the run's time. */
export interface ResolvedPurgeInput {
  retentionDays: number;
  /** The UTC day the retention counts back from. */
  asOf: string;
  /** Rows of days before this one (YYYY-MM-DD, a UTC calendar day) are deleted; this day and later are kept. */
  cutoff: string;
  customerIds: number[] | null;
  dryRun: boolean;
  batchSize: number;
  activitiesPerRun: number;
}

/**
 * Validates raw input (JSON, flags, a form) and fills defaults. `now` is the run's time: its
 * scheduled time for a scheduled run (the workflow reads it), its start otherwise.
 */
export function resolvePurgeInput(raw: unknown, now: Date): ResolvedPurgeInput {
  // No input at all is an input without its required retentionDays.
  const input = parseInput(purgeOldReportsInput.unwrap(), raw ?? {});
  const problems: FieldProblem[] = [];
  const ids = input.customerIds ?? null;
  if (ids && new Set(ids).size !== ids.length) problems.push({ field: 'customerIds', message: 'customerIds must not repeat an id' });
  // A day after today would keep fewer days than retentionDays (below the minimum, at worst):
  // refused, with no grace. A door fixes asOf from its own clock: one running ahead of the
  // server's across midnight gets a run refused (saying why) rather than one keeping a day less.
  const today = localDate(now, 'UTC');
  if (input.asOf !== undefined && input.asOf > today) problems.push({ field: 'asOf', message: `asOf (${input.asOf}) must not be after today (${today}, UTC)` });
  if (problems.length > 0) throw new InvalidInputError(problems);
  const retentionDays = input.retentionDays;
  const asOf = input.asOf ?? today;
  return {
    retentionDays,
    asOf,
    cutoff: addDays(asOf, -retentionDays),
    customerIds: ids ? [...ids].sort((a, b) => a - b) : null,
    dryRun: input.dryRun ?? PURGE_DEFAULTS.dryRun,
    batchSize: input.batchSize ?? PURGE_DEFAULTS.batchSize,
    activitiesPerRun: input.activitiesPerRun ?? PURGE_DEFAULTS.activitiesPerRun,
  };
}

/** The first day kept: `retentionDays` days before the UTC day of `now`. */
export function purgeCutoff(now: Date, retentionDays: number): string {
  return addDays(localDate(now, 'UTC'), -retentionDays);
}

/**
 * The workflow input, `asOf` fixed: a run started at 23:59:59 that the worker takes up after
 * midnight still deletes what its id and the door said (`before-<cutoff>`).
 */
export function purgeWorkflowInput(resolved: ResolvedPurgeInput): PurgeOldReportsInput {
  return {
    retentionDays: resolved.retentionDays,
    asOf: resolved.asOf,
    ...(resolved.customerIds ? { customerIds: resolved.customerIds } : {}),
    dryRun: resolved.dryRun,
    batchSize: resolved.batchSize,
    ...(resolved.activitiesPerRun !== PURGE_DEFAULTS.activitiesPerRun ? { activitiesPerRun: resolved.activitiesPerRun } : {}),
  };
}

/** Rows and records a purge found (dry run) or deleted. */
export interface PurgeCounts {
  reportRows: number;
  emailRecords: number;
}

export interface PurgeOldReportsSummary {
  cutoff: string;
  retentionDays: number;
  dryRun: boolean;
  /** Counted before anything was deleted: what a run would delete (a dry run's answer). */
  wouldDelete: PurgeCounts;
  reportRowsDeleted: number;
  emailRecordsDeleted: number;
  /** True when the run was cancelled: it stopped between batches, and the counts say what was deleted. */
  cancelled: boolean;
}

export function describePurgeSummary(summary: PurgeOldReportsSummary): string {
  const before = `before ${summary.cutoff} (${summary.retentionDays} days kept)`;
  if (summary.dryRun) {
    return `dry run: would delete ${summary.wouldDelete.reportRows} report rows and ${summary.wouldDelete.emailRecords} email records ${before}`;
  }
  return `${summary.cancelled ? 'cancelled after deleting ' : 'deleted '}${summary.reportRowsDeleted} report rows and ` +
    `${summary.emailRecordsDeleted} email records ${before}`;
}
