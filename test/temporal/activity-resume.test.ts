import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReportRegeneration, type RegenerateBatchRequest } from '../../src/services/report-regeneration.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

/** The real service, except that the calls numbered in `failOn` (1-based) fail the way a dropped connection does. */
class LosesConnection extends ReportRegeneration {
  calls: string[] = [];
  failOn = new Set([2]);
  override async regenerateBatch(request: RegenerateBatchRequest) {
    this.calls.push('customerIds' in request.batch ? request.batch.customerIds.join(',') : `${request.batch.firstId}-${request.batch.lastId}`);
    if (this.failOn.has(this.calls.length)) throw Object.assign(new Error('Connection terminated unexpectedly'), { code: undefined });
    return super.regenerateBatch(request);
  }
}

let env: TemporalTestEnv;
let regeneration: LosesConnection;

beforeAll(async () => {
  env = await startTemporalTestEnv({ services: (pool) => ({ reportRegeneration: (regeneration = new LosesConnection(pool)) }) });
  await seedDemo(env.db.pool);
});
afterAll(() => env.close());

const ids = [1, 2, 3, 4, 5, 6];
const period = { from: '2026-11-08', to: '2026-11-09' };

/** One activity of three batches of two customers. */
async function startThreeBatches() {
  const { handle } = await startRegenerateReports(
    env.client,
    { customerIds: ids, ...period, sendEmail: false, batchSize: 2, parallelism: 1, batchesPerActivity: 3 },
    { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' },
  );
  return handle;
}

it('a retried activity resumes after the batches its failed attempt finished', async () => {
  regeneration.calls = [];
  regeneration.failOn = new Set([2]);
  const handle = await startThreeBatches();
  const summary = await handle.result();
  expect(summary).toMatchObject({ customersProcessed: 6, rowsWritten: 12, failures: [] });
  // One activity of three batches: the first attempt did 1,2 and failed on 3,4; the retry
  // started at 3,4, not again at 1,2.
  expect(regeneration.calls).toEqual(['1,2', '3,4', '3,4', '5,6']);
  expect(await reportRows(env.db.pool, ids, period.from, period.to)).toEqual(await truthRows(env.db.pool, ids, period.from, period.to));
});

it('an attempt that fails before finishing a batch keeps the progress of the attempt before it', async () => {
  regeneration.calls = [];
  // Attempt 1 does 1,2 and fails on 3,4; attempt 2 fails at once on 3,4, before reporting any
  // progress of its own. Attempt 3 must still start at 3,4: attempt 2's heartbeats carried on
  // attempt 1's progress instead of replacing it with nothing.
  regeneration.failOn = new Set([2, 3]);
  const handle = await startThreeBatches();
  expect(await handle.result()).toMatchObject({ customersProcessed: 6, rowsWritten: 12, failures: [] });
  expect(regeneration.calls).toEqual(['1,2', '3,4', '3,4', '3,4', '5,6']);
  expect(await reportRows(env.db.pool, ids, period.from, period.to)).toEqual(await truthRows(env.db.pool, ids, period.from, period.to));
});
