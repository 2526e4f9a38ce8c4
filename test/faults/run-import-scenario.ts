import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { createPool, inTransaction, type Pool } from '../../src/db/pool.js';
import { startShopApi, type ShopApi } from '../../src/dev/shop-api.js';
import type { RequestCounts } from '../../src/dev/shop/controls.js';
import type { ApiOrder } from '../../src/dev/shop/order-store.js';
import { startSmtpSink } from '../../src/dev/smtp-sink.js';
import type { ImportOrdersSummary } from '../../src/import-orders-contract.js';
import { importOrdersJob } from '../../src/jobs/import-orders.js';
import { insertDemoCustomers } from '../../src/services/demo-data.js';
import { connectClient } from '../../src/temporal/client.js';
import { startJob } from '../../src/temporal/start-job.js';
import { localDate, zonedInstant } from '../../src/dates.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { readMailbox } from '../support/mailbox.js';
import { workersFor, type FaultStack } from './fault-stack.js';
import { createScenarioDatabase, markdownTable, scenarioTaskQueue, scenarioWorkerEnv } from './scenario-setup.js';
import { checkCorrections, checkImportInvariants, reportNumbers, startCursorWatcher, type CorrectionReport, type ImportInvariantReport, type SeededFinalReports } from './import-invariants.js';
import type { ImportScenario, ImportScenarioContext } from './import-scenarios.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export interface ImportScenarioResult extends ImportInvariantReport, CorrectionReport {
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
  seconds: number;
  error?: string;
}

/** The shop's demo data: `customers` customers, 10 days of about 2 orders a day (≈18 orders a customer). */
const DATA = { days: 10, ordersPerCustomerPerDay: 2, endDate: '2026-11-10' };
/** The days the reports are checked on: the data's UTC days, widened by one for the customers' zones. */
const REPORT_FROM = '2026-10-31';
const REPORT_TO = '2026-11-11';
/**
 * Before the faulted import: a clean windowed import of the orders up to FIRST_IMPORT_UNTIL
 * (it leaves the cursor where it is, so the faulted import still reads every page), then the
 * final reports of EMAILED_DAYS (over long ago in every zone, and wholly imported: the zone
 * furthest behind UTC, Honolulu, ends 2026-11-03 at 11-04T10:00Z) emailed to EMAILED_CUSTOMERS
 * active customers with orders on them, one email each covering both days.
 */
const FIRST_IMPORT = { since: '2026-10-01T00:00:00Z', until: '2026-11-05T00:00:00Z', pageSize: 1000, pagesPerActivity: 20 };
const EMAILED_DAYS = ['2026-11-02', '2026-11-03'];
const EMAILED_CUSTOMERS = 50;
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
 * cursor was never ahead of its rows, the reports equal their truth, and the only emails are
 * the final reports emailed before the faulted import (after a clean first import of the
 * orders they cover) and exactly one correction per revision that changed one of their days.
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
  let cursorWatcher: ReturnType<typeof startCursorWatcher> | undefined;
  const expectedPages = Math.ceil(shop.orderCount() / IMPORT_INPUT.pageSize);
  /** Pages the shop served before the faulted import (the first, clean one): "mid-import" counts after them. */
  let pagesBefore = 0;
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
        if (((await requestCounts()).byStatus[200] ?? 0) - pagesBefore >= fraction * expectedPages) return true;
        await sleep(20);
      }
      return false;
    },
    pageAttemptRunning: async () => {
      while (!importDone && Date.now() < deadline) {
        const latest = handles[0] && client.workflow.getHandle(handles[0].workflowId);
        const pending = (await latest?.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
        const page = pending.find((a) => a.activityType?.name === 'importOrderPages' && Number(a.state) === STARTED);
        if (page) return page.lastWorkerIdentity || 'unknown';
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
  let seeded: SeededFinalReports | undefined;
  /** The first import and the report run that emails: terminated like the others if stuck, not counted as the scenario's. */
  const seedHandles: WorkflowHandle[] = [];
  const startImport = async () => {
    const { handle } = await startJob(client, importOrdersJob, IMPORT_INPUT, { taskQueue, startedFrom: 'api', startedBy: 'fault-suite' });
    handles.push(handle);
    return handle;
  };
  try {
    for (let i = 0; i < workersFor(stack, scenario.workers); i++) workers.push(await startWorkerProcess(env));
    seeded = await seedFinalReports(client, pool, taskQueue, mailDir, deadline, seedHandles);
    pagesBefore = (await requestCounts()).byStatus[200] ?? 0;
    cursorWatcher = startCursorWatcher(pool, () => shop.snapshot());
    const zones = await customerZones(pool);
    const emailed = { customerIds: seeded.customerIds, days: seeded.days, zones };
    const main = await startImport();
    const mainDone = main.result().finally(() => (importDone = true));
    mainDone.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    // Changes to orders already imported, before the fault and after it.
    if (await context.afterFraction(0.2)) changes += await changeShopOrders(shop, 1, customers, emailed);
    await scenario.inject(context);
    changes += await changeShopOrders(shop, 2, customers, emailed);
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
  for (const handle of [...seedHandles, ...handles]) await handle.terminate('fault scenario over').catch(() => undefined);
  const retries = await sumAsync(handles, (handle) => activityRetries(client, handle));
  const requests = await requestCounts();
  const notBitten = completed ? scenario.didNotBite({ retries, requests }) : undefined;
  if (notBitten) error ??= `the fault did not bite: ${notBitten}`;
  const watched = (await cursorWatcher?.stop()) ?? { checks: 0, ahead: 0 };
  for (const worker of workers) await worker.stop();
  await close();
  const snapshot: ApiOrder[] = await shop.snapshot();
  const invariants = await checkImportInvariants(pool, snapshot, REPORT_FROM, REPORT_TO);
  const { rows: [quarantine] } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM import_quarantine');
  const corrections = seeded
    ? await checkCorrections(pool, readMailbox(mailDir), seeded)
    : await checkCorrections(pool, readMailbox(mailDir), { days: [], customerIds: [], keys: [], files: [], numbers: new Map() });
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
    ...corrections,
    pages: summaries.reduce((sum, s) => sum + s.pages, 0),
    ordersWritten: summaries.reduce((sum, s) => sum + s.inserted + s.updated, 0),
    quarantined: quarantine?.n ?? 0,
    retries,
    apiErrors: requests.total - (requests.byStatus[200] ?? 0) + requests.cut,
    changes,
    cursorChecks: watched.checks,
    cursorAhead: watched.ahead,
    seconds,
    error,
  };
}

/**
 * The state the faulted import starts from: the orders of the emailed days imported by a clean
 * windowed run, and the final report of those days emailed to a spread of active customers
 * (so report_emails holds final records, and the mailbox their messages). Returns who got
 * which days and the numbers they read.
 */
async function seedFinalReports(client: Client, pool: Pool, taskQueue: string, mailDir: string, deadline: number, seedHandles: WorkflowHandle[]): Promise<SeededFinalReports> {
  const options = { taskQueue, startedFrom: 'api' as const, startedBy: 'fault-suite' };
  const { handle: first } = await startJob(client, importOrdersJob, FIRST_IMPORT, options);
  seedHandles.push(first);
  const imported = (await withDeadline(first.result(), deadline, () => whereStuck(first))) as ImportOrdersSummary;
  if (imported.regenerationFailures.length > 0) throw new Error(`the first (clean) import failed to regenerate: ${JSON.stringify(imported.regenerationFailures)}`);
  // Customers with orders on those days (a report with none is not emailed), spread over the ids.
  const { rows: active } = await pool.query<{ id: number }>(
    `SELECT DISTINCT r.customer_id::int AS id FROM daily_reports r JOIN customers c ON c.id = r.customer_id AND c.active
      WHERE r.report_date = ANY($1::date[]) AND r.order_count > 0 ORDER BY 1`,
    [EMAILED_DAYS],
  );
  const step = Math.max(1, Math.floor(active.length / EMAILED_CUSTOMERS));
  const customerIds = active.filter((_, i) => i % step === 0).slice(0, EMAILED_CUSTOMERS).map((row) => row.id);
  const [from, to] = [EMAILED_DAYS[0]!, EMAILED_DAYS[EMAILED_DAYS.length - 1]!];
  const { handle } = await startRegenerateReports(client, { customerIds, from, to }, options);
  seedHandles.push(handle);
  const emailed = await withDeadline(handle.result(), deadline, () => whereStuck(handle));
  if (emailed.emailsSent === 0) throw new Error(`emailing the final reports of ${from}..${to} sent nothing: ${JSON.stringify(emailed)}`);
  const { rows: records } = await pool.query<{ customer_id: number; idempotency_key: string }>(
    "SELECT customer_id::int, idempotency_key FROM report_emails WHERE state = 'sent' ORDER BY customer_id",
  );
  const emailedIds = records.map((row) => row.customer_id);
  return {
    days: EMAILED_DAYS,
    customerIds: emailedIds,
    keys: records.map((row) => row.idempotency_key),
    files: readMailbox(mailDir).map((message) => message.file),
    numbers: await reportNumbers(pool, emailedIds, EMAILED_DAYS),
  };
}

async function customerZones(pool: Pool): Promise<Map<number, string>> {
  const { rows } = await pool.query<{ id: number; time_zone: string }>('SELECT id::int, time_zone FROM customers');
  return new Map(rows.map((row) => [row.id, row.time_zone]));
}

/** Customers whose final reports of `days` were emailed, and every customer's zone. */
interface EmailedDays {
  customerIds: number[];
  days: string[];
  zones: Map<number, string>;
}

/**
 * A wave of changes in the shop to orders the import has most likely written already (the
 * earliest in the API's order), plus late orders for past days: for each of about customers/50
 * a correction, a cancellation and a late order. The second wave also cancels orders the first
 * corrected and corrects late orders of the first. Some of each kind hit the emailed final
 * days on purpose: orders of an emailed (customer, day) corrected or cancelled, and late
 * orders at midday, where the customer is, of an emailed day. Deterministic; returns the changes made.
 */
async function changeShopOrders(shop: ShopApi, wave: 1 | 2, customers: number, emailed: EmailedDays): Promise<number> {
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
  changes += await changeEmailedDays(shop, wave, customers, emailed);
  return changes;
}

/** For about customers/100 (at least 3) emailed (customer, day) pairs each: a correction, a cancellation, a late order. */
async function changeEmailedDays(shop: ShopApi, wave: 1 | 2, customers: number, { customerIds, days, zones }: EmailedDays): Promise<number> {
  if (customerIds.length === 0) return 0;
  const count = Math.max(3, Math.round(customers / 100));
  const emailedIds = new Set(customerIds);
  // Orders of emailed pairs the shop has not changed yet (a wave never picks what the other changed).
  const candidates = (await shop.snapshot())
    .filter((order) => emailedIds.has(order.customer_id) && order.status === 'placed' && order.updated_at === order.created_at &&
      days.includes(localDate(new Date(order.created_at), zones.get(order.customer_id)!)))
    .sort((a, b) => a.id - b.id);
  const stride = Math.max(2, Math.floor(candidates.length / (2 * count + 1)));
  let changes = 0;
  for (let k = 0; k < count; k++) {
    const corrected = candidates[(2 * k + wave - 1) * stride];
    const cancelled = candidates[(2 * k + wave - 1) * stride + 1];
    if (corrected) {
      await shop.correctAmount(corrected.id, amount(wave * 200 + k + 7));
      changes++;
    }
    if (cancelled) {
      await shop.cancel(cancelled.id);
      changes++;
    }
    const customerId = customerIds[(k * 7 + wave * 3) % customerIds.length]!;
    const day = days[(k + wave) % days.length]!;
    await shop.addOrder({ customerId, createdAt: zonedInstant(day, '12:00', zones.get(customerId)!).toISOString(), amount: amount(k + 3 * wave), sku: `LATE-E${wave}-${k}` });
    changes++;
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
  // Left behind on a timeout, it may still fail later (its client closed): never unhandled.
  work.catch(() => undefined);
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
  if (result.emailedDays === 0) problems.push('no final report was emailed before the faulted import');
  if (result.changedDays === 0) problems.push("the shop's changes changed no emailed final day (nothing to correct)");
  if (result.changedDaysUncorrected) problems.push(`${result.changedDaysUncorrected} emailed days whose numbers changed got no correction`);
  if (result.correctionsMissing) problems.push(`${result.correctionsMissing} of ${result.correctionsDue} due corrections (revisions that changed an emailed day) not sent`);
  if (result.duplicateCorrections) problems.push(`${result.duplicateCorrections} duplicate corrections (the same customer, day and revision more than once)`);
  if (result.correctionsUnwarranted) problems.push(`${result.correctionsUnwarranted} corrections for a day never emailed or a revision that changed nothing`);
  if (result.chainBreaks) problems.push(`${result.chainBreaks} revisions whose recorded "before" is not what the customer last read`);
  if (result.recordsMismatched) problems.push(`${result.recordsMismatched} corrections in the mailbox and report_corrections rows in state 'emailed' do not match`);
  if (result.otherEmails) problems.push(`${result.otherEmails} emails other than the seeded final reports and the corrections`);
  return problems;
}

export function formatImportTable(results: ImportScenarioResult[]): string {
  const header = ['scenario', 'completed', 'pages', 'orders written', 'shop changes', 'orders wrong / missing / duplicated', 'cursor ahead (checks)', 'report rows wrong / missing', 'quarantined', 'retries', 'API errors', 'emailed days (changed)', 'corrections due', 'corrections sent', 'duplicate corrections', 'other emails', 'time (s)'];
  const lines = results.map((r) => [
    r.scenario, r.completed && !r.error ? 'yes' : 'NO', r.pages, r.ordersWritten, r.changes, `${r.ordersWrong} / ${r.ordersMissing} / ${r.ordersDuplicated}`,
    `${r.cursorAhead} (${r.cursorChecks})`, `${r.reportRowsWrong} / ${r.reportRowsMissing}`, r.quarantined, r.retries, r.apiErrors,
    `${r.emailedDays} (${r.changedDays})`, r.correctionsDue, r.correctionsSent, r.duplicateCorrections, r.otherEmails, r.seconds.toFixed(1),
  ].map(String));
  return markdownTable(header, lines);
}
