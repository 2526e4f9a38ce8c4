/**
 * Every schedule this project runs, declared as data. `npm run schedules -- apply` makes
 * the namespace match this list (and `npm start` does it on every start).
 */
import type { Duration } from '@temporalio/common';
import type { Config } from './config.js';
import { REGENERATE_REPORTS_WORKFLOW, type RegenerateReportsInput } from './contracts.js';

export interface ScheduleDeclaration {
  id: string;
  /** Shown in the Web UI and `schedule describe`; says what it does and why it exists. */
  note: string;
  /** Local wall-clock times (hour, minute) in `timeZone`. */
  at: Array<{ hour: number; minute: number }>;
  timeZone: string;
  workflowType: string;
  /** The workflow input: leave `from`/`to` out so each run's period follows its scheduled time. */
  input: RegenerateReportsInput;
  /** Prefix of the started runs' ids; Temporal appends the scheduled time. */
  workflowIdPrefix: string;
  /**
   * BUFFER_ONE: a run due while the previous one still runs waits for it (at most one waits).
   * Two full regenerations never run at once, yet a slow day does not lose the next day's
   * run, which SKIP would. Backfills use BUFFER_ALL so every requested day runs, one by one.
   */
  overlap: 'BUFFER_ONE' | 'SKIP' | 'BUFFER_ALL';
  /** After downtime, runs missed within this window still start (older ones are dropped). */
  catchupWindow: Duration;
}

export function declaredSchedules(config: Pick<Config, 'DAILY_REPORTS_AT' | 'DAILY_REPORTS_TIME_ZONE' | 'REPORT_BATCH_SIZE' | 'REPORT_PARALLELISM'>): ScheduleDeclaration[] {
  const [hour, minute] = config.DAILY_REPORTS_AT.split(':').map(Number) as [number, number];
  return [
    {
      id: 'daily-reports',
      note: `Regenerates yesterday's daily reports for all active customers and emails them, every day at ${config.DAILY_REPORTS_AT} ${config.DAILY_REPORTS_TIME_ZONE}. Declared in src/schedules.ts.`,
      at: [{ hour, minute }],
      timeZone: config.DAILY_REPORTS_TIME_ZONE,
      workflowType: REGENERATE_REPORTS_WORKFLOW,
      input: { timeZone: config.DAILY_REPORTS_TIME_ZONE, batchSize: config.REPORT_BATCH_SIZE, parallelism: config.REPORT_PARALLELISM },
      workflowIdPrefix: 'regenerate-reports:all:scheduled',
      overlap: 'BUFFER_ONE',
      catchupWindow: '2 days',
    },
  ];
}
