import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RegenerateReportsSummary } from '../../src/contracts.js';
import { installTemporalRuntime } from '../../src/observability/runtime.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { seedDemo, testLogger } from '../support/database.js';
import { freePort } from '../support/free-port.js';
import { startPrometheus, type PrometheusServer, type Sample } from '../support/prometheus.js';
import { startTemporalTestEnv, workflowFailure, type TemporalTestEnv } from '../support/temporal.js';

/**
 * What a run counts as, scraped by a real Prometheus from this process's worker: a run that
 * continues as new is one run, a run replayed again and again (one cached workflow for several
 * at once, so each task rebuilds its workflow from history) is counted once, a run failed by
 * bad input counts as failed, a cancelled one as cancelled, and the item, row and email series
 * equal the runs' own summaries.
 */
let env: TemporalTestEnv;
let prometheus: PrometheusServer;
/** While closed, every batch waits for it: a run is cancelled with its first activity in flight. */
let gate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  const port = await freePort();
  // This test file's process gets the runtime with metrics before its worker is created.
  installTemporalRuntime(testLogger, { host: '127.0.0.1', port });
  prometheus = await startPrometheus([`127.0.0.1:${port}`]);
  env = await startTemporalTestEnv({
    settings: { WORKER_MAX_CACHED_WORKFLOWS: '2' }, // the SDK's smallest cache
    services: (pool) => ({
      reportRegeneration: new (class extends ReportRegeneration {
        override async regenerateBatches(...args: Parameters<ReportRegeneration['regenerateBatches']>) {
          await gate;
          return super.regenerateBatches(...args);
        }
      })(pool),
    }),
  });
  await seedDemo(env.db.pool);
});

afterAll(async () => {
  await env?.close();
  await prometheus?.stop();
});

function valueOf(samples: Sample[], labels: Record<string, string>): number {
  return samples.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value ?? 0;
}

it('counts each run once, however it continued, replayed, failed or was cancelled, and its items as its summary does', async () => {
  const period = { from: '2026-11-08', to: '2026-11-10' };
  const options = { taskQueue: env.taskQueue, startedFrom: 'api' as const, startedBy: 'test' };
  // Four at once with two cached workflows: their tasks evict each other, and a workflow whose
  // next task comes is rebuilt by replaying its history. The first continues as new after every
  // 2 batches of 5 customers (38 customers: 4 executions). The other two name 6 customers, one
  // more than a small run (src/workflows/small-runs.ts): with a cache this small the SDK can
  // evict a small run in the middle of its local activities, drop that workflow task and run
  // the step again after the task times out, so its customers would truly be processed twice.
  // A task that runs again is counted once: test/pure/run-metrics-sink.test.ts.
  const chained = await startRegenerateReports(env.client, { ...period, batchSize: 5, batchesPerRun: 2 }, options);
  const first = await startRegenerateReports(env.client, { ...period, customerIds: [1, 2, 3, 4, 5, 6], sendEmail: false, batchSize: 1 }, options);
  const second = await startRegenerateReports(env.client, { ...period, customerIds: [7, 8, 9, 10, 11, 12], batchSize: 1, parallelism: 1 }, options);
  const failure = workflowFailure(env, 'regenerateReports', { ...period, batchSize: 0 });
  const summaries: RegenerateReportsSummary[] = await Promise.all([chained.handle.result(), first.handle.result(), second.handle.result()]);
  expect((await failure).type).toBe('InvalidInput');

  // Cancelled while its first batch is in flight: it completes with what it did, marked cancelled.
  let open!: () => void;
  gate = new Promise((resolve) => (open = resolve));
  const cancelled = await startRegenerateReports(env.client, { from: '2026-11-11', to: '2026-11-11', batchSize: 5, parallelism: 1 }, options);
  while ((await cancelled.handle.describe()).raw.pendingActivities?.length !== 1) await new Promise((resolve) => setTimeout(resolve, 100));
  await cancelled.handle.cancel();
  open();
  const cancelledSummary = await cancelled.handle.result();
  expect(cancelledSummary.cancelled).toBe(true);
  summaries.push(cancelledSummary);

  const finished = await prometheus.waitFor('durable_jobs_runs_finished_total', (samples) => samples.reduce((sum, sample) => sum + sample.value, 0) >= 5);
  expect(finished.map(({ labels, value }) => `${labels.job_kind} ${labels.outcome} ${value}`).sort()).toEqual([
    'regenerate-reports cancelled 1', 'regenerate-reports failed 1', 'regenerate-reports ok 3',
  ]);
  const started = await prometheus.query('durable_jobs_runs_started_total');
  expect(started.map(({ labels, value }) => `${labels.job_kind} ${labels.started_from} ${value}`).sort()).toEqual([
    'regenerate-reports api 4', 'regenerate-reports unknown 1', // the bad-input run was started without our doors' search attributes
  ]);
  const durations = await prometheus.query('durable_jobs_run_duration_seconds_count');
  expect(valueOf(durations, { outcome: 'ok' })).toBe(3);
  // The replays did happen: the runtime timed workflow tasks that replayed history.
  const replays = await prometheus.query(`sum(temporal_workflow_task_replay_latency_seconds_count{task_queue="${env.taskQueue}"})`);
  expect(replays[0]?.value ?? 0).toBeGreaterThan(0);

  const total = (count: (summary: RegenerateReportsSummary) => number) => summaries.reduce((sum, summary) => sum + count(summary), 0);
  const job = { job_kind: 'regenerate-reports' };
  expect(valueOf(await prometheus.query('durable_jobs_items_processed_total'), job)).toBe(total((summary) => summary.customersProcessed));
  expect(valueOf(await prometheus.query('durable_jobs_rows_written_total'), { ...job, table: 'daily_reports' })).toBe(total((summary) => summary.rowsWritten));
  expect(total((summary) => summary.emailsSent)).toBeGreaterThan(0);
  expect(valueOf(await prometheus.query('durable_jobs_emails_sent_total'), { ...job, email: 'report' })).toBe(total((summary) => summary.emailsSent));
});
