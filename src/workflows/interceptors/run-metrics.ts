// Run-level metrics for every registered job alike: a run started, a run finished (and how),
// told to the worker through a sink; the worker turns them into Prometheus series labelled with
// the job's kind (src/observability/run-metrics-sink.ts), which the sandbox cannot look up.
import { TemporalFailure } from '@temporalio/common';
import {
  ContinueAsNew,
  isCancellation,
  proxySinks,
  workflowInfo,
  type Next,
  type Sinks,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
} from '@temporalio/workflow';
import { STARTED_FROM } from '../../temporal/search-attributes.js';

export interface RunMetricsSinks extends Sinks {
  runMetrics: {
    /** The first execution of a run (not a continue-as-new) began; `startedFrom` is its DjStartedFrom. */
    started(startedFrom: string | undefined): void;
    /** The run ended: `result` is what it returned (its job's summary), absent when it failed or was cancelled. */
    finished(ending: { how: 'returned'; result: unknown } | { how: 'failed' | 'cancelled' }, seconds: number): void;
  };
}

const { runMetrics } = proxySinks<RunMetricsSinks>();

/**
 * One logical run per continue-as-new chain: counted as started by its first execution and as
 * finished by its last, with its duration from the chain's start. Nothing is told while the
 * workflow replays (a worker that evicted it and rebuilt it from history), so a run is counted
 * once however often it is replayed. A task that fails with a non-Temporal error (a bug) fails
 * the task, not the run, and is retried: not counted. A run terminated or timed out by the
 * server runs no code of ours, so it is never counted as finished.
 */
class RunMetricsInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = workflowInfo();
    if (info.continuedFromExecutionRunId === undefined && !info.unsafe.isReplaying) {
      runMetrics.started(info.typedSearchAttributes.get(STARTED_FROM));
    }
    const finished = (ending: Parameters<RunMetricsSinks['runMetrics']['finished']>[0]) => {
      // Workflow time: the start of the task that ends the run.
      if (!workflowInfo().unsafe.isReplaying) runMetrics.finished(ending, (Date.now() - info.startTime.getTime()) / 1000);
    };
    try {
      const result = await next(input);
      finished({ how: 'returned', result });
      return result;
    } catch (error) {
      if (error instanceof ContinueAsNew) throw error; // the run goes on in its next execution
      if (isCancellation(error)) finished({ how: 'cancelled' });
      else if (error instanceof TemporalFailure) finished({ how: 'failed' });
      throw error;
    }
  }
}

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new RunMetricsInterceptor()] });
