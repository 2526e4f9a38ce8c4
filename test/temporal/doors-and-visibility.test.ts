import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { RunAlreadyRunningError, type StartedFrom } from '../../src/temporal/runs.js';
import type { RegenerateReportsInput, RegenerateReportsSummary } from '../../src/contracts.js';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { listWorkflowIds, temporalCli } from '../support/temporal-cli.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
});
afterAll(() => env.close());

const start = (input: RegenerateReportsInput, startedFrom: StartedFrom = 'cli') =>
  startRegenerateReports(env.client, { sendEmail: false, ...input }, { taskQueue: env.taskQueue, startedFrom, startedBy: 'ops@example.test' });

describe('every door reaches the same workflow', () => {
  it('`temporal workflow start --input` runs the job with the given parameters (real CLI binary)', async () => {
    const workflowId = `cli-binary-start-${Date.now()}`;
    const { code, stderr } = await temporalCli([
      'workflow', 'start', '--task-queue', env.taskQueue, '--type', 'regenerateReports', '--workflow-id', workflowId,
      '--input', '{"customerIds":[3],"from":"2026-11-09","to":"2026-11-10","sendEmail":false}',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = (await env.client.workflow.getHandle(workflowId).result()) as RegenerateReportsSummary;
    expect(summary).toMatchObject({ customersProcessed: 1, rowsWritten: 2, from: '2026-11-09', to: '2026-11-10' });
    expect(await reportRows(env.db.pool, [3], '2026-11-09', '2026-11-10')).toEqual(await truthRows(env.db.pool, [3], '2026-11-09', '2026-11-10'));
    // It is findable like every other run, marked as started outside our tools.
    expect(await listWorkflowIds(`DjStartedFrom = 'api' AND TaskQueue = '${env.taskQueue}'`)).toContain(workflowId);
  });

  it('refuses a second manual run for the same customers and period while one is running, naming it', async () => {
    const first = await start({ customerIds: [5, 6], from: '2026-11-01', to: '2026-11-10', batchSize: 1, parallelism: 1 });
    const error = await start({ customerIds: [6, 5], from: '2026-11-01', to: '2026-11-10' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RunAlreadyRunningError);
    expect((error as Error).message).toContain(first.handle.workflowId);
    await first.handle.result();
    // Once it has finished, the same run may start again.
    const again = await start({ customerIds: [5, 6], from: '2026-11-01', to: '2026-11-10' });
    expect((await again.handle.result()).customersProcessed).toBe(2);
  });
});

describe('inspection', () => {
  it('search attributes answer "runs for customer X", "runs started from Y" and "runs for period Z" through the CLI', async () => {
    const a = await start({ customerIds: [5], from: '2026-11-02' }, 'cli');
    const b = await start({ customerIds: [7, 8], from: '2026-11-02' }, 'admin');
    const c = await start({ from: '2026-11-03' }, 'schedule');
    await Promise.all([a.handle.result(), b.handle.result(), c.handle.result()]);
    const tq = `TaskQueue = '${env.taskQueue}'`;
    expect(await listWorkflowIds(`DjCustomerIds = '8' AND ${tq}`)).toEqual([b.handle.workflowId]);
    // Every run that touched customer 8: its own, and the all-customer ones.
    expect(await listWorkflowIds(`DjCustomerIds IN ('8', 'all') AND DjPeriod = '2026-11-03..2026-11-03' AND ${tq}`)).toEqual([c.handle.workflowId]);
    expect(await listWorkflowIds(`DjStartedFrom = 'admin' AND ${tq}`)).toEqual([b.handle.workflowId]);
    expect(await listWorkflowIds(`DjPeriod = '2026-11-02..2026-11-02' AND ${tq}`)).toEqual([a.handle.workflowId, b.handle.workflowId].sort());
  });

  // Six customers: more than a small run's (src/workflows/small-runs.ts), so its steps are activities the Web UI lists.
  it('carries who started it in the memo, a static summary, and current details that say what it is doing', async () => {
    const { handle } = await start({ customerIds: [9, 10, 11, 12, 13, 14], from: '2026-11-04', batchSize: 2 }, 'admin');
    await handle.result();
    const description = await handle.describe();
    expect(description.memo).toMatchObject({ startedBy: 'ops@example.test', startedFrom: 'admin', input: { customerIds: [9, 10, 11, 12, 13, 14], from: '2026-11-04' } });
    expect(await description.staticSummary()).toBe('regenerate reports for customers 9, 10, 11, 12, 13, 14, 2026-11-04..2026-11-04');
    const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toBe('done: batch 3/3, 6/6 customers');
    const history = await handle.fetchHistory();
    const summaries = history.events!
      .filter((e) => e.activityTaskScheduledEventAttributes && e.userMetadata?.summary)
      .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString()));
    // Two lanes: the first activity takes half of the three batches (rounded up), the second the rest.
    expect(summaries).toEqual(['regenerate batches 1–2: customer 9, 10, 11, 12', 'regenerate batch 3: customer 13, 14']);
  });
});

describe('concurrency and cancellation', () => {
  it("two concurrent runs touching the same customer never interleave that customer's purge and regenerate", async () => {
    // An independent witness: a trigger logs each row deleted or inserted with its transaction and time.
    await env.db.pool.query(`
      CREATE TABLE IF NOT EXISTS report_writes (customer_id bigint, txid bigint, at timestamptz);
      TRUNCATE report_writes;
      CREATE OR REPLACE FUNCTION log_report_write() RETURNS trigger AS $$
      BEGIN
        INSERT INTO report_writes VALUES (coalesce(NEW.customer_id, OLD.customer_id), txid_current(), clock_timestamp());
        RETURN NULL;
      END $$ LANGUAGE plpgsql;
      DROP TRIGGER IF EXISTS report_writes_log ON daily_reports;
      CREATE TRIGGER report_writes_log AFTER INSERT OR DELETE ON daily_reports FOR EACH ROW EXECUTE FUNCTION log_report_write();`);
    const period = { from: '2026-11-01', to: '2026-11-10' };
    const runs = await Promise.all([
      start({ ...period, batchSize: 5 }, 'schedule'),
      ...[1, 2, 3, 4, 5, 6].map((id) => start({ customerIds: [id], ...period })),
      start({ customerIds: [1, 2, 3, 4, 5, 6], ...period, batchSize: 1 }),
    ]);
    await Promise.all(runs.map((r) => r.handle.result()));
    await env.db.pool.query('DROP TRIGGER report_writes_log ON daily_reports');
    const { rows } = await env.db.pool.query(`
      SELECT customer_id, txid, min(at) AS first, max(at) AS last FROM report_writes
       WHERE customer_id <= 6 GROUP BY customer_id, txid ORDER BY customer_id, first`);
    let overlaps = 0;
    for (let i = 1; i < rows.length; i++) {
      const [prev, cur] = [rows[i - 1], rows[i]];
      if (prev.customer_id === cur.customer_id && cur.first < prev.last) overlaps++;
    }
    expect(rows.length).toBeGreaterThanOrEqual(6 * 3); // each customer rebuilt by at least three transactions
    expect(overlaps).toBe(0);
    expect(await reportRows(env.db.pool, [1, 2, 3, 4, 5, 6], period.from, period.to)).toEqual(await truthRows(env.db.pool, [1, 2, 3, 4, 5, 6], period.from, period.to));
  });

  it('cancelling stops between batches: no customer is left half-done and the summary says what was done', async () => {
    await env.db.pool.query('TRUNCATE daily_reports');
    const { handle } = await start({ from: '2026-11-05', to: '2026-11-06', batchSize: 1, parallelism: 1 });
    for (;;) {
      const progress = await handle.query<{ batchesDone: number }>('progress').catch(() => ({ batchesDone: 0 }));
      if (progress.batchesDone >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await handle.cancel();
    const summary = await handle.result();
    expect(summary.cancelled).toBe(true);
    expect(summary.customersProcessed).toBeGreaterThanOrEqual(3);
    expect(summary.customersProcessed).toBeLessThan(38);
    const { rows } = await env.db.pool.query('SELECT customer_id, count(*)::int AS n FROM daily_reports GROUP BY 1');
    expect(rows.every((r) => r.n === 2)).toBe(true); // both days, or none
    expect(rows).toHaveLength(summary.customersProcessed);
  });
});
