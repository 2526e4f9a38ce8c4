/**
 * Every schedule this project runs, declared as data. `npm run schedules -- apply` makes
 * the namespace match this list (and `npm start` does it on every start). Each names a job of
 * the registry (src/jobs/index.ts); the job says how its runs read their scheduled time and
 * how `schedules backfill --from --to` maps days to scheduled times.
 */
import type { Duration } from '@temporalio/common';
import { reportTuning, type Config } from './config.js';
import type { DailyReportsInput } from './daily-reports-contract.js';
import { jobByKind } from './jobs/index.js';
import { purgeSettings } from './jobs/purge-old-reports.js';
import type { AnyJob } from './jobs/job-definition.js';

export interface ScheduleDeclaration {
  id: string;
  /** Shown in the Web UI and `schedule describe`; says what it does and why it exists. */
  note: string;
  /** When it fires: every `every`, shifted by `offset` from the start of each UTC hour/day (zone-free, so no DST gaps). */
  every: { every: Duration; offset: Duration };
  /** The job it starts, by its registry kind. */
  job: string;
  /** The workflow input: each run derives what it covers from its scheduled time. */
  input: Record<string, unknown>;
  /** Prefix of the started runs' ids; Temporal appends the scheduled time. */
  workflowIdPrefix: string;
  /**
   * BUFFER_ALL: a run due while another runs waits for it, and none is ever dropped: each run
   * covers only its own window, so a dropped run would be days nobody reports. SKIP or
   * BUFFER_ONE lose runs after downtime (the third due run while one runs and one waits).
   */
  overlap: 'BUFFER_ONE' | 'SKIP' | 'BUFFER_ALL';
  /** After downtime, runs missed within this window still start (older ones are dropped). */
  catchupWindow: Duration;
}

export function declaredSchedules(
  config: Pick<Config, 'DAILY_REPORTS_AT' | 'REPORT_BATCH_SIZE' | 'REPORT_PARALLELISM' | 'REPORT_BATCHES_PER_ACTIVITY' | 'REPORT_RETENTION_DAYS'>,
): ScheduleDeclaration[] {
  const at = config.DAILY_REPORTS_AT;
  const minute = Number(at.slice(3, 5));
  const input: DailyReportsInput = { at, windowMinutes: 60, reportOptions: reportTuning(config) };
  return [
    {
      id: 'daily-reports',
      note: `Every hour: reports and emails the day that has just ended for each customer whose local time passed ${at} in the last hour (so every customer gets yesterday's report at about ${at} where they are). Declared in src/schedules.ts.`,
      every: { every: '1 hour', offset: `${minute} minutes` },
      job: 'daily-reports',
      input,
      workflowIdPrefix: 'daily-reports',
      overlap: 'BUFFER_ALL',
      // Long enough for a lost weekend; each missed hour is run in turn when the server is back.
      catchupWindow: '7 days',
    },
    {
      id: 'purge-old-reports',
      note: `Every 7 days: deletes report rows and email records of days more than ${config.REPORT_RETENTION_DAYS} days before the run's day (UTC; REPORT_RETENTION_DAYS). Declared in src/schedules.ts.`,
      // Intervals count from the Unix epoch, a Thursday: an offset of 3 days 3 h 30 min is
      // Sunday 03:30 UTC, clear of the nightly reports' busiest hours in Europe and the Americas.
      every: { every: '7 days', offset: '4530 minutes' },
      job: 'purge-old-reports',
      input: purgeSettings(config),
      workflowIdPrefix: 'purge-old-reports',
      // A run deletes everything before its cutoff: a skipped or missed run leaves nothing the next one does not delete.
      overlap: 'SKIP',
      catchupWindow: '1 day',
    },
    {
      id: 'import-orders',
      note: "Every 15 minutes: downloads the shop's new and changed orders (ORDERS_API_URL) from the committed cursor on, then regenerates the report days they change. Declared in src/schedules.ts.",
      every: { every: '15 minutes', offset: '0 minutes' },
      job: 'import-orders',
      input: {},
      workflowIdPrefix: 'import-orders:shop:scheduled',
      // Each run reads from the committed cursor to the end: a run skipped while one runs, or
      // missed while the server was down, is made up by the next one in full.
      overlap: 'SKIP',
      catchupWindow: '15 minutes',
    },
  ];
}

/** The registry entry a declaration names; a declaration naming no job is a programming error. */
export function jobOf(declaration: ScheduleDeclaration): AnyJob {
  const job = jobByKind(declaration.job);
  if (!job) throw new Error(`schedule ${declaration.id} names the job '${declaration.job}', which src/jobs/index.ts does not list`);
  return job;
}

/** The declaration's backfill rule (from its job), with its input bound: none when the job maps no days to scheduled times. */
export function backfillOf(declaration: ScheduleDeclaration): { maxDays: number; window(from: string, to: string): { start: Date; end: Date } } | undefined {
  const rule = jobOf(declaration).doors.schedule?.backfill;
  return rule && { maxDays: rule.maxDays, window: (from, to) => rule.window(from, to, declaration.input) };
}
