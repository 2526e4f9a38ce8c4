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
import { GraphileVariant } from './graphile-variant.js';
import { withElapsed } from './progress.js';
import { REGENERATE_VARIANTS, goals, regenerateTable, table, formatMs, type BenchResults, type RegenerateVariant } from './results.js';
import { naiveLoop, sqlBatchedParallel, sqlOneStatement } from './sql-variants.js';
import { median, percentile, round } from './stats.js';
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
  const cleanups = cleanupsOnExit(logger);
  try {
    say(`machine: ${cores} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
    say(`tuning: batch size ${batchSize} (REPORT_BATCH_SIZE), workflow parallelism ${parallelism} (REPORT_PARALLELISM), ${batchesPerActivity} batches per activity at most, ` +
      `WORKER_MAX_ACTIVITIES ${config.WORKER_MAX_ACTIVITIES}, ${cores} lanes for sql_batched_parallel and graphile_worker`);
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
    const graphile = new GraphileVariant(queue, lanes, cores);
    await graphile.start();
    cleanups.push(() => graphile.stop());
    // One run before measuring: a long-running worker has its workflow sandbox warm.
    await durableRun(client, taskQueue, { customerIds: [activeIds[0]!], ...period, sendEmail: false });

    const durableInput = { ...period, sendEmail: false, batchSize, parallelism };
    const run: Record<RegenerateVariant, () => Promise<DurableRun | void>> = {
      sql_one_statement: () => sqlOneStatement(lanes, period),
      sql_batched_parallel: () => sqlBatchedParallel(lanes, period, { batchSize, batchesPerPage: DEFAULTS.batchesPerRun, lanes: cores }),
      naive_loop: () => naiveLoop(lanes, period),
      graphile_worker: () => graphile.regenerateAll(period, batchSize, DEFAULTS.batchesPerRun),
      durable_jobs: () =>
        durableRun(client, taskQueue, durableInput, { label: 'durable_jobs', customers: activeIds.length }),
    };
    const samples = Object.fromEntries(REGENERATE_VARIANTS.map((v) => [v, [] as number[]])) as Record<RegenerateVariant, number[]>;
    let reference: ReportCheck | undefined;
    let lastDurable: DurableRun | undefined;
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      say(`\nregenerate, round ${repeat}/${options.repeat}`);
      // Each round starts one variant later, so no variant always runs after the same one.
      const order = REGENERATE_VARIANTS.map((_, i) => REGENERATE_VARIANTS[(i + repeat - 1) % REGENERATE_VARIANTS.length]!);
      for (const variant of order) {
        await resetReports(checks);
        const started = performance.now();
        const outcome = await run[variant]();
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
        samples[variant].push(ms);
        say(`  verified ${variant.padEnd(21)} ${formatMs(ms).padStart(9)}  ${check.rows} rows = ${activeIds.length} x ${spec.days}, content = reference`);
      }
    }
    const medians = Object.fromEntries(REGENERATE_VARIANTS.map((v) => [`${v}_ms`, round(median(samples[v]))])) as BenchResults['regenerate'];

    say('\nsingle-customer runs');
    const sample = spreadSample(activeIds, options.singleRuns);
    let lastSingles: DurableRun[] = [];
    const p50s: number[] = [];
    const p95s: number[] = [];
    for (let repeat = 1; repeat <= options.repeat; repeat++) {
      lastSingles = await singleCustomerRuns(client, taskQueue, sample, period);
      const latencies = lastSingles.map((r) => r.ms);
      p50s.push(percentile(latencies, 50));
      p95s.push(percentile(latencies, 95));
      say(`  round ${repeat}: ${latencies.length} runs, p50 ${formatMs(percentile(latencies, 50))}, p95 ${formatMs(percentile(latencies, 95))}, max ${formatMs(Math.max(...latencies))}`);
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
      single_customer_ms: { p50: round(median(p50s)), p95: round(median(p95s)) },
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
    const emailWorkflowRow = emailWorkflow
      ? [['email workflow (regenerate + email)', `${formatMs(emailWorkflow.run.ms)} total; ${round((messages.length / emailWorkflow.run.ms) * 1000)} /s incl. regeneration; ` +
          `${round((messages.length / Math.max(1, emailWorkflow.run.ms - medians.durable_jobs_ms)) * 1000)} /s after subtracting durable_jobs`]]
      : [];
    say(`\n${table([
      ['measure', 'value'],
      ['single_customer p50 / p95', `${results.single_customer_ms.p50} ms / ${results.single_customer_ms.p95} ms (${sample.length} runs x ${options.repeat})`],
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
