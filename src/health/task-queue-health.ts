import type { Client } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time.js';
import { relativeTime, type CheckResult } from './check-result.js';
import { temporalWithin } from './temporal-call.js';

// temporal.api.enums.v1 values (@temporalio/proto is not our dependency).
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/**
 * How recently a worker must have polled to count as polling. An idle worker's poll is a long
 * poll the server holds for up to about a minute, and the server records a poller when its poll
 * arrives: so a healthy, idle worker can show a last poll 60–70 s old. Two minutes leaves room.
 */
export const WORKER_SEEN_WITHIN_MS = 120_000;

export interface PollerSeen {
  /** The worker's identity (process id @ host by default). */
  identity: string;
  lastPollAt: Date | null;
}

/** Who polled a task queue lately, as the server remembers it (it forgets pollers after about five minutes). */
export interface TaskQueuePollers {
  taskQueue: string;
  workflowPollers: PollerSeen[];
  activityPollers: PollerSeen[];
}

/** DescribeTaskQueue for the queue's workflow and activity tasks: the workers that polled each. */
export async function taskQueuePollers(client: Client, namespace: string, taskQueue: string, timeoutMs: number): Promise<TaskQueuePollers> {
  const describe = async (taskQueueType: number): Promise<PollerSeen[]> => {
    const response = await temporalWithin(client, timeoutMs, 'Temporal', () =>
      client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL }, taskQueueType }));
    return response.pollers.map((poller) => ({ identity: poller.identity ?? '', lastPollAt: optionalTsToDate(poller.lastAccessTime) ?? null }));
  };
  const [workflowPollers, activityPollers] = await Promise.all([describe(TASK_QUEUE_TYPE_WORKFLOW), describe(TASK_QUEUE_TYPE_ACTIVITY)]);
  return { taskQueue, workflowPollers, activityPollers };
}

/** The most recent poll of any of these pollers; null when none was ever seen. */
export function lastPollAt(pollers: PollerSeen[]): Date | null {
  const times = pollers.map((poller) => poller.lastPollAt?.getTime() ?? 0).filter((time) => time > 0);
  return times.length > 0 ? new Date(Math.max(...times)) : null;
}

/**
 * Ready when some worker polled the queue's workflow tasks and its activity tasks within
 * `seenWithinMs`: a run needs both (our workers poll both; a worker of another code base
 * on the same queue might poll one).
 */
export function checkTaskQueue(pollers: TaskQueuePollers, now: Date, seenWithinMs = WORKER_SEEN_WITHIN_MS): CheckResult {
  const part = `task queue ${pollers.taskQueue}`;
  const fresh = (list: PollerSeen[]) => list.filter((poller) => poller.lastPollAt !== null && now.getTime() - poller.lastPollAt.getTime() <= seenWithinMs);
  const window = seenWithinMs % 60_000 === 0 ? `${seenWithinMs / 60_000} min` : `${Math.round(seenWithinMs / 1000)} s`;
  const start = 'start one: npm run worker (or npm start)';
  const unpolled = [
    ...(fresh(pollers.workflowPollers).length === 0 ? ['workflow'] : []),
    ...(fresh(pollers.activityPollers).length === 0 ? ['activity'] : []),
  ];
  if (unpolled.length > 0) {
    const last = lastPollAt([...pollers.workflowPollers, ...pollers.activityPollers]);
    return {
      part, status: 'fail',
      detail: `no worker has polled its ${unpolled.join(' and ')} tasks in the last ${window} (${last ? `last poll ${relativeTime(last, now)}` : 'none seen'}); runs wait until one does: ${start}`,
    };
  }
  const workers = new Set([...fresh(pollers.workflowPollers), ...fresh(pollers.activityPollers)].map((poller) => poller.identity));
  const last = lastPollAt([...pollers.workflowPollers, ...pollers.activityPollers])!;
  return { part, status: 'ok', detail: `${workers.size} worker${workers.size === 1 ? '' : 's'} polling (last poll ${relativeTime(last, now)})` };
}
