// startRegenerateReports and the other doors on the real dev server: the input given is the
// input that runs, and run ids never make unrelated runs refuse each other.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegenerateReportsInput, RegenerateReportsSummary } from '../../src/contracts.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { seedDemo } from '../support/database.js';
import { temporalCli } from '../support/temporal-cli.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
});
afterAll(() => env?.close());

/** What the run's history says it scheduled: the grouped regenerate activities, and the input it started with. */
async function historyOf(workflowId: string): Promise<{ regenerateActivities: number; startedWith: RegenerateReportsInput }> {
  const { events } = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const regenerateActivities = events!.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'regenerateReportBatches').length;
  const started = events!.find((event) => event.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
  const payload = started.input!.payloads![0]!;
  return { regenerateActivities, startedWith: JSON.parse(Buffer.from(payload.data!).toString('utf8')) };
}

// Six active customers in three batches of two, one lane: by default (10 batches per activity)
// the three batches share one activity; with batchesPerActivity 1 each has its own.
const sixCustomers = { customerIds: [1, 2, 3, 4, 5, 6], from: '2026-11-09', sendEmail: false, batchSize: 2, parallelism: 1 };

describe('batchesPerActivity reaches the workflow from every door', () => {
  it('startRegenerateReports: a run started with batchesPerActivity 1 schedules one activity per batch', async () => {
    const { handle } = await startRegenerateReports(env.client, { ...sixCustomers, batchesPerActivity: 1 }, {
      taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test',
    });
    expect(((await handle.result()) as RegenerateReportsSummary).customersProcessed).toBe(6);
    const history = await historyOf(handle.workflowId);
    expect(history.startedWith).toMatchObject({ batchesPerActivity: 1, batchSize: 2, parallelism: 1 });
    expect(history.regenerateActivities).toBe(3);
    expect((await handle.describe()).memo?.input).toMatchObject({ batchesPerActivity: 1 });
  });

  it('startRegenerateReports without it: the default groups the three batches into one activity', async () => {
    const { handle } = await startRegenerateReports(env.client, { ...sixCustomers, from: '2026-11-08' }, {
      taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test',
    });
    await handle.result();
    expect((await historyOf(handle.workflowId)).regenerateActivities).toBe(1);
  });

  it('`temporal workflow start --input` with batchesPerActivity 1 (real CLI binary) schedules one activity per batch', async () => {
    const workflowId = `batches-per-activity-${crypto.randomBytes(3).toString('hex')}`;
    const cli = await temporalCli([
      'workflow', 'start', '--task-queue', env.taskQueue, '--type', 'regenerateReports', '--workflow-id', workflowId,
      '--input', JSON.stringify({ ...sixCustomers, from: '2026-11-07', batchesPerActivity: 1 }),
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(((await env.client.workflow.getHandle(workflowId).result()) as RegenerateReportsSummary).customersProcessed).toBe(6);
    expect((await historyOf(workflowId)).regenerateActivities).toBe(3);
  });
});

describe('run ids', () => {
  it('two different six-customer runs with the same first id and count both start (they were refused as "already running")', async () => {
    // On a queue no worker polls, so both are surely still running when the second starts.
    const idleQueue = `${env.taskQueue}-idle`;
    const options = { taskQueue: idleQueue, startedFrom: 'api' as const, startedBy: 'test' };
    const first = await startRegenerateReports(env.client, { customerIds: [1, 2, 3, 4, 5, 6], from: '2026-11-09' }, options);
    try {
      const second = await startRegenerateReports(env.client, { customerIds: [1, 7, 8, 9, 10, 11], from: '2026-11-09' }, options);
      expect(second.handle.workflowId).not.toBe(first.handle.workflowId);
      expect((await second.handle.describe()).status.name).toBe('RUNNING');
      await second.handle.terminate('test done');
    } finally {
      await first.handle.terminate('test done');
    }
  });
});

describe('the most customers a run may name', () => {
  it('start, with every id in the DjCustomerIds search attribute (Temporal caps a value at 2 KB: 400 ids did not start)', async () => {
    const { LIMITS } = await import('../../src/contracts.js');
    const { CUSTOMER_IDS } = await import('../../src/temporal/search-attributes.js');
    // The longest ids there can be (16 digits), as many as allowed.
    const ids = Array.from({ length: LIMITS.maxCustomerIds }, (_, i) => Number.MAX_SAFE_INTEGER - i);
    const { handle } = await startRegenerateReports(env.client, { customerIds: ids, from: '2026-11-09' }, { taskQueue: `${env.taskQueue}-idle`, startedFrom: 'api', startedBy: 'test' });
    try {
      expect((await handle.describe()).typedSearchAttributes.get(CUSTOMER_IDS)).toHaveLength(LIMITS.maxCustomerIds);
    } finally {
      await handle.terminate('test done');
    }
  });
});
