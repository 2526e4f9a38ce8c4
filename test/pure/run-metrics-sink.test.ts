import type { MetricMeter } from '@temporalio/common';
import type { WorkflowInfo } from '@temporalio/workflow';
import { expect, it } from 'vitest';
import { JobMetrics } from '../../src/observability/job-metrics.js';
import { RecentKeys, runMetricsSinks } from '../../src/observability/run-metrics-sink.js';

/** A meter that writes down every counter increment as `name tags value`. */
function recordingMeter(): { meter: MetricMeter; added: string[] } {
  const added: string[] = [];
  const instrument = (name: string) => ({
    add: (value: number, tags: Record<string, string> = {}) => added.push(`${name} ${JSON.stringify(tags)} ${value}`),
    record: () => undefined,
  });
  const meter = { createCounter: instrument, createHistogram: instrument, createGauge: instrument } as unknown as MetricMeter;
  return { meter, added };
}

const info = (workflowId: string, firstExecutionRunId: string) =>
  ({ workflowId, firstExecutionRunId, runId: 'run', workflowType: 'regenerateReports' }) as unknown as WorkflowInfo;

it("counts a run's start and its end once when its workflow task runs again (the sink is called at least once)", () => {
  const { meter, added } = recordingMeter();
  const { runMetrics } = runMetricsSinks(new JobMetrics(meter, () => 'regenerate-reports'));
  // The first task of run A ran twice (it timed out the first time), its last task too;
  // run B is another run of the same workflow id (a new chain), counted on its own.
  runMetrics.started.fn(info('A', 'a1'), 'api');
  runMetrics.started.fn(info('A', 'a1'), 'api');
  runMetrics.finished.fn(info('A', 'a1'), { how: 'failed' }, 3);
  runMetrics.finished.fn(info('A', 'a1'), { how: 'failed' }, 3);
  runMetrics.started.fn(info('A', 'b1'), 'schedule');
  expect(added).toEqual([
    'durable_jobs_runs_started {"job_kind":"regenerate-reports","started_from":"api"} 1',
    'durable_jobs_runs_finished {"job_kind":"regenerate-reports","outcome":"failed"} 1',
    'durable_jobs_runs_started {"job_kind":"regenerate-reports","started_from":"schedule"} 1',
  ]);
});

it('keeps the last keys only, so a long-lived worker holds a bounded number', () => {
  const keys = new RecentKeys(2);
  expect([keys.add('a'), keys.add('a'), keys.add('b'), keys.add('c')]).toEqual([true, false, true, true]);
  // 'a' was the oldest of three: forgotten. 'b' and 'c' are still known.
  expect([keys.add('b'), keys.add('c'), keys.add('a')]).toEqual([false, false, true]);
});
