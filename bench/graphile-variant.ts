import { EventEmitter } from 'node:events';
import { Logger, run, runMigrations, type Runner, type WorkerEvents } from 'graphile-worker';
import type { CustomerBatch } from '../src/contracts.js';
import type { Pool } from '../src/db/pool.js';
import { ReportRegeneration } from '../src/services/report-regeneration.js';
import type { BenchPeriod } from './bench-data.js';
import { startProgress } from './progress.js';
import { planAllBatches } from './sql-variants.js';

const TASK = 'regenerate_report_batch';

interface BatchJobPayload {
  batch: CustomerBatch;
  from: string;
  to: string;
}

/**
 * The same service called from graphile-worker jobs, tuned fairly: one job per batch (the
 * id ranges our workflow uses), all queued in one statement with graphile_worker.add_jobs,
 * `concurrency` jobs at once (one per core), LISTEN/NOTIFY pick-up. Graphile's own tables live
 * in its `graphile_worker` schema of the same database.
 */
export class GraphileVariant {
  private runner: Runner | undefined;
  private readonly events: WorkerEvents = new EventEmitter() as WorkerEvents;

  constructor(
    private readonly queuePool: Pool,
    private readonly servicePool: Pool,
    private readonly concurrency: number,
  ) {}

  async start(): Promise<void> {
    const quiet = new Logger(() => (level, message) => {
      if (level === 'error') process.stderr.write(`  graphile-worker: ${message}\n`);
    });
    await runMigrations({ pgPool: this.queuePool, logger: quiet });
    await this.queuePool.query('DELETE FROM graphile_worker._private_jobs');
    const regeneration = new ReportRegeneration(this.servicePool);
    this.runner = await run({
      pgPool: this.queuePool,
      logger: quiet,
      concurrency: this.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      events: this.events,
      taskList: {
        [TASK]: async (payload, helpers) => {
          const { batch, from, to } = payload as BatchJobPayload;
          const result = await regeneration.regenerateBatch({ batch, from, to, workflowId: `bench:graphile:${helpers.job.id}`, dryRun: false });
          if (result.failures.length > 0) throw new Error(`${result.failures.length} customers failed`);
        },
      },
    });
  }

  /** Plans the batches, queues one job each, and resolves when every job has completed. */
  async regenerateAll(period: BenchPeriod, batchSize: number, batchesPerPage: number): Promise<void> {
    const batches = await planAllBatches(this.servicePool, batchSize, batchesPerPage);
    const progress = startProgress('graphile_worker', batches.length);
    let done = 0;
    const finished = new Promise<void>((resolve, reject) => {
      const onComplete = ({ error }: { error: unknown }) => {
        if (error) {
          this.events.off('job:complete', onComplete);
          reject(new Error(`graphile_worker job failed: ${(error as Error).message ?? String(error)}`));
          return;
        }
        progress.update(++done);
        if (done === batches.length) {
          this.events.off('job:complete', onComplete);
          resolve();
        }
      };
      this.events.on('job:complete', onComplete);
    });
    const payloads: BatchJobPayload[] = batches.map((batch) => ({ batch, ...period }));
    await this.queuePool.query(
      `SELECT count(*) FROM graphile_worker.add_jobs(
         ARRAY(SELECT ROW($1::text, payload, NULL, NULL, 1, NULL, NULL, NULL)::graphile_worker.job_spec
                 FROM json_array_elements($2::json) AS payload))`,
      [TASK, JSON.stringify(payloads)],
    );
    try {
      await finished;
    } finally {
      progress.stop();
    }
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }
}
