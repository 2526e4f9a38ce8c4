// `npm run bench:cluster`: the nightly all-customer run on the multi-process cluster with 1, 2
// and 3 worker processes, and 1,000 single-customer runs started at once; where the CPU went
// (Temporal's services, PostgreSQL, our workers). Writes bench-cluster-results.json (see BENCHMARKS.md).
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { runClusterBench } from '../bench/cluster-bench.js';
import { positiveInt, strictProgram } from '../src/cli/flags.js';
import { runMain } from '../src/cli/runtime.js';

function workerCounts(value: string): number[] {
  const counts = value.split(',').map((part) => Number(part.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) throw new InvalidArgumentError(`--workers takes worker counts from 1 to 16, comma-separated, got '${value}'`);
  return counts;
}

const flags = strictProgram('bench:cluster', 'Benchmark the nightly all-customer run and a burst of single-customer runs on the multi-process cluster.')
  .option('--customers <n>', 'customers in the data set (every 17th inactive)', positiveInt('--customers'), 100_000)
  .option('--orders <n>', 'orders in the data set (skewed over customers)', positiveInt('--orders'), 1_000_000)
  .option('--days <n>', 'days of orders; the nightly run regenerates the last', positiveInt('--days'), 7)
  .option('--workers <counts>', 'worker processes for each all-customer run, comma-separated', workerCounts, [1, 2, 3])
  .option('--single-runs <n>', 'single-customer runs started at once (with the last worker count)', positiveInt('--single-runs'), 1000)
  .option('--data-dir <dir>', "the bench cluster's own data directory", '.data-cluster-bench')
  .option('--postgres-port <n>', 'its embedded PostgreSQL port', positiveInt('--postgres-port'), 54352)
  .option('--base-port <n>', 'the first of its 13 Temporal ports', positiveInt('--base-port'), 7385)
  .option('--ui-port <n>', 'its Web UI port', positiveInt('--ui-port'), 8385)
  .option('--out <file>', 'results file', 'bench-cluster-results.json')
  .parse()
  .opts<{ customers: number; orders: number; days: number; workers: number[]; singleRuns: number; dataDir: string; postgresPort: number; basePort: number; uiPort: number; out: string }>();

runMain(async () => {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const { allCustomers, singles } = await runClusterBench(
    { ...flags, workerCounts: flags.workers, dataDir: path.resolve(flags.dataDir) },
    logger,
    say,
  );
  console.log('\nworkers | seconds | customers/s | CPU s: Temporal / PostgreSQL / workers | statement s: Temporal DBs / ours');
  for (const r of allCustomers) {
    console.log(`${r.workers} | ${r.seconds} | ${Math.round(r.customers / r.seconds)} | ${r.cpu.temporal} / ${r.cpu.postgres} / ${r.cpu.workers} | ${r.statementSeconds.temporal} / ${r.statementSeconds.ours}`);
  }
  console.log(`\n${singles.runs} single-customer runs at once (${singles.workers} workers): p50 ${singles.p50Ms} ms, p95 ${singles.p95Ms} ms, max ${singles.maxMs} ms, ${singles.lost} lost, all done in ${singles.seconds} s`);
  if (singles.lost > 0) process.exitCode = 1;
});
