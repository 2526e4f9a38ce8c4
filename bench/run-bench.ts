import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { DEFAULTS, resolveRegenerateInput } from '../src/contracts.js';
import type { Config } from '../src/config.js';
import { createPool, type Pool } from '../src/db/pool.js';
import { workerPoolSize } from '../src/worker.js';
import type { Transporter } from 'nodemailer';
import { INSERT_REPORT_ROWS, PURGE_REPORT_ROWS } from '../src/services/report-sql.js';
import { BENCH_END_DATE, BenchData, activeCustomerIds, benchPeriod, checkReports, resetReports, type BenchPeriod, type ReportCheck } from './bench-data.js';
import { cleanupsOnExit } from './cleanups.js';
import { startBenchStack, type BenchStack } from './bench-stack.js';
import { durableRun, historyTimings, serverSideMs, singleCustomerRuns, spreadSample, type DurableRun } from './durable-variants.js';
import { composeAllMessages, countSink, freshSink, mailDir, pooledTransport, rawSend, serviceSend, workerTransport } from './email-variants.js';
import { DBOS_CONFIGURATION, DbosVariant } from './dbos-variant.js';
import { GraphileVariant } from './graphile-variant.js';
import { PG_BOSS_CONFIGURATION, PgBossVariant } from './pg-boss-variant.js';
import { CpuMeter, localPostmasterPid, reportBenchSources } from './cpu-meter.js';
import { withElapsed } from './progress.js';
import { REGENERATE_VARIANTS, goals, latencyTable, perRoundTable, regenerateTable, table, formatMs, type BenchResults, type Latency, type RegenerateVariant, type SkippableVariant } from './results.js';
import { naiveLoop, sqlBatchedParallel, sqlOneStatement } from './sql-variants.js';
import { median, percentile, round } from './stats.js';
import { TEMPORAL_FLOOR_CONFIGURATION, startFloorWorker, temporalFloorRuns } from './temporal-floor.js';
import { WorkerProcess } from './worker-process.js';

export interface BenchOptions {
  customers: number;
  orders: number;
  days: number;
  repeat: number;
  singleRuns: number;
  dataDir: string;
  postgresPort: number;
  temporalPort: number;
  database: string;
  out: string;
  /** Also run the workflow with emails on (regeneration + email through Temporal). */
  emailWorkflow: boolean;
  /** Print where the durable run's time went (history) and EXPLAIN ANALYZE of one batch. */
  profile: boolean;
  workerCpuProfileDir?: string;
  /** Email only the first n active customers (default: all). */
  emailCustomers?: number;
  /** Variants left out of this run (--skip), e.g. pg_boss on a Node it does not run on. */
  skip: SkippableVariant[];
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `npm run bench`: every variant on the same data, in one run, each from the same state
 * (no report rows), each verified (row count and content checksum) before its time counts.
 */
export async function runBench(options: BenchOptions, config: Config, logger: Logger): Promise<BenchResults> {
  const cores = os.cpus().length;
  const batchSize = config.REPORT_BATCH_SIZE;
  const parallelism = config.REPORT_PARALLELISM;
  // What the workflow resolves for these settings (the default shrinks for large batches).
  const batchesPerActivity = resolveRegenerateInput({ batchSize, parallelism }, new Date()).batchesPerActivity;
  const variants = REGENERATE_VARIANTS.filter((variant) => !(options.skip as RegenerateVariant[]).includes(variant));
  const runs = (variant: RegenerateVariant) => variants.includes(variant);
  const cleanups = cleanupsOnExit(logger);
  try {
    say(`machine: ${cores} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
    say(`tuning: batch size ${batchSize} (REPORT_BATCH_SIZE), workflow parallelism ${parallelism} (REPORT_PARALLELISM), ${batchesPerActivity} batches per activity at most, ` +
      `WORKER_MAX_ACTIVITIES ${config.WORKER_MAX_ACTIVITIES}, ${cores} lanes for sql_batched_parallel, graphile_worker, pg_boss and dbos`);
    if (options.skip.length > 0) say(`skipped (--skip): ${options.skip.join(', ')}`);
    const stack: BenchStack = await withElapsed('starting PostgreSQL and Temporal', () =>
      startBenchStack({ dataDir: options.dataDir, postgresPort: options.postgresPort, temporalPort: options.temporalPort, database: options.database }, logger),
    );
    cleanups.push(stack.stop);
    const url = stack.databaseUrl;
    const checks = createPool(url, logger, 2);
    const lanes = createPool(url, logger, cores);
    const queue = createPool(url, logger, cores + 4);
    const emailPool = createPool(url, logger, workerPoolSize(config)); // what scripts/worker.ts gives the worker
    cleanups.push(() => Promise.all([checks, lanes, queue, emailPool].map((pool) => pool.end())));

    const spec = { customers: options.customers, orders: options.orders, days: options.days, endDate: BENCH_END_DATE };
    const seeded = await withElapsed('seeding', () => new BenchData(checks).ensure(spec, say));
    const period = benchPeriod(spec);
    const activeIds = await activeCustomerIds(checks);
    const expectedRows = activeIds.length * spec.days;
    say(`period ${period.from}..${period.to}: ${activeIds.length} active customers x ${spec.days} days = ${expectedRows} report rows expected`);
    await warmCaches(checks);

    // The worker runs compiled and loads a pre-built bundle, as in production: bundling in
    // the worker would cost seconds and hundreds of MB that a deployed worker never spends.
    await withElapsed('building the worker (npm run build)', () => WorkerProcess.build());
    const workerSink = await freshSink(mailDir(options.dataDir, 'workflow'), logger);
    cleanups.push(workerSink.stop);
    const taskQueue = `bench-${crypto.randomBytes(4).toString('hex')}`;
    const worker = await withElapsed('starting the worker process', () =>
      WorkerProcess.start({
        databaseUrl: url,
        smtpUrl: workerSink.url,
        temporalAddress: stack.temporal.address,
        taskQueue,
        logFile: path.join(options.dataDir, 'worker.log'),
        cpuProfileDir: options.workerCpuProfileDir,
      }),
    );
    cleanups.push(() => worker.stop());
    const connection = await Connection.connect(stack.temporal.connectionOptions);
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: stack.temporal.namespace });
    const floor = await withElapsed('starting the Temporal floor worker', () =>
      startFloorWorker({ temporalAddress: stack.temporal.address, logFile: path.join(options.dataDir, 'floor-worker.log') }),
    );
    cleanups.push(() => floor.worker.stop());
    const graphile = new GraphileVariant(queue, lanes, cores);
    if (runs('graphile_worker')) {
      await graphile.start();
      cleanups.push(() => graphile.stop());
    }
    const pgBoss = new PgBossVariant(url, lanes, cores);
    if (runs('pg_boss')) {
      await withElapsed('starting pg-boss', () => pgBoss.start());
      cleanups.push(() => pgBoss.stop());
      say(`pg_boss: ${PG_BOSS_CONFIGURATION}`);
    }
    // DBOS's system database: its own, on the same server as the bench database.
    const dbos = new DbosVariant(lanes, Object.assign(new URL(stack.adminUrl), { pathname: `/${options.database}_dbos_sys` }).toString());
    if (runs('dbos')) {
      await withElapsed('launching DBOS', () => dbos.start());
      cleanups.push(() => dbos.stop());
      say(`dbos: ${DBOS_CONFIGURATION.replace('<database>', options.database)}`);
    }
    say(`temporal floor: ${TEMPORAL_FLOOR_CONFIGURATION}`);
    // One run before measuring: a long-running worker has its workflow sandbox warm.
    await durableRun(client, taskQueue, { customerIds: [activeIds[0]!], ...period, sendEmail: false });

    const durableInput = { ...period, sendEmail: false, batchSize, parallelism };
    const run: Record<RegenerateVariant, () => Promise<DurableRun | void>> = {
      sql_one_statement: () => sqlOneStatement(lanes, period),
      sql_batched_parallel: () => sqlBatchedParallel(lanes, period, { batchSize, batchesPerPage: DEFAULTS.batchesPerRun, lanes: cores }),
      naive_loop: () => naiveLoop(lanes, period),
      graphile_worker: () => graphile.regenerateAll(period, batchSize, DEFAULTS.batchesPerRun),
      pg_boss: () => pgBoss.regenerateAll(period, batchSize, DEFAULTS.batchesPerRun),
      dbos: async () => {
        const s = await dbos.regenerateAll(period, { batchSize, batchesPerPage: DEFAULTS.batchesPerRun, lanes: cores, customers: activeIds.length });
        if (s.customers !== activeIds.length || s.rows !== expectedRows || s.failures > 0) throw new Error(`dbos summary does not match: ${JSON.stringify(s)}`);
      },
      durable_jobs: () =>
        durableRun(client, taskQueue, durableInput, { label: 'durable_jobs', customers: activeIds.length }),
    };
    const cpu = new CpuMeter(reportBenchSources({ postgres: await localPostmasterPid(checks), devServer: stack.temporalPid, worker: worker.pid }), cores);
    const samples = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Partial<Record<RegenerateVariant, number[]>>;
    let reference: ReportCheck | undefined;
    let lastDurable: DurableRun | undefined;
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      say(`\nregenerate, round ${repeat}/${options.repeat}`);
      // Each round starts one variant later, so no variant always runs after the same one.
      const order = variants.map((_, i) => variants[(i + repeat - 1) % variants.length]!);
      for (const variant of order) {
        await resetReports(checks);
        const started = performance.now();
        const { result: outcome, spent } = await cpu.measure(variant, run[variant]);
        const ms = performance.now() - started;
        const check = await checkReports(checks, period);
        reference ??= check;
        if (check.rows !== expectedRows || check.checksum !== reference.checksum) {
          throw new Error(`${variant} left ${check.rows} report rows (expected ${expectedRows}), checksum ${check.checksum === reference.checksum ? 'equal' : 'DIFFERENT'}`);
        }
        if (outcome) {
          const s = outcome.summary;
          if (s.customersProcessed !== activeIds.length || s.rowsWritten !== expectedRows || s.failures.length + s.failedRanges.length > 0) {
            throw new Error(`durable_jobs summary does not match: ${JSON.stringify(s)}`);
          }
          lastDurable = outcome;
        }
        samples[variant]!.push(ms);
        say(`  verified ${variant.padEnd(21)} ${formatMs(ms).padStart(9)}  ${check.rows} rows = ${activeIds.length} x ${spec.days}, content = reference; cpu-s: ${CpuMeter.describe(spent)}`);
      }
    }
    const medians = Object.fromEntries(variants.map((v) => [`${v}_ms`, round(median(samples[v]!))])) as BenchResults['regenerate'];

    say('\nsingle-customer runs, and the Temporal floor');
    const sample = spreadSample(activeIds, options.singleRuns);
    let lastSingles: DurableRun[] = [];
    const rounds = { ours: new LatencyRounds(), dbos: new LatencyRounds(), floor: new LatencyRounds() };
    // A few floor runs first, as for ours above: the floor worker's sandbox warms up on its first workflow.
    await temporalFloorRuns(client, floor.taskQueue, 3);
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      lastSingles = await singleCustomerRuns(client, taskQueue, sample, period);
      say(`  round ${repeat}: durable_jobs ${rounds.ours.add(lastSingles.map((r) => r.ms))}`);
      if (runs('dbos')) say(`  round ${repeat}: dbos         ${rounds.dbos.add(await dbos.singleCustomerRuns(sample, period))}`);
      say(`  round ${repeat}: floor        ${rounds.floor.add(await temporalFloorRuns(client, floor.taskQueue, sample.length))}`);
    }

    say('\nemail');
    const emailIds = activeIds.slice(0, options.emailCustomers ?? activeIds.length);
    const messages = await composeAllMessages(checks, emailIds, period, config.MAIL_FROM);
    say(`  ${emailIds.length} customers, ${messages.length} with orders in the period get a report`);
    const rates = { raw: [] as number[], rawNoDelay: [] as number[], ours: [] as number[] };
    let duplicates = 0;
    const sendRaw = async (phase: string, noDelay: boolean) => {
      const sink = await freshSink(mailDir(options.dataDir, phase), logger);
      // The same number of connections as the worker uses: the raw baseline gets every advantage ours has.
      const raw = await rawSend(pooledTransport(sink.url, { noDelay, maxConnections: config.SMTP_MAX_CONNECTIONS }), messages, `email ${phase}`).finally(() => sink.stop());
      verifySink(countSink(sink.dir), messages.length, phase);
      return (raw.sent / raw.ms) * 1000;
    };
    const sendOurs = async (phase: string, transport: (url: string) => Transporter) => {
      const sink = await freshSink(mailDir(options.dataDir, phase), logger);
      const ours = await serviceSend(emailPool, transport(sink.url), emailIds, period, { batchSize, parallelism, batchesPerActivity, mailFrom: config.MAIL_FROM, label: `email ${phase}` })
        .finally(() => sink.stop());
      const received = countSink(sink.dir);
      duplicates += received.duplicates;
      if (ours.sent !== messages.length || ours.failures > 0) throw new Error(`${phase}: ReportEmail sent ${ours.sent} of ${messages.length} (${ours.failures} failures)`);
      verifySink(received, messages.length, phase, true);
      return (ours.sent / ours.ms) * 1000;
    };
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      rates.raw.push(await sendRaw(`raw-${repeat}`, false));
      rates.rawNoDelay.push(await sendRaw(`raw-nodelay-${repeat}`, true));
      rates.ours.push(await sendOurs(`durable-${repeat}`, workerTransport));
      say(`  round ${repeat}: raw pooled ${round(rates.raw.at(-1)!)} /s, raw pooled+noDelay ${round(rates.rawNoDelay.at(-1)!)} /s, ` +
        `ReportEmail with the worker's transport ${round(rates.ours.at(-1)!)} /s; duplicates so far ${duplicates}`);
    }
    let emailWorkflow: { run: DurableRun; received: ReturnType<typeof countSink> } | undefined;
    if (options.emailWorkflow && emailIds.length === activeIds.length) {
      await checks.query('TRUNCATE report_emails');
      const before = countSink(workerSink.dir).messages;
      const emailRun = await durableRun(client, taskQueue, { ...period, sendEmail: true, batchSize, parallelism });
      const received = countSink(workerSink.dir);
      if (emailRun.summary.emailsSent !== messages.length || received.messages - before !== messages.length) {
        throw new Error(`email workflow sent ${emailRun.summary.emailsSent}, sink got ${received.messages - before}, expected ${messages.length}`);
      }
      duplicates += received.duplicates;
      emailWorkflow = { run: emailRun, received };
      say(`  workflow with sendEmail (regenerate + email through Temporal): ${formatMs(emailRun.ms)}, ${emailRun.summary.emailsSent} emails, ` +
        `duplicates ${received.duplicates}`);
    }

    const rss = worker.peakRssMb();
    const results: BenchResults = {
      customers: spec.customers,
      orders: seeded.orders,
      regenerate: medians,
      single_customer_ms: rounds.ours.medians(),
      ...(runs('dbos') ? { dbos_single_customer_ms: rounds.dbos.medians() } : {}),
      temporal_floor_ms: rounds.floor.medians(),
      // The faster raw setup is the bar: nodemailer's default (Nagle on) would flatter us.
      email: { raw_smtp_per_s: round(Math.max(median(rates.raw), median(rates.rawNoDelay))), durable_jobs_per_s: round(median(rates.ours)), duplicates },
      worker_peak_rss_mb: round(rss.mb),
    };
    fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);

    if (options.profile && lastDurable) {
      const single = await durableRun(client, taskQueue, { customerIds: [sample[0]!], ...period, sendEmail: false });
      await printProfile(client, checks, { durable_jobs: lastDurable, 'email workflow': emailWorkflow?.run, 'single_customer (alone)': single, 'single_customer (last of the loop)': lastSingles.at(-1) }, activeIds, period, batchSize);
      const server = await Promise.all(lastSingles.map((r) => serverSideMs(client, r)));
      say(`\nprofile: single_customer, last round: client start-to-result p50 ${formatMs(percentile(lastSingles.map((r) => r.ms), 50))}, ` +
        `server WorkflowExecutionStarted-to-Completed p50 ${formatMs(percentile(server, 50))}, p95 ${formatMs(percentile(server, 95))}`);
    }

    say(`\n${spec.customers} customers (${activeIds.length} active), ${seeded.orders} orders, ${spec.days} days, median of ${options.repeat}`);
    say(regenerateTable(samples, medians, activeIds.length));
    if (options.repeat > 1) say(`\ndurable_jobs round by round (each ratio within one round)\n${perRoundTable(samples)}`);
    say(`\nCPU seconds by process while each variant ran (medians of the rounds; the machine has ${cores} cores)\n${cpu.table()}`);
    say(`\n${latencyTable(results, `${sample.length} runs x ${options.repeat} rounds each, medians of the rounds' p50 and p95`)}`);
    const emailWorkflowRow = emailWorkflow
      ? [['email workflow (regenerate + email)', `${formatMs(emailWorkflow.run.ms)} total; ${round((messages.length / emailWorkflow.run.ms) * 1000)} /s incl. regeneration; ` +
          `${round((messages.length / Math.max(1, emailWorkflow.run.ms - medians.durable_jobs_ms)) * 1000)} /s after subtracting durable_jobs`]]
      : [];
    say(`\n${table([
      ['measure', 'value'],
      [`email raw nodemailer pool (${config.SMTP_MAX_CONNECTIONS} connections, defaults)`, `${round(median(rates.raw))} /s (${messages.length} messages)`],
      ['email raw nodemailer pool + TCP_NODELAY', `${round(median(rates.rawNoDelay))} /s`],
      ['email durable_jobs (ReportEmail, the worker\'s transport)', `${results.email.durable_jobs_per_s} /s (${round(results.email.durable_jobs_per_s / results.email.raw_smtp_per_s, 2)} x the faster raw)`],
      ...emailWorkflowRow,
      ['email duplicates', String(duplicates)],
      ['worker peak RSS (VmHWM)', `${results.worker_peak_rss_mb} MB (pid ${rss.pid})`],
    ])}`);
    say(`\n${table([['goal', 'measured', 'met'], ...goals(results).map((g) => [g.goal, g.measured, g.met ? 'yes' : 'NO'])])}`);
    say(`\nwrote ${options.out}`);
    return results;
  } finally {
    await cleanups.run();
  }
}

function verifySink(count: ReturnType<typeof countSink>, expected: number, label: string, allowDuplicates = false): void {
  if (count.distinctMessageIds !== expected || (!allowDuplicates && count.duplicates > 0)) {
    throw new Error(`${label}: the sink received ${count.messages} messages with ${count.distinctMessageIds} distinct Message-IDs, expected ${expected}`);
  }
}

/** Reads the orders table and its index once, so the first variant does not pay for a cold cache. */
async function warmCaches(pool: Pool): Promise<void> {
  await withElapsed('warming caches', async () => {
    try {
      await pool.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
      await pool.query(`SELECT pg_prewarm('orders'), pg_prewarm('orders_customer_created'), pg_prewarm('customers')`);
    } catch {
      await pool.query('SELECT count(*), sum(amount_cents) FROM orders');
    }
  });
}

async function printProfile(
  client: Client,
  pool: Pool,
  runs: Record<string, DurableRun | undefined>,
  activeIds: number[],
  period: BenchPeriod,
  batchSize: number,
): Promise<void> {
  for (const [label, run] of Object.entries(runs)) {
    if (!run) continue;
    const timings = await historyTimings(client, run.workflowId, run.runId);
    say(`\nprofile: ${label} ${run.workflowId} (${formatMs(run.ms)}), from its (first) run's history`);
    say(table([
      ['task', 'count', 'queued total', 'running total', 'running mean', 'running max'],
      ...timings.map((t) => [t.type, String(t.count), formatMs(t.queueMsTotal), formatMs(t.runMsTotal), formatMs(t.runMsTotal / t.count), formatMs(t.runMsMax)]),
    ]));
  }
  const ids = activeIds.slice(0, batchSize);
  const client2 = await pool.connect();
  try {
    await client2.query('BEGIN');
    await client2.query(PURGE_REPORT_ROWS, [ids, period.from, period.to]);
    const { rows } = await client2.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${INSERT_REPORT_ROWS}`, [ids, period.from, period.to, 'bench:explain']);
    say(`\nprofile: EXPLAIN (ANALYZE, BUFFERS) of INSERT_REPORT_ROWS for one batch (${ids.length} customers)`);
    say(rows.map((row) => row['QUERY PLAN']).join('\n'));
  } finally {
    await client2.query('ROLLBACK');
    client2.release();
  }
}

/** The p50 and p95 of each round's latencies; the result is the median of each over the rounds. */
class LatencyRounds {
  private readonly p50s: number[] = [];
  private readonly p95s: number[] = [];

  /** Records one round; returns its line for the log. */
  add(latencies: number[]): string {
    this.p50s.push(percentile(latencies, 50));
    this.p95s.push(percentile(latencies, 95));
    return `${latencies.length} runs, p50 ${formatMs(percentile(latencies, 50))}, p95 ${formatMs(percentile(latencies, 95))}, max ${formatMs(Math.max(...latencies))}`;
  }

  medians(): Latency {
    return { p50: round(median(this.p50s)), p95: round(median(this.p95s)) };
  }
}
