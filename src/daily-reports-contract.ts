/**
 * The contract of the nightly job, `dailyReports`: what its schedule passes and what a run
 * returns. Sandbox-safe (no Node built-ins).
 *
 * Follow the sun: the schedule starts a run every hour. The run at scheduled time T covers
 * the window (T − windowMinutes, T]: every customer whose local clock reached `at` (02:00
 * by default) inside that window has just finished a day, and that day is regenerated for
 * them (as final rows, since it is over where they are) and emailed. Each customer's day
 * therefore becomes due exactly once, about `at` in the customer's own zone, whatever the
 * zone's offset (−12 h to +14 h, 30- and 45-minute offsets included; those wait up to
 * 45 minutes for the next window) and whatever its DST rules.
 */
import { z } from 'zod';
import { InvalidInputError, nestedProblems, parseInput } from './validation.js';
import { failureCount, resolveRegenerateInput, type RegenerateReportsInput, type RegenerateReportsSummary } from './contracts.js';

export const DAILY_REPORTS_WORKFLOW = 'dailyReports';

export const DAILY_REPORTS_DEFAULTS = { at: '02:00', windowMinutes: 60 } as const;

/** Fields of the report run that the nightly job decides itself, per due day and zone. */
const DECIDED_PER_DAY = ['customerIds', 'customerTimeZones', 'from', 'to', 'timeZone'] as const;

const dailyReportsInput = z
  .strictObject(
    {
      at: z
        .string({ error: 'must be a time of day written HH:MM (24-hour)' })
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day written HH:MM (24-hour)')
        .optional()
        .describe('the local time of day at which a customer\'s previous day is reported (default 02:00)'),
      windowMinutes: z
        .number({ error: 'must be a whole number of minutes from 1 to 1440' })
        .int('must be a whole number of minutes from 1 to 1440')
        .min(1, 'must be a whole number of minutes from 1 to 1440')
        .max(1440, 'must be a whole number of minutes from 1 to 1440')
        .optional()
        .describe('the window before the run\'s time (its scheduled time) in which `at` is looked for (default 60; 1440 reports every customer\'s last day)'),
      /** Passed to every day's report run as it is (batch sizes, email, dry run…); validated by that run's own schema. */
      reportOptions: z
        .record(z.string(), z.unknown(), { error: 'must be a JSON object of report run options' })
        .optional()
        .describe('options for every day\'s report run (batch sizes, email, dry run), as regenerate-reports takes them'),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : 'must be a JSON object') },
  )
  .optional();

/** dailyReports' input schema (a function, not the schema: see regenerateReportsInputSchema in src/contracts.ts). */
export const dailyReportsInputSchema = () => dailyReportsInput;

export type DailyReportsInput = NonNullable<z.input<typeof dailyReportsInput>>;

export interface ResolvedDailyReportsInput {
  at: string;
  windowMinutes: number;
  /** ISO instants: the window (windowStart, windowEnd]. */
  windowStart: string;
  windowEnd: string;
  reportOptions: RegenerateReportsInput;
}

/** Validates the nightly job's input; `scheduledAt` (the schedule's time for this run) ends the window. */
export function resolveDailyReportsInput(raw: unknown, scheduledAt: Date): ResolvedDailyReportsInput {
  const input = parseInput(dailyReportsInput, raw) ?? {};
  const reportOptions = (input.reportOptions ?? {}) as RegenerateReportsInput;
  const decided = DECIDED_PER_DAY.filter((field) => field in reportOptions);
  if (decided.length > 0) {
    throw new InvalidInputError([{ field: 'reportOptions', message: `reportOptions.${decided[0]} is decided per due day and zone by the nightly job; leave it out` }]);
  }
  try {
    resolveRegenerateInput({ ...reportOptions, from: '2026-01-01' }, scheduledAt); // the options' own rules
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(nestedProblems('reportOptions', error.problems));
    throw error;
  }
  const windowMinutes = input.windowMinutes ?? DAILY_REPORTS_DEFAULTS.windowMinutes;
  return {
    at: input.at ?? DAILY_REPORTS_DEFAULTS.at,
    windowMinutes,
    windowStart: new Date(scheduledAt.getTime() - windowMinutes * 60_000).toISOString(),
    windowEnd: scheduledAt.toISOString(),
    reportOptions,
  };
}

/** One local day that became due in the window, for the active customers of some zones. */
export interface DueDay {
  day: string;
  timeZones: string[];
  customers: number;
}

export interface DueDayPlan {
  days: DueDay[];
  /** Active customers whose time zone no one knows: never due anywhere, so listed instead, in the window where UTC's day falls due. */
  unknownTimeZones: Array<{ timeZone: string; customers: number }>;
}

export interface DailyReportsSummary {
  windowStart: string;
  windowEnd: string;
  at: string;
  days: Array<DueDay & {
    workflowId: string;
    outcome: 'completed' | 'failed';
    customersProcessed: number;
    emailsSent: number;
    /** Failed customers, listed or not, plus failed id ranges. */
    failures: number;
    error?: string;
  }>;
  unknownTimeZones: DueDayPlan['unknownTimeZones'];
}

/** What one day's report run returned, as the nightly summary counts it. */
export function countDay(summary: RegenerateReportsSummary): { customersProcessed: number; emailsSent: number; failures: number } {
  return {
    customersProcessed: summary.customersProcessed,
    emailsSent: summary.emailsSent,
    failures: failureCount(summary),
  };
}

/** One line per due day, for the Web UI's current details and every door's summary. */
export function describeDailySummary(summary: DailyReportsSummary): string {
  if (summary.days.length === 0) return `no customer's day ended in ${summary.windowStart} .. ${summary.windowEnd}`;
  return summary.days.map((day) => `${day.day}: ${day.outcome}, ${day.customersProcessed} customers, ${day.emailsSent} emails${day.failures ? `, ${day.failures} failed` : ''}`).join('; ');
}
