/**
 * Every schedule this project runs, declared as data. `npm run schedules -- apply` makes
 * the namespace match this list (and `npm start` does it on every start).
 */
import type { Duration } from '@temporalio/common';
import { reportTuning, type Config } from './config.js';
import { DAILY_REPORTS_WORKFLOW, type DailyReportsInput } from './daily-reports-contract.js';
import { addDays, zonedInstant } from './dates.js';

export interface ScheduleDeclaration {
  id: string;
  /** Shown in the Web UI and `schedule describe`; says what it does and why it exists. */
  note: string;
  /** When it fires: every `every`, shifted by `offset` from the start of each UTC hour/day (zone-free, so no DST gaps). */
  every: { every: Duration; offset: Duration };
  workflowType: string;
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
  /** How `npm run schedules -- backfill --from --to` turns days into scheduled times, and its largest span (none: no backfill by days). */
  backfill?: { maxDays: number; window(from: string, to: string): { start: Date; end: Date } };
}

/** The zones furthest ahead of and behind UTC (Etc/GMT signs are inverted: GMT-14 is UTC+14). */
const EARLIEST_ZONE = 'Etc/GMT-14';
const LATEST_ZONE = 'Etc/GMT+12';

export function declaredSchedules(config: Pick<Config, 'DAILY_REPORTS_AT' | 'REPORT_BATCH_SIZE' | 'REPORT_PARALLELISM' | 'REPORT_BATCHES_PER_ACTIVITY'>): ScheduleDeclaration[] {
  const at = config.DAILY_REPORTS_AT;
  const minute = Number(at.slice(3, 5));
  const input: DailyReportsInput = { at, windowMinutes: 60, reportOptions: reportTuning(config) };
  return [
    {
      id: 'daily-reports',
      note: `Every hour: reports and emails the day that has just ended for each customer whose local time passed ${at} in the last hour (so every customer gets yesterday's report at about ${at} where they are). Declared in src/schedules.ts.`,
      every: { every: '1 hour', offset: `${minute} minutes` },
      workflowType: DAILY_REPORTS_WORKFLOW,
      input,
      workflowIdPrefix: 'daily-reports',
      overlap: 'BUFFER_ALL',
      // Long enough for a lost weekend; each missed hour is run in turn when the server is back.
      catchupWindow: '7 days',
      backfill: {
        // 24 runs per day: a month is 744 runs, queued one after another.
        maxDays: 31,
        // Day D is due between `at` on D+1 in the earliest zone and the hour after `at` on D+1 in
        // the latest one. The first and last windows also hold a neighbouring day of zones 24 hours
        // apart (Honolulu and Kiritimati); regenerating it again is harmless and its email is never sent twice.
        window: (from, to) => ({
          start: zonedInstant(addDays(from, 1), at, EARLIEST_ZONE),
          end: new Date(zonedInstant(addDays(to, 1), at, LATEST_ZONE).getTime() + 3_600_000 - 1000),
        }),
      },
    },
  ];
}
