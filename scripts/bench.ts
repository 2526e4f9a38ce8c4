// `npm run bench`: regenerating every customer's reports, our way and the alternatives,
// on one deterministic data set; writes bench-results.json (see BENCHMARKS.md).
import path from 'node:path';
import { runBench } from '../bench/run-bench.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { positiveInt, strictProgram, usageError } from '../src/cli/flags.js';

const program = strictProgram('bench', 'Benchmark report regeneration and emails: durable-jobs against the SQL lower bound and the alternatives.')
  .option('--customers <n>', 'customers in the data set (every 17th inactive)', positiveInt('--customers'), 10_000)
  .option('--orders <n>', 'orders in the data set, exactly (skewed over customers)', positiveInt('--orders'), 1_000_000)
  .option('--days <n>', 'days of orders, and of the regenerated period', positiveInt('--days'), 30)
  .option('--repeat <n>', 'rounds of every variant; the table shows medians', positiveInt('--repeat'), 1)
  .option('--single-runs <n>', 'single-customer runs per round', positiveInt('--single-runs'), 100)
  .option('--data-dir <dir>', 'where the embedded PostgreSQL, the dev server and the sinks keep their files', '.data-bench')
  .option('--pg-port <port>', 'embedded PostgreSQL port (unless DATABASE_URL is set)', positiveInt('--pg-port'), 54359)
  .option('--temporal-port <port>', 'Temporal dev server port, UI on +1000 (unless TEMPORAL_ADDRESS is set)', positiveInt('--temporal-port'), 7263)
  .option('--database <name>', "the benchmark's own database on that server", 'durable_jobs_bench')
  .option('--out <file>', 'results file', 'bench-results.json')
  .option('--email-customers <n>', 'email only the first n active customers (default: all; the email workflow run needs all)', positiveInt('--email-customers'))
  .option('--no-email-workflow', 'skip the extra run of the workflow with emails on')
  .option('--profile', 'print per-activity timings from the workflow history and EXPLAIN ANALYZE of one batch')
  .option('--worker-cpu-prof <dir>', 'write a V8 CPU profile of the worker process into <dir>')
  .parse();

const flags = program.opts<{
  customers: number; orders: number; days: number; repeat: number; singleRuns: number; dataDir: string; pgPort: number;
  temporalPort: number; database: string; out: string; emailWorkflow: boolean; profile?: boolean; workerCpuProf?: string; emailCustomers?: number;
}>();
if (!/^[a-z_][a-z0-9_]*$/.test(flags.database)) usageError(`--database must be a plain lower-case identifier, got '${flags.database}'`);
if (flags.days > 366) usageError(`--days must be at most 366 (a run's longest period), got ${flags.days}`);

runMain(async () => {
  const { config, logger } = bootstrap('bench', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  await runBench(
    {
      customers: flags.customers,
      orders: flags.orders,
      days: flags.days,
      repeat: flags.repeat,
      singleRuns: flags.singleRuns,
      dataDir: path.resolve(flags.dataDir),
      postgresPort: flags.pgPort,
      temporalPort: flags.temporalPort,
      database: flags.database,
      out: flags.out,
      emailWorkflow: flags.emailWorkflow,
      profile: Boolean(flags.profile),
      workerCpuProfileDir: flags.workerCpuProf,
      emailCustomers: flags.emailCustomers,
    },
    config,
    logger,
  );
});
