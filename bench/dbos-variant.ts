import { DBOS } from '@dbos-inc/dbos-sdk';
import pLimit from 'p-limit';
import type { CustomerBatch } from '../src/contracts.js';
import type { Pool } from '../src/db/pool.js';
import { CustomerSelection } from '../src/services/customer-selection.js';
import { ReportRegeneration, type RegenerateBatchResult } from '../src/services/report-regeneration.js';
import type { BenchPeriod } from './bench-data.js';
import { startProgress, type Progress } from './progress.js';
import { planAllBatches } from './sql-variants.js';
import { timed } from './stats.js';

/** What the bench says about this peer's setup (printed, and in BENCHMARKS.md). */
export const DBOS_CONFIGURATION =
  '@dbos-inc/dbos-sdk 5.3.0 in the bench process, configured in code (DBOS.setConfig: name, systemDatabaseUrl, logLevel warn; every other setting its default: ' +
  'system pool of 10, steps not retried), its system database "<database>_dbos_sys" on the same PostgreSQL server';

interface AllCustomersInput extends BenchPeriod {
  batchSize: number;
  batchesPerPage: number;
  lanes: number;
}

interface OneCustomerInput extends BenchPeriod {
  customerId: number;
}

interface RunSummary {
  customers: number;
  rows: number;
  failures: number;
}

/**
 * DBOS Transact as its documentation shows it: workflows and steps are plain functions
 * registered with DBOS, checkpointed in a PostgreSQL system database, run inside the calling
 * process. The work inside the steps is ours (the same services and SQL as every variant).
 *
 * - All customers: one workflow per run. A step plans the id-range batches (as the workflow's
 *   planning activity does), then one step per batch calls `regenerateBatch`. The steps are all
 *   started at once, in batch order, since DBOS numbers a step when it is called and a
 *   recovered workflow must call them in the same order; `lanes` of them (one per core, as
 *   for graphile-worker) run their SQL at a time.
 * - One customer: a workflow with the same steps as our one-customer run (look the customer up,
 *   then regenerate its days in one transaction), called directly and awaited.
 */
export class DbosVariant {
  private allCustomers: ((input: AllCustomersInput) => Promise<RunSummary>) | undefined;
  private oneCustomer: ((input: OneCustomerInput) => Promise<RunSummary>) | undefined;
  /** Customers done in the all-customer run being measured, for its progress line. */
  private progress: { bar: Progress; customers: number } | undefined;

  constructor(
    private readonly servicePool: Pool,
    private readonly systemDatabaseUrl: string,
  ) {}

  async start(): Promise<void> {
    const pool = this.servicePool;
    const selection = new CustomerSelection(pool);
    const regeneration = new ReportRegeneration(pool);
    const regenerate = async (batch: CustomerBatch, period: BenchPeriod) => {
      const result = await regeneration.regenerateBatch({ batch, ...period, workflowId: `bench:dbos:${DBOS.workflowID}`, dryRun: false });
      if (this.progress) this.progress.bar.update((this.progress.customers += result.customerIds.length));
      return result;
    };

    // Registered before launch, as DBOS requires; DBOS keeps one registry per process.
    this.allCustomers = DBOS.registerWorkflow(async function regenerateAllCustomers(input: AllCustomersInput): Promise<RunSummary> {
      const { batchSize, batchesPerPage, lanes, ...period } = input;
      const batches = await DBOS.runStep(() => planAllBatches(pool, batchSize, batchesPerPage), { name: 'planBatches' });
      const lane = pLimit(lanes);
      const results = await Promise.all(
        batches.map((batch) => DBOS.runStep(() => lane(() => regenerate(batch, period)), { name: 'regenerateBatch' })),
      );
      return summarize(results);
    });
    this.oneCustomer = DBOS.registerWorkflow(async function regenerateOneCustomer(input: OneCustomerInput): Promise<RunSummary> {
      const { customerId, ...period } = input;
      const unavailable = await DBOS.runStep(() => selection.findUnavailable([customerId]), { name: 'findUnavailableCustomers' });
      if (unavailable.length > 0) throw new Error(`customer ${customerId} cannot be run: ${unavailable[0]!.reason}`);
      const result = await DBOS.runStep(() => regenerate({ customerIds: [customerId] }, period), { name: 'regenerateBatch' });
      return summarize([result]);
    });
    DBOS.setConfig({ name: 'durable_jobs_bench', systemDatabaseUrl: this.systemDatabaseUrl, logLevel: 'warn' });
    await DBOS.launch();
  }

  /** One workflow over every active customer; resolves with its summary once the workflow has finished. */
  async regenerateAll(period: BenchPeriod, options: { batchSize: number; batchesPerPage: number; lanes: number; customers: number }): Promise<RunSummary> {
    // Called unbound: DBOS takes a `this` for an instance of one of its ConfiguredInstance classes.
    const run = this.allCustomers;
    if (!run) throw new Error('DbosVariant.start() first');
    const { customers, ...rest } = options;
    this.progress = { bar: startProgress('dbos', customers), customers: 0 };
    try {
      return await run({ ...period, ...rest });
    } finally {
      this.progress.bar.stop();
      this.progress = undefined;
    }
  }

  /** One workflow per customer, one after another; each latency is from the call to its result. */
  async singleCustomerRuns(customerIds: number[], period: BenchPeriod): Promise<number[]> {
    const run = this.oneCustomer;
    if (!run) throw new Error('DbosVariant.start() first');
    const latencies: number[] = [];
    const bar = startProgress('dbos single_customer', customerIds.length);
    try {
      for (const customerId of customerIds) {
        const { ms, result } = await timed(() => run({ customerId, ...period }));
        if (result.customers !== 1 || result.failures > 0 || result.rows === 0) {
          throw new Error(`dbos single_customer: run for customer ${customerId} did not regenerate it: ${JSON.stringify(result)}`);
        }
        latencies.push(ms);
        bar.update(latencies.length);
      }
    } finally {
      bar.stop();
    }
    return latencies;
  }

  async stop(): Promise<void> {
    if (DBOS.isInitialized()) await DBOS.shutdown();
  }
}

function summarize(results: RegenerateBatchResult[]): RunSummary {
  return results.reduce(
    (sum, r) => ({ customers: sum.customers + r.customerIds.length, rows: sum.rows + r.rowsWritten, failures: sum.failures + r.failures.length }),
    { customers: 0, rows: 0, failures: 0 },
  );
}
