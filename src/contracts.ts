/**
 * The contract shared by every door into the report job (CLI, `temporal workflow start`,
 * schedules, admin page) and by the workflow itself. Sandbox-safe: no Node built-ins.
 *
 * Glossary: a *run* is one workflow execution of `regenerateReports`; a *period* is an
 * inclusive range of local days; a *batch* is a slice of customers regenerated in one
 * transaction (each customer stays atomic because the whole batch is).
 */
import { z } from 'zod';
import { InvalidInputError, parseInput, type FieldProblem } from './validation.js';
import { addDays, daysBetween, isCalendarDate, isSupportedDay, isTimeZone, localDate, SUPPORTED_DAY_RULE } from './dates.js';

export const TASK_QUEUE_DEFAULT = 'reports';
export const REGENERATE_REPORTS_WORKFLOW = 'regenerateReports';

/** Guard rails on manual input; changing them is a code change, reviewed like one. */
export const LIMITS = {
  maxRangeDays: 366,
  /**
   * Every run lists its customers in the DjCustomerIds search attribute, and Temporal refuses a
   * value over 2 KB (a run of 400 customers failed to start): 100 ids of up to 16 digits fit.
   * Larger sets are all-customer runs (or zone runs); rerun-failed splits its re-runs.
   */
  maxCustomerIds: 100,
  /** Time zones one run may be limited to (there are about 600 IANA zones). */
  maxCustomerTimeZones: 100,
  maxBatchSize: 5000,
  maxParallelism: 32,
  maxBatchesPerRun: 500,
  maxBatchesPerActivity: 50,
  /** batchSize × batchesPerActivity: keeps an activity's result and heartbeat well under Temporal's payload limits. */
  maxCustomersPerActivity: 20_000,
  /** Attempts of one email activity: the default retries for about 20 minutes, fewer give up sooner. */
  maxEmailAttempts: 50,
  /** An email attempt needs a few heartbeats to send anything; two hours bounds how long a stuck one holds a worker slot. */
  minEmailAttemptTimeoutSeconds: 10,
  maxEmailAttemptTimeoutSeconds: 7200,
} as const;

export const DEFAULTS = {
  sendEmail: true,
  resend: false,
  dryRun: false,
  batchSize: 500,
  parallelism: 2,
  /** Batches one workflow run handles before continuing as new, to keep its history small. */
  batchesPerRun: 100,
  /**
   * The most batches one activity regenerates (each batch still its own transaction). Fewer,
   * larger activities spend less time handing over between batches; see groupBatches.
   */
  batchesPerActivity: 10,
  /** Attempts of each email activity before its customers are reported failed (`npm run job -- rerun-failed` sends them later). */
  emailMaxAttempts: 50,
  /**
   * One email attempt's start-to-close timeout. An attempt may cover more customers than it
   * can send in time (20,000 at 10 a second take 33 minutes): it stops before its time runs
   * out, every send already marked, and the retry continues where it stopped.
   */
  emailAttemptTimeoutSeconds: 900,
} as const;

const wholeNumber = (max: number) =>
  z
    .number({ error: `must be a whole number from 1 to ${max}` })
    .int(`must be a whole number from 1 to ${max}`)
    .min(1, `must be a whole number from 1 to ${max}`)
    .max(max, `must be a whole number from 1 to ${max}`);

const emailAttemptTimeoutRule = `must be a whole number of seconds from ${LIMITS.minEmailAttemptTimeoutSeconds} to ${LIMITS.maxEmailAttemptTimeoutSeconds}`;

const calendarDay = z
  .string({ error: 'must be a date written YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD')
  .refine((value) => isCalendarDate(value), 'is not a calendar date')
  .refine((value) => !isCalendarDate(value) || isSupportedDay(value), SUPPORTED_DAY_RULE);

/** A calendar day, YYYY-MM-DD, in the years a report can be about (a function: see regenerateReportsInputSchema). */
export const isoDate = () => calendarDay;

const regenerateReportsInput = z
  .strictObject(
    {
      customerIds: z
        .array(z.number({ error: 'must be a list of customer ids (positive integers)' }).int().positive(), {
          error: 'must be a list of customer ids (positive integers)',
        })
        .min(1, 'must name at least one customer, or be left out for all active customers')
        .max(LIMITS.maxCustomerIds, `may name at most ${LIMITS.maxCustomerIds} customers; leave it out to run all active customers`)
        .optional()
        .describe('customer ids to run (default: all active customers)'),
      customerTimeZones: z
        .array(z.string({ error: 'must be a list of IANA time zones' }).refine((zone) => isTimeZone(zone), 'must be an IANA time zone such as UTC or Europe/Berlin'), {
          error: 'must be a list of IANA time zones',
        })
        .min(1, 'must name at least one time zone, or be left out for customers in every zone')
        .max(LIMITS.maxCustomerTimeZones, `may name at most ${LIMITS.maxCustomerTimeZones} time zones`)
        .optional()
        .describe('limit a run over all active customers to those in these IANA time zones'),
      from: calendarDay.optional()
        .describe('first local day, YYYY-MM-DD (default: yesterday)'),
      to: calendarDay.optional()
        .describe('last local day, inclusive (default: from, or yesterday)'),
      timeZone: z
        .string({ error: 'must be an IANA time zone such as UTC or Europe/Berlin' })
        .refine((zone) => isTimeZone(zone), 'must be an IANA time zone such as UTC or Europe/Berlin')
        .optional()
        .describe('the IANA zone whose yesterday is the default period (default: UTC)'),
      sendEmail: z.boolean({ error: 'must be true or false' }).optional()
        .describe('email each customer its report (default: true)'),
      resend: z.boolean({ error: 'must be true or false' }).optional()
        .describe('send the report again even if it was sent before'),
      dryRun: z.boolean({ error: 'must be true or false' }).optional()
        .describe('report what would change; write and send nothing'),
      batchSize: wholeNumber(LIMITS.maxBatchSize).optional()
        .describe('customers per transaction'),
      parallelism: wholeNumber(LIMITS.maxParallelism).optional()
        .describe('batches in flight at once'),
      batchesPerRun: wholeNumber(LIMITS.maxBatchesPerRun).optional()
        .describe('batches one workflow run handles before it continues as new'),
      batchesPerActivity: wholeNumber(LIMITS.maxBatchesPerActivity).optional()
        .describe('most batches one activity regenerates (default 10, fewer for large batches)'),
      emailMaxAttempts: wholeNumber(LIMITS.maxEmailAttempts).optional()
        .describe('attempts of each email activity before its customers are reported failed'),
      emailAttemptTimeoutSeconds: z
        .number({ error: emailAttemptTimeoutRule })
        .int(emailAttemptTimeoutRule)
        .min(LIMITS.minEmailAttemptTimeoutSeconds, emailAttemptTimeoutRule)
        .max(LIMITS.maxEmailAttemptTimeoutSeconds, emailAttemptTimeoutRule)
        .optional()
        .describe('seconds one email attempt may run before its retry continues where it stopped'),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
  )
  .optional();

/**
 * regenerate-reports' input schema. A function, not the schema: the workflow bundle preloads this module once per worker
 * thread and the SDK deep-freezes what a preloaded module exports, which zod's schemas do not
 * survive (they finish building themselves on their first parse). Held here, the schema is
 * shared by every run and never frozen (src/workflow-bundle.ts, PRELOADED_MODULES).
 */
export const regenerateReportsInputSchema = () => regenerateReportsInput;

export type RegenerateReportsInput = NonNullable<z.input<typeof regenerateReportsInput>>;

/** The input's fields, as the schema declares them: the one list the copies derive from. */
export const REGENERATE_INPUT_FIELDS = Object.keys(regenerateReportsInput.unwrap().shape) as Array<keyof RegenerateReportsInput>;

/** Input with every default filled in: what the workflow actually runs. */
export interface ResolvedRegenerateInput {
  customerIds: number[] | null;
  /** An all-customer run limited to the active customers in these zones (the nightly run's per-zone runs). */
  customerTimeZones?: string[];
  from: string;
  to: string;
  sendEmail: boolean;
  resend: boolean;
  dryRun: boolean;
  batchSize: number;
  parallelism: number;
  batchesPerRun: number;
  batchesPerActivity: number;
  /** Only when the input sets it (otherwise DEFAULTS.emailMaxAttempts), so inputs and resume states without it resolve alike. */
  emailMaxAttempts?: number;
  /** Absent from the resume state of runs started before it existed: read it with `?? DEFAULTS.emailAttemptTimeoutSeconds`. */
  emailAttemptTimeoutSeconds: number;
}

export { InvalidInputError, type FieldProblem } from './validation.js';

/**
 * Validates raw input (from JSON, flags or a form) and fills defaults.
 * `now` is the moment the default period is computed from: the default period is
 * "yesterday" as a calendar day in `timeZone` (default UTC), and each customer's rows
 * cover that day in the customer's own time zone.
 */
export function resolveRegenerateInput(raw: unknown, now: Date): ResolvedRegenerateInput {
  const input = parseInput(regenerateReportsInput, raw) ?? {};
  const yesterday = addDays(localDate(now, input.timeZone ?? 'UTC'), -1);
  const from = input.from ?? input.to ?? yesterday;
  const to = input.to ?? input.from ?? yesterday;
  const problems: FieldProblem[] = [];
  const problem = (field: keyof RegenerateReportsInput, message: string) => problems.push({ field, message });
  if (from > to) problem('from', `from (${from}) must not be after to (${to})`);
  else if (daysBetween(from, to) + 1 > LIMITS.maxRangeDays) {
    problem('to', `from..to spans ${daysBetween(from, to) + 1} days; the maximum is ${LIMITS.maxRangeDays}`);
  }
  const ids = input.customerIds ?? null;
  if (ids && new Set(ids).size !== ids.length) problem('customerIds', 'customerIds must not repeat an id');
  const zones = input.customerTimeZones;
  if (zones && ids) problem('customerTimeZones', 'customerTimeZones limits a run over all active customers; leave it out when customerIds names the customers');
  if (zones && new Set(zones).size !== zones.length) problem('customerTimeZones', 'customerTimeZones must not repeat a zone');
  if (input.resend && input.sendEmail === false) problem('resend', 'resend needs sendEmail: resend=true with sendEmail=false sends nothing');
  const batchSize = input.batchSize ?? DEFAULTS.batchSize;
  // The default shrinks for large batches; an explicit value over the limit is an error.
  const batchesPerActivity = input.batchesPerActivity ?? Math.min(DEFAULTS.batchesPerActivity, Math.floor(LIMITS.maxCustomersPerActivity / batchSize));
  if (batchSize * batchesPerActivity > LIMITS.maxCustomersPerActivity) {
    problem('batchesPerActivity', `batchSize × batchesPerActivity is ${batchSize * batchesPerActivity} customers per activity; the maximum is ${LIMITS.maxCustomersPerActivity}`);
  }
  if (problems.length > 0) throw new InvalidInputError(problems);
  return {
    customerIds: ids ? [...ids].sort((a, b) => a - b) : null,
    ...(zones ? { customerTimeZones: [...zones].sort() } : {}),
    from,
    to,
    sendEmail: input.sendEmail ?? DEFAULTS.sendEmail,
    resend: input.resend ?? DEFAULTS.resend,
    dryRun: input.dryRun ?? DEFAULTS.dryRun,
    batchSize,
    parallelism: input.parallelism ?? DEFAULTS.parallelism,
    batchesPerRun: input.batchesPerRun ?? DEFAULTS.batchesPerRun,
    batchesPerActivity,
    ...(input.emailMaxAttempts !== undefined ? { emailMaxAttempts: input.emailMaxAttempts } : {}),
    emailAttemptTimeoutSeconds: input.emailAttemptTimeoutSeconds ?? DEFAULTS.emailAttemptTimeoutSeconds,
  };
}

/**
 * The workflow input that runs exactly `resolved`: every schema field it holds, copied
 * generically (a field-by-field copy once dropped batchesPerActivity), leaving out only what
 * is unset (`customerIds: null` means all active customers, which the input says by omission).
 */
export function workflowInputOf(resolved: ResolvedRegenerateInput): RegenerateReportsInput {
  const input: Record<string, unknown> = {};
  for (const field of REGENERATE_INPUT_FIELDS) {
    const value = (resolved as unknown as Record<string, unknown>)[field];
    if (value !== null && value !== undefined) input[field] = value;
  }
  return input as RegenerateReportsInput;
}

/**
 * A slice of customers: explicit ids, or the active customers with ids in [firstId, lastId]
 * (only those in `timeZones`, when a run is limited to some zones).
 */
export type CustomerBatch = { customerIds: number[] } | { firstId: number; lastId: number; timeZones?: string[] };

export interface CustomerFailure {
  customerId: number;
  step: 'regenerate' | 'email';
  reason: string;
}

export interface RegenerateReportsSummary {
  from: string;
  to: string;
  dryRun: boolean;
  customersProcessed: number;
  rowsWritten: number;
  /** Dry run only: rows that a real run would add, change or remove. */
  rowsThatWouldChange: number;
  emailsSent: number;
  emailsAlreadySent: number;
  emailsSkippedNoOrders: number;
  failures: CustomerFailure[];
  /** failures beyond the ones listed (the list is capped to keep results small). */
  failuresNotListed: number;
  /** True when the run was cancelled: it stopped between activities, and the counts say what was done. */
  cancelled: boolean;
  /** Id ranges of all-customers batches whose activity gave up after its retries (at most MAX_LISTED_FAILURES). */
  failedRanges: FailedRange[];
  /**
   * Failed ranges beyond the ones listed. Optional: the summaries of runs started before the
   * list was capped lack it, and read as 0.
   */
  failedRangesNotListed?: number;
}

export interface FailedRange {
  firstId: number;
  lastId: number;
  timeZones?: string[];
  step: CustomerFailure['step'];
  reason: string;
}

/**
 * How many failed customers, and apart how many failed ranges, a summary lists. The summary
 * is carried across continue-as-new, so every list in it is capped and the rest counted.
 */
export const MAX_LISTED_FAILURES = 100;

/**
 * The failure type of a small run's step that found customers it may not run (the workflow's
 * CHECK_IN_STEP): the workflow fails the run with its own InvalidInput failure, as when it checks.
 */
export const UNAVAILABLE_CUSTOMERS = 'UnavailableCustomers';

/** Why a run naming customers that cannot be run is refused, whichever side checked. */
export function unavailableCustomersMessage(unavailable: Array<{ customerId: number; reason: string }>): string {
  return `invalid input: customerIds names customers that cannot be run: ${unavailable.map((c) => `${c.customerId} (${c.reason})`).join(', ')}`;
}

/** Adds failed customers to the summary: listed up to the cap, counted beyond it. */
export function recordFailures(summary: RegenerateReportsSummary, failures: CustomerFailure[]): void {
  for (const failure of failures) {
    if (summary.failures.length < MAX_LISTED_FAILURES) summary.failures.push(failure);
    else summary.failuresNotListed++;
  }
}

/** Adds a failed id range to the summary: listed up to the cap, counted beyond it. */
export function recordFailedRange(summary: RegenerateReportsSummary, range: FailedRange): void {
  if (summary.failedRanges.length < MAX_LISTED_FAILURES) summary.failedRanges.push(range);
  else summary.failedRangesNotListed = (summary.failedRangesNotListed ?? 0) + 1;
}

/** True when any customer failed, listed or not: the run finished, but not for everyone. */
export function hasFailures(summary: RegenerateReportsSummary): boolean {
  return failureCount(summary) > 0;
}

/** Failed customers, listed or not, plus failed id ranges, listed or not (a range counts once). */
export function failureCount(summary: RegenerateReportsSummary): number {
  return summary.failures.length + summary.failuresNotListed + summary.failedRanges.length + (summary.failedRangesNotListed ?? 0);
}

export function emptySummary(input: Pick<ResolvedRegenerateInput, 'from' | 'to' | 'dryRun'>): RegenerateReportsSummary {
  return {
    from: input.from,
    to: input.to,
    dryRun: input.dryRun,
    customersProcessed: 0,
    rowsWritten: 0,
    rowsThatWouldChange: 0,
    emailsSent: 0,
    emailsAlreadySent: 0,
    emailsSkippedNoOrders: 0,
    failures: [],
    failuresNotListed: 0,
    cancelled: false,
    failedRanges: [],
    failedRangesNotListed: 0,
  };
}

/**
 * FNV-1a, 64 bits, as 16 hex digits: a small pure-JS hash, so this module stays
 * sandbox-safe (no node:crypto) and a workflow could compute the same id. Not for secrets.
 */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

