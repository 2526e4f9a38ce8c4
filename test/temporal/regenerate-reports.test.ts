import fs from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import type { RegenerateReportsInput } from '../../src/contracts.js';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { startTemporalTestEnv, workflowFailure, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
const period = { from: '2026-11-08', to: '2026-11-10' };

beforeAll(async () => {
  env = await startTemporalTestEnv();
});
beforeEach(async () => {
  await seedDemo(env.db.pool);
  fs.rmSync(env.sink.dir, { recursive: true, force: true });
  fs.mkdirSync(env.sink.dir);
});
afterAll(() => env.close());

async function run(input: RegenerateReportsInput) {
  const { handle } = await startRegenerateReports(env.client, input, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
  return { handle, summary: await handle.result() };
}

async function activeIds(): Promise<number[]> {
  const { rows } = await env.db.pool.query('SELECT id FROM customers WHERE active ORDER BY id');
  return rows.map((r) => Number(r.id));
}

async function idsWithOrders(ids: number[]): Promise<number[]> {
  const truth = await truthRows(env.db.pool, ids, period.from, period.to);
  return [...new Set(truth.filter((r) => r.order_count > 0).map((r) => r.customer_id))];
}

/** Starts raw input the way `temporal workflow start --input` does: no client-side validation. */
const failureOf = (input: unknown) => workflowFailure(env, 'regenerateReports', input);

describe('regenerateReports on the real dev server', () => {
  it('regenerates every active customer across batches and continue-as-new, emailing each customer with orders once', async () => {
    const ids = await activeIds();
    // 38 active customers, 5 per batch, 2 batches per run: 8 batches over 4 chained runs.
    const { handle, summary } = await run({ ...period, batchSize: 5, batchesPerRun: 2, parallelism: 2 });
    expect(summary).toMatchObject({ customersProcessed: ids.length, rowsWritten: ids.length * 3, failures: [], failedRanges: [] });
    expect(await reportRows(env.db.pool, ids, period.from, period.to)).toEqual(await truthRows(env.db.pool, ids, period.from, period.to));
    const withOrders = await idsWithOrders(ids);
    expect(summary.emailsSent).toBe(withOrders.length);
    expect(readMailbox(env.sink.dir).map((m) => m.customerId)).toEqual(withOrders);
    const runs = env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}' AND TaskQueue = '${env.taskQueue}'` });
    let executions = 0;
    for await (const _ of runs) executions++;
    expect(executions).toBe(4);
  });

  it('running the same single-customer regeneration twice gives identical rows and no second email', async () => {
    const [customer] = await idsWithOrders(await activeIds());
    const first = await run({ customerIds: [customer!], ...period });
    const rowsAfterFirst = await reportRows(env.db.pool, [customer!], period.from, period.to);
    const second = await run({ customerIds: [customer!], ...period });
    expect(await reportRows(env.db.pool, [customer!], period.from, period.to)).toEqual(rowsAfterFirst);
    expect(first.summary).toMatchObject({ customersProcessed: 1, emailsSent: 1 });
    expect(second.summary).toMatchObject({ customersProcessed: 1, emailsSent: 0, emailsAlreadySent: 1 });
    expect(readMailbox(env.sink.dir)).toHaveLength(1);
    const { rows } = await env.db.pool.query('SELECT DISTINCT workflow_id FROM daily_reports');
    expect(rows).toEqual([{ workflow_id: second.handle.workflowId }]);
  });

  it('retries a failing email activity until it succeeds, without sending twice', async () => {
    const ids = (await idsWithOrders(await activeIds())).slice(0, 1);
    env.sink.deferNext(2); // the SMTP server answers 451 twice: two failed attempts
    const { handle, summary } = await run({ customerIds: ids, ...period });
    expect(summary).toMatchObject({ emailsSent: 1, failures: [] });
    expect(readMailbox(env.sink.dir).map((m) => m.customerId)).toEqual(ids);
    // A one-customer run is small: its email step is a local activity, whose marker records the attempt that succeeded.
    const history = await handle.fetchHistory();
    const attempts = history.events!
      .map((e) => e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data)
      .filter((data): data is Uint8Array => data instanceof Uint8Array)
      .map((data) => JSON.parse(Buffer.from(data).toString()) as { activity_type: string; attempt: number })
      .filter((marker) => marker.activity_type === 'sendReportEmails')
      .map((marker) => marker.attempt);
    expect(attempts).toEqual([3]);
  });

  it("reports a customer whose data cannot be regenerated and finishes everyone else's", async () => {
    await env.db.pool.query(`UPDATE customers SET time_zone = 'Nowhere/Atlantis' WHERE id = 2`);
    const { summary } = await run({ customerIds: [1, 2, 3], ...period, sendEmail: false });
    expect(summary.customersProcessed).toBe(2);
    expect(summary.failures).toEqual([{ customerId: 2, step: 'regenerate', reason: expect.stringContaining('Nowhere/Atlantis') }]);
    expect(await reportRows(env.db.pool, [1, 3], period.from, period.to)).toEqual(await truthRows(env.db.pool, [1, 3], period.from, period.to));
  });

  it('an all-customer run whose email step gave up records id ranges, so rerun-failed can re-run every customer (a list of ids stopped at 100)', async () => {
    await seedDemo(env.db.pool, { customers: 240 });
    env.sink.outage(15_000); // every connection refused (421) while the run's single email attempts fail
    const { summary } = await run({ ...period, batchSize: 50, parallelism: 1, emailMaxAttempts: 1 });
    env.sink.outage(0);
    expect(summary.failures).toEqual([]);
    expect(summary.failuresNotListed).toBe(0);
    const email = summary.failedRanges.filter((range) => range.step === 'email');
    expect(email).toHaveLength(5); // 226 active customers, 50 a batch
    const { CustomerSelection } = await import('../../src/services/customer-selection.js');
    const selection = new CustomerSelection(env.db.pool);
    const covered = (await Promise.all(email.map((range) => selection.activeIdsInRange(range.firstId, range.lastId, range.timeZones)))).flat();
    expect(covered).toEqual(await activeIds());
    expect(summary.emailsSent).toBe(0);
  }, 60_000);

  it.each([
    [{ from: '2026-11-10', to: '2026-11-01' }, 'from (2026-11-10) must not be after to (2026-11-01)'],
    [{ from: '2026-02-30' }, 'from is not a calendar date'],
    [{ customerIds: [1, 'x'] }, 'customerIds.1'],
    [{ sendEmails: false }, 'unknown field(s): sendEmails'],
    [{ customerIds: [1, 999999] }, '999999 (unknown)'],
    [{ customerIds: [17] }, '17 (inactive)'],
  ])('fails %j at once with a non-retryable error naming the rule, writing nothing', async (input, message) => {
    const failure = await failureOf(input);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(message);
    const { rows } = await env.db.pool.query('SELECT count(*)::int AS n FROM daily_reports');
    expect(rows[0].n).toBe(0);
  });
});
