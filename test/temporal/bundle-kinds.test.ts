import fs from 'node:fs';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { workflowSpanSinks } from '../../src/observability/temporal-tracing.js';
import { activeTracing } from '../../src/observability/tracing.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { ensureWorkflowBundles } from '../../src/workflow-bundle.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

/**
 * A worker loads the untraced workflow bundle (OpenTelemetry's interceptors over a no-op
 * tracer) unless it traces (src/workflow-bundle.ts), so one run can meet both bundles: started
 * by a worker that does not trace, replayed by one that does after a deploy or an eviction, or
 * the other way round. That their promises settle alike is test/pure/untraced-workflow-otel.test.ts. Runs
 * of today's code with the shapes that could tell them apart (batches in parallel, emails,
 * continue-as-new, child workflows, a local-activity small run) are made by this file's worker,
 * which does not trace, and every execution of each must replay on both bundles. The other way
 * round: test/temporal/tracing.test.ts replays its traced worker's run on the untraced bundle.
 */
let env: TemporalTestEnv;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
});
afterAll(() => env?.close());

it("both bundles hold the same workflows and interceptors; only the traced one holds OpenTelemetry's SDK", async () => {
  const bundles = await ensureWorkflowBundles();
  const traced = fs.readFileSync(bundles.traced, 'utf8');
  const untraced = fs.readFileSync(bundles.untraced, 'utf8');
  for (const bundle of [traced, untraced]) expect(bundle).toContain('@temporalio/interceptors-opentelemetry/lib/workflow');
  expect(traced).toContain('./node_modules/@opentelemetry/sdk-trace-base/');
  for (const module of ['sdk-trace-base', 'core', 'resources', 'semantic-conventions']) expect(untraced).not.toContain(`./node_modules/@opentelemetry/${module}/`);
  expect(untraced).toContain('untraced-workflow-otel/sdk-trace-base');
  for (const workflow of ['regenerateReports', 'dailyReports', 'purgeOldReports', 'importOrders']) expect(untraced).toContain(`async function ${workflow}(`);
});

it("today's runs from a worker that does not trace replay on both bundles, every execution", async () => {
  // This file's worker does not trace, so it runs the untraced bundle (src/worker.ts).
  expect(activeTracing()).toBeUndefined();
  const period = { from: '2026-11-08', to: '2026-11-09' };
  const options = { taskQueue: env.taskQueue, startedFrom: 'api' as const, startedBy: 'test' };
  // 38 customers in batches of 4, 3 at a time, 3 batches per execution (4 executions), emailed.
  const chained = await startRegenerateReports(env.client, { ...period, batchSize: 4, parallelism: 3, batchesPerRun: 3 }, options);
  // A small run: its steps are local activities in one workflow task.
  const small = await startRegenerateReports(env.client, { ...period, customerIds: [1, 2] }, options);
  // The nightly job: one child run per due day and zone.
  const daily = await env.client.workflow.start('dailyReports', { taskQueue: env.taskQueue, workflowId: `bundle-kinds-daily-${Date.now()}`, args: [{ at: '00:00', windowMinutes: 1440 }] });
  await Promise.all([chained.handle.result(), small.handle.result(), daily.result()]);

  const executions: WorkflowExecutionInfo[] = [];
  for await (const info of env.client.workflow.list({ query: `TaskQueue = '${env.taskQueue}'` })) executions.push(info);
  // The chain's 4 executions, the small run, the nightly run and at least one child.
  expect(executions.length).toBeGreaterThanOrEqual(7);
  expect(executions.filter((info) => info.workflowId === chained.handle.workflowId)).toHaveLength(4);
  expect(executions.some((info) => info.type === 'regenerateReports' && info.parentExecution?.workflowId === daily.workflowId)).toBe(true);

  const histories = await Promise.all(executions.map(async (info) => ({
    workflowId: info.workflowId, // the run's own: child ids are derived from it
    history: await env.client.workflow.getHandle(info.workflowId, info.runId).fetchHistory(),
  })));
  const bundles = await ensureWorkflowBundles();
  for (const [kind, codePath] of Object.entries(bundles)) {
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath }, sinks: workflowSpanSinks() }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error}`);
      replayed++;
    }
    expect(failures, `${kind} bundle`).toEqual([]);
    expect(replayed).toBe(histories.length);
  }
}, 120_000);
