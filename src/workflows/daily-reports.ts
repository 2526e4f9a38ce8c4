import {
  ApplicationFailure,
  ChildWorkflowFailure,
  executeChild,
  proxyLocalActivities,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DailyReportActivities } from '../activities/daily-report-activities.js';
import { InvalidInputError } from '../contracts.js';
import { countDay, describeDailySummary, resolveDailyReportsInput, type DailyReportsInput, type DailyReportsSummary, type ResolvedDailyReportsInput } from '../daily-reports-contract.js';
import { CUSTOMER_IDS, PERIOD, SCHEDULED_START_TIME, STARTED_FROM } from '../temporal/search-attributes.js';
import { regenerateReports } from './regenerate-reports.js';

const { planDueReportDays } = proxyLocalActivities<DailyReportActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 50 },
});

/**
 * The nightly job, run every hour by the `daily-reports` schedule: finds the customers whose
 * day has just ended where they are (see daily-reports-contract.ts) and regenerates and
 * emails that day for them, one child `regenerateReports` run per due day. A day whose run
 * fails makes this run fail too, so the schedule and the Web UI show it; `rerun-failed`
 * works on the child run.
 */
export async function dailyReports(rawInput?: DailyReportsInput): Promise<DailyReportsSummary> {
  const info = workflowInfo();
  // A scheduled or backfilled run covers the window ending at its scheduled time, not at the
  // moment it happens to run: after downtime, each buffered run still covers its own hour.
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? new Date(info.startTime);
  const input = validate(rawInput, scheduledAt);
  setCurrentDetails(`planning the window ${input.windowStart} .. ${input.windowEnd}`);
  const plan = await planDueReportDays({ windowStart: input.windowStart, windowEnd: input.windowEnd, at: input.at });
  // The day runs say where their parent came from: the schedule, `npm start`, a manual trigger.
  const startedFrom = info.typedSearchAttributes.get(STARTED_FROM) ?? 'api';
  const summary: DailyReportsSummary = {
    windowStart: input.windowStart, windowEnd: input.windowEnd, at: input.at, days: [], unknownTimeZones: plan.unknownTimeZones,
  };
  for (const due of plan.days) {
    setCurrentDetails(`regenerating ${due.day} for ${due.customers} customers in ${due.timeZones.join(', ')}`);
    const workflowId = `${info.workflowId}:${due.day}`;
    const args = { ...input.reportOptions, customerTimeZones: due.timeZones, from: due.day, to: due.day };
    try {
      const result = await executeChild(regenerateReports, {
        workflowId,
        args: [args],
        typedSearchAttributes: [
          { key: STARTED_FROM, value: startedFrom },
          { key: CUSTOMER_IDS, value: ['all'] },
          { key: PERIOD, value: `${due.day}..${due.day}` },
        ],
        // The input in the memo, as every start of ours records it: rerun-failed reuses its options.
        memo: { startedBy: `workflow:${info.workflowId}`, startedFrom, input: args },
        staticSummary: `Reports for ${due.day}, customers in ${due.timeZones.join(', ')}`.slice(0, 400),
      });
      // A day's run cancelled part-way (from the Web UI, say) completes with what it did: its
      // other customers got nothing, so the day failed, and the run must say so.
      if (result.cancelled) {
        summary.days.push({ ...due, workflowId, outcome: 'failed', ...countDay(result), error: `cancelled after ${result.customersProcessed} of ${due.customers} customers; run the day again` });
      } else {
        summary.days.push({ ...due, workflowId, outcome: 'completed', ...countDay(result) });
      }
    } catch (error) {
      // The day's id already taken by a run still going (started by hand with this id): this
      // day fails, naming it; the window's other days still run.
      const reason = error instanceof WorkflowExecutionAlreadyStartedError ? `a run with the id ${workflowId} is already running`
        : error instanceof ChildWorkflowFailure ? (error.cause?.message ?? error.message)
        : undefined;
      if (reason === undefined) throw error;
      summary.days.push({ ...due, workflowId, outcome: 'failed', customersProcessed: 0, emailsSent: 0, failures: due.customers, error: reason });
    }
  }
  setCurrentDetails(describeDailySummary(summary));
  const failed = summary.days.filter((day) => day.outcome === 'failed' || day.failures > 0);
  const unknownZones = plan.unknownTimeZones.length > 0; // listed once a day by the plan
  if (failed.length > 0 || unknownZones) {
    const parts = failed.map((day) => `${day.day} (${day.workflowId}): ${day.outcome === 'failed' ? `run failed: ${day.error}` : `${day.failures} customers failed; npm run job -- rerun-failed '${day.workflowId}'`}`);
    if (unknownZones) parts.push(`customers with unknown time zones get no reports: ${plan.unknownTimeZones.map((z) => `${z.timeZone} (${z.customers})`).join(', ')}; fix customers.time_zone`);
    throw ApplicationFailure.create({ type: 'ReportDaysFailed', nonRetryable: true, message: parts.join('; '), details: [summary] });
  }
  return summary;
}

function validate(rawInput: unknown, scheduledAt: Date): ResolvedDailyReportsInput {
  try {
    return resolveDailyReportsInput(rawInput, scheduledAt);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: error.message, details: [error.problems] });
    }
    throw error;
  }
}
