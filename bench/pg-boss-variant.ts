import type { PgBoss } from 'pg-boss';
import type { CustomerBatch } from '../src/contracts.js';
import type { Pool } from '../src/db/pool.js';
import { ReportRegeneration } from '../src/services/report-regeneration.js';
import type { BenchPeriod } from './bench-data.js';
import { startProgress } from './progress.js';
import { planAllBatches } from './sql-variants.js';

const QUEUE = 'regenerate_report_batch';

/** pg-boss 12 refuses older Node (its package.json engines); the bench says so before it starts anything. */
export const PG_BOSS_MIN_NODE = [22, 12] as const;

export function pgBossRunsOn(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > PG_BOSS_MIN_NODE[0] || (major === PG_BOSS_MIN_NODE[0] && minor >= PG_BOSS_MIN_NODE[1]);
}

/** What the bench says about this peer's setup (printed, and in BENCHMARKS.md). */
export const PG_BOSS_CONFIGURATION =
  'pg-boss 12.38.0 in the bench process, its own pool (default max 10) and schema "pgboss" in the bench database; one queue, one job per batch, ' +
  'all inserted with one insert() call; work() with localConcurrency = lanes, fetching 2 jobs at a time (run one after the other) with ' +
  'burstWhenBatchFull; LISTEN/NOTIFY wake-up (useListenNotify + the queue\'s notify); every other setting its default (retries, expiry, maintenance)';

/**
 * Why not pure defaults: "the default options for work() is 1 job every 2 seconds" (pg-boss's
 * docs), per worker: a worker sleeps its polling interval after every fetch, even with jobs
 * waiting, unless it is in burst mode, which pg-boss ignores at batchSize 1. burstWhenBatchFull
 * with a batch of 2 is its documented way to drain a backlog; NOTIFY replaces the first poll.
 */
const WORK_OPTIONS = { batchSize: 2, burstWhenBatchFull: true } as const;

interface BatchJob {
  batch: CustomerBatch;
  from: string;
  to: string;
}

/**
 * The same service called from pg-boss jobs, shaped like the graphile-worker variant: one job
 * per id-range batch, all queued at once, `lanes` workers. A run ends when every job's
 * completion is written (pg-boss completes a job after its handler returns, before that
 * worker fetches again).
 */
export class PgBossVariant {
  private boss: PgBoss | undefined;
  private onJobDone: ((error?: Error) => void) | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly servicePool: Pool,
    private readonly lanes: number,
  ) {}

  async start(): Promise<void> {
    if (!pgBossRunsOn()) {
      throw new Error(`pg_boss needs Node >= ${PG_BOSS_MIN_NODE.join('.')} (pg-boss 12), this is ${process.version}: ` +
        'run the bench on Node 24 (PATH="$(bash scripts/node-line.sh 24):$PATH" npm run bench) or leave it out (--skip pg_boss)');
    }
    // Imported here, not at the top: the rest of the bench still loads on an older Node.
    const { PgBoss } = await import('pg-boss');
    const boss = new PgBoss({ connectionString: this.databaseUrl, useListenNotify: true });
    boss.on('error', (error) => process.stderr.write(`  pg-boss: ${error.message}\n`));
    await boss.start();
    this.boss = boss;
    // A fresh queue per bench run: nothing left over from an earlier one is fetched.
    if (await boss.getQueue(QUEUE)) await boss.deleteQueue(QUEUE);
    await boss.createQueue(QUEUE, { notify: true });
    const regeneration = new ReportRegeneration(this.servicePool);
    await boss.work<BatchJob>(QUEUE, { ...WORK_OPTIONS, localConcurrency: this.lanes }, async (jobs) => {
      for (const job of jobs) {
        const { batch, from, to } = job.data;
        try {
          const result = await regeneration.regenerateBatch({ batch, from, to, workflowId: `bench:pg_boss:${job.id}`, dryRun: false });
          if (result.failures.length > 0) throw new Error(`${result.failures.length} customers failed`);
          this.onJobDone?.();
        } catch (error) {
          this.onJobDone?.(error as Error);
          throw error;
        }
      }
    });
  }

  /** Plans the batches, queues one job each, and resolves when every job's completion is written. */
  async regenerateAll(period: BenchPeriod, batchSize: number, batchesPerPage: number): Promise<void> {
    const boss = this.boss;
    if (!boss) throw new Error('PgBossVariant.start() first');
    const batches = await planAllBatches(this.servicePool, batchSize, batchesPerPage);
    const progress = startProgress('pg_boss', batches.length);
    let handled = 0;
    const allHandled = new Promise<void>((resolve, reject) => {
      this.onJobDone = (error) => {
        if (error) return reject(new Error(`pg_boss job failed: ${error.message}`));
        progress.update(++handled);
        if (handled === batches.length) resolve();
      };
    });
    try {
      await boss.insert(QUEUE, batches.map((batch) => ({ data: { batch, ...period } satisfies BatchJob })));
      await allHandled;
      // The last handlers have returned; their workers write the completions next.
      while (boss.getWipData().some((worker) => worker.count > 0)) await new Promise((resolve) => setTimeout(resolve, 1));
    } finally {
      this.onJobDone = undefined;
      progress.stop();
    }
  }

  async stop(): Promise<void> {
    await this.boss?.stop({ graceful: true });
  }
}
