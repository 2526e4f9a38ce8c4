import type { InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { jobByWorkflowType } from '../jobs/index.js';
import type { RunMetricsSinks } from '../workflows/interceptors/run-metrics.js';
import type { JobMetrics, RunMetricOutcome } from './job-metrics.js';

/**
 * The worker's side of the run-metrics interceptor (src/workflows/interceptors/run-metrics.ts):
 * records its calls as the run's job's series. The outcome of a run that returned is its job's
 * own (`summary.outcome`: ok, some-failed, cancelled), the same the CLI's `--json` reports.
 *
 * Sinks are called at least once, not exactly once: the worker calls them when the workflow
 * code has finished an activation, whether or not the server then accepts the task. A task the
 * server never hears about (it timed out: the worker was slow, or its cache evicted the run in
 * the middle of the task) runs again from the same point, not as a replay, and calls the sink
 * again. CI once counted a run twice that way: a small run's first task, whose local
 * activities were stranded by an eviction under cache pressure, timed out after 10 s and ran
 * again. So each run is counted once per process: the keys of the last 10,000 runs counted as
 * started, and of the last 10,000 counted as finished, are kept, and a second call for one of
 * them is dropped. A task run again by another process (another worker, or this one after a
 * restart) is still counted by both.
 */
export function runMetricsSinks(metrics: JobMetrics, remembered = 10_000): InjectedSinks<RunMetricsSinks> {
  const started = new RecentKeys(remembered);
  const finished = new RecentKeys(remembered);
  return {
    runMetrics: {
      started: {
        fn: (info, startedFrom) => {
          if (started.add(runKey(info))) metrics.job(info.workflowType).runStarted(startedFrom);
        },
      },
      finished: {
        fn: (info, ending, seconds) => {
          if (!finished.add(runKey(info))) return;
          const outcome: RunMetricOutcome = ending.how === 'returned' ? returnedOutcome(info.workflowType, ending.result) : ending.how;
          metrics.job(info.workflowType).runFinished(outcome, seconds);
        },
      },
    },
  };
}

/** One logical run: its workflow id and the run id its chain of continue-as-new began with. */
function runKey(info: WorkflowInfo): string {
  return `${info.workflowId} ${info.firstExecutionRunId}`;
}

/** The last `capacity` keys added; bounded, so a worker that runs for months keeps a fixed amount. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** Adds `key`; false when it was already there (and it is kept). */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value!); // the oldest: a Set keeps insertion order
    return true;
  }
}

function returnedOutcome(workflowType: string, result: unknown): RunMetricOutcome {
  const job = jobByWorkflowType(workflowType);
  if (!job || result === undefined) return 'ok';
  try {
    return job.summary.outcome(result);
  } catch {
    return 'ok'; // a summary of an older release's shape: the run did complete
  }
}
