import type { Client } from '@temporalio/client';
import type { Pool } from '../src/db/pool.js';
import type { ApiOrder } from '../src/dev/shop/order-store.js';
import type { ImportOrdersSummary } from '../src/import-orders-contract.js';
import { importOrdersJob } from '../src/jobs/import-orders.js';
import { OrderImport } from '../src/services/order-import.js';
import { readPage } from '../src/services/order-page.js';
import { ShopOrdersClient, type OrdersPage } from '../src/services/shop-orders-client.js';
import { startJob } from '../src/temporal/start-job.js';
import { startProgress } from './progress.js';
import { timingPool, type StatementTime } from './statement-timings.js';
import { timed } from './stats.js';
import type { WorkerProcess } from './worker-process.js';

/**
 * The import bench's variants. Each reads the same pages (500 orders, ascending updated_at)
 * from the same shop API over HTTP, starting from an empty `orders` table, and writes them:
 *  - lower_bound: one multi-row upsert per page, nothing else (no validation, no cursor, no
 *    transaction around it), in a plain loop;
 *  - naive_row_by_row: one INSERT per order, autocommit, capped (it is slow);
 *  - durable_jobs: the importOrders workflow through the worker process;
 * and, with --profile, two diagnostics that split the durable variant's cost:
 *  - service_loop: OrderImport.applyPage (the service the activity calls) in a plain loop,
 *    no Temporal: what the import's own writes cost, with fetch and write timed apart;
 *  - service_loop_prefetch: the same, fetching page n+1 while page n is written: the
 *    proposed change to the activity, prototyped here (src is not the bench's to change).
 */

export interface ImportVariantResult {
  ms: number;
  /** Orders this variant wrote (the naive one stops at its cap). */
  orders: number;
  pages: number;
  /** Time spent waiting for pages and writing them (plain loops only). */
  fetchMs?: number;
  writeMs?: number;
}

/** The lower bound's statement: the minimal idempotent upsert, newer updated_at wins. */
export const MINIMAL_UPSERT = `
  INSERT INTO orders AS o (id, customer_id, currency, amount_cents, sku, created_at, updated_at, status)
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[])
  ON CONFLICT (id) DO UPDATE
     SET customer_id = EXCLUDED.customer_id, currency = EXCLUDED.currency, amount_cents = EXCLUDED.amount_cents,
         sku = EXCLUDED.sku, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, status = EXCLUDED.status
   WHERE o.updated_at < EXCLUDED.updated_at`;

/** The same for one order: what a script that loops over the records sends. */
export const ONE_ROW_UPSERT = `
  INSERT INTO orders AS o (id, customer_id, currency, amount_cents, sku, created_at, updated_at, status)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (id) DO UPDATE
     SET customer_id = EXCLUDED.customer_id, currency = EXCLUDED.currency, amount_cents = EXCLUDED.amount_cents,
         sku = EXCLUDED.sku, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, status = EXCLUDED.status
   WHERE o.updated_at < EXCLUDED.updated_at`;

/** "19.99" → 1999, exactly (no floating point). */
function cents(amount: string): number {
  const [whole, fraction = ''] = amount.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

function rowOf(r: ApiOrder): unknown[] {
  return [r.id, r.customer_id, r.currency, cents(r.amount), r.sku, r.created_at, r.updated_at, r.status];
}

/** Every page of the source, in order, from its start: `visit` returns false to stop. */
async function eachPage(
  api: ShopOrdersClient,
  pageSize: number,
  visit: (page: OrdersPage) => Promise<boolean>,
  options: { prefetch?: boolean; timing?: { fetchMs: number } } = {},
): Promise<number> {
  let pages = 0;
  const fetchPage = (cursor: string | null) => api.fetchPage({ limit: pageSize, ...(cursor ? { cursor } : {}) });
  let next: Promise<OrdersPage> | null = fetchPage(null);
  while (next) {
    const started = performance.now();
    const page: OrdersPage = await next;
    if (options.timing) options.timing.fetchMs += performance.now() - started;
    pages++;
    // Prefetching asks for page n+1 before page n is written: its cursor is already known.
    next = page.nextCursor === null ? null : options.prefetch ? fetchPage(page.nextCursor) : null;
    const more = await visit(page);
    if (!more) break;
    if (!options.prefetch && page.nextCursor !== null) next = fetchPage(page.nextCursor);
  }
  // A prefetched page nobody wants any more must still be read, or its socket stays busy.
  await next?.catch(() => undefined);
  return pages;
}

export function shopClient(shop: { url: string; apiKey: string }): ShopOrdersClient {
  return new ShopOrdersClient({ baseUrl: shop.url, apiKey: shop.apiKey });
}

/** The lower bound: fetch a page, one multi-row upsert, next page. */
export async function lowerBound(pool: Pool, shop: { url: string; apiKey: string }, pageSize: number, total: number): Promise<ImportVariantResult> {
  const api = shopClient(shop);
  const progress = startProgress('lower_bound', total);
  const timing = { fetchMs: 0, writeMs: 0 };
  let orders = 0;
  try {
    const { ms, result: pages } = await timed(() =>
      eachPage(api, pageSize, async (page) => {
        const records = page.records as ApiOrder[];
        const started = performance.now();
        await pool.query(MINIMAL_UPSERT, [
          records.map((r) => r.id), records.map((r) => r.customer_id), records.map((r) => r.currency), records.map((r) => cents(r.amount)),
          records.map((r) => r.sku), records.map((r) => r.created_at), records.map((r) => r.updated_at), records.map((r) => r.status),
        ]);
        timing.writeMs += performance.now() - started;
        orders += records.length;
        progress.update(orders);
        return true;
      }, { timing }),
    );
    return { ms, orders, pages, ...timing };
  } finally {
    progress.stop();
  }
}

/** A script's loop: one INSERT per order, each its own transaction; stops after `cap` orders. */
export async function naiveRowByRow(pool: Pool, shop: { url: string; apiKey: string }, pageSize: number, cap: number): Promise<ImportVariantResult> {
  const api = shopClient(shop);
  const client = await pool.connect();
  const progress = startProgress('naive_row_by_row', cap);
  const timing = { fetchMs: 0, writeMs: 0 };
  let orders = 0;
  try {
    const { ms, result: pages } = await timed(() =>
      eachPage(api, pageSize, async (page) => {
        const started = performance.now();
        for (const record of page.records as ApiOrder[]) {
          if (orders === cap) break;
          await client.query(ONE_ROW_UPSERT, rowOf(record));
          orders++;
        }
        timing.writeMs += performance.now() - started;
        progress.update(orders);
        return orders < cap;
      }, { timing }),
    );
    return { ms, orders, pages, ...timing };
  } finally {
    progress.stop();
    client.release();
  }
}

/**
 * What the activity does, without Temporal: OrderImport.applyPage per page (validation,
 * customer check, upsert with what-changed, affected days, quarantine, cursor), the cursor
 * moved to the page's last record.
 */
export async function serviceLoop(
  pool: Pool,
  shop: { url: string; apiKey: string },
  pageSize: number,
  total: number,
  options: { prefetch: boolean; label: string; statementTimes?: Map<string, StatementTime> },
): Promise<ImportVariantResult> {
  const api = shopClient(shop);
  const orderImport = new OrderImport(options.statementTimes ? timingPool(pool, options.statementTimes) : pool);
  const progress = startProgress(options.label, total);
  const timing = { fetchMs: 0, writeMs: 0 };
  let orders = 0;
  try {
    const { ms, result: pages } = await timed(() =>
      eachPage(api, pageSize, async (page) => {
        const last = page.records.at(-1) as ApiOrder | undefined;
        const started = performance.now();
        const applied = await orderImport.applyReadPage({
          source: 'shop', page: readPage(page.records), cursorAfter: last ? { updatedAt: last.updated_at, id: last.id } : null, dryRun: false,
        });
        timing.writeMs += performance.now() - started;
        if (applied.quarantined > 0) throw new Error(`${options.label}: ${applied.quarantined} records quarantined; the bench's shop sends only good ones`);
        orders += applied.inserted + applied.updated;
        progress.update(orders);
        return true;
      }, { prefetch: options.prefetch, timing }),
    );
    return { ms, orders, pages, ...timing };
  } finally {
    progress.stop();
  }
}

export interface RssSample {
  /** Since the run started. */
  ms: number;
  /** Orders the import had committed then (import_cursors.orders_written). */
  written: number;
  rssMb: number;
}

export interface DurableImport extends ImportVariantResult {
  workflowId: string;
  runId: string;
  summary: ImportOrdersSummary;
  samples: RssSample[];
}

/**
 * The importOrders workflow, started as every door starts it (the job registry's startJob),
 * through the worker process; the worker's RSS and the committed orders sampled every 250 ms.
 */
export async function durableImport(
  client: Client,
  taskQueue: string,
  input: { regenerate: boolean; pageSize: number; pagesPerActivity: number },
  watch: { pool: Pool; worker: WorkerProcess; total: number },
): Promise<DurableImport> {
  const progress = startProgress('durable_jobs', watch.total);
  const samples: RssSample[] = [];
  const started = performance.now();
  let sampling = Promise.resolve();
  const sample = () => {
    sampling = sampling.then(async () => {
      const { rows } = await watch.pool.query<{ written: string }>("SELECT orders_written AS written FROM import_cursors WHERE source = 'shop'");
      const written = Number(rows[0]?.written ?? 0);
      samples.push({ ms: performance.now() - started, written, rssMb: watch.worker.rssMb() });
      progress.update(written);
    }).catch(() => undefined);
  };
  const timer = setInterval(sample, 250);
  try {
    const { handle } = await startJob(client, importOrdersJob, input, { taskQueue, startedFrom: 'api', startedBy: 'bench' });
    const summary = (await handle.result()) as ImportOrdersSummary;
    const ms = performance.now() - started;
    clearInterval(timer);
    sample();
    await sampling;
    const runId = (handle as { firstExecutionRunId?: string }).firstExecutionRunId ?? '';
    return { ms, orders: summary.inserted + summary.updated, pages: summary.pages, workflowId: handle.workflowId, runId, summary, samples };
  } finally {
    clearInterval(timer);
    progress.stop();
  }
}
