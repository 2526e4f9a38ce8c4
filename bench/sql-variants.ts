import type { CustomerBatch } from '../src/contracts.js';
import { inTransaction, type Pool } from '../src/db/pool.js';
import { CustomerSelection } from '../src/services/customer-selection.js';
import { ReportRegeneration } from '../src/services/report-regeneration.js';
import { INSERT_REPORT_ROWS, PURGE_REPORT_ROWS } from '../src/services/report-sql.js';
import type { BenchPeriod } from './bench-data.js';
import { startProgress } from './progress.js';

/**
 * The variants without orchestration: the lower bounds (one statement; the service's batches
 * on every core) and what a cron script does (one customer at a time).
 */

/** The lower bound for one connection: one DELETE and one INSERT … SELECT … GROUP BY for everyone. */
export async function sqlOneStatement(pool: Pool, period: BenchPeriod): Promise<void> {
  await inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: number }>('SELECT id FROM customers WHERE active ORDER BY id');
    const ids = rows.map((row) => row.id);
    await client.query(PURGE_REPORT_ROWS, [ids, period.from, period.to]);
    await client.query(INSERT_REPORT_ROWS, [ids, period.from, period.to, 'bench:sql_one_statement']);
  });
}

/** Every active customer as id-range batches, planned page by page the way the workflow does. */
export async function planAllBatches(pool: Pool, batchSize: number, batchesPerPage: number): Promise<CustomerBatch[]> {
  const selection = new CustomerSelection(pool);
  const batches: CustomerBatch[] = [];
  let afterId: number | null = 0;
  while (afterId !== null) {
    const plan = await selection.planActiveBatches(afterId, batchSize, batchesPerPage);
    batches.push(...plan.batches);
    afterId = plan.nextAfterId;
  }
  return batches;
}

/** The service's own batch transactions on `lanes` connections at once, nothing around them. */
export async function sqlBatchedParallel(
  pool: Pool,
  period: BenchPeriod,
  options: { batchSize: number; batchesPerPage: number; lanes: number },
): Promise<void> {
  const batches = await planAllBatches(pool, options.batchSize, options.batchesPerPage);
  const regeneration = new ReportRegeneration(pool);
  const progress = startProgress('sql_batched_parallel', batches.length);
  let next = 0;
  let done = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.lanes, batches.length) }, async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          const result = await regeneration.regenerateBatch({ batch, ...period, workflowId: 'bench:sql_batched_parallel', dryRun: false });
          if (result.failures.length > 0) throw new Error(`sql_batched_parallel: ${result.failures.length} customers failed`);
          progress.update(++done);
        }
      }),
    );
  } finally {
    progress.stop();
  }
}

/** What a cron script does: each customer in its own transaction, one after another. */
export async function naiveLoop(pool: Pool, period: BenchPeriod): Promise<void> {
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM customers WHERE active ORDER BY id');
  const regeneration = new ReportRegeneration(pool);
  const progress = startProgress('naive_loop', rows.length);
  try {
    for (const [index, { id }] of rows.entries()) {
      const result = await regeneration.regenerateBatch({ batch: { customerIds: [id] }, ...period, workflowId: 'bench:naive_loop', dryRun: false });
      if (result.failures.length > 0) throw new Error(`naive_loop: customer ${id} failed: ${result.failures[0]!.reason}`);
      progress.update(index + 1);
    }
  } finally {
    progress.stop();
  }
}
