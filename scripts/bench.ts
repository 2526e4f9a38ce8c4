// `npm run bench`: regenerating every customer's reports, our way and the alternatives,
// on one deterministic data set; writes bench-results.json (see BENCHMARKS.md).
// `npm run bench -- --only import`: importing the shop's orders; writes bench-import-results.json.
// `npm run bench -- --only tracing`: what OpenTelemetry costs durable_jobs, off and on; writes bench-tracing-results.json.
import path from 'node:path';
import { runImportBench } from '../bench/import-bench.js';
import { PG_BOSS_MIN_NODE, pgBossRunsOn } from '../bench/pg-boss-variant.js';
import { SKIPPABLE_VARIANTS, type SkippableVariant } from '../bench/results.js';
import { runBench } from '../bench/run-bench.js';
import { runTracingBench } from '../bench/tracing-bench.js';
import { IMPORT_DEFAULTS, IMPORT_LIMITS } from '../src/import-orders-contract.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { InvalidArgumentError } from 'commander';
import { positiveInt, strictProgram, usageError } from '../src/cli/flags.js';

const BENCHES = ['report', 'import', 'tracing'] as const;
type BenchName = (typeof BENCHES)[number];

function benchNames(value: string): BenchName[] {
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !BENCHES.includes(name as BenchName));
  if (unknown.length > 0 || names.length === 0) throw new InvalidArgumentError(`--only takes ${BENCHES.join(', ')} (comma-separated), got '${value}'`);
  return [...new Set(names as BenchName[])];
}

function skippedVariants(value: string): SkippableVariant[] {
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !SKIPPABLE_VARIANTS.includes(name as SkippableVariant));
  if (unknown.length > 0) throw new InvalidArgumentError(`--skip takes ${SKIPPABLE_VARIANTS.join(', ')} (comma-separated), got '${value}'`);
  return [...new Set(names as SkippableVariant[])];
}

const program = strictProgram('bench', 'Benchmark report regeneration and emails, or the order import: durable-jobs against the SQL lower bound and the alternatives.')
  .option('--only <names>', `which benchmarks to run, comma-separated: ${BENCHES.join(', ')} (default: report)`, benchNames, ['report'] as BenchName[])
  .option('--customers <n>', 'customers in the data set (every 17th inactive)', positiveInt('--customers'), 10_000)
  .option('--orders <n>', 'orders in the data set, exactly (skewed over customers)', positiveInt('--orders'), 1_000_000)
  .option('--days <n>', 'days of orders, and of the regenerated period', positiveInt('--days'), 30)
  .option('--skip <variants>', `report: leave variants out, comma-separated: ${SKIPPABLE_VARIANTS.join(', ')}`, skippedVariants, [] as SkippableVariant[])
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
  .option('--import-orders <n>', 'import: orders in the shop (its generator comes close; the actual count is reported)', positiveInt('--import-orders'), 1_000_000)
  .option('--import-customers <n>', "import: the shop's customers (every 17th inactive)", positiveInt('--import-customers'), 10_000)
  .option('--import-days <n>', "import: days of the shop's orders", positiveInt('--import-days'), 30)
  .option('--import-naive-orders <n>', 'import: the row-by-row variant stops after this many orders', positiveInt('--import-naive-orders'), 100_000)
  .option('--import-page-size <n>', `import: orders per API request (the job's default: ${IMPORT_DEFAULTS.pageSize})`, positiveInt('--import-page-size'), IMPORT_DEFAULTS.pageSize)
  .option('--import-pages-per-activity <n>', `import: pages per activity (the job's default: ${IMPORT_DEFAULTS.pagesPerActivity})`, positiveInt('--import-pages-per-activity'), IMPORT_DEFAULTS.pagesPerActivity)
  .option('--import-regenerate', 'import: also regenerate the report days the import touches (default: off, the bench measures the import)')
  .option('--import-database <name>', "import: the import bench's own database on the same server", 'durable_jobs_bench_import')
  .option('--import-out <file>', 'import: results file', 'bench-import-results.json')
  .option('--tracing-out <file>', 'tracing: results file', 'bench-tracing-results.json')
  .parse();

const flags = program.opts<{
  customers: number; orders: number; days: number; repeat: number; singleRuns: number; dataDir: string; pgPort: number;
  temporalPort: number; database: string; out: string; emailWorkflow: boolean; profile?: boolean; workerCpuProf?: string; emailCustomers?: number;
  only: BenchName[]; skip: SkippableVariant[]; importOrders: number; importCustomers: number; importDays: number; importNaiveOrders: number; importPageSize: number;
  importPagesPerActivity: number; importRegenerate?: boolean; importDatabase: string; importOut: string; tracingOut: string;
}>();
if (!/^[a-z_][a-z0-9_]*$/.test(flags.database)) usageError(`--database must be a plain lower-case identifier, got '${flags.database}'`);
if (flags.only.includes('report') && !flags.skip.includes('pg_boss') && !pgBossRunsOn()) {
  usageError(`the pg_boss variant needs Node >= ${PG_BOSS_MIN_NODE.join('.')} (pg-boss 12), this is ${process.version}: ` +
    'run on Node 24 (PATH="$(bash scripts/node-line.sh 24):$PATH" npm run bench -- ...) or leave it out with --skip pg_boss');
}
if (flags.days > 366) usageError(`--days must be at most 366 (a run's longest period), got ${flags.days}`);
if (!/^[a-z_][a-z0-9_]*$/.test(flags.importDatabase)) usageError(`--import-database must be a plain lower-case identifier, got '${flags.importDatabase}'`);
if (flags.only.includes('report') && flags.only.includes('import') && flags.importDatabase === flags.database) {
  usageError(`--import-database must differ from --database: the import bench empties its orders table`);
}
if (flags.importPageSize > IMPORT_LIMITS.maxPageSize) usageError(`--import-page-size must be at most ${IMPORT_LIMITS.maxPageSize} (the job's limit), got ${flags.importPageSize}`);
if (flags.importPagesPerActivity > IMPORT_LIMITS.maxPagesPerActivity) {
  usageError(`--import-pages-per-activity must be at most ${IMPORT_LIMITS.maxPagesPerActivity} (the job's limit), got ${flags.importPagesPerActivity}`);
}

runMain(async () => {
  const { config, logger } = bootstrap('bench', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  if (flags.only.includes('report')) await runReportBench(config, logger);
  if (flags.only.includes('tracing')) {
    // The report bench's data set and database, through three workers: untraced, tracing off, tracing on.
    await runTracingBench(
      {
        customers: flags.customers, orders: flags.orders, days: flags.days, repeat: flags.repeat, dataDir: path.resolve(flags.dataDir),
        postgresPort: flags.pgPort, temporalPort: flags.temporalPort, database: flags.database, out: flags.tracingOut,
      },
      config,
      logger,
    );
  }
  if (flags.only.includes('import')) {
    await runImportBench(
      {
        orders: flags.importOrders,
        customers: flags.importCustomers,
        days: flags.importDays,
        naiveOrders: flags.importNaiveOrders,
        pageSize: flags.importPageSize,
        pagesPerActivity: flags.importPagesPerActivity,
        regenerate: Boolean(flags.importRegenerate),
        profile: Boolean(flags.profile),
        dataDir: path.resolve(flags.dataDir),
        postgresPort: flags.pgPort,
        temporalPort: flags.temporalPort,
        database: flags.importDatabase,
        out: flags.importOut,
        workerCpuProfileDir: flags.workerCpuProf,
      },
      config,
      logger,
    );
  }
});

async function runReportBench(config: Parameters<typeof runBench>[1], logger: Parameters<typeof runBench>[2]): Promise<void> {
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
      skip: flags.skip,
    },
    config,
    logger,
  );
}
