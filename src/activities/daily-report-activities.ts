import { Context, log } from '@temporalio/activity';
import type { JobMetrics } from '../observability/job-metrics.js';
import type { DueReportDays } from '../services/due-report-days.js';

export interface DailyReportServices {
  dueReportDays: DueReportDays;
}

/** Thin wrappers for the nightly job; the report work itself is the report job's activities. */
export function createDailyReportActivities(services: DailyReportServices, metrics: JobMetrics) {
  return {
    async planDueReportDays(request: { windowStart: string; windowEnd: string; at: string }) {
      const plan = await services.dueReportDays.plan(request);
      metrics.job(Context.current().info.workflowType).itemsProcessed(plan.days.length); // its items: the due days it plans, one child run each
      log.info('planned due report days', { windowEnd: request.windowEnd, days: plan.days.length, unknownTimeZones: plan.unknownTimeZones.length });
      return plan;
    },
  };
}

export type DailyReportActivities = ReturnType<typeof createDailyReportActivities>;
