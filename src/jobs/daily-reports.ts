/**
 * The nightly job: every hour, the days that have just ended somewhere are regenerated and
 * emailed, one child report run per due day (src/workflows/daily-reports.ts).
 */
import { TASK_QUEUE_DEFAULT } from '../contracts.js';
import {
  DAILY_REPORTS_DEFAULTS,
  DAILY_REPORTS_WORKFLOW,
  dailyReportsInputSchema,
  describeDailySummary,
  resolveDailyReportsInput,
  type DailyReportsInput,
  type DailyReportsSummary,
  type ResolvedDailyReportsInput,
} from '../daily-reports-contract.js';
import { reportTuning } from '../config.js';
import { addDays, zonedInstant } from '../dates.js';
import { queueSuffix } from '../temporal/runs.js';
import { CUSTOMER_IDS } from '../temporal/search-attributes.js';
import type { JobDefinition } from './job-definition.js';

/** The zones furthest ahead of and behind UTC (Etc/GMT signs are inverted: GMT-14 is UTC+14). */
const EARLIEST_ZONE = 'Etc/GMT-14';
const LATEST_ZONE = 'Etc/GMT+12';

export const dailyReportsJob: JobDefinition<DailyReportsInput, ResolvedDailyReportsInput, DailyReportsSummary> = {
  kind: 'daily-reports',
  workflowType: DAILY_REPORTS_WORKFLOW,
  description: "regenerate and email the day that has just ended for every customer whose local time passed `at` in the window",
  schema: dailyReportsInputSchema(),
  // What the declared schedule passes too (src/schedules.ts), so a manual run batches alike.
  defaultsFromConfig: (config) => ({ reportOptions: reportTuning(config) }),
  resolve: resolveDailyReportsInput,
  // As given, not resolved: a scheduled run's window ends at its scheduled time (the workflow
  // reads it), and a manual run's at its start.
  workflowInput: (input) => ({ at: input.at, windowMinutes: input.windowMinutes, reportOptions: input.reportOptions }),
  workflowId: (input, { taskQueue, startedFrom }) => `daily-reports:${startedFrom}:${input.windowEnd.slice(0, 19)}Z${queueSuffix(taskQueue, TASK_QUEUE_DEFAULT)}`,
  searchAttributes: () => [{ key: CUSTOMER_IDS, value: ['all'] }],
  staticSummary: (input) => `Daily reports: every customer whose clock passed ${input.at} in the ${input.windowMinutes} minutes before ${input.windowEnd}`,
  summary: {
    describe: describeDailySummary,
    outcome: (summary) => (summary.days.some((day) => day.outcome === 'failed' || day.failures > 0) ? 'some-failed' : 'ok'),
    counts: (summary) => ({ failedItems: summary.days.reduce((sum, day) => sum + day.failures, 0), quarantined: 0 }),
    // A day whose run finished with failed customers re-runs just them; a day whose run failed is run again whole
    // (its customers already emailed are not emailed twice).
    fixCommands: (summary) => summary.days.flatMap((day) =>
      day.outcome === 'failed' ? [`npm run job -- regenerate-reports --from ${day.day} --to ${day.day} --wait`]
      : day.failures > 0 ? [`npm run job -- rerun-failed '${day.workflowId}' --wait`] : []),
  },
  doors: {
    cli: { flags: { at: { flag: '--at <HH:MM>' }, windowMinutes: { flag: '--window-minutes <n>' } } },
    schedule: {
      covers: (scheduledAt, input) => {
        const at = typeof input.at === 'string' ? input.at : DAILY_REPORTS_DEFAULTS.at;
        return `the day that ended, for customers whose clock passed ${at} in the hour before ${scheduledAt.toISOString()}`;
      },
      backfill: {
        // 24 runs per day: a month is 744 runs, queued one after another.
        maxDays: 31,
        // Day D is due between `at` on D+1 in the earliest zone and the hour after `at` on D+1 in
        // the latest one. The first and last windows also hold a neighbouring day of zones 24 hours
        // apart (Honolulu and Kiritimati); regenerating it again is harmless and its email is never sent twice.
        window: (from, to, input) => {
          const at = typeof input.at === 'string' ? input.at : DAILY_REPORTS_DEFAULTS.at;
          return {
            start: zonedInstant(addDays(from, 1), at, EARLIEST_ZONE),
            end: new Date(zonedInstant(addDays(to, 1), at, LATEST_ZONE).getTime() + 3_600_000 - 1000),
          };
        },
      },
    },
  },
};
