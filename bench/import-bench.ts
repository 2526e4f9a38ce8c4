import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import { createPool, inTransaction, type Pool } from '../src/db/pool.js';
import { importOrdersJob } from '../src/jobs/import-orders.js';
import { insertDemoCustomers } from '../src/services/demo-data.js';
import { startJob } from '../src/temporal/start-job.js';
import { BENCH_END_DATE } from './bench-data.js';
import { cleanupsOnExit } from './cleanups.js';
import { startBenchStack } from './bench-stack.js';
import { historyTimings, type ActivityTimings } from './durable-variants.js';
import { durableImport, lowerBound, naiveRowByRow, serviceLoop, type DurableImport, type ImportVariantResult, type RssSample } from './import-variants.js';
import { withElapsed } from './progress.js';
import { formatMs, table } from './results.js';
import type { StatementTime } from './statement-timings.js';
import { shopDataFor, startBenchShop, type BenchShop } from './shop-server.js';
import { round } from './stats.js';
import { WorkerProcess } from './worker-process.js';

export interface ImportBenchOptions {
  /** Orders the shop should serve (its generator comes close, not exact). */
  orders: number;
  customers: number;
  days: number;
  /** The naive variant stops after this many orders. */
  naiveOrders: number;
  pageSize: number;
  pagesPerActivity: number;
  /** Also regenerate the report days the import touches (the job's default; the bench measures the import without). */
  regenerate: boolean;
  profile: boolean;
  dataDir: string;
  postgresPort: number;
  temporalPort: number;
  /** The import bench's own database (customers only; orders emptied before each variant). */
  database: string;
  out: string;
  workerCpuProfileDir?: string;
}

export const IMPORT_VARIANTS = ['lower_bound', 'naive_row_by_row', 'durable_jobs'] as const;
export const IMPORT_DIAGNOSTICS = ['service_loop', 'service_loop_prefetch'] as const;
type ImportVariant = (typeof IMPORT_VARIANTS)[number] | (typeof IMPORT_DIAGNOSTICS)[number];

/** bench-import-results.json: this exact shape. */
export interface ImportBenchResults {
  customers: number;
  orders: number;
  page_size: number;
  pages_per_activity: number;
  regenerate: boolean;
  variants: Record<string, { orders: number; ms: number; rows_per_s: number; x_lower_bound: number }>;
  worker_rss_mb: { peak: number; at_early: number; at_end: number; growth: number; early_orders: number };
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * `npm run bench -- --only import`: the shop's orders imported from its HTTP API three ways
 * (BENCHMARKS.md, "Import"), each from an empty `orders` table over the same customers, each
 * verified (row count and content checksum) before its time counts.
 */
export async function runImportBench(options: ImportBenchOptions, config: Config, logger: Logger): Promise<ImportBenchResults> {
  const cleanups = cleanupsOnExit(logger);
  try {
    say(`\nimport: machine ${os.cpus().length} cores, node ${process.version}; page size ${options.pageSize}, ${options.pagesPerActivity} pages per activity, ` +
      `regenerate ${options.regenerate}, ORDERS_API_MAX_REQUESTS_PER_SECOND 10000, shop rate limit 1,000,000/s`);
    const data = await withElapsed('sizing the shop data', async () => shopDataFor({ orders: options.orders, customers: options.customers, days: options.days, endDate: BENCH_END_DATE }));
    const shop: BenchShop = await withElapsed('starting the shop API', () => startBenchShop({ dir: path.join(options.dataDir, 'shop-import'), data }));
    cleanups.push(shop.stop);
    say(`shop: ${options.customers} customers x ${options.days} days x ${data.ordersPerCustomerPerDay.toFixed(4)} a day (mean) = ${shop.orders} orders (asked for ${options.orders}) at ${shop.url}`);

    const stack = await withElapsed('starting PostgreSQL and Temporal', () =>
      startBenchStack({ dataDir: options.dataDir, postgresPort: options.postgresPort, temporalPort: options.temporalPort, database: options.database }, logger),
    );
    cleanups.push(stack.stop);
    const pool = createPool(stack.databaseUrl, logger, 4);
    const watchPool = createPool(stack.databaseUrl, logger, 1);
    cleanups.push(() => Promise.all([pool.end(), watchPool.end()]));
    await ensureCustomers(pool, options.customers);

    await withElapsed('building the worker (npm run build)', () => WorkerProcess.build());
    const taskQueue = `bench-import-${crypto.randomBytes(4).toString('hex')}`;
    const worker = await withElapsed('starting the worker process', () =>
      WorkerProcess.start({
        databaseUrl: stack.databaseUrl,
        // The import never emails; the worker still wants an SMTP URL to start.
        smtpUrl: 'smtp://127.0.0.1:9',
        temporalAddress: stack.temporal.address,
        taskQueue,
        logFile: path.join(options.dataDir, 'worker-import.log'),
        cpuProfileDir: options.workerCpuProfileDir,
        env: { ORDERS_API_URL: shop.url, ORDERS_API_KEY: shop.apiKey, ORDERS_API_MAX_REQUESTS_PER_SECOND: '10000' },
      }),
    );
    cleanups.push(() => worker.stop());
    const connection = await Connection.connect(stack.temporal.connectionOptions);
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: stack.temporal.namespace });
    // One run before measuring (an empty window of the source): a long-running worker has its workflow sandbox warm.
    await durableWarmUp(client, taskQueue);

    const statementTimes = new Map<string, StatementTime>();
    const naiveCap = Math.min(options.naiveOrders, shop.orders);
    const run: Record<ImportVariant, () => Promise<ImportVariantResult | DurableImport>> = {
      lower_bound: () => lowerBound(pool, shop, options.pageSize, shop.orders),
      naive_row_by_row: () => naiveRowByRow(pool, shop, options.pageSize, naiveCap),
      durable_jobs: () =>
        durableImport(client, taskQueue, { regenerate: options.regenerate, pageSize: options.pageSize, pagesPerActivity: options.pagesPerActivity }, { pool: watchPool, worker, total: shop.orders }),
      service_loop: () => serviceLoop(pool, shop, options.pageSize, shop.orders, { prefetch: false, label: 'service_loop', statementTimes }),
      service_loop_prefetch: () => serviceLoop(pool, shop, options.pageSize, shop.orders, { prefetch: true, label: 'service_loop_prefetch' }),
    };
    const variants: ImportVariant[] = [...IMPORT_VARIANTS, ...(options.profile ? IMPORT_DIAGNOSTICS : [])];
    const outcomes = new Map<ImportVariant, ImportVariantResult>();
    let reference: OrdersCheck | undefined;
    say('');
    for (const variant of variants) {
      await resetOrders(pool);
      const outcome = await run[variant]();
      const check = await checkOrders(pool);
      const expected = variant === 'naive_row_by_row' ? naiveCap : shop.orders;
      reference ??= check;
      const complete = expected === shop.orders;
      if (check.rows !== expected || outcome.orders !== expected || (complete && check.checksum !== reference.checksum)) {
        throw new Error(`${variant} left ${check.rows} orders (said ${outcome.orders}, expected ${expected}), checksum ${check.checksum === reference.checksum ? 'equal' : 'DIFFERENT'}`);
      }
      if ('summary' in outcome && (outcome.summary.quarantined > 0 || outcome.summary.inserted !== shop.orders)) {
        throw new Error(`durable_jobs summary does not match: ${JSON.stringify(outcome.summary)}`);
      }
      outcomes.set(variant, outcome);
      say(`  verified ${variant.padEnd(22)} ${formatMs(outcome.ms).padStart(9)}  ${check.rows} orders in ${outcome.pages} pages` +
        `${complete ? ', content = the shop\'s (= reference)' : ` (capped at ${naiveCap}), count only`}`);
    }

    const durable = outcomes.get('durable_jobs') as DurableImport;
    const rss = rssGrowth(durable.samples, shop.orders);
    const lower = outcomes.get('lower_bound')!;
    const rate = (o: ImportVariantResult) => (o.orders / o.ms) * 1000;
    const results: ImportBenchResults = {
      customers: options.customers,
      orders: shop.orders,
      page_size: options.pageSize,
      pages_per_activity: options.pagesPerActivity,
      regenerate: options.regenerate,
      variants: Object.fromEntries([...outcomes].map(([name, o]) => [name, { orders: o.orders, ms: round(o.ms), rows_per_s: round(rate(o)), x_lower_bound: round(rate(o) / rate(lower), 2) }])),
      worker_rss_mb: { peak: round(worker.peakRssMb().mb), at_early: round(rss.early.rssMb), at_end: round(rss.end.rssMb), growth: round(rss.end.rssMb - rss.early.rssMb), early_orders: rss.early.written },
    };
    fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);

    if (options.profile) await printImportProfile(client, durable, outcomes, statementTimes);

    say(`\nimport: ${shop.orders} orders, ${options.customers} customers, page size ${options.pageSize}, ${options.pagesPerActivity} pages per activity, regenerate ${options.regenerate}, one run`);
    say(table([
      ['variant', 'orders', 'time', 'rows/s', 'x lower bound'],
      ...[...outcomes].map(([name, o]) => [
        name + (name === 'naive_row_by_row' && naiveCap < shop.orders ? ` (first ${naiveCap})` : '') + (IMPORT_DIAGNOSTICS.includes(name as never) ? ' (diagnostic)' : ''),
        String(o.orders), formatMs(o.ms), String(Math.round(rate(o))), (rate(o) / rate(lower)).toFixed(2),
      ]),
    ]));
    const w = results.worker_rss_mb;
    say(`\n${table([
      ['measure', 'value'],
      ['worker peak RSS (VmHWM, whole life: warm-up + import)', `${w.peak} MB`],
      [`worker RSS at ${w.early_orders} orders imported`, `${w.at_early} MB`],
      [`worker RSS at the end (${shop.orders} orders)`, `${w.at_end} MB`],
      ['growth between them', `${w.growth} MB`],
      ['highest RSS sampled during the import', `${round(Math.max(...durable.samples.map((s) => s.rssMb)))} MB (${durable.samples.length} samples, every 250 ms)`],
    ])}`);
    const ratio = results.variants.durable_jobs!.x_lower_bound;
    say(`\n${table([
      ['goal', 'measured', 'met'],
      ['durable import >= 0.8 x lower bound', `${ratio.toFixed(2)} x`, ratio >= 0.8 ? 'yes' : 'NO'],
      ['worker RSS <= 250 MB', `${w.peak} MB`, w.peak <= 250 ? 'yes' : 'NO'],
    ])}`);
    say(`\nwrote ${options.out}`);
    return results;
  } finally {
    await cleanups.run();
  }
}

/** The shop's demo customers (insertDemoCustomers, as the shop's data assumes), kept if already there. */
async function ensureCustomers(pool: Pool, count: number): Promise<void> {
  const { rows } = await pool.query<{ n: number; max: number | null }>('SELECT count(*)::int AS n, max(id)::int AS max FROM customers');
  if (rows[0]!.n === count && rows[0]!.max === count) return;
  await inTransaction(pool, async (client) => {
    await client.query('TRUNCATE report_emails, daily_reports, orders, customers, import_cursors, import_quarantine RESTART IDENTITY CASCADE');
    await insertDemoCustomers(client, count);
  });
  await pool.query('VACUUM (ANALYZE) customers');
}

/** Every variant starts here: no orders, no cursor, nothing quarantined, dirty pages flushed. */
async function resetOrders(pool: Pool): Promise<void> {
  await pool.query('TRUNCATE orders, import_cursors, import_quarantine, import_affected_days, import_affected_days_log');
  await pool.query('CHECKPOINT').catch(() => undefined);
}

interface OrdersCheck {
  rows: number;
  checksum: string;
}

/** Row count and an order-independent hash of every column the import writes. */
async function checkOrders(pool: Pool): Promise<OrdersCheck> {
  const { rows } = await pool.query<{ rows: number; checksum: string | null }>(
    `SELECT count(*)::int AS rows,
            sum(hashtext(concat_ws('|', id, customer_id, currency, amount_cents, sku, created_at, updated_at, status))::bigint)::text AS checksum
       FROM orders`,
  );
  return { rows: rows[0]!.rows, checksum: rows[0]!.checksum ?? '0' };
}

/** A window of the source where it has nothing: the whole path once (workflow, activity, one request, one transaction). */
async function durableWarmUp(client: Client, taskQueue: string): Promise<void> {
  const { handle } = await startJob(client, importOrdersJob, { since: '2000-01-01T00:00:00Z', until: '2000-01-01T00:00:01Z', regenerate: false }, { taskQueue, startedFrom: 'api', startedBy: 'bench' });
  await handle.result();
}

/**
 * The worker's RSS once the import has committed a tenth of the orders (at most 100,000:
 * the issue's "100k") and at the end.
 */
function rssGrowth(samples: RssSample[], total: number): { early: RssSample; end: RssSample } {
  const mark = Math.min(100_000, Math.floor(total / 10));
  const early = samples.find((s) => s.written >= mark) ?? samples[0]!;
  return { early, end: samples.at(-1)! };
}

/** Where the durable import's time went: per task type over every run of its continue-as-new chain. */
async function printImportProfile(
  client: Client,
  durable: DurableImport,
  outcomes: Map<ImportVariant, ImportVariantResult>,
  statementTimes: Map<string, StatementTime>,
): Promise<void> {
  const merged = new Map<string, ActivityTimings>();
  let runId: string | undefined = durable.runId;
  let runs = 0;
  while (runId) {
    runs++;
    for (const t of await historyTimings(client, durable.workflowId, runId)) {
      const m = merged.get(t.type) ?? { type: t.type, count: 0, queueMsTotal: 0, runMsTotal: 0, runMsMax: 0 };
      merged.set(t.type, { type: t.type, count: m.count + t.count, queueMsTotal: m.queueMsTotal + t.queueMsTotal, runMsTotal: m.runMsTotal + t.runMsTotal, runMsMax: Math.max(m.runMsMax, t.runMsMax) });
    }
    const history = await client.workflow.getHandle(durable.workflowId, runId).fetchHistory();
    const next: string | null | undefined = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    runId = next ?? undefined;
  }
  say(`\nprofile: durable_jobs ${durable.workflowId} (${formatMs(durable.ms)}), ${runs} runs (continue-as-new), from their histories`);
  say(table([
    ['task', 'count', 'queued total', 'running total', 'running mean', 'running max', 'share of wall time'],
    ...[...merged.values()].map((t) => [t.type, String(t.count), formatMs(t.queueMsTotal), formatMs(t.runMsTotal), formatMs(t.runMsTotal / t.count), formatMs(t.runMsMax), `${((t.runMsTotal / durable.ms) * 100).toFixed(1)} %`]),
  ]));
  say('\nprofile: plain loops, time waiting for pages (HTTP + JSON) and writing them');
  say(table([
    ['variant', 'time', 'fetch', 'write', 'per page: fetch / write'],
    ...[...outcomes].filter(([, o]) => o.fetchMs !== undefined).map(([name, o]) => [
      name, formatMs(o.ms), formatMs(o.fetchMs!), formatMs(o.writeMs!), `${(o.fetchMs! / o.pages).toFixed(2)} ms / ${(o.writeMs! / o.pages).toFixed(2)} ms`,
    ]),
  ]));
  const loop = outcomes.get('service_loop');
  if (!loop || statementTimes.size === 0) return;
  const inStatements = [...statementTimes.values()].reduce((sum, t) => sum + t.ms, 0);
  say(`\nprofile: service_loop's writes (OrderImport.applyPage), per statement, round trip included; ${loop.pages} pages`);
  say(table([
    ['statement', 'count', 'total', 'per page', 'share of the writes'],
    ...[...statementTimes.values()].sort((a, b) => b.ms - a.ms).map((t) => [t.statement, String(t.count), formatMs(t.ms), `${(t.ms / loop.pages).toFixed(2)} ms`, `${((t.ms / loop.writeMs!) * 100).toFixed(1)} %`]),
    ['(JavaScript between statements: validation, mapping)', '', formatMs(loop.writeMs! - inStatements), `${((loop.writeMs! - inStatements) / loop.pages).toFixed(2)} ms`,
      `${(((loop.writeMs! - inStatements) / loop.writeMs!) * 100).toFixed(1)} %`],
  ]));
}
