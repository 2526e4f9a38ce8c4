import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { ensureDatabase } from '../src/dev/embedded-postgres.js';
import { loadClusterSettings, TEMPORAL_SERVICES } from '../src/cluster/cluster-settings.js';
import { startCluster, type Cluster } from '../src/cluster/start-cluster.js';
import { connectClient } from '../src/temporal/client.js';
import { startRegenerateReports } from '../src/temporal/report-runs.js';
import type { RegenerateReportsSummary } from '../src/contracts.js';
import { settingsFor } from '../test/faults/fault-stack.js';
import { BenchData, BENCH_END_DATE } from './bench-data.js';
import { cpuSecondsOfTree, postmasterPid } from './cpu-time.js';
import { durableRun, spreadSample } from './durable-variants.js';
import { percentile, round } from './stats.js';
import { WorkerProcess } from './worker-process.js';
import { startSmtpSink } from '../src/dev/smtp-sink.js';

export interface ClusterBenchOptions {
  customers: number;
  orders: number;
  days: number;
  workerCounts: number[];
  singleRuns: number;
  dataDir: string;
  postgresPort: number;
  basePort: number;
  uiPort: number;
  out: string;
}

/** Where the CPU went during one measurement, in seconds, and PostgreSQL's statement time per side. */
interface Usage {
  cpu: { temporal: number; postgres: number; workers: number };
  /** pg_stat_database.active_time: time executing statements, Temporal's two databases vs ours. */
  statementSeconds: { temporal: number; ours: number };
  /** The machine's 1-minute load average before and after: the cores are shared with whatever else runs. */
  loadAverage: { before: number; after: number };
}

export interface AllCustomerResult extends Usage {
  workers: number;
  parallelism: number;
  /** The nightly run as scheduled (regenerate, then email each customer with orders), or regeneration alone. */
  emails: boolean;
  seconds: number;
  customers: number;
  rowsWritten: number;
  emailsSent: number;
  /** CPU seconds of this process, which runs the SMTP sink the workers send to. */
  smtpSinkCpu: number;
}

export interface SingleRunsResult extends Usage {
  workers: number;
  runs: number;
  completed: number;
  lost: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  seconds: number;
}

const DATABASE = 'durable_jobs_bench_cluster';

/**
 * The nightly all-customer run (one day, every active customer; regeneration alone, then with
 * the emails, into an SMTP sink in this process) on the multi-process
 * cluster with 1, 2, 3 ... worker processes, then `singleRuns` single-customer runs started at
 * once through the client API. Around each measurement: CPU seconds of the four Temporal
 * service processes, of PostgreSQL (every backend, Temporal's and ours) and of our workers,
 * and PostgreSQL's statement time split by database, Temporal's vs ours.
 */
export async function runClusterBench(options: ClusterBenchOptions, logger: Logger, say: (line: string) => void): Promise<{ allCustomers: AllCustomerResult[]; singles: SingleRunsResult }> {
  say('building the worker (npm run build) ...');
  await WorkerProcess.build();
  const settings = loadClusterSettings({
    ...process.env, CLUSTER_DATA_DIR: options.dataDir, CLUSTER_POSTGRES_PORT: String(options.postgresPort),
    CLUSTER_BASE_PORT: String(options.basePort), CLUSTER_UI_PORT: String(options.uiPort), CLUSTER_TEMPORAL_POSTGRES_URL: '',
  });
  const cluster = await startCluster(settings, logger, { embeddedForOurData: true });
  const cleanups: Array<() => Promise<unknown>> = [cluster.stop];
  try {
    const adminUrl = cluster.embeddedPostgresUrl!;
    await ensureDatabase(adminUrl, DATABASE);
    const url = new URL(adminUrl);
    url.pathname = `/${DATABASE}`;
    await migrate(url.toString(), logger);
    const pool = createPool(url.toString(), logger, 2);
    cleanups.push(() => pool.end());
    const spec = { customers: options.customers, orders: options.orders, days: options.days, endDate: BENCH_END_DATE };
    await new BenchData(pool).ensure(spec, say);
    const period = { from: BENCH_END_DATE, to: BENCH_END_DATE }; // the nightly run: yesterday
    const { rows } = await pool.query<{ id: number }>('SELECT id::int FROM customers WHERE active ORDER BY id');
    const activeIds = rows.map((row) => row.id);
    const { client, close } = await connectClient(settingsFor(cluster.frontendAddress));
    cleanups.push(close);
    const usage = usageMeter(cluster, path.resolve(options.dataDir, 'postgres'), adminUrl, DATABASE);

    const sink = await startSmtpSink(path.join(options.dataDir, 'mail'), 0, logger);
    cleanups.push(sink.stop);
    const allCustomers: AllCustomerResult[] = [];
    let singles: SingleRunsResult | undefined;
    for (const count of options.workerCounts) {
      const taskQueue = `bench-cluster-${count}-workers`;
      const workers = await startWorkers(count, url.toString(), sink.url, cluster.frontendAddress, taskQueue, options.dataDir);
      try {
        // One run first: each worker's workflow sandbox warm, as in a long-running deployment.
        await durableRun(client, taskQueue, { customerIds: [activeIds[0]!], ...period, sendEmail: false });
        // Two batches in flight per worker, the default's share for one worker.
        const parallelism = 2 * count;
        for (const emails of [false, true]) {
          await pool.query('DELETE FROM daily_reports WHERE report_date = $1', [period.from]);
          await pool.query('TRUNCATE report_emails');
          fs.rmSync(path.join(options.dataDir, 'mail'), { recursive: true, force: true });
          fs.mkdirSync(path.join(options.dataDir, 'mail'), { recursive: true });
          say(`all ${activeIds.length} customers, ${count} worker(s), parallelism ${parallelism}, ${emails ? 'with' : 'no'} emails ...`);
          const before = await usage.read(workers);
          const sinkBefore = process.cpuUsage();
          const run = await durableRun(client, taskQueue, { ...period, sendEmail: emails, parallelism }, { label: `${count} worker(s)`, customers: activeIds.length });
          const sinkCpu = process.cpuUsage(sinkBefore);
          const used = usage.since(before, await usage.read(workers));
          allCustomers.push({
            workers: count, parallelism, emails, seconds: round(run.ms / 1000, 1), customers: run.summary.customersProcessed, rowsWritten: run.summary.rowsWritten,
            emailsSent: run.summary.emailsSent, smtpSinkCpu: round((sinkCpu.user + sinkCpu.system) / 1e6), ...used,
          });
          say(`  ${round(run.ms / 1000, 1)} s, ${run.summary.rowsWritten} rows, ${run.summary.emailsSent} emails; ${JSON.stringify(used)}`);
        }
        if (count === options.workerCounts.at(-1)) singles = await singleRunsAtOnce(client, taskQueue, spreadSample(activeIds, options.singleRuns), period, count, usage, workers, say);
      } finally {
        for (const worker of workers) await worker.stop();
      }
    }
    const results = { allCustomers, singles: singles! };
    fs.writeFileSync(options.out, `${JSON.stringify({ spec, cluster: { historyShards: settings.CLUSTER_HISTORY_SHARDS }, ...results }, null, 2)}\n`);
    return results;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => logger.warn({ err: error.message }, 'cleanup failed'));
  }
}

async function startWorkers(count: number, databaseUrl: string, smtpUrl: string, temporalAddress: string, taskQueue: string, dataDir: string): Promise<WorkerProcess[]> {
  const workers: WorkerProcess[] = [];
  for (let i = 1; i <= count; i++) {
    workers.push(await WorkerProcess.start({
      databaseUrl, temporalAddress, taskQueue, smtpUrl,
      // Several at once: none serves metrics. 4 workflow tasks each, as npm run cluster gives its workers (WORKER_MAX_WORKFLOW_TASKS).
      env: { METRICS_PORT: '0', WORKER_MAX_WORKFLOW_TASKS: '4' },
      logFile: path.join(dataDir, 'logs', `bench-worker-${count}-${i}.log`),
    }));
  }
  return workers;
}

/** `ids.length` single-customer runs started at the same moment; each latency is its start call to its result. */
async function singleRunsAtOnce(
  client: Awaited<ReturnType<typeof connectClient>>['client'], taskQueue: string, ids: number[], period: { from: string; to: string },
  workers: number, usage: ReturnType<typeof usageMeter>, processes: WorkerProcess[], say: (line: string) => void,
): Promise<SingleRunsResult> {
  say(`${ids.length} single-customer runs started at once, ${workers} worker(s) ...`);
  const before = await usage.read(processes);
  const started = performance.now();
  const outcomes = await Promise.all(ids.map(async (customerId) => {
    const t0 = performance.now();
    try {
      const { handle } = await startRegenerateReports(client, { customerIds: [customerId], ...period, sendEmail: false }, { taskQueue, startedFrom: 'api', startedBy: 'bench' });
      const summary = (await handle.result()) as RegenerateReportsSummary;
      return { ms: performance.now() - t0, ok: summary.customersProcessed === 1 && summary.failures.length === 0 };
    } catch {
      return { ms: performance.now() - t0, ok: false };
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const used = usage.since(before, await usage.read(processes));
  const latencies = outcomes.filter((o) => o.ok).map((o) => o.ms);
  const result = {
    workers, runs: ids.length, completed: latencies.length, lost: ids.length - latencies.length,
    p50Ms: round(percentile(latencies, 50), 0), p95Ms: round(percentile(latencies, 95), 0), maxMs: round(Math.max(...latencies), 0), seconds: round(seconds, 1), ...used,
  };
  say(`  ${JSON.stringify(result)}`);
  return result;
}

interface Reading {
  load: number;
  temporal: number;
  postgres: number;
  workers: number;
  active: { temporal: number; ours: number };
}

function usageMeter(cluster: Cluster, postgresDataDir: string, adminUrl: string, ourDatabase: string) {
  const temporalDatabases = ['temporal', 'temporal_visibility'];
  return {
    read: async (workers: WorkerProcess[]): Promise<Reading> => {
      const services = cluster.services();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        // Statistics are flushed by each backend about once a second: a fresh snapshot after a pause.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await client.query('SELECT pg_stat_clear_snapshot()');
        const { rows } = await client.query<{ datname: string; ms: number }>('SELECT datname, active_time AS ms FROM pg_stat_database WHERE datname = ANY($1)', [[...temporalDatabases, ourDatabase]]);
        const ms = (names: string[]) => rows.filter((row) => names.includes(row.datname)).reduce((sum, row) => sum + Number(row.ms), 0);
        return {
          load: os.loadavg()[0]!,
          temporal: TEMPORAL_SERVICES.reduce((sum, service) => sum + cpuSecondsOfTree(services[service].pid), 0),
          postgres: cpuSecondsOfTree(postmasterPid(postgresDataDir)),
          workers: workers.reduce((sum, worker) => sum + cpuSecondsOfTree(worker.pid), 0),
          active: { temporal: ms(temporalDatabases) / 1000, ours: ms([ourDatabase]) / 1000 },
        };
      } finally {
        await client.end();
      }
    },
    since: (before: Reading, after: Reading): Usage => ({
      cpu: { temporal: round(after.temporal - before.temporal), postgres: round(after.postgres - before.postgres), workers: round(after.workers - before.workers) },
      statementSeconds: { temporal: round(after.active.temporal - before.active.temporal), ours: round(after.active.ours - before.active.ours) },
      loadAverage: { before: round(before.load), after: round(after.load) },
    }),
  };
}

