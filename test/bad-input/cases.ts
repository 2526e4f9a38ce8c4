/**
 * The bad-input matrix as data: one table per door a user really uses. The tests in this
 * folder run every row; docs/bad-input-matrix.md is rendered from these same tables
 * (`npx tsx test/bad-input/render-matrix.ts > docs/bad-input-matrix.md`, and
 * matrix-doc.test.ts fails when the two drift apart).
 *
 * The data set is the small demo (test/support/database.ts): customers 1–40, every 17th
 * inactive (17, 34), ids above 40 unknown.
 */
import { LIMITS } from '../../src/contracts.js';
import { SUPPORTED_DAY_RULE } from '../../src/dates.js';

const tooManyIds = Array.from({ length: LIMITS.maxCustomerIds + 1 }, (_, i) => i + 1);

// ---------------------------------------------------------------------------------------
// Door 1: our CLIs, as child processes (`node --import tsx scripts/<script>.ts …`).
// ---------------------------------------------------------------------------------------

export interface CliCase {
  script: 'job' | 'schedules' | 'admin' | 'start';
  label: string;
  args: string[];
  /** Settings in the environment for this case (a bad setting is refused at start-up, before the command runs). */
  env?: Record<string, string>;
  /** How the arguments are shown in the matrix when they are too long to print. */
  shown?: string;
  stdin?: string;
  /** 2: a usage error (bad flag or input), refused before anything starts. */
  exitCode: number;
  /** Every one of these appears in stderr. */
  messages: string[];
}

/** A schedule id no test declares: a backfill or pause that wrongly got through would fail on it, never touch a real schedule. */
export const MISSING_SCHEDULE = 'bad-input-no-such-schedule';
/** An admin user that exists before the create-user cases run (a duplicate is refused). */
export const EXISTING_ADMIN = 'existing.admin@example.com';

/** What the CLI says of a customer id that is not one: the schema's rule, named by the flag (`--customer 0`, `abc`, `1.5`). */
const NOT_AN_ID = '--customer: customerIds.0 must be a list of customer ids (positive integers)';
const BATCH_SIZE_RULE = `--batch-size: batchSize must be a whole number from 1 to ${LIMITS.maxBatchSize}`;
const NOT_JSON = '--input: input is not JSON';

export const cliCases: CliCase[] = [
  // npm run job -- regenerate-reports
  { script: 'job', label: 'month 13', args: ['regenerate-reports', '--from', '2026-13-01'], exitCode: 2, messages: ['--from: from is not a calendar date'] },
  { script: 'job', label: 'February 30th', args: ['regenerate-reports', '--from', '2026-02-30', '--to', '2026-03-01'], exitCode: 2, messages: ['--from: from is not a calendar date'] },
  { script: 'job', label: 'another date format', args: ['regenerate-reports', '--to', '11/05/2026'], exitCode: 2, messages: ['--to: to must be a date written YYYY-MM-DD'] },
  { script: 'job', label: 'a timestamp instead of a day', args: ['regenerate-reports', '--from', '2026-11-01T00:00:00Z'], exitCode: 2, messages: ['--from: from must be a date written YYYY-MM-DD'] },
  // Days PostgreSQL cannot hold (year 0000) or no report is about: refused at the flag.
  { script: 'job', label: 'year 0000', args: ['regenerate-reports', '--from', '0000-01-01', '--to', '2026-11-01'], exitCode: 2, messages: [`--from: from ${SUPPORTED_DAY_RULE}`] },
  { script: 'job', label: 'the day before 1900', args: ['regenerate-reports', '--to', '1899-12-31'], exitCode: 2, messages: [`--to: to ${SUPPORTED_DAY_RULE}`] },
  { script: 'job', label: 'year 10000', args: ['regenerate-reports', '--from', '10000-01-01'], exitCode: 2, messages: ['--from: from must be a date written YYYY-MM-DD'] },
  { script: 'job', label: 'from after to', args: ['regenerate-reports', '--from', '2026-11-10', '--to', '2026-11-01'], exitCode: 2, messages: ['--from: from (2026-11-10) must not be after to (2026-11-01)'] },
  { script: 'job', label: `a range longer than ${LIMITS.maxRangeDays} days`, args: ['regenerate-reports', '--from', '2025-01-01', '--to', '2026-11-01'], exitCode: 2, messages: [`--to: from..to spans 670 days; the maximum is ${LIMITS.maxRangeDays}`] },
  { script: 'job', label: 'an unknown customer', args: ['regenerate-reports', '--customer', '999999', '--from', '2026-11-09'], exitCode: 2, messages: ['--customer names customers that cannot be run: 999999 (unknown)', 'npm run job -- customers'] },
  { script: 'job', label: 'an inactive customer', args: ['regenerate-reports', '--customer', '17', '--from', '2026-11-09'], exitCode: 2, messages: ['--customer names customers that cannot be run: 17 (inactive)'] },
  { script: 'job', label: 'good, inactive and unknown ids together', args: ['regenerate-reports', '--customer', '1', '--customer', '999999', '--customer', '34', '--from', '2026-11-09'], exitCode: 2, messages: ['34 (inactive), 999999 (unknown)'] },
  { script: 'job', label: 'a non-numeric id', args: ['regenerate-reports', '--customer', 'abc'], exitCode: 2, messages: [NOT_AN_ID] },
  { script: 'job', label: 'an id that looks like SQL', args: ['regenerate-reports', '--customer', '1 OR 1=1'], exitCode: 2, messages: [NOT_AN_ID] },
  { script: 'job', label: 'id zero', args: ['regenerate-reports', '--customer', '0'], exitCode: 2, messages: [NOT_AN_ID] },
  { script: 'job', label: 'a negative id', args: ['regenerate-reports', '--customer', '-5'], exitCode: 2, messages: [NOT_AN_ID] },
  { script: 'job', label: 'a fractional id', args: ['regenerate-reports', '--customer', '1.5'], exitCode: 2, messages: [NOT_AN_ID] },
  { script: 'job', label: 'an id beyond 2^53', args: ['regenerate-reports', '--customer', '99999999999999999999'], exitCode: 2, messages: ['--customer: customerIds.0'] },
  { script: 'job', label: 'the same id twice', args: ['regenerate-reports', '--customer', '1', '--customer', '1'], exitCode: 2, messages: ['--customer: customerIds must not repeat an id'] },
  {
    script: 'job', label: `more than ${LIMITS.maxCustomerIds} ids`, args: ['regenerate-reports', ...tooManyIds.flatMap((id) => ['--customer', String(id)])],
    shown: `regenerate-reports --customer 1 … --customer ${tooManyIds.length} (${tooManyIds.length} ids)`, exitCode: 2, messages: [`--customer: customerIds may name at most ${LIMITS.maxCustomerIds} customers`],
  },
  { script: 'job', label: 'batch size zero', args: ['regenerate-reports', '--batch-size', '0'], exitCode: 2, messages: [BATCH_SIZE_RULE] },
  { script: 'job', label: 'batch size not a number', args: ['regenerate-reports', '--batch-size=ten'], exitCode: 2, messages: [BATCH_SIZE_RULE] },
  { script: 'job', label: 'batch size above the maximum', args: ['regenerate-reports', '--batch-size', String(LIMITS.maxBatchSize + 1)], exitCode: 2, messages: [BATCH_SIZE_RULE] },
  { script: 'job', label: 'parallelism above the maximum', args: ['regenerate-reports', '--parallelism', String(LIMITS.maxParallelism + 1)], exitCode: 2, messages: [`--parallelism: parallelism must be a whole number from 1 to ${LIMITS.maxParallelism}`] },
  { script: 'job', label: 'resend without email', args: ['regenerate-reports', '--no-email', '--resend'], exitCode: 2, messages: ['--resend: resend needs sendEmail'] },
  // Flags and --input meet the same schema: a bad value names the flag it came from.
  { script: 'job', label: '--input that is not JSON', args: ['regenerate-reports', '--input', '{customerIds:[1]}'], exitCode: 2, messages: [NOT_JSON] },
  { script: 'job', label: '--input with a field the job does not have', args: ['regenerate-reports', '--input', '{"sendEmails":false}'], exitCode: 2, messages: ['--input: input unknown field(s): sendEmails'] },
  { script: 'job', label: '--input with a bad value', args: ['regenerate-reports', '--input', '{"sendEmail":"no"}'], exitCode: 2, messages: ['--input: sendEmail must be true or false'] },
  { script: 'job', label: 'bad flags with --json (the rule still goes to stderr)', args: ['regenerate-reports', '--json', '--batch-size', '0'], exitCode: 2, messages: [BATCH_SIZE_RULE] },
  // npm run job -- daily-reports
  { script: 'job', label: 'daily-reports: an hour past 23', args: ['daily-reports', '--at', '25:00'], exitCode: 2, messages: ['--at: at must be a time of day written HH:MM (24-hour)'] },
  { script: 'job', label: 'daily-reports: a time without minutes', args: ['daily-reports', '--at', '2'], exitCode: 2, messages: ['--at: at must be a time of day written HH:MM (24-hour)'] },
  { script: 'job', label: 'daily-reports: a window of zero minutes', args: ['daily-reports', '--window-minutes', '0'], exitCode: 2, messages: ['--window-minutes: windowMinutes must be a whole number of minutes from 1 to 1440'] },
  { script: 'job', label: 'daily-reports: a window that is not a number', args: ['daily-reports', '--window-minutes', 'an hour'], exitCode: 2, messages: ['--window-minutes: windowMinutes must be a whole number of minutes from 1 to 1440'] },
  { script: 'job', label: 'daily-reports: --input that is not JSON', args: ['daily-reports', '--input', "{at:'02:00'}"], exitCode: 2, messages: [NOT_JSON] },
  { script: 'job', label: 'daily-reports: an unknown field in --input', args: ['daily-reports', '--input', '{"at":"02:00","customerIds":[1]}'], exitCode: 2, messages: ['--input: input unknown field(s): customerIds'] },
  { script: 'job', label: 'daily-reports: report options it decides itself', args: ['daily-reports', '--input', '{"reportOptions":{"from":"2026-11-01"}}'], exitCode: 2, messages: ['--input: reportOptions.from is decided per due day and zone by the nightly job'] },
  { script: 'job', label: 'daily-reports: a bad report option', args: ['daily-reports', '--input', '{"reportOptions":{"batchSize":0}}'], exitCode: 2, messages: [`--input: reportOptions.batchSize must be a whole number from 1 to ${LIMITS.maxBatchSize}`] },
  { script: 'job', label: 'daily-reports: a flag of another job', args: ['daily-reports', '--customer', '1'], exitCode: 2, messages: ["unknown option '--customer'"] },
  // npm run job -- purge-old-reports
  { script: 'job', label: 'purge-old-reports: a retention shorter than 30 days', args: ['purge-old-reports', '--retention-days', '7'], exitCode: 2, messages: ['--retention-days: retentionDays must be a whole number of days from 30 to 3650 (a shorter retention would delete recent reports)'] },
  { script: 'job', label: 'purge-old-reports: a retention that is not a number', args: ['purge-old-reports', '--retention-days', 'a year'], exitCode: 2, messages: ['--retention-days: retentionDays must be a whole number of days from 30 to 3650'] },
  { script: 'job', label: 'purge-old-reports: the same customer twice', args: ['purge-old-reports', '--customer', '3', '--customer', '3'], exitCode: 2, messages: ['customerIds must not repeat an id'] },
  { script: 'job', label: 'purge-old-reports: a day after today to count back from', args: ['purge-old-reports', '--input', '{"asOf":"9999-12-31"}'], exitCode: 2, messages: ['--input: asOf (9999-12-31) must not be after today'] },
  { script: 'job', label: 'purge-old-reports: batch size zero', args: ['purge-old-reports', '--batch-size', '0'], exitCode: 2, messages: ['--batch-size: batchSize must be a whole number from 1 to 10000'] },
  // A single-value flag given twice is refused, not silently the last one (list flags like --customer repeat).
  { script: 'job', label: 'purge-old-reports: --retention-days given twice', args: ['purge-old-reports', '--retention-days', '400', '--retention-days', '30'], exitCode: 2, messages: ['--retention-days is given more than once'] },
  { script: 'job', label: 'regenerate-reports: --from given twice', args: ['regenerate-reports', '--from', '2026-11-01', '--from', '2026-11-02'], exitCode: 2, messages: ['--from is given more than once'] },
  // Inactive customers may be purged (the job takes any existing customer); unknown ids are still refused.
  { script: 'job', label: 'purge-old-reports: an unknown customer', args: ['purge-old-reports', '--customer', '17', '--customer', '999999', '--dry-run'], exitCode: 2, messages: ['--customer names customers that cannot be run: 999999 (unknown)'] },
  // npm run job -- import-orders
  { script: 'job', label: 'import-orders: a day instead of an instant', args: ['import-orders', '--since', '2026-11-01'], exitCode: 2, messages: ['--since: since must be an ISO-8601 instant with a zone'] },
  { script: 'job', label: 'import-orders: until without since', args: ['import-orders', '--until', '2026-11-01T00:00:00Z'], exitCode: 2, messages: ['--until: until needs since'] },
  { script: 'job', label: 'import-orders: a customer without a window', args: ['import-orders', '--customer', '1'], exitCode: 2, messages: ['--customer: customerIds needs since'] },
  { script: 'job', label: 'import-orders: since after until', args: ['import-orders', '--since', '2026-11-05T00:00:00Z', '--until', '2026-11-01T00:00:00Z'], exitCode: 2, messages: ['--since: since (2026-11-05T00:00:00Z) must not be after until'] },
  { script: 'job', label: 'import-orders: page size above the maximum', args: ['import-orders', '--page-size', '5000'], exitCode: 2, messages: ['--page-size: pageSize must be a whole number from 1 to 1000'] },
  { script: 'job', label: 'import-orders: an unknown customer', args: ['import-orders', '--since', '2026-11-01T00:00:00Z', '--customer', '34', '--customer', '999999', '--dry-run'], exitCode: 2, messages: ['--customer names customers that cannot be run: 999999 (unknown)'] },
  { script: 'job', label: 'an unknown flag', args: ['regenerate-reports', '--customers', '5'], exitCode: 2, messages: ["unknown option '--customers'", 'Did you mean --customer?'] },
  { script: 'job', label: 'a flag without its value', args: ['regenerate-reports', '--from'], exitCode: 2, messages: ["option '--from <YYYY-MM-DD>' argument missing"] },
  { script: 'job', label: 'an unknown command', args: ['regenrate-reports'], exitCode: 2, messages: ["unknown command 'regenrate-reports'", 'Did you mean regenerate-reports?'] },
  { script: 'job', label: 'report without --customer', args: ['report'], exitCode: 2, messages: ["required option '--customer <id>' not specified"] },
  { script: 'job', label: 'report for year 0000', args: ['report', '--customer', '1', '--from', '0000-01-01'], exitCode: 2, messages: [`--from ${SUPPORTED_DAY_RULE}, got '0000-01-01'`] },
  { script: 'job', label: 'report from after to', args: ['report', '--customer', '1', '--from', '2026-11-10', '--to', '2026-11-01'], exitCode: 2, messages: ['from (2026-11-10) must not be after to (2026-11-01)'] },
  { script: 'job', label: 'customers --limit 0', args: ['customers', '--limit', '0'], exitCode: 2, messages: ["--limit must be a positive integer, got '0'"] },
  { script: 'job', label: 'rerun-failed without a run id', args: ['rerun-failed'], exitCode: 2, messages: ["missing required argument 'workflowId'"] },
  { script: 'job', label: 'rerun-failed of a run that does not exist', args: ['rerun-failed', 'regenerate-reports:customer-1:1999-01-01'], exitCode: 1, messages: ['not found'] },
  // Settings every run gets: checked at start-up against the same limits as the workflow input.
  { script: 'job', label: 'REPORT_BATCH_SIZE above the maximum', env: { REPORT_BATCH_SIZE: String(LIMITS.maxBatchSize + 1) }, args: ['regenerate-reports'], exitCode: 2, messages: [`REPORT_BATCH_SIZE: must be a whole number from 1 to ${LIMITS.maxBatchSize}`] },
  {
    script: 'job', label: 'too many customers per activity in the settings', env: { REPORT_BATCH_SIZE: String(LIMITS.maxBatchSize), REPORT_BATCHES_PER_ACTIVITY: '5' }, args: ['regenerate-reports'],
    exitCode: 2, messages: [`REPORT_BATCH_SIZE × REPORT_BATCHES_PER_ACTIVITY is 25000 customers per activity; the maximum is ${LIMITS.maxCustomersPerActivity}`],
  },
  { script: 'job', label: 'batches per activity above the maximum', args: ['regenerate-reports', '--batches-per-activity', String(LIMITS.maxBatchesPerActivity + 1)], exitCode: 2, messages: [`--batches-per-activity: batchesPerActivity must be a whole number from 1 to ${LIMITS.maxBatchesPerActivity}`] },
  { script: 'start', label: 'REPORT_PARALLELISM above the maximum', env: { REPORT_PARALLELISM: String(LIMITS.maxParallelism * 2) }, args: [], exitCode: 2, messages: [`REPORT_PARALLELISM: must be a whole number from 1 to ${LIMITS.maxParallelism}`] },

  // npm run schedules -- …
  { script: 'schedules', label: 'backfill from after to', args: ['backfill', MISSING_SCHEDULE, '--from', '2026-11-05', '--to', '2026-11-01'], exitCode: 2, messages: ['--from (2026-11-05) must not be after --to (2026-11-01)'] },
  { script: 'schedules', label: 'backfill with February 30th', args: ['backfill', MISSING_SCHEDULE, '--from', '2026-02-30', '--to', '2026-03-01'], exitCode: 2, messages: ["--from must be a calendar date written YYYY-MM-DD, got '2026-02-30'"] },
  { script: 'schedules', label: 'backfill from year 0000', args: ['backfill', MISSING_SCHEDULE, '--from', '0000-01-01', '--to', '2026-11-01'], exitCode: 2, messages: [`--from ${SUPPORTED_DAY_RULE}, got '0000-01-01'`] },
  { script: 'schedules', label: 'apply with REPORT_BATCH_SIZE above the maximum', env: { REPORT_BATCH_SIZE: String(LIMITS.maxBatchSize + 1000) }, args: ['apply'], exitCode: 2, messages: [`REPORT_BATCH_SIZE: must be a whole number from 1 to ${LIMITS.maxBatchSize}`] },
  { script: 'schedules', label: 'backfill with a timestamp', args: ['backfill', MISSING_SCHEDULE, '--from', '2026-11-01', '--to', '2026-11-02T00:00'], exitCode: 2, messages: ['--to must be a calendar date written YYYY-MM-DD'] },
  { script: 'schedules', label: 'backfill without --to', args: ['backfill', MISSING_SCHEDULE, '--from', '2026-11-01'], exitCode: 2, messages: ["required option '--to <YYYY-MM-DD>' not specified"] },
  // A job whose runs read no scheduled day (the import reads from its cursor, the purge deletes before its cutoff) has nothing to backfill.
  { script: 'schedules', label: 'backfill of the import schedule (it has no days to backfill)', args: ['backfill', 'import-orders', '--from', '2026-11-01', '--to', '2026-11-02'], exitCode: 2, messages: ['backfill needs a schedule declared in src/schedules.ts with a backfill rule', 'those: daily-reports'] },
  { script: 'schedules', label: 'backfill of the purge schedule (it has no days to backfill)', args: ['backfill', 'purge-old-reports', '--from', '2026-11-01', '--to', '2026-11-02'], exitCode: 2, messages: ['backfill needs a schedule declared in src/schedules.ts with a backfill rule'] },
  { script: 'schedules', label: 'backfill of days not over everywhere yet', args: ['backfill', 'daily-reports', '--from', '2099-01-01', '--to', '2099-01-02'], exitCode: 2, messages: ['--to 2099-01-02 is not over everywhere yet', 'the latest day a backfill takes now is'] },
  { script: 'schedules', label: 'backfill longer than 31 days (744 hourly runs)', args: ['backfill', 'daily-reports', '--from', '2026-01-01', '--to', '2026-11-01'], exitCode: 2, messages: ['--from..--to spans 305 days; daily-reports backfills at most 31 at a time'] },
  { script: 'schedules', label: 'backfill of a schedule not declared in code', args: ['backfill', MISSING_SCHEDULE, '--from', '2026-11-01', '--to', '2026-11-02'], exitCode: 2, messages: ['backfill needs a schedule declared in src/schedules.ts with a backfill rule', 'those: daily-reports'] },
  { script: 'schedules', label: 'pause without a reason', args: ['pause', MISSING_SCHEDULE], exitCode: 2, messages: ["required option '--reason <text>' not specified"] },
  { script: 'schedules', label: 'trigger without an id', args: ['trigger'], exitCode: 2, messages: ["missing required argument 'id'"] },
  { script: 'schedules', label: 'a value for a switch', args: ['apply', '--prune=yes'], exitCode: 2, messages: ["unknown option '--prune=yes'"] },
  { script: 'schedules', label: 'an unknown command', args: ['frobnicate'], exitCode: 2, messages: ["unknown command 'frobnicate'"] },

  // npm run admin -- create-user
  { script: 'admin', label: 'not an email address', args: ['create-user', '--email', 'not-an-email', '--role', 'operator'], exitCode: 2, messages: ["'not-an-email' is not an email address"] },
  { script: 'admin', label: 'an email with a space', args: ['create-user', '--email', 'ana maria@example.com', '--role', 'viewer'], exitCode: 2, messages: ["'ana maria@example.com' is not an email address"] },
  { script: 'admin', label: 'an email longer than 254 characters', args: ['create-user', '--email', `${'a'.repeat(250)}@example.com`, '--role', 'viewer'], shown: "create-user --email aaa…a@example.com (262 characters) --role viewer", exitCode: 2, messages: ['is not an email address'] },
  { script: 'admin', label: 'an unknown role', args: ['create-user', '--email', 'x@example.com', '--role', 'superuser'], exitCode: 2, messages: ["argument 'superuser' is invalid. Allowed choices are operator, viewer."] },
  { script: 'admin', label: 'no email', args: ['create-user', '--role', 'operator'], exitCode: 2, messages: ["required option '--email <email>' not specified"] },
  { script: 'admin', label: 'no role', args: ['create-user', '--email', 'x@example.com'], exitCode: 2, messages: ["required option '--role <role>' not specified"] },
  { script: 'admin', label: 'a password that is too short', args: ['create-user', '--email', 'short.pw@example.com', '--role', 'viewer', '--password-stdin'], stdin: 'hunter2\n', shown: "create-user --email short.pw@example.com --role viewer --password-stdin < 'hunter2'", exitCode: 2, messages: ['a password needs at least 12 characters'] },
  { script: 'admin', label: 'an email that is taken (other case)', args: ['create-user', '--email', EXISTING_ADMIN.toUpperCase(), '--role', 'viewer'], exitCode: 2, messages: [`a user with email ${EXISTING_ADMIN.toUpperCase()} already exists`] },
];

// ---------------------------------------------------------------------------------------
// Door 2: `temporal workflow start --type <job's workflow type> --input '…'` (the real CLI binary).
// ---------------------------------------------------------------------------------------

export interface TemporalInputCase {
  /** The registered job (src/jobs/index.ts) whose workflow type the run is started as. */
  job: string;
  label: string;
  /** The `--input` values, as typed (one per argument). */
  inputs: string[];
  shown?: string;
  /** The `temporal` CLI itself refuses (non-zero exit, no run). Otherwise the run fails with a non-retryable InvalidInput. */
  cliRefuses?: boolean;
  messages: string[];
}

const reportTemporalCases: Array<Omit<TemporalInputCase, 'job'>> = [
  { label: 'customerIds not a list', inputs: ['{"customerIds":"1"}'], messages: ['customerIds must be a list of customer ids (positive integers)'] },
  { label: 'an id as a string', inputs: ['{"customerIds":[1,"2"]}'], messages: ['customerIds.1 must be a list of customer ids (positive integers)'] },
  { label: 'id zero', inputs: ['{"customerIds":[0]}'], messages: ['customerIds.0 must be a list of customer ids (positive integers)'] },
  { label: 'a fractional id', inputs: ['{"customerIds":[1.5]}'], messages: ['customerIds.0', 'int'] },
  { label: 'an id beyond 2^53', inputs: ['{"customerIds":[1e300]}'], messages: ['customerIds.0'] },
  { label: 'an empty list', inputs: ['{"customerIds":[]}'], messages: ['customerIds must name at least one customer, or be left out for all active customers'] },
  { label: 'the same id twice', inputs: ['{"customerIds":[3,3]}'], messages: ['customerIds must not repeat an id'] },
  { label: `more than ${LIMITS.maxCustomerIds} ids`, inputs: [JSON.stringify({ customerIds: tooManyIds })], shown: `{"customerIds":[1,2,…,${tooManyIds.length}]}`, messages: [`customerIds may name at most ${LIMITS.maxCustomerIds} customers`] },
  { label: 'an unknown customer', inputs: ['{"customerIds":[999999],"from":"2026-11-09"}'], messages: ['customerIds names customers that cannot be run: 999999 (unknown)'] },
  { label: 'an inactive customer', inputs: ['{"customerIds":[17],"from":"2026-11-09"}'], messages: ['customerIds names customers that cannot be run: 17 (inactive)'] },
  { label: 'good, inactive and unknown ids together', inputs: ['{"customerIds":[1,34,999999],"from":"2026-11-09"}'], messages: ['34 (inactive), 999999 (unknown)'] },
  { label: 'from after to', inputs: ['{"from":"2026-11-10","to":"2026-11-01"}'], messages: ['from (2026-11-10) must not be after to (2026-11-01)'] },
  { label: 'February 30th', inputs: ['{"from":"2026-02-30"}'], messages: ['from is not a calendar date'] },
  { label: 'a timestamp instead of a day', inputs: ['{"from":"2026-11-01T00:00:00Z"}'], messages: ['from must be a date written YYYY-MM-DD'] },
  { label: 'year 0000', inputs: ['{"from":"0000-01-01","to":"2026-11-01"}'], messages: [`from ${SUPPORTED_DAY_RULE}`] },
  { label: 'the day before 1900', inputs: ['{"to":"1899-12-31"}'], messages: [`to ${SUPPORTED_DAY_RULE}`] },
  { label: 'year 10000', inputs: ['{"from":"10000-01-01"}'], messages: ['from must be a date written YYYY-MM-DD'] },
  { label: 'a date as a number', inputs: ['{"to":20261101}'], messages: ['to must be a date written YYYY-MM-DD'] },
  { label: `a range longer than ${LIMITS.maxRangeDays} days`, inputs: ['{"from":"2025-01-01","to":"2026-11-01"}'], messages: [`from..to spans 670 days; the maximum is ${LIMITS.maxRangeDays}`] },
  { label: 'a misspelt field', inputs: ['{"sendEmails":false}'], messages: ['unknown field(s): sendEmails'] },
  { label: 'several unknown fields', inputs: ['{"customerId":1,"dryrun":true}'], messages: ['unknown field(s): customerId, dryrun'] },
  { label: 'a boolean as a string', inputs: ['{"sendEmail":"false"}'], messages: ['sendEmail must be true or false'] },
  { label: 'resend without email', inputs: ['{"resend":true,"sendEmail":false}'], messages: ['resend needs sendEmail'] },
  { label: 'an unknown time zone', inputs: ['{"timeZone":"Mars/Olympus_Mons"}'], messages: ['timeZone must be an IANA time zone'] },
  { label: 'batch size zero', inputs: ['{"batchSize":0}'], messages: [`batchSize must be a whole number from 1 to ${LIMITS.maxBatchSize}`] },
  { label: 'parallelism above the maximum', inputs: [`{"parallelism":${LIMITS.maxParallelism + 1}}`], messages: [`parallelism must be a whole number from 1 to ${LIMITS.maxParallelism}`] },
  { label: 'batches per activity above the maximum', inputs: [`{"batchesPerActivity":${LIMITS.maxBatchesPerActivity + 1}}`], messages: [`batchesPerActivity must be a whole number from 1 to ${LIMITS.maxBatchesPerActivity}`] },
  { label: 'too many customers per activity', inputs: ['{"batchSize":5000,"batchesPerActivity":5}'], messages: [`batchSize × batchesPerActivity is 25000 customers per activity; the maximum is ${LIMITS.maxCustomersPerActivity}`] },
  { label: 'a JSON array', inputs: ['[{"customerIds":[1]}]'], messages: ['input must be a JSON object'] },
  { label: 'a JSON string', inputs: ['"all"'], messages: ['input must be a JSON object'] },
  { label: 'a JSON number', inputs: ['42'], messages: ['input must be a JSON object'] },
  {
    label: 'a second argument (the continue-as-new state, forged)',
    inputs: ['{"customerIds":[1]}', '{"input":{"customerIds":[1],"from":"2020-01-01","to":"2026-11-01","sendEmail":true,"resend":true,"dryRun":false,"batchSize":500,"parallelism":2,"batchesPerRun":100}}'],
    shown: `'{"customerIds":[1]}' --input '{"input":{…,"from":"2020-01-01","to":"2026-11-01",…}}'`,
    messages: ['regenerateReports takes one argument'],
  },
  { label: 'not JSON at all', inputs: ['{customerIds:[1]}'], cliRefuses: true, messages: [] },
];

const dailyTemporalCases: Array<Omit<TemporalInputCase, 'job'>> = [
  { label: 'a time of day past 23:59', inputs: ['{"at":"24:00"}'], messages: ['at must be a time of day written HH:MM (24-hour)'] },
  { label: 'a time without minutes', inputs: ['{"at":"2"}'], messages: ['at must be a time of day written HH:MM (24-hour)'] },
  { label: 'a window of zero minutes', inputs: ['{"windowMinutes":0}'], messages: ['windowMinutes must be a whole number of minutes from 1 to 1440'] },
  { label: 'a window longer than a day', inputs: ['{"windowMinutes":1441}'], messages: ['windowMinutes must be a whole number of minutes from 1 to 1440'] },
  { label: 'report options not an object', inputs: ['{"reportOptions":[1]}'], messages: ['reportOptions must be a JSON object of report run options'] },
  { label: 'report options naming the customers', inputs: ['{"reportOptions":{"customerIds":[1]}}'], messages: ['reportOptions.customerIds is decided per due day and zone by the nightly job'] },
  { label: 'report options naming the period', inputs: ['{"reportOptions":{"from":"2026-11-01"}}'], messages: ['reportOptions.from is decided per due day and zone by the nightly job'] },
  { label: 'a report option breaking its own rule', inputs: ['{"reportOptions":{"batchSize":0}}'], messages: [`reportOptions.batchSize must be a whole number from 1 to ${LIMITS.maxBatchSize}`] },
  { label: 'an unknown report option', inputs: ['{"reportOptions":{"batchsize":10}}'], messages: ['reportOptions unknown field(s): batchsize'] },
  { label: 'a misspelt field', inputs: ['{"windowMinute":60}'], messages: ['unknown field(s): windowMinute'] },
  { label: 'a JSON array', inputs: ['[{"at":"02:00"}]'], messages: ['input must be a JSON object'] },
];

const purgeTemporalCases: Array<Omit<TemporalInputCase, 'job'>> = [
  { label: 'no retention (the doors pass REPORT_RETENTION_DAYS; a bare start must say it)', inputs: ['{"dryRun":true}'], messages: ['retentionDays is required: the days of reports to keep (REPORT_RETENTION_DAYS)'] },
  { label: 'a retention shorter than 30 days', inputs: ['{"retentionDays":1}'], messages: ['retentionDays must be a whole number of days from 30 to 3650 (a shorter retention would delete recent reports)'] },
  { label: 'a retention as a string', inputs: ['{"retentionDays":"400"}'], messages: ['retentionDays must be a whole number of days from 30 to 3650'] },
  { label: 'a day after today to count back from', inputs: ['{"asOf":"9999-12-31","retentionDays":400}'], messages: ['asOf (9999-12-31) must not be after today'] },
  { label: 'asOf not a calendar date', inputs: ['{"asOf":"2026-02-30"}'], messages: ['asOf is not a calendar date'] },
  { label: 'customerIds not a list', inputs: ['{"customerIds":5}'], messages: ['customerIds must be a list of customer ids (positive integers)'] },
  { label: 'a misspelt field', inputs: ['{"retention":30}'], messages: ['unknown field(s): retention'] },
];

const importTemporalCases: Array<Omit<TemporalInputCase, 'job'>> = [
  { label: 'since without a zone', inputs: ['{"since":"2026-11-01T00:00:00"}'], messages: ['since must be an ISO-8601 instant with a zone'] },
  { label: 'since not a date at all', inputs: ['{"since":"yesterday"}'], messages: ['since must be an ISO-8601 instant with a zone'] },
  { label: 'until without since', inputs: ['{"until":"2026-11-01T00:00:00Z"}'], messages: ['until needs since'] },
  { label: 'customers without a window', inputs: ['{"customerIds":[1]}'], messages: ['customerIds needs since'] },
  { label: 'a window longer than a year', inputs: ['{"since":"2020-01-01T00:00:00Z","until":"2026-01-01T00:00:00Z"}'], messages: ['since..until spans more than 366 days'] },
  { label: 'pages per activity zero', inputs: ['{"pagesPerActivity":0}'], messages: ['pagesPerActivity must be a whole number from 1 to 200'] },
  { label: 'a misspelt field', inputs: ['{"dryrun":true}'], messages: ['unknown field(s): dryrun'] },
  {
    label: 'a second argument (the continue-as-new state, forged)',
    inputs: ['{}', '{"input":{"source":"shop","window":null,"dryRun":false,"regenerate":true,"pageSize":500,"pagesPerActivity":20},"apiCursor":null}'],
    shown: `'{}' --input '{"input":{…},"apiCursor":null}'`,
    messages: ['importOrders takes one argument'],
  },
];

export const temporalCases: TemporalInputCase[] = [
  ...reportTemporalCases.map((c) => ({ job: 'regenerate-reports', ...c })),
  ...dailyTemporalCases.map((c) => ({ job: 'daily-reports', ...c })),
  ...purgeTemporalCases.map((c) => ({ job: 'purge-old-reports', ...c })),
  ...importTemporalCases.map((c) => ({ job: 'import-orders', ...c })),
];

// ---------------------------------------------------------------------------------------
// Door 3: the admin page's forms and its JSON API (fastify inject, signed in as an operator).
// ---------------------------------------------------------------------------------------

export interface AdminCase {
  label: string;
  method: 'GET' | 'POST';
  /** Path; `{id}` placeholders are literal here. */
  url: string;
  /**
   * The body: form fields (the CSRF token is added unless `_csrf` is given; null leaves it
   * out), or a raw body with its content type.
   */
  form?: Record<string, string | string[] | null>;
  raw?: { contentType: string; body: string | ((csrf: string) => string) };
  shown?: string;
  /** Who asks: the signed-in operator (default), a viewer, nobody, or an operator whose token belongs to another browser. */
  as?: 'operator' | 'viewer' | 'anonymous' | 'operator-with-another-csrf' | 'fresh-user';
  status: number;
  /** The id of the element next to the field that shows the message (`<p class="error" id="…">`), if any. */
  field?: string;
  messages: string[];
}

const day = '2026-11-09';
const goodForm = { from: day, to: day, sendEmail: 'on' };

export const adminCases: AdminCase[] = [
  // The report job's start form on a customer's page (fields and ids from the job registry).
  { label: 'month 13', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, from: '2026-13-45' }, status: 400, field: 'regenerate-reports-from', messages: ['from is not a calendar date'] },
  { label: 'another date format', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, from: '09/11/2026' }, status: 400, field: 'regenerate-reports-from', messages: ['from must be a date written YYYY-MM-DD'] },
  { label: 'year 0000', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, from: '0000-01-01' }, status: 400, field: 'regenerate-reports-from', messages: [`from ${SUPPORTED_DAY_RULE}`] },
  { label: 'year 10000 in to', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, to: '10000-01-01' }, status: 400, field: 'regenerate-reports-to', messages: ['to must be a date written YYYY-MM-DD'] },
  { label: 'February 30th in to', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, to: '2026-02-30' }, status: 400, field: 'regenerate-reports-to', messages: ['to is not a calendar date'] },
  { label: 'from after to', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, from: '2026-11-10', to: '2026-11-01' }, status: 400, field: 'regenerate-reports-from', messages: ['from (2026-11-10) must not be after to (2026-11-01)'] },
  { label: `a range longer than ${LIMITS.maxRangeDays} days`, method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, from: '2025-01-01', to: '2026-11-01' }, status: 400, field: 'regenerate-reports-to', messages: [`from..to spans 670 days; the maximum is ${LIMITS.maxRangeDays}`] },
  { label: 'resend without email', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { from: day, to: day, resend: 'on' }, status: 400, field: 'regenerate-reports-resend', messages: ['resend needs sendEmail'] },
  { label: 'a date field sent twice', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, from: [day, '2026-11-01'] }, status: 400, field: 'regenerate-reports-from', messages: ['must be given once'] },
  { label: 'a checkbox with a made-up value', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, dryRun: 'maybe' }, status: 400, field: 'regenerate-reports-dryRun', messages: ['must be ticked or not'] },
  { label: 'an unknown customer', method: 'POST', url: '/customers/999999/runs/regenerate-reports', form: goodForm, status: 400, field: 'regenerate-reports-customerIds', messages: ['customer 999999 does not exist'] },
  { label: 'an inactive customer', method: 'POST', url: '/customers/17/runs/regenerate-reports', form: goodForm, status: 400, field: 'regenerate-reports-customerIds', messages: ['customer 17 is inactive'] },
  { label: 'a tampered id that looks like SQL', method: 'POST', url: '/customers/1%20OR%201=1/runs/regenerate-reports', form: goodForm, status: 400, field: 'regenerate-reports-customerIds', messages: ["'1 OR 1=1' is not a customer id"] },
  { label: 'a tampered negative id', method: 'POST', url: '/customers/-1/runs/regenerate-reports', form: goodForm, status: 400, field: 'regenerate-reports-customerIds', messages: ["'-1' is not a customer id"] },
  { label: 'id zero', method: 'POST', url: '/customers/0/runs/regenerate-reports', form: goodForm, status: 400, field: 'regenerate-reports-customerIds', messages: ["'0' is not a customer id"] },
  { label: 'an id of 16 digits', method: 'POST', url: '/customers/1234567890123456/runs/regenerate-reports', form: goodForm, status: 400, field: 'regenerate-reports-customerIds', messages: ["'1234567890123456' is not a customer id"] },
  { label: 'an id in Arabic-Indic digits', method: 'POST', url: `/customers/${encodeURIComponent('١٢')}/runs/regenerate-reports`, shown: 'POST /customers/١٢/runs/regenerate-reports from=2026-11-09&to=2026-11-09&sendEmail=on', form: goodForm, status: 400, field: 'regenerate-reports-customerIds', messages: ["'١٢' is not a customer id"] },
  {
    label: 'an inactive id in the URL, an active one in the form', method: 'POST', url: '/customers/17/runs/regenerate-reports', form: { ...goodForm, customer: '1', customerIds: '1', customerId: '1' },
    status: 400, field: 'regenerate-reports-customerIds', messages: ['customer 17 is inactive'],
  },
  {
    label: 'a non-numeric id in the URL, a real one in the form', method: 'POST', url: '/customers/abc/runs/regenerate-reports', form: { ...goodForm, customer: '2', customerId: '2' },
    status: 400, field: 'regenerate-reports-customerIds', messages: ["'abc' is not a customer id"],
  },
  { label: 'purge: a retention shorter than 30 days', method: 'POST', url: '/customers/1/runs/purge-old-reports', form: { retentionDays: '7' }, status: 400, field: 'purge-old-reports-retentionDays', messages: ['retentionDays must be a whole number of days from 30 to 3650'] },
  { label: 'purge: a retention that is not a number', method: 'POST', url: '/customers/1/runs/purge-old-reports', form: { retentionDays: 'forever' }, status: 400, field: 'purge-old-reports-retentionDays', messages: ['retentionDays must be a whole number of days from 30 to 3650'] },
  { label: 'purge: a viewer posting the form', method: 'POST', url: '/customers/1/runs/purge-old-reports', form: { retentionDays: '400' }, as: 'viewer', status: 403, messages: ['Your role (viewer) can look at reports but not start runs'] },
  { label: 'import: a customer without a window', method: 'POST', url: '/customers/1/runs/import-orders', form: {}, status: 400, field: 'import-orders-customerIds', messages: ['customerIds needs since'] },
  { label: 'import: a day instead of an instant', method: 'POST', url: '/customers/1/runs/import-orders', form: { since: '2026-11-01' }, status: 400, field: 'import-orders-since', messages: ['since must be an ISO-8601 instant with a zone'] },
  { label: 'no CSRF token', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, _csrf: null }, status: 403, messages: ['This form expired or did not come from this site'] },
  { label: 'a forged CSRF token', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: { ...goodForm, _csrf: 'forged-token' }, status: 403, messages: ['This form expired or did not come from this site'] },
  { label: "another browser's CSRF token", method: 'POST', url: '/customers/1/runs/regenerate-reports', form: goodForm, as: 'operator-with-another-csrf', status: 403, messages: ['This form expired or did not come from this site'] },
  { label: 'a viewer posting the form', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: goodForm, as: 'viewer', status: 403, messages: ['Your role (viewer) can look at reports but not start runs'] },
  { label: 'nobody signed in', method: 'POST', url: '/customers/1/runs/regenerate-reports', form: goodForm, as: 'anonymous', status: 303, messages: [] },
  { label: 'a job kind the registry does not know', method: 'POST', url: '/customers/1/runs/no-such-job', form: goodForm, status: 404, messages: ["No job 'no-such-job' can be started from this page"] },
  { label: 'a registered job without a form', method: 'POST', url: '/customers/1/runs/daily-reports', form: { at: '02:00' }, status: 404, messages: ["No job 'daily-reports' can be started from this page"] },
  {
    label: 'a JSON body with wrong types', method: 'POST', url: '/customers/1/runs/regenerate-reports',
    raw: { contentType: 'application/json', body: (csrf) => JSON.stringify({ _csrf: csrf, from: [day], to: day, sendEmail: true }) },
    shown: '{"from":["2026-11-09"],"to":"2026-11-09","sendEmail":true} as application/json', status: 400, field: 'regenerate-reports-from', messages: ['must be given once'],
  },
  { label: 'a text/plain body (its token cannot be read)', method: 'POST', url: '/customers/1/runs/regenerate-reports', raw: { contentType: 'text/plain', body: 'from=2026-11-09' }, status: 403, messages: ['This form expired or did not come from this site'] },
  { label: 'an XML body', method: 'POST', url: '/customers/1/runs/regenerate-reports', raw: { contentType: 'application/xml', body: '<from>2026-11-09</from>' }, status: 415, messages: ['Unsupported Media Type'] },
  {
    label: 'a body over 64 KiB', method: 'POST', url: '/customers/1/runs/regenerate-reports', raw: { contentType: 'application/x-www-form-urlencoded', body: `from=${'9'.repeat(70_000)}` },
    shown: 'from=999…9 (70,000 digits)', status: 413, messages: ['Request body is too large'],
  },
  // The report range form (a GET form: it only reads, the error still sits next to the field).
  { label: 'range: February 30th', method: 'GET', url: '/customers/1?from=2026-02-30&to=2026-03-01', status: 200, field: 'range-from', messages: ['from is not a calendar date'] },
  { label: 'range: year 0000', method: 'GET', url: '/customers/1?from=0000-01-01', status: 200, field: 'range-from', messages: [`from ${SUPPORTED_DAY_RULE}`] },
  { label: 'range: the day before 1900 to a good day', method: 'GET', url: '/customers/1?from=1899-12-31&to=2026-11-01', status: 200, field: 'range-from', messages: [`from ${SUPPORTED_DAY_RULE}`] },
  { label: 'range: from after to', method: 'GET', url: '/customers/1?from=2026-11-10&to=2026-11-01', status: 200, field: 'range-from', messages: ['from (2026-11-10) must not be after to (2026-11-01)'] },
  { label: 'range: too long', method: 'GET', url: '/customers/1?from=2020-01-01&to=2026-11-01', status: 200, field: 'range-to', messages: [`the maximum is ${LIMITS.maxRangeDays}`] },
  // The runs list's filters: a value outside the registry or the fixed lists is ignored, never put into the visibility query.
  { label: 'runs: a job kind that looks like a query', method: 'GET', url: `/runs?kind=${encodeURIComponent("x') OR WorkflowType != ('")}`, status: 200, messages: ['Runs of every job'] },
  { label: 'runs: a job kind the registry does not know', method: 'GET', url: '/runs?kind=no-such-job', status: 200, messages: ['Runs of every job'] },
  // The quarantine's retry (an import-orders run with retryQuarantined; its input is fixed by the route) and its list's paging.
  { label: 'quarantine retry: a viewer', method: 'POST', url: '/quarantine/retry', form: {}, as: 'viewer', status: 403, messages: ['Your role (viewer) can look at reports but not start runs of import-orders'] },
  { label: 'quarantine retry: no CSRF token', method: 'POST', url: '/quarantine/retry', form: { _csrf: null }, status: 403, messages: ['This form expired or did not come from this site'] },
  { label: 'quarantine retry: a forged CSRF token', method: 'POST', url: '/quarantine/retry', form: { _csrf: 'forged-token' }, status: 403, messages: ['This form expired or did not come from this site'] },
  { label: "quarantine retry: another browser's CSRF token", method: 'POST', url: '/quarantine/retry', form: {}, as: 'operator-with-another-csrf', status: 403, messages: ['This form expired or did not come from this site'] },
  { label: 'quarantine retry: nobody signed in', method: 'POST', url: '/quarantine/retry', form: {}, as: 'anonymous', status: 303, messages: [] },
  { label: 'quarantine: a page position that looks like SQL', method: 'GET', url: `/quarantine?after=${encodeURIComponent('1 OR 1=1')}`, status: 400, messages: ["after must be a record id (a whole number), got '1 OR 1=1'"] },
  // Sign-in and password forms.
  { label: 'sign-in with an empty email', method: 'POST', url: '/sign-in', form: { email: '', password: 'whatever-whatever' }, as: 'anonymous', status: 401, messages: ['Wrong email or password.'] },
  { label: 'sign-in with SQL for an email', method: 'POST', url: '/sign-in', form: { email: "' OR 1=1 --", password: "' OR 1=1 --" }, as: 'anonymous', status: 401, messages: ['Wrong email or password.'] },
  { label: 'sign-in with a NUL byte in the email', method: 'POST', url: '/sign-in', form: { email: 'operator@example.com\u0000', password: 'whatever-whatever' }, shown: 'POST /sign-in email=operator@example.com%00&password=…', as: 'anonymous', status: 401, messages: ['Wrong email or password.'] },
  { label: 'new password typed differently twice', method: 'POST', url: '/account/password', form: { password: 'a-long-new-password-1', confirm: 'a-long-new-password-2' }, as: 'fresh-user', status: 400, messages: ['The two passwords differ.'] },
  { label: 'new password too short', method: 'POST', url: '/account/password', form: { password: 'short', confirm: 'short' }, as: 'fresh-user', status: 400, messages: ['a password needs at least 12 characters'] },
  // The JSON API the progress panel polls.
  { label: 'API: a run that does not exist', method: 'GET', url: '/api/runs/regenerate-reports%3Acustomer-1%3A1999-01-01', status: 404, messages: ['no run of a registered job with id regenerate-reports:customer-1:1999-01-01'] },
  // fastify's router refuses path parameters over 100 characters before any handler runs.
  { label: 'API: a run id of 401 characters', method: 'GET', url: `/api/runs/${'x'.repeat(401)}`, shown: 'GET /api/runs/xxx…x (401 characters)', status: 414, messages: ['Bad Request'] },
  { label: 'API: a run id that looks like a query', method: 'GET', url: `/api/runs/${encodeURIComponent("x' OR WorkflowId != '")}`, status: 404, messages: ["no run of a registered job with id x' OR WorkflowId != '"] },
  { label: 'API: nobody signed in', method: 'GET', url: '/api/runs/regenerate-reports%3Acustomer-1%3A2026-11-09', as: 'anonymous', status: 401, messages: ['sign in first'] },
];
