/**
 * The contract of the import job, `importOrders`: download the shop's orders from its HTTP
 * API into `orders`, then regenerate the report days the changes touch. Shared by every door
 * and the workflow. Sandbox-safe: no Node built-ins.
 *
 * Two kinds of run:
 * - incremental (no `since`): from the committed cursor on, to the end of what the API has
 *   now; each page's rows and the cursor after it commit in one transaction, so a crash loses
 *   nothing and repeats nothing it committed;
 * - a window (`since`, optionally `until` and `customerIds`): re-reads that span of the
 *   source (updated_at) to repair it, applying only those customers' orders if named; the
 *   committed cursor stays where it is.
 */
import { z } from 'zod';
import { LIMITS, type RegenerateReportsSummary } from './contracts.js';
import { isCalendarDate, isSupportedDay } from './dates.js';
import { InvalidInputError, parseInput, type FieldProblem } from './validation.js';

export const IMPORT_ORDERS_WORKFLOW = 'importOrders';
/** The one source this project imports from (ORDERS_API_URL); the cursor and the lock are per source. */
export const ORDERS_SOURCE = 'shop';

export const IMPORT_LIMITS = {
  maxPageSize: 1000,
  maxPagesPerActivity: 200,
  /** A window longer than this is a full re-import: do it in parts, each one a bounded run. */
  maxWindowDays: 366,
} as const;

export const IMPORT_DEFAULTS = {
  pageSize: 500,
  /**
   * Pages one activity fetches and writes before it reports back. Each hand-over (a workflow
   * task, the next activity's dispatch, its fetch not yet overlapped) costs ~20-25 ms on the
   * dev server: at 20 pages some 5 % of a bulk import, at 50 about 2 % (BENCHMARKS.md, import).
   * A retry still resumes after the last page written (heartbeat details), so more pages an
   * activity repeat nothing; progress reaches the workflow every 25,000 orders at the default size.
   */
  pagesPerActivity: 50,
  /** Activities one workflow run executes before it continues as new, keeping its history small. */
  activitiesPerRun: 50,
  regenerate: true,
  dryRun: false,
} as const;

const instantRule = 'must be an ISO-8601 instant with a zone, e.g. 2026-11-05T00:00:00Z';
// Checked part by part: Date.parse rolls 2026-02-30 over into March and accepts T24:00.
const INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const instant = z
  .string({ error: instantRule })
  .regex(INSTANT, instantRule)
  .refine((value) => {
    const parts = INSTANT.exec(value);
    return !!parts && isCalendarDate(parts[1]!) && isSupportedDay(parts[1]!) && Number(parts[2]) < 24 && Number(parts[3]) < 60 && Number(parts[5] ?? 0) < 60 && !Number.isNaN(Date.parse(value));
  }, instantRule);

const wholeNumber = (max: number) => {
  const rule = `must be a whole number from 1 to ${max}`;
  return z.number({ error: rule }).int(rule).min(1, rule).max(max, rule);
};

const importOrdersInput = z
  .strictObject(
    {
      since: instant.optional().describe('re-import orders updated at or after this instant (a window; default: from the committed cursor)'),
      until: instant.optional().describe('with since: stop at orders updated after this instant (default: now)'),
      customerIds: z
        .array(z.number({ error: 'must be a list of customer ids (positive integers)' }).int().positive(), { error: 'must be a list of customer ids (positive integers)' })
        .min(1, 'must name at least one customer, or be left out for every customer')
        .max(LIMITS.maxCustomerIds, `may name at most ${LIMITS.maxCustomerIds} customers`)
        .optional()
        .describe("with since: apply only these customers' orders"),
      dryRun: z.boolean({ error: 'must be true or false' }).optional().describe('say what would be inserted, updated, cancelled or quarantined; write nothing'),
      regenerate: z.boolean({ error: 'must be true or false' }).optional().describe('regenerate the report days the changes touch (default: true)'),
      retryQuarantined: z.boolean({ error: 'must be true or false' }).optional()
        .describe('first validate the quarantined records again (say, after fixing a customer) and import those now valid (at most 1,000 a run)'),
      pageSize: wholeNumber(IMPORT_LIMITS.maxPageSize).optional().describe(`orders per API request (default ${IMPORT_DEFAULTS.pageSize})`),
      pagesPerActivity: wholeNumber(IMPORT_LIMITS.maxPagesPerActivity).optional().describe(`pages one activity imports before reporting back (default ${IMPORT_DEFAULTS.pagesPerActivity})`),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
  )
  .optional();

/** importOrders' input schema (a function, not the schema: see regenerateReportsInputSchema in src/contracts.ts). */
export const importOrdersInputSchema = () => importOrdersInput;

export type ImportOrdersInput = NonNullable<z.input<typeof importOrdersInput>>;

export interface ResolvedImportInput {
  source: string;
  /** Null: incremental, from the committed cursor. */
  window: { since: string; until: string; customerIds: number[] | null } | null;
  dryRun: boolean;
  regenerate: boolean;
  retryQuarantined: boolean;
  pageSize: number;
  pagesPerActivity: number;
}

/** Validates raw input and fills defaults; `now` ends a window given only its start. */
export function resolveImportInput(raw: unknown, now: Date): ResolvedImportInput {
  const input = parseInput(importOrdersInput, raw) ?? {};
  const problems: FieldProblem[] = [];
  if (input.until !== undefined && input.since === undefined) problems.push({ field: 'until', message: 'until needs since: an incremental import always reads to the end' });
  if (input.customerIds && input.since === undefined) {
    problems.push({ field: 'customerIds', message: "customerIds needs since: re-importing some customers' orders reads a window of the source" });
  }
  if (input.retryQuarantined && input.dryRun) problems.push({ field: 'retryQuarantined', message: 'retryQuarantined imports what is now valid; it has no dry run (list the quarantine with: npm run job -- quarantine)' });
  if (input.customerIds && new Set(input.customerIds).size !== input.customerIds.length) problems.push({ field: 'customerIds', message: 'customerIds must not repeat an id' });
  let window: ResolvedImportInput['window'] = null;
  if (input.since !== undefined) {
    const since = new Date(input.since);
    const until = input.until !== undefined ? new Date(input.until) : now;
    if (since > until) problems.push({ field: 'since', message: `since (${input.since}) must not be after until (${until.toISOString()})` });
    else if (until.getTime() - since.getTime() > IMPORT_LIMITS.maxWindowDays * 86_400_000) {
      problems.push({ field: 'since', message: `since..until spans more than ${IMPORT_LIMITS.maxWindowDays} days; re-import a longer span in parts` });
    }
    window = { since: since.toISOString(), until: until.toISOString(), customerIds: input.customerIds ? [...input.customerIds].sort((a, b) => a - b) : null };
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  return {
    source: ORDERS_SOURCE,
    window,
    dryRun: input.dryRun ?? IMPORT_DEFAULTS.dryRun,
    regenerate: input.regenerate ?? IMPORT_DEFAULTS.regenerate,
    retryQuarantined: input.retryQuarantined ?? false,
    pageSize: input.pageSize ?? IMPORT_DEFAULTS.pageSize,
    pagesPerActivity: input.pagesPerActivity ?? IMPORT_DEFAULTS.pagesPerActivity,
  };
}

/**
 * Customers a regenerated day's corrections and clearing leave out: those whose regeneration
 * failed, one by one or as the id ranges of all-customers batches that gave up. Their part of
 * the day stays pending, for the next import to regenerate and correct.
 */
export interface ExcludedCustomers {
  customerIds: number[];
  ranges: Array<{ firstId: number; lastId: number }>;
}

/**
 * The customers a child report run failed, when its summary lists every one of them (the
 * lists are capped; beyond the cap only counts remain, and then nobody can be told apart: null).
 */
export function failedCustomersOf(summary: RegenerateReportsSummary): ExcludedCustomers | null {
  if (summary.failuresNotListed > 0 || (summary.failedRangesNotListed ?? 0) > 0) return null;
  return {
    customerIds: summary.failures.map((failure) => failure.customerId),
    ranges: summary.failedRanges.map(({ firstId, lastId }) => ({ firstId, lastId })),
  };
}

export function isExcludedCustomer(excluded: ExcludedCustomers | undefined, customerId: number): boolean {
  if (!excluded) return false;
  return excluded.customerIds.includes(customerId) || excluded.ranges.some((range) => customerId >= range.firstId && customerId <= range.lastId);
}

/** What one activity (some pages) did; summed into the run's summary. */
export interface ImportCounts {
  pages: number;
  inserted: number;
  updated: number;
  unchanged: number;
  cancelled: number;
  quarantined: number;
  /** Window runs with customerIds: orders of other customers, read and left alone. */
  skipped: number;
  /** Quarantined records imported now that they are valid (retryQuarantined). */
  resolvedFromQuarantine: number;
}

export interface ImportOrdersSummary extends ImportCounts {
  source: string;
  dryRun: boolean;
  window: ResolvedImportInput['window'];
  /** The committed cursor after the run (incremental runs), as `updated_at/id`. */
  cursor: string | null;
  /** Report days regenerated (or, dry run, that would be), and their runs that failed. */
  daysRegenerated: number;
  /** Correction emails to customers who had been sent a changed day's final report (one per customer, day and run). */
  correctionEmailsSent: number;
  regenerationFailures: Array<{ day: string; workflowId: string; reason: string }>;
  /** Failed days beyond the 100 listed. */
  regenerationFailuresNotListed?: number;
  cancelledRun: boolean;
}

export function emptyImportCounts(): ImportCounts {
  return { pages: 0, inserted: 0, updated: 0, unchanged: 0, cancelled: 0, quarantined: 0, skipped: 0, resolvedFromQuarantine: 0 };
}

/** Adds the counts only: `into` may be a whole summary, whose other fields are not counts. */
export function addImportCounts(into: ImportCounts, more: ImportCounts): void {
  for (const key of Object.keys(emptyImportCounts()) as Array<keyof ImportCounts>) into[key] += more[key];
}

export function describeImportSummary(summary: ImportOrdersSummary): string {
  const verb = summary.dryRun ? 'would be ' : '';
  return `${summary.cancelledRun ? 'cancelled after ' : ''}${summary.pages} pages: ${summary.inserted} ${verb}inserted, ${summary.updated} ${verb}updated ` +
    `(${summary.cancelled} cancelled), ${summary.unchanged} unchanged, ${summary.quarantined} quarantined` +
    `${summary.skipped ? `, ${summary.skipped} of other customers skipped` : ''}` +
    `${summary.resolvedFromQuarantine ? `, ${summary.resolvedFromQuarantine} from the quarantine` : ''}; ${summary.daysRegenerated} report days ${summary.dryRun ? 'affected' : 'regenerated'}` +
    `${summary.regenerationFailures.length ? `, ${summary.regenerationFailures.length} failed` : ''}` +
    `${summary.correctionEmailsSent ? `; ${summary.correctionEmailsSent} correction emails` : ''}`;
}
