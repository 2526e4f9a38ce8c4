import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { createPool, inTransaction } from '../../src/db/pool.js';
import { startShopApi, type ShopApi } from '../../src/dev/shop-api.js';
import type { RequestCounts } from '../../src/dev/shop/controls.js';
import type { ApiOrder } from '../../src/dev/shop/order-store.js';
import { startSmtpSink } from '../../src/dev/smtp-sink.js';
import type { ImportOrdersSummary } from '../../src/import-orders-contract.js';
import { importOrdersJob } from '../../src/jobs/import-orders.js';
import { insertDemoCustomers } from '../../src/services/demo-data.js';
import { connectClient } from '../../src/temporal/client.js';
import { startJob } from '../../src/temporal/start-job.js';
import { countMailbox } from '../support/mailbox.js';
import type { FaultStack } from './fault-stack.js';
import { createScenarioDatabase, markdownTable, scenarioTaskQueue, scenarioWorkerEnv } from './scenario-setup.js';
import { checkImportInvariants, startCursorWatcher, type ImportInvariantReport } from './import-invariants.js';
import type { ImportScenario, ImportScenarioContext } from './import-scenarios.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export interface ImportScenarioResult extends ImportInvariantReport {
  scenario: string;
  /** The import run and the follow-up run (the next scheduled import) both completed. */
  completed: boolean;
  pages: number;
  /** Orders inserted or updated by the imports. */
  ordersWritten: number;
  quarantined: number;
  /** importOrderPages attempts that failed and were retried (from the runs' histories). */
  retries: number;
  /** Shop answers other than 200: 5xx, 429, and responses cut mid-body. */
  apiErrors: number;
  /** Changes made in the shop during the import: late orders, corrections, cancellations. */
  changes: number;
  /** Polls of the committed cursor, and the orders at or before it found absent or different. */
  cursorChecks: number;
  cursorAhead: number;
  /** Messages the SMTP sink stored during the imports (correction emails are not built yet: must be 0). */
  emailsSent: number;
  seconds: number;
  error?: string;
}

/** The shop's demo data: `customers` customers, 10 days of about 2 orders a day (≈18 orders a customer). */
const DATA = { days: 10, ordersPerCustomerPerDay: 2, endDate: '2026-11-10' };
/** The days the reports are checked on: the data's UTC days, widened by one for the customers' zones. */
const REPORT_FROM = '2026-10-31';
const REPORT_TO = '2026-11-11';
/** Small pages, a few per activity: many activities (and a continue-as-new at 1,000 customers), so the fault lands mid-import. */
export const IMPORT_INPUT = { pageSize: 50, pagesPerActivity: 4 };
const RUN_TIMEOUT_MS = 5 * 60_000;
/** The shop's own limit, out of the way except where a scenario lowers it. */
const GENEROUS_LIMIT = { perSecond: 10_000, burst: 10_000 };

// temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED (@temporalio/proto is not our dependency).
const STARTED = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One import scenario on a fresh database: the shop generates the demo data set, PostgreSQL
 * gets the same customers and no orders, real worker processes import it while the shop
 * changes already-imported orders (late orders for past days, amount corrections,
 * cancellations) and the scenario breaks one thing mid-import. Then a follow-up incremental
 * import (the schedule's next run) and the checks: `orders` equals the shop's data set, the
 * cursor was never ahead of its rows, the reports equal their truth, and no email was sent.
 */
export async function runImportScenario(stack: FaultStack, scenario: ImportScenario, customers: number, logger: Logger): Promise<ImportScenarioResult> {
  const { url: databaseUrl } = await createScenarioDatabase(stack, scenario.name, logger);
  const pool = createPool(databaseUrl, logger, 4);
  await inTransaction(pool, (client) => insertDemoCustomers(client, customers));

  const shopDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-faults-shop-'));
  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-faults-mail-'));
  const shopOptions = { dir: shopDir, logger, rateLimit: GENEROUS_LIMIT, controlToken: crypto.randomBytes(12).toString('hex') };
  let shop: ShopApi = await startShopApi({ ...shopOptions, data: { customers, ...DATA }, reset: true });
  const earlierCounts: RequestCounts[] = []; // a restarted shop counts from zero
  const sink = await startSmtpSink(mailDir, 0, logger);
  const taskQueue = scenarioTaskQueue(scenario.name);
  const env = {
    ...scenarioWorkerEnv(stack, databaseUrl, sink.url, taskQueue),
    ORDERS_API_URL: shop.url,
    ORDERS_API_KEY: shop.apiKey,
    ORDERS_API_MAX_REQUESTS_PER_SECOND: '200',
  };
  const workers: WorkerProcess[] = [];
  const { client, close } = await connectClient(stack.temporal);
  const started = Date.now();
  const deadline = started + RUN_TIMEOUT_MS;
  const cursorWatcher = startCursorWatcher(pool, () => shop.snapshot());
  const expectedPages = Math.ceil(shop.orderCount() / IMPORT_INPUT.pageSize);
  const requestCounts = async () => sumCounts([...earlierCounts, await shop.requestCounts()]);
  let importDone = false;
  const context: ImportScenarioContext = {
    stack,
    shop: () => shop,
    restartShop: async (downMs) => {
      earlierCounts.push(await shop.requestCounts());
      await shop.stop();
      await sleep(downMs);
      shop = await startShopApi({ ...shopOptions, port: shop.port });
    },
    workers,
    startWorker: () => startWorkerProcess(env),
    afterFraction: async (fraction) => {
      while (!importDone && Date.now() < deadline) {
        if (((await requestCounts()).byStatus[200] ?? 0) >= fraction * expectedPages) return true;
        await sleep(20);
      }
      return false;
    },
    pageAttemptRunning: async () => {
      while (!importDone && Date.now() < deadline) {
        const latest = handles[0] && client.workflow.getHandle(handles[0].workflowId);
        const pending = (await latest?.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
        if (pending.some((a) => a.activityType?.name === 'importOrderPages' && Number(a.state) === STARTED)) return true;
        await sleep(20);
      }
      return false;
    },
  };

  let error: string | undefined;
  let completed = false;
  const handles: WorkflowHandle[] = [];
  const summaries: ImportOrdersSummary[] = [];
  let changes = 0;
  const startImport = async () => {
    const { handle } = await startJob(client, importOrdersJob, IMPORT_INPUT, { taskQueue, startedFrom: 'api', startedBy: 'fault-suite' });
    handles.push(handle);
    return handle;
  };
  try {
    for (let i = 0; i < scenario.workers; i++) workers.push(await startWorkerProcess(env));
    const main = await startImport();
    const mainDone = main.result().finally(() => (importDone = true));
    mainDone.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    // Changes to orders already imported, before the fault and after it.
    if (await context.afterFraction(0.2)) changes += await changeShopOrders(shop, 1, customers);
    await scenario.inject(context);
    changes += await changeShopOrders(shop, 2, customers);
    const stuck = async (handle: WorkflowHandle) => `${await whereStuck(handle)}; worker processes alive: ${workers.filter(alive).length} of ${workers.length} started`;
    summaries.push((await withDeadline(mainDone, deadline, () => stuck(main))) as ImportOrdersSummary);
    // The schedule's next run: whatever changed after the first run had read to the end.
    const followUp = await startImport();
    summaries.push((await withDeadline(followUp.result(), deadline, () => stuck(followUp))) as ImportOrdersSummary);
    completed = true;
  } catch (e) {
    error = (e as Error).message;
  }
  importDone = true;
  const seconds = (Date.now() - started) / 1000;
  for (const handle of handles) await handle.terminate('fault scenario over').catch(() => undefined);
  const retries = await sumAsync(handles, (handle) => activityRetries(client, handle));
  const requests = await requestCounts();
  const notBitten = completed ? scenario.didNotBite({ retries, requests }) : undefined;
  if (notBitten) error ??= `the fault did not bite: ${notBitten}`;
  const watched = await cursorWatcher.stop();
  for (const worker of workers) await worker.stop();
  await close();
  const snapshot: ApiOrder[] = await shop.snapshot();
  const invariants = await checkImportInvariants(pool, snapshot, REPORT_FROM, REPORT_TO);
  const { rows: [quarantine] } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM import_quarantine');
  const { rows: [emailRows] } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM report_emails');
  const emailsSent = countMailbox(mailDir) + (emailRows?.n ?? 0);
  await shop.stop();
  await sink.stop();
  await pool.end();
  if (!error) {
    fs.rmSync(mailDir, { recursive: true, force: true });
    fs.rmSync(shopDir, { recursive: true, force: true });
  }
  return {
    scenario: scenario.name,
    completed,
    ...invariants,
    pages: summaries.reduce((sum, s) => sum + s.pages, 0),
    ordersWritten: summaries.reduce((sum, s) => sum + s.inserted + s.updated, 0),
    quarantined: quarantine?.n ?? 0,
    retries,
    apiErrors: requests.total - (requests.byStatus[200] ?? 0) + requests.cut,
    changes,
    cursorChecks: watched.checks,
    cursorAhead: watched.ahead,
    emailsSent,
    seconds,
    error,
  };
}

/**
 * A wave of changes in the shop to orders the import has most likely written already (the
 * earliest in the API's order), plus late orders for past days: for each of about customers/50
 * a correction, a cancellation and a late order. The second wave also cancels orders the first
 * corrected and corrects late orders of the first. Deterministic; returns the changes made.
 */
async function changeShopOrders(shop: ShopApi, wave: 1 | 2, customers: number): Promise<number> {
  const count = Math.max(5, Math.round(customers / 50));
  const orders = (await shop.snapshot()).sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.id - b.id);
  const early = orders.slice(0, Math.ceil(orders.length / 5)).filter((order) => order.status === 'placed' && order.updated_at === order.created_at);
  const stride = Math.floor(early.length / (2 * count + 1));
  let changes = 0;
  for (let k = 0; k < count; k++) {
    // Wave 1 takes even slots, wave 2 odd ones: no order is picked twice for the same change.
    const corrected = early[(2 * k + wave - 1) * stride];
    const cancelled = early[(2 * k + wave - 1) * stride + 1];
    if (corrected) {
      await shop.correctAmount(corrected.id, amount(wave * 100 + k));
      changes++;
    }
    if (cancelled) {
      await shop.cancel(cancelled.id);
      changes++;
    }
    const day = `2026-11-${String(1 + ((k * 3 + wave) % 10)).padStart(2, '0')}`;
    await shop.addOrder({ customerId: 1 + ((k * 37 + wave * 11) % customers), createdAt: `${day}T${String((k * 5) % 24).padStart(2, '0')}:17:42.123Z`, amount: amount(k + wave), sku: `LATE-${wave}-${k}` });
    changes++;
  }
  if (wave === 2) {
    // Orders changed again: a corrected order cancelled, a late order corrected.
    const changedBefore = orders.filter((order) => order.updated_at !== order.created_at || order.sku.startsWith('LATE-1-'));
    for (const order of changedBefore.slice(0, count)) {
      if (order.status === 'placed' && !order.sku.startsWith('LATE-')) await shop.cancel(order.id);
      else await shop.correctAmount(order.id, amount(order.id % 1000));
      changes++;
    }
  }
  return changes;
}

const amount = (n: number) => `${1 + ((n * 13) % 500)}.${String((n * 7) % 100).padStart(2, '0')}`;

function sumCounts(all: RequestCounts[]): RequestCounts {
  const total: RequestCounts = { byStatus: {}, total: 0, cut: 0, ordersServed: 0 };
  for (const counts of all) {
    for (const [status, n] of Object.entries(counts.byStatus)) total.byStatus[status] = (total.byStatus[status] ?? 0) + n;
    total.total += counts.total;
    total.cut += counts.cut;
    total.ordersServed += counts.ordersServed;
  }
  return total;
}

async function withDeadline<T>(work: Promise<T>, deadline: number, stuck: () => Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))));
  const outcome = await Promise.race([work, timedOut]).finally(() => clearTimeout(timer));
  if (outcome === 'timeout') throw new Error(`an import did not finish in time (stuck): ${await stuck()}`);
  return outcome;
}

/** A worker that died by itself (not by the scenario's kill) leaves the import with no one to run it. */
function alive(worker: WorkerProcess): boolean {
  try {
    process.kill(worker.pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function whereStuck(handle: WorkflowHandle): Promise<string> {
  const description = await handle.describe().catch(() => undefined);
  const pending = description?.raw.pendingActivities ?? [];
  return `${handle.workflowId} ${description?.status.name ?? '?'}: ${pending.length === 0 ? 'no activity pending' : pending.map((a) =>
    `${a.activityType?.name} attempt ${a.attempt}${a.lastFailure?.message ? ` (last failure: ${a.lastFailure.message})` : ''}`).join('; ')}`;
}

/** Failed attempts of the run's activities, from the histories of every run of its continue-as-new chain. */
async function activityRetries(client: Client, handle: WorkflowHandle): Promise<number> {
  let runId: string | undefined = (handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId;
  let retries = 0;
  while (runId) {
    const history = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory().catch(() => undefined);
    let next: string | undefined;
    for (const event of history?.events ?? []) {
      // A retried activity's Started event is recorded once, with the attempt that ended it.
      retries += Math.max(0, (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
      next ??= event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    runId = next;
  }
  return retries;
}

async function sumAsync<T>(items: T[], value: (item: T) => Promise<number>): Promise<number> {
  let sum = 0;
  for (const item of items) sum += await value(item);
  return sum;
}

export function importViolations(result: ImportScenarioResult): string[] {
  const problems: string[] = [];
  if (!result.completed || result.error) problems.push(result.completed ? result.error! : `did not complete${result.error ? ` (${result.error})` : ''}`);
  if (result.ordersWrong) problems.push(`${result.ordersWrong} orders differ from the shop's`);
  if (result.ordersMissing) problems.push(`${result.ordersMissing} of the shop's orders missing`);
  if (result.ordersDuplicated) problems.push(`${result.ordersDuplicated} orders duplicated or unknown to the shop`);
  if (result.ordersInDatabase !== result.ordersInShop) problems.push(`${result.ordersInDatabase} orders stored, the shop has ${result.ordersInShop}`);
  if (result.cursorAhead) problems.push(`the committed cursor was ahead of its rows (${result.cursorAhead} orders at or before it absent or different)`);
  if (result.cursorChecks === 0) problems.push('the cursor was never checked');
  if (result.reportRowsWrong) problems.push(`${result.reportRowsWrong} report rows differ from their truth`);
  if (result.reportRowsMissing) problems.push(`${result.reportRowsMissing} (customer, day) with orders have no report row`);
  if (result.quarantined) problems.push(`${result.quarantined} records quarantined (the shop sent none bad)`);
  if (result.emailsSent) problems.push(`${result.emailsSent} emails sent by an import (correction emails are not built: none expected)`);
  return problems;
}

export function formatImportTable(results: ImportScenarioResult[]): string {
  const header = ['scenario', 'completed', 'pages', 'orders written', 'shop changes', 'orders wrong / missing / duplicated', 'cursor ahead (checks)', 'report rows wrong / missing', 'quarantined', 'retries', 'API errors', 'emails', 'correction emails', 'time (s)'];
  const lines = results.map((r) => [
    r.scenario, r.completed && !r.error ? 'yes' : 'NO', r.pages, r.ordersWritten, r.changes, `${r.ordersWrong} / ${r.ordersMissing} / ${r.ordersDuplicated}`,
    `${r.cursorAhead} (${r.cursorChecks})`, `${r.reportRowsWrong} / ${r.reportRowsMissing}`, r.quarantined, r.retries, r.apiErrors, r.emailsSent, 'not yet', r.seconds.toFixed(1),
  ].map(String));
  return markdownTable(header, lines);
}
