import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { clientOverWorkerConnection } from '../../src/temporal/worker-client.js';
import { ensureWorkflowBundle } from '../../src/workflow-bundle.js';
import { CHECK_IN_STEP, SMALL_RUN_MAX_CUSTOMERS, SMALL_RUN_PATCH } from '../../src/workflows/small-runs.js';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { eventsOfType, splitTaskAfter, type JsonHistory } from '../support/history-surgery.js';
import { readMailbox } from '../support/mailbox.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

// Small runs (src/workflows/small-runs.ts) run every step as a local activity, inside the
// workflow task; bigger ones keep their activities. Both read from the run's own history.

const period = { from: '2026-11-08', to: '2026-11-09' };
let env: TemporalTestEnv;
beforeAll(async () => {
  env = await startTemporalTestEnv();
});
beforeEach(async () => {
  await seedDemo(env.db.pool);
});
afterAll(() => env.close());

async function customersWithOrders(count: number): Promise<number[]> {
  const { rows } = await env.db.pool.query<{ id: number }>('SELECT id FROM customers WHERE active ORDER BY id');
  const truth = await truthRows(env.db.pool, rows.map((r) => Number(r.id)), period.from, period.to);
  return [...new Set(truth.filter((r) => r.order_count > 0).map((r) => r.customer_id))].slice(0, count);
}

type Marker = { markerRecordedEventAttributes: { markerName: string; details: Record<string, { payloads: Array<{ data: string }> }> } };
type Scheduled = { activityTaskScheduledEventAttributes: { activityType: { name: string } } };

/** What a history holds: workflow tasks, activities scheduled, local activities run (by type) and patches. */
async function shapeOf(handle: WorkflowHandle) {
  const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as JsonHistory;
  const markers = eventsOfType(history, 'MarkerRecorded') as unknown as Marker[];
  const detail = (marker: Marker, key: string): unknown => JSON.parse(Buffer.from(marker.markerRecordedEventAttributes.details[key]!.payloads[0]!.data, 'base64').toString());
  const named = (name: string) => markers.filter((m) => m.markerRecordedEventAttributes.markerName === name);
  return {
    history,
    workflowTasks: eventsOfType(history, 'WorkflowTaskCompleted').length,
    activities: (eventsOfType(history, 'ActivityTaskScheduled') as unknown as Scheduled[]).map((event) => event.activityTaskScheduledEventAttributes.activityType.name),
    localActivities: named('core_local_activity').map((m) => (detail(m, 'data') as { activity_type: string }).activity_type),
    patches: named('core_patch').map((m) => (detail(m, 'patch-data') as { id: string }).id),
  };
}

it('a one-customer run completes in one or two workflow tasks, every step a local activity; its report is right and emailed once', async () => {
  const [customerId] = await customersWithOrders(1);
  const { handle } = await startRegenerateReports(env.client, { customerIds: [customerId!], ...period }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
  const summary = await handle.result();
  expect(summary).toMatchObject({ customersProcessed: 1, emailsSent: 1, failures: [] });
  expect(await reportRows(env.db.pool, [customerId!], period.from, period.to)).toEqual(await truthRows(env.db.pool, [customerId!], period.from, period.to));
  expect(readMailbox(env.sink.dir).filter((m) => m.customerId === customerId)).toHaveLength(1);

  const shape = await shapeOf(handle);
  expect(shape.workflowTasks).toBeLessThanOrEqual(2);
  expect(shape.activities).toEqual([]);
  // Its one regenerate step checks the customer itself: no separate check (CHECK_IN_STEP).
  expect(shape.localActivities).toEqual(['regenerateReportBatches', 'sendReportEmails']);
  expect(shape.patches).toEqual(expect.arrayContaining([SMALL_RUN_PATCH, CHECK_IN_STEP]));

  // It replays as recorded, and as a worker whose task was split after the first local
  // activity would have recorded it (a slow step makes the SDK complete the task and go on in
  // the next): the decision was made before any local activity resolved.
  const workflowBundle = { codePath: await ensureWorkflowBundle('traced') };
  await expect(Worker.runReplayHistory({ workflowBundle }, shape.history, 'small run')).resolves.toBeUndefined();
  const firstLocal = eventsOfType(shape.history, 'MarkerRecorded').find((event) => JSON.stringify(event).includes('core_local_activity'))!;
  const split = splitTaskAfter(shape.history, Number(firstLocal.eventId));
  await expect(Worker.runReplayHistory({ workflowBundle }, split, 'small run, first task split')).resolves.toBeUndefined();
});

it('a small run naming a customer it may not run fails as before, from its one step, before anything is written', async () => {
  const [good] = await customersWithOrders(1);
  const before = await reportRows(env.db.pool, [good!], period.from, period.to);
  const mailBefore = readMailbox(env.sink.dir).length;
  const { handle } = await startRegenerateReports(env.client, { customerIds: [good!, 999_999], ...period }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
  const failure = await handle.result().then(() => null, (error: unknown) => error as { cause?: { type?: string; message?: string; nonRetryable?: boolean; details?: unknown[] } });
  expect(failure?.cause).toMatchObject({
    type: 'InvalidInput', nonRetryable: true,
    message: 'invalid input: customerIds names customers that cannot be run: 999999 (unknown)',
    details: [[{ customerId: 999_999, reason: 'unknown' }]],
  });
  expect(await reportRows(env.db.pool, [good!], period.from, period.to)).toEqual(before);
  expect(readMailbox(env.sink.dir)).toHaveLength(mailBefore);
  const shape = await shapeOf(handle);
  expect(shape.localActivities).toEqual(['regenerateReportBatches']);
  expect(shape.patches).toContain(CHECK_IN_STEP);
});

it('a small run over several batches checks its customers first, in a local activity of its own, even when one step takes them all', async () => {
  const customerIds = await customersWithOrders(3);
  // batchSize 1, parallelism 1: three batches in one group, each committed on its own.
  const { handle } = await startRegenerateReports(env.client, { customerIds, ...period, batchSize: 1, parallelism: 1, sendEmail: false }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
  expect(await handle.result()).toMatchObject({ customersProcessed: 3, failures: [] });
  const shape = await shapeOf(handle);
  expect(shape.localActivities).toEqual(['findUnavailableCustomers', 'regenerateReportBatches']);
  expect(shape.patches).toContain(SMALL_RUN_PATCH);
  expect(shape.patches).not.toContain(CHECK_IN_STEP);
});

it(`a run over more than ${SMALL_RUN_MAX_CUSTOMERS} customers keeps its activities and records no small-run patch`, async () => {
  const customerIds = await customersWithOrders(SMALL_RUN_MAX_CUSTOMERS + 1);
  expect(customerIds).toHaveLength(SMALL_RUN_MAX_CUSTOMERS + 1);
  const { handle } = await startRegenerateReports(env.client, { customerIds, ...period }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
  expect(await handle.result()).toMatchObject({ customersProcessed: customerIds.length, emailsSent: customerIds.length, failures: [] });
  const shape = await shapeOf(handle);
  expect(shape.activities).toEqual(['regenerateReportBatches', 'sendReportEmails']);
  expect(shape.localActivities).toEqual(['findUnavailableCustomers']);
  expect(shape.patches).not.toContain(SMALL_RUN_PATCH);
});

it("a run started over the worker's own connection starts eagerly; other clients, or another task queue, start it as before", async () => {
  const [first, second] = await customersWithOrders(2);
  const options = { taskQueue: env.taskQueue, startedFrom: 'api' as const, startedBy: 'test' };
  const sameProcess = clientOverWorkerConnection(env.workerConnection, env.client.options.namespace);
  const eager = (await startRegenerateReports(sameProcess, { customerIds: [first!], ...period, sendEmail: false }, options)).handle;
  expect((eager as { eagerlyStarted?: boolean }).eagerlyStarted).toBe(true);
  expect(await eager.result()).toMatchObject({ customersProcessed: 1 });

  const other = (await startRegenerateReports(env.client, { customerIds: [second!], ...period, sendEmail: false }, options)).handle;
  expect((other as { eagerlyStarted?: boolean }).eagerlyStarted).toBe(false);
  expect(await other.result()).toMatchObject({ customersProcessed: 1 });

  // No worker of this process polls that queue: the SDK does not ask, the server queues the run.
  const elsewhere = (await startRegenerateReports(sameProcess, { customerIds: [second!], ...period, sendEmail: false }, { ...options, taskQueue: `${env.taskQueue}-nobody` })).handle;
  expect((elsewhere as { eagerlyStarted?: boolean }).eagerlyStarted).toBe(false);
  await elsewhere.terminate('no worker polls this task queue');
});
