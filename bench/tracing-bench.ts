import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { BENCH_END_DATE, BenchData, activeCustomerIds, benchPeriod, checkReports, resetReports, type ReportCheck } from './bench-data.js';
import { startBenchStack } from './bench-stack.js';
import { cleanupsOnExit } from './cleanups.js';
import { startDiscardReceiver } from './discard-receiver.js';
import { durableRun } from './durable-variants.js';
import { withElapsed } from './progress.js';
import { formatMs, table } from './results.js';
import { median, round } from './stats.js';
import { untracedBuild } from './untraced-build.js';
import { WorkerProcess } from './worker-process.js';

export interface TracingBenchOptions {
  customers: number;
  orders: number;
  days: number;
  repeat: number;
  dataDir: string;
  postgresPort: number;
  temporalPort: number;
  database: string;
  out: string;
}

export const TRACING_VARIANTS = ['untraced', 'tracing_off', 'tracing_on'] as const;
type TracingVariant = (typeof TRACING_VARIANTS)[number];

/** The goals of issue #13: what tracing may cost durable_jobs, off and on, as a share of the untraced run. */
export const TRACING_GOALS = { offMaxPct: 2, onMaxPct: 10 } as const;

export interface TracingBenchResults {
  customers: number;
  orders: number;
  rounds: number;
  untraced_ms: number;
  tracing_off_ms: number;
  tracing_on_ms: number;
  /** Median of tracing_off over untraced, minus 1, in percent. */
  off_cost_pct: number;
  on_cost_pct: number;
  /** The worker process's CPU time per run (median): what tracing adds to the worker's own work, whatever else loads the machine. */
  untraced_worker_cpu_ms: number;
  tracing_off_worker_cpu_ms: number;
  tracing_on_worker_cpu_ms: number;
  /**
   * The worker CPU time tracing adds per run, as a share of the untraced run's wall time: the
   * worker's part of the cost, measured in a way other load on the machine hardly moves (the
   * SQL that dominates a run is the same statements traced or not).
   */
  off_worker_cpu_added_pct: number;
  on_worker_cpu_added_pct: number;
  /** What the traced worker sent its collector over all its runs. */
  otlp_requests: number;
  otlp_bytes: number;
}

// Every OTEL_* variable, emptied (empty counts as unset), so the shell's own settings reach no worker.
const NO_OTEL = Object.fromEntries(Object.keys(process.env).filter((name) => name.startsWith('OTEL_')).map((name) => [name, '']));

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `npm run bench -- --only tracing`: the durable_jobs regeneration of the report bench through
 * three compiled worker processes side by side, each on its own task queue: `untraced` (a build
 * whose workflow bundle lacks the OpenTelemetry interceptors: as before tracing existed),
 * `tracing_off` (the product as shipped, no OTEL_* set) and `tracing_on` (OTLP/HTTP protobuf
 * to a local receiver that discards). Rounds interleave them, each round starting one later.
 */
export async function runTracingBench(options: TracingBenchOptions, config: Config, logger: Logger): Promise<TracingBenchResults> {
  const cleanups = cleanupsOnExit(logger);
  try {
    const stack = await withElapsed('starting PostgreSQL and Temporal', () =>
      startBenchStack({ dataDir: options.dataDir, postgresPort: options.postgresPort, temporalPort: options.temporalPort, database: options.database }, logger),
    );
    cleanups.push(stack.stop);
    const checks = createPool(stack.databaseUrl, logger, 2);
    cleanups.push(() => checks.end());
    const spec = { customers: options.customers, orders: options.orders, days: options.days, endDate: BENCH_END_DATE };
    const seeded = await withElapsed('seeding', () => new BenchData(checks).ensure(spec, say));
    const period = benchPeriod(spec);
    const activeIds = await activeCustomerIds(checks);
    const expectedRows = activeIds.length * spec.days;

    await withElapsed('building the worker (npm run build)', () => WorkerProcess.build());
    const untracedScript = await withElapsed('building the untraced baseline (bundle without the tracing interceptors)', () => untracedBuild(path.join(options.dataDir, 'untraced')));
    const receiver = await startDiscardReceiver();
    cleanups.push(receiver.stop);
    const connection = await Connection.connect(stack.temporal.connectionOptions);
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: stack.temporal.namespace });

    const workers = {} as Record<TracingVariant, { taskQueue: string; worker: WorkerProcess }>;
    for (const variant of TRACING_VARIANTS) {
      const taskQueue = `bench-${variant}-${crypto.randomBytes(3).toString('hex')}`;
      const otel = variant === 'tracing_on' ? { ...NO_OTEL, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } : NO_OTEL;
      const worker = await withElapsed(`starting the ${variant} worker`, () =>
        WorkerProcess.start({
          databaseUrl: stack.databaseUrl,
          smtpUrl: 'smtp://127.0.0.1:9', // no run here sends email
          temporalAddress: stack.temporal.address,
          taskQueue,
          logFile: path.join(options.dataDir, `worker-${variant}.log`),
          // Three at once: none serves metrics.
          env: { ...otel, METRICS_PORT: '0' },
          ...(variant === 'untraced' ? { script: untracedScript } : {}),
        }),
      );
      cleanups.push(() => worker.stop());
      workers[variant] = { taskQueue, worker };
      // A warm sandbox, as a long-running worker has.
      await durableRun(client, taskQueue, { customerIds: [activeIds[0]!], ...period, sendEmail: false });
    }

    const input = { ...period, sendEmail: false, batchSize: config.REPORT_BATCH_SIZE, parallelism: config.REPORT_PARALLELISM };
    const samples = Object.fromEntries(TRACING_VARIANTS.map((v) => [v, [] as number[]])) as Record<TracingVariant, number[]>;
    const cpu = Object.fromEntries(TRACING_VARIANTS.map((v) => [v, [] as number[]])) as Record<TracingVariant, number[]>;
    let reference: ReportCheck | undefined;
    for (let round_ = 1; round_ <= options.repeat; round_++) {
      say(`\ntracing, round ${round_}/${options.repeat}`);
      const order = TRACING_VARIANTS.map((_, i) => TRACING_VARIANTS[(i + round_ - 1) % TRACING_VARIANTS.length]!);
      for (const variant of order) {
        await resetReports(checks);
        const cpuBefore = workers[variant].worker.cpuMs();
        const run = await durableRun(client, workers[variant].taskQueue, input, { label: variant, customers: activeIds.length });
        cpu[variant].push(workers[variant].worker.cpuMs() - cpuBefore);
        const check = await checkReports(checks, period);
        reference ??= check;
        const s = run.summary;
        if (check.rows !== expectedRows || check.checksum !== reference.checksum || s.customersProcessed !== activeIds.length || s.failures.length + s.failedRanges.length > 0) {
          throw new Error(`${variant} left ${check.rows} report rows (expected ${expectedRows}), checksum ${check.checksum === reference.checksum ? 'equal' : 'DIFFERENT'}, summary ${JSON.stringify(s)}`);
        }
        samples[variant].push(run.ms);
        say(`  verified ${variant.padEnd(12)} ${formatMs(run.ms).padStart(9)}  worker CPU ${formatMs(cpu[variant].at(-1)!).padStart(9)}  ${check.rows} rows, content = reference`);
      }
    }

    // Its last batch of spans goes out as it stops (SIGTERM flushes): then the receiver's counts are whole.
    await workers.tracing_on.worker.stop();
    const cpuMs = Object.fromEntries(TRACING_VARIANTS.map((v) => [v, median(cpu[v])])) as Record<TracingVariant, number>;
    const cpuCostPct = (variant: TracingVariant) => round((cpuMs[variant] / cpuMs.untraced - 1) * 100);
    const cpuAddedPct = (variant: TracingVariant) => round(((cpuMs[variant] - cpuMs.untraced) / ms.untraced) * 100, 2);
    const ms = Object.fromEntries(TRACING_VARIANTS.map((v) => [v, median(samples[v])])) as Record<TracingVariant, number>;
    const costPct = (variant: TracingVariant) => round((ms[variant] / ms.untraced - 1) * 100);
    const results: TracingBenchResults = {
      customers: spec.customers,
      orders: seeded.orders,
      rounds: options.repeat,
      untraced_ms: round(ms.untraced),
      tracing_off_ms: round(ms.tracing_off),
      tracing_on_ms: round(ms.tracing_on),
      off_cost_pct: costPct('tracing_off'),
      on_cost_pct: costPct('tracing_on'),
      untraced_worker_cpu_ms: round(cpuMs.untraced),
      tracing_off_worker_cpu_ms: round(cpuMs.tracing_off),
      tracing_on_worker_cpu_ms: round(cpuMs.tracing_on),
      off_worker_cpu_added_pct: cpuAddedPct('tracing_off'),
      on_worker_cpu_added_pct: cpuAddedPct('tracing_on'),
      otlp_requests: receiver.requests(),
      otlp_bytes: receiver.bytes(),
    };
    fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
    say(`\n${spec.customers} customers (${activeIds.length} active), ${seeded.orders} orders, ${spec.days} days, durable_jobs regeneration, median of ${options.repeat}`);
    say(table([
      ['variant', 'median', 'all rounds', 'vs untraced', 'worker CPU (median)', 'vs untraced'],
      ...TRACING_VARIANTS.map((v) => [
        v, formatMs(ms[v]), samples[v].map(formatMs).join(' '), v === 'untraced' ? '' : signedPct(costPct(v)),
        formatMs(cpuMs[v]), v === 'untraced' ? '' : signedPct(cpuCostPct(v)),
      ]),
    ]));
    say(`tracing_on sent its collector ${results.otlp_requests} requests, ${round(results.otlp_bytes / 1024)} KiB (warm-up runs included)`);
    say(`\n${table([
      ['goal', 'measured', 'met'],
      [`tracing off costs < ${TRACING_GOALS.offMaxPct} %`, `${results.off_cost_pct} %`, results.off_cost_pct < TRACING_GOALS.offMaxPct ? 'yes' : 'NO'],
      [`tracing on costs < ${TRACING_GOALS.onMaxPct} %`, `${results.on_cost_pct} %`, results.on_cost_pct < TRACING_GOALS.onMaxPct ? 'yes' : 'NO'],
      [`(worker CPU added by tracing off, share of the untraced run) < ${TRACING_GOALS.offMaxPct} %`, `${results.off_worker_cpu_added_pct} %`, results.off_worker_cpu_added_pct < TRACING_GOALS.offMaxPct ? 'yes' : 'NO'],
      [`(worker CPU added by tracing on, share of the untraced run) < ${TRACING_GOALS.onMaxPct} %`, `${results.on_worker_cpu_added_pct} %`, results.on_worker_cpu_added_pct < TRACING_GOALS.onMaxPct ? 'yes' : 'NO'],
    ])}`);
    say(`\nwrote ${options.out}`);
    return results;
  } finally {
    await cleanups.run();
  }
}

function signedPct(pct: number): string {
  return `${pct >= 0 ? '+' : ''}${pct} %`;
}
