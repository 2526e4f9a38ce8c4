import { log } from '@temporalio/activity';
import type { DueReportDays } from '../services/due-report-days.js';

export interface DailyReportServices {
  dueReportDays: DueReportDays;
}

/** Thin wrappers for the nightly job; the report work itself is the report job's activities. */
export function createDailyReportActivities(services: DailyReportServices) {
  return {
    async planDueReportDays(request: { windowStart: string; windowEnd: string; at: string }) {
      const plan = await services.dueReportDays.plan(request);
      log.info('planned due report days', { windowEnd: request.windowEnd, days: plan.days.length, unknownTimeZones: plan.unknownTimeZones.length });
      return plan;
    },
  };
}

export type DailyReportActivities = ReturnType<typeof createDailyReportActivities>;
