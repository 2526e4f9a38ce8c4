import crypto from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DailyReportsSummary } from '../../src/daily-reports-contract.js';
import { addDays, localDate, localTime } from '../../src/dates.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

// Each regeneration activity waits for the test to open the gate, so a day's run can be cancelled mid-way.
let openGate: () => void = () => undefined;
let gate = new Promise<void>((resolve) => { openGate = resolve; });
let env: TemporalTestEnv;
beforeAll(async () => {
  env = await startTemporalTestEnv({
    services: (pool) => {
      const real = new ReportRegeneration(pool);
      const gated = Object.create(real) as ReportRegeneration;
      gated.regenerateBatches = async (...args) => {
        await gate;
        return real.regenerateBatches(...args);
      };
      return { reportRegeneration: gated };
    },
  });
  await seedDemo(env.db.pool, { endDate: new Date().toISOString().slice(0, 10), days: 3 });
});
afterAll(() => env.close());

it('a day whose run was cancelled part-way is a failed day, not a completed one', async () => {
  const utc = (await env.db.pool.query(`SELECT count(*)::int AS n FROM customers WHERE active AND time_zone = 'UTC'`)).rows[0].n as number;
  expect(utc).toBeGreaterThan(1);
  const justBefore = new Date(Date.now() - 3 * 60_000);
  const yesterday = addDays(localDate(justBefore, 'UTC'), -1);
  const parent = await env.client.workflow.start('dailyReports', {
    taskQueue: env.taskQueue,
    workflowId: `daily-cancel-${crypto.randomBytes(4).toString('hex')}`,
    // One customer per activity, one activity at a time: a cancel leaves the rest undone.
    args: [{ at: localTime(justBefore, 'UTC'), reportOptions: { batchSize: 1, batchesPerActivity: 1, parallelism: 1, sendEmail: false } }],
  });
  const child = env.client.workflow.getHandle(`${parent.workflowId}:${yesterday}`);
  for (let i = 0; i < 100; i++) {
    if (await child.describe().then(() => true, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await child.cancel();
  openGate();
  const childSummary = await child.result();
  expect(childSummary).toMatchObject({ cancelled: true });
  expect(childSummary.customersProcessed).toBeLessThan(utc);

  const error = await parent.result().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const failure = (error as WorkflowFailedError).cause as ApplicationFailure;
  expect(failure.type).toBe('ReportDaysFailed');
  expect(failure.message).toContain('cancelled');
  const summary = failure.details?.[0] as DailyReportsSummary;
  expect(summary.days.find((day) => day.timeZones.includes('UTC'))).toMatchObject({ day: yesterday, outcome: 'failed' });
}, 60_000);
