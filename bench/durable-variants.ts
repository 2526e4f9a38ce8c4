import type { Client } from '@temporalio/client';
import type { RegenerateReportsInput, RegenerateReportsSummary } from '../src/contracts.js';
import { startRegenerateReports } from '../src/temporal/report-runs.js';
import type { RegenerateProgress } from '../src/workflows/progress.js';
import type { BenchPeriod } from './bench-data.js';
import { startProgress } from './progress.js';
import { timed } from './stats.js';

export interface DurableRun {
  ms: number;
  workflowId: string;
  /** First run of the chain (a run continues as new every batchesPerRun batches). */
  runId: string;
  summary: RegenerateReportsSummary;
}

/**
 * One `regenerateReports` run through Temporal and our worker process, started the way every
 * door of ours starts it, measured from the start call to the result.
 */
export async function durableRun(
  client: Client,
  taskQueue: string,
  input: RegenerateReportsInput,
  progress?: { label: string; customers: number },
): Promise<DurableRun> {
  const bar = progress ? startProgress(progress.label, progress.customers) : undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    let workflowId = '';
    let runId = '';
    const { ms, result } = await timed(async () => {
      const { handle } = await startRegenerateReports(client, input, { taskQueue, startedFrom: 'api', startedBy: 'bench' });
      workflowId = handle.workflowId;
      // client.workflow.start's handle carries the run id; the helper's declared type does not say so.
      runId = (handle as { firstExecutionRunId?: string }).firstExecutionRunId ?? '';
      // Progress from the workflow's own query: costs the database nothing while it is measured.
      if (bar) timer = setInterval(() => void handle.query<RegenerateProgress>('progress').then((p) => bar.update(p.customersDone), () => undefined), 2_000);
      return handle.result();
    });
    return { ms, workflowId, runId, summary: result };
  } finally {
    if (timer) clearInterval(timer);
    bar?.stop();
  }
}

/** `count` manual one-customer runs, one after another; each latency is start to result. */
export async function singleCustomerRuns(client: Client, taskQueue: string, customerIds: number[], period: BenchPeriod): Promise<DurableRun[]> {
  const runs: DurableRun[] = [];
  const bar = startProgress('single_customer', customerIds.length);
  try {
    for (const customerId of customerIds) {
      const run = await durableRun(client, taskQueue, { customerIds: [customerId], ...period, sendEmail: false });
      const days = run.summary.rowsWritten;
      if (run.summary.customersProcessed !== 1 || run.summary.failures.length > 0 || days === 0) {
        throw new Error(`single_customer: run for customer ${customerId} did not regenerate it: ${JSON.stringify(run.summary)}`);
      }
      runs.push(run);
      bar.update(runs.length);
    }
  } finally {
    bar.stop();
  }
  return runs;
}

/** `count` ids spread evenly over the list (deterministic), so small and large customers both appear. */
export function spreadSample(ids: number[], count: number): number[] {
  if (ids.length <= count) return [...ids];
  return Array.from({ length: count }, (_, i) => ids[Math.floor((i * ids.length) / count)]!);
}

export interface ActivityTimings {
  type: string;
  count: number;
  /** Scheduled to started: waiting in the task queue for a worker slot. */
  queueMsTotal: number;
  /** Started to completed: running in the worker. */
  runMsTotal: number;
  runMsMax: number;
}

/**
 * Where a run's time went, from its event history (first run of the chain): per activity
 * type, time queued and time running; and workflow tasks the same way.
 */
export async function historyTimings(client: Client, workflowId: string, runId: string): Promise<ActivityTimings[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, { type: string; at: number }>();
  const started = new Map<string, number>();
  const byType = new Map<string, ActivityTimings>();
  const at = eventMs;
  const add = (type: string, queueMs: number, runMs: number) => {
    const entry = byType.get(type) ?? { type, count: 0, queueMsTotal: 0, runMsTotal: 0, runMsMax: 0 };
    entry.count++;
    entry.queueMsTotal += queueMs;
    entry.runMsTotal += runMs;
    entry.runMsMax = Math.max(entry.runMsMax, runMs);
    byType.set(type, entry);
  };
  // A task is done when its completed event arrives: queued = scheduled → started, running = started → completed.
  const complete = (scheduledEventId: unknown, event: (typeof events)[number]) => {
    const key = String(scheduledEventId);
    const s = scheduled.get(key);
    const st = started.get(key);
    if (s && st !== undefined) add(s.type, st - s.at, at(event) - st);
  };
  for (const event of events) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      scheduled.set(id, { type: event.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at: at(event) });
    } else if (event.workflowTaskScheduledEventAttributes) {
      scheduled.set(id, { type: 'workflow task', at: at(event) });
    } else if (event.activityTaskStartedEventAttributes) {
      started.set(String(event.activityTaskStartedEventAttributes.scheduledEventId), at(event));
    } else if (event.workflowTaskStartedEventAttributes) {
      started.set(String(event.workflowTaskStartedEventAttributes.scheduledEventId), at(event));
    } else if (event.activityTaskCompletedEventAttributes) {
      complete(event.activityTaskCompletedEventAttributes.scheduledEventId, event);
    } else if (event.workflowTaskCompletedEventAttributes) {
      complete(event.workflowTaskCompletedEventAttributes.scheduledEventId, event);
    }
  }
  return [...byType.values()];
}

/** How long the server saw the run: WorkflowExecutionStarted to its closing event. */
export async function serverSideMs(client: Client, run: DurableRun): Promise<number> {
  const events = (await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events ?? [];
  return eventMs(events.at(-1)) - eventMs(events[0]);
}

/** An event's time in milliseconds. */
function eventMs(event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null } | undefined): number {
  return Number(event?.eventTime?.seconds ?? 0) * 1000 + Number(event?.eventTime?.nanos ?? 0) / 1e6;
}
