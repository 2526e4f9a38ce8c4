import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { ScheduleDeclaration } from '../schedules.js';
import { scheduleRevision } from '../temporal/schedule-sync.js';
import { relativeTime, type CheckResult } from './check-result.js';
import { temporalWithin } from './temporal-call.js';

/** A declared schedule as the namespace has it. */
export interface ScheduleState {
  id: string;
  /** The registry job it runs, as declared. */
  job: string;
  exists: boolean;
  paused: boolean;
  /** The schedule's note: why it is paused, or what it does. */
  note: string | null;
  nextRunAt: Date | null;
  /** When it last started a run (scheduled or triggered); null if never. */
  lastRunAt: Date | null;
  /** The workflow id of that run. */
  lastRunWorkflowId: string | null;
  /** The task queue its runs start on. */
  taskQueue: string | null;
  /** It is as `npm run schedules -- apply` would leave it (the declaration's revision). */
  upToDate: boolean;
}

const APPLY = 'npm run schedules -- apply';

/** Each declared schedule's state in the namespace (one DescribeSchedule each, at once). */
export async function scheduleStates(client: Client, declarations: ScheduleDeclaration[], taskQueue: string, timeoutMs: number): Promise<ScheduleState[]> {
  return Promise.all(declarations.map(async (declaration): Promise<ScheduleState> => {
    const base = { id: declaration.id, job: declaration.job };
    try {
      const description = await temporalWithin(client, timeoutMs, 'Temporal', () => client.schedule.getHandle(declaration.id).describe());
      const action = description.action as { taskQueue?: string; memo?: Record<string, unknown> };
      const last = description.info.recentActions.at(-1);
      return {
        ...base,
        exists: true,
        paused: description.state.paused,
        note: description.state.note ?? null,
        nextRunAt: description.info.nextActionTimes[0] ?? null,
        lastRunAt: last?.takenAt ?? null,
        lastRunWorkflowId: last?.action.workflow.workflowId ?? null,
        taskQueue: action.taskQueue ?? null,
        upToDate: action.memo?.scheduleRevision === scheduleRevision(declaration, taskQueue),
      };
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      return { ...base, exists: false, paused: false, note: null, nextRunAt: null, lastRunAt: null, lastRunWorkflowId: null, taskQueue: null, upToDate: false };
    }
  }));
}

/**
 * A missing schedule, or one whose runs go to another task queue, fails (its runs would never
 * happen, or never be picked up); a paused one, or one that differs from its declaration,
 * is a warning: someone may have meant it.
 */
export function checkSchedule(state: ScheduleState, taskQueue: string, now: Date): CheckResult {
  const part = `schedule ${state.id}`;
  if (!state.exists) return { part, status: 'fail', detail: `does not exist, so its job (${state.job}) never runs on its own; create it: ${APPLY}` };
  if (state.taskQueue !== taskQueue) {
    return { part, status: 'fail', detail: `starts its runs on task queue '${state.taskQueue}', where our workers do not poll (they poll '${taskQueue}'); fix it: ${APPLY}` };
  }
  const last = state.lastRunAt ? `, last run ${relativeTime(state.lastRunAt, now)}` : ', no run yet';
  if (state.paused) {
    return { part, status: 'warn', detail: `paused${state.note ? `: ${state.note}` : ''}${last} (resume it: npm run schedules -- unpause ${state.id})` };
  }
  const next = state.nextRunAt ? `next run ${state.nextRunAt.toISOString()} (${relativeTime(state.nextRunAt, now)})` : 'no next run';
  if (!state.upToDate) return { part, status: 'warn', detail: `active, ${next}${last}; differs from src/schedules.ts (update it: ${APPLY})` };
  return { part, status: 'ok', detail: `active, ${next}${last}` };
}
