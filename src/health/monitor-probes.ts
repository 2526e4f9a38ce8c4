import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { temporalWithin } from './temporal-call.js';
import { lastPollAt, taskQueuePollers } from './task-queue-health.js';

/** What the alert monitor reads from Temporal: the one seam between its rules and the server. */
export interface MonitorProbes {
  /** The most recent poll of the task queue (workflow or activity tasks) the server remembers; null: none (it forgets after about 5 minutes). */
  lastPoll(taskQueue: string): Promise<Date | null>;
  /** A schedule's count of runs it skipped because they could not start within its catch-up window (null: no such schedule). */
  missedCatchups(scheduleId: string): Promise<{ missed: number; catchupWindowMs: number } | null>;
}

/** The probes over a real Temporal client, each within `timeoutMs` (the doctor's task-queue check reads the same pollers). */
export function temporalProbes(client: Client, namespace: string, timeoutMs = 10_000): MonitorProbes {
  return {
    async lastPoll(taskQueue) {
      const pollers = await taskQueuePollers(client, namespace, taskQueue, timeoutMs);
      return lastPollAt([...pollers.workflowPollers, ...pollers.activityPollers]);
    },
    async missedCatchups(scheduleId) {
      try {
        const description = await temporalWithin(client, timeoutMs, 'Temporal', () => client.schedule.getHandle(scheduleId).describe());
        return { missed: description.info.numActionsMissedCatchupWindow, catchupWindowMs: Number(description.policies.catchupWindow) };
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) return null;
        throw error;
      }
    },
  };
}
