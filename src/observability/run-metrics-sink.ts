import type { InjectedSinks } from '@temporalio/worker';
import { jobByWorkflowType } from '../jobs/index.js';
import type { RunMetricsSinks } from '../workflows/interceptors/run-metrics.js';
import type { JobMetrics, RunMetricOutcome } from './job-metrics.js';

/**
 * The worker's side of the run-metrics interceptor (src/workflows/interceptors/run-metrics.ts):
 * records its calls as the run's job's series. The outcome of a run that returned is its job's
 * own (`summary.outcome`: ok, some-failed, cancelled), the same the CLI's `--json` reports.
 */
export function runMetricsSinks(metrics: JobMetrics): InjectedSinks<RunMetricsSinks> {
  return {
    runMetrics: {
      started: { fn: (info, startedFrom) => metrics.job(info.workflowType).runStarted(startedFrom) },
      finished: {
        fn: (info, ending, seconds) => {
          const outcome: RunMetricOutcome = ending.how === 'returned' ? returnedOutcome(info.workflowType, ending.result) : ending.how;
          metrics.job(info.workflowType).runFinished(outcome, seconds);
        },
      },
    },
  };
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
