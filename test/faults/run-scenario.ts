import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import type { WorkflowHandle } from '@temporalio/client';
import { createPool, type Pool } from '../../src/db/pool.js';
import { withTimeout } from '../../src/health/check-result.js';
import { startSmtpSink } from '../../src/dev/smtp-sink.js';
import { DemoData } from '../../src/services/demo-data.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { connectClient } from '../../src/temporal/client.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { applySchedules } from '../../src/temporal/schedule-sync.js';
import type { RegenerateReportsInput } from '../../src/contracts.js';
import type { Period, Scenario, ScenarioContext, ScenarioWorker } from './scenarios.js';
import { parseHostPort, startTcpProxy } from './tcp-proxy.js';
import { checkInvariants, startTornReadWatcher, type InvariantReport } from './invariants.js';
import { workersFor, type FaultStack } from './fault-stack.js';
import { createScenarioDatabase, markdownTable, scenarioTaskQueue, scenarioWorkerEnv } from './scenario-setup.js';
import { startWorkerProcess } from './worker-process.js';

export interface ScenarioResult extends InvariantReport {
  scenario: string;
  completed: boolean;
  tornReads: number;
  readerPolls: number;
  deadlocks: number;
  seconds: number;
  /** The scenario's rule: two live senders, not a lost "250", so a same-id redelivery is a duplicate too. */
  sameIdRedeliveriesAreDuplicates: boolean;
  error?: string;
  /** When a run did not finish: each open run's last history events and each worker's last log lines. */
  diagnosis?: string;
}

export const FROM = '2026-11-08';
export const TO = '2026-11-10';
const RUN_TIMEOUT_MS = 5 * 60_000;

/**
 * One scenario on a fresh database and mailbox: seed, make every report stale, start the
 * workers (separate processes) and the run, inject the fault mid-run, wait, then check.
 * A scenario with its own `run` starts its runs itself and says which to wait for.
 */
export async function runScenario(stack: FaultStack, scenario: Scenario, customers: number, logger: Logger): Promise<ScenarioResult> {
  const { name, url: databaseUrl } = await createScenarioDatabase(stack, scenario.name, logger);
  const pool = createPool(databaseUrl, logger, 4);
  const readerPool = createPool(databaseUrl, logger, 1);
  await prepareData(pool, customers);

  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-faults-mail-'));
  const sink = await startSmtpSink(mailDir, 0, logger);
  const taskQueue = scenarioTaskQueue(scenario.name);
  const env = scenarioWorkerEnv(stack, databaseUrl, sink.url, taskQueue);
  const startWorker = () => startScenarioWorker(scenario, { ...env, ...scenario.workerEnv });
  const workers: ScenarioWorker[] = [];
  const { client, close } = await connectClient(stack.temporal);
  const periods = scenario.periods ?? [{ from: FROM, to: TO }];
  const deadlocksBefore = await deadlockCount(databaseUrl, name);
  const started = Date.now();
  const readers = periods.map((period) => startTornReadWatcher(readerPool, period.from, period.to, daysIn(period)));
  let error: string | undefined;
  let completed = false;
  let checked = periods;
  const handles: WorkflowHandle[] = [];
  let main: WorkflowHandle | undefined;
  const afterBatches = async (count: number) => {
    while (Date.now() - started < RUN_TIMEOUT_MS) {
      const progress = await main?.query<{ batchesDone: number }>('progress').catch(() => ({ batchesDone: 0 }));
      if ((progress?.batchesDone ?? 0) >= count) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const context: ScenarioContext = {
    stack, sink, workers, startWorker, afterBatches, client, taskQueue, env, customers, deadline: started + RUN_TIMEOUT_MS,
    main: () => main,
    startMainRun: async (extra = {}) => {
      const input = { from: FROM, to: TO, batchSize: 25, parallelism: 2, ...scenario.input?.(customers), ...extra } as RegenerateReportsInput;
      main = (await startRegenerateReports(client, input, { taskQueue, startedFrom: 'api', startedBy: 'fault-suite' })).handle;
      return main;
    },
  };
  try {
    // A deploy scenario's first workers run an older revision's code; every later one (startWorker) runs this checkout's.
    const firstWorkersDir = scenario.firstWorkersFrom ? await scenario.firstWorkersFrom(stack) : undefined;
    for (let i = 0; i < workersFor(stack, scenario.workers); i++) workers.push(await startScenarioWorker(scenario, { ...env, ...scenario.workerEnv }, firstWorkersDir));
    if (scenario.run) {
      const own = await scenario.run(context);
      handles.push(...own.handles);
      checked = own.periods ?? periods;
    } else {
      handles.push(await context.startMainRun());
      if (scenario.concurrentRuns) handles.push(...(await startConcurrentRuns(client, pool, taskQueue)));
      await scenario.inject?.(context);
    }
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (deadline = setTimeout(() => resolve(false), Math.max(0, context.deadline - Date.now()))));
    const outcomes = await Promise.all(
      handles.map((handle) =>
        Promise.race([handle.result().then(() => true, (e: Error) => ((error ??= `${handle.workflowId}: ${e.message}`), false)), timedOut]),
      ),
    ).finally(() => clearTimeout(deadline)); // a pending timer would keep the process alive for minutes
    completed = outcomes.every(Boolean);
    if (!completed) error ??= `a run did not finish in time (stuck): ${await whereStuck(handles)}`;
  } catch (e) {
    error = (e as Error).message;
  }
  const seconds = (Date.now() - started) / 1000;
  const diagnosis = completed ? undefined : await diagnose(handles, workers, started);
  // A stuck run must not outlive its scenario (the next one would be refused as a duplicate).
  for (const handle of [...handles, ...(main && !handles.includes(main) ? [main] : [])]) await handle.terminate('fault scenario over').catch(() => undefined);
  let torn = 0;
  let polls = 0;
  for (const reader of readers) {
    const watched = await reader.stop();
    torn += watched.torn;
    polls += watched.polls;
  }
  for (const worker of workers) await worker.stop();
  await close();
  const invariants = await checkPeriods(pool, mailDir, checked);
  const deadlocks = (await deadlockCount(databaseUrl, name)) - deadlocksBefore;
  await sink.stop();
  await pool.end();
  await readerPool.end();
  if (!error) fs.rmSync(mailDir, { recursive: true, force: true });
  return {
    scenario: scenario.name, completed, ...invariants, tornReads: torn, readerPolls: polls, deadlocks, seconds,
    sameIdRedeliveriesAreDuplicates: Boolean(scenario.sameIdRedeliveriesAreDuplicates), error, diagnosis,
  };
}

/** A worker process; behind a TCP proxy of its own when the scenario cuts workers off Temporal. */
async function startScenarioWorker(scenario: Scenario, env: Record<string, string>, cwd?: string): Promise<ScenarioWorker> {
  if (!scenario.workersBehindProxy) return startWorkerProcess(env, cwd);
  const temporalLink = await startTcpProxy(parseHostPort(env.TEMPORAL_ADDRESS!));
  const worker = await startWorkerProcess({ ...env, TEMPORAL_ADDRESS: temporalLink.address }, cwd).catch(async (error: unknown) => {
    await temporalLink.close();
    throw error;
  });
  return {
    ...worker,
    temporalLink,
    stop: async () => {
      temporalLink.heal(); // a partitioned worker could not drain
      await worker.stop();
      await temporalLink.close();
    },
    crash: async () => {
      await worker.crash();
      await temporalLink.close();
    },
  };
}

/** What the runs still open are waiting for: each pending activity, its attempt and last failure. */
async function whereStuck(handles: WorkflowHandle[]): Promise<string> {
  const parts: string[] = [];
  for (const handle of handles) {
    const description = await handle.describe().catch(() => undefined);
    if (!description || description.status.name !== 'RUNNING') continue;
    const pending = description.raw.pendingActivities ?? [];
    // A workflow task failing again and again (nondeterminism on replay, say) shows as its attempt count.
    const task = description.raw.pendingWorkflowTask;
    const taskNote = task && (task.attempt ?? 0) > 1 ? ` [workflow task failing, attempt ${task.attempt}]` : '';
    parts.push(`${handle.workflowId}${taskNote}: ${pending.length === 0 ? 'no activity pending' : pending.map((a) =>
      `${a.activityType?.name} attempt ${a.attempt} (${a.state}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message}` : ''})`).join('; ')}`);
  }
  return parts.join(' | ') || 'every run closed meanwhile';
}

/**
 * The evidence a stuck run leaves, for the CI log (which keeps nothing else): the last events
 * of each run's history, seconds after the scenario started, and each worker's last log lines.
 */
async function diagnose(handles: WorkflowHandle[], workers: ScenarioWorker[], started: number): Promise<string> {
  const parts: string[] = [];
  for (const handle of handles) {
    // Temporal itself may be what is down: each read gets 10 s, not the client's retries.
    const status = await withTimeout(10_000, 'describe', handle.describe()).then((d) => d.status.name, () => 'unknown');
    if (status !== 'RUNNING' && status !== 'unknown') continue;
    const history = await withTimeout(10_000, 'the history', handle.fetchHistory()).catch((e: Error) => e);
    if (history instanceof Error) {
      parts.push(`${handle.workflowId}: no history (${history.message})`);
      continue;
    }
    const events = history.events ?? [];
    const lines = events.slice(-15).map((event) => {
      const time = event.eventTime;
      const at = time?.seconds ? `${(Number(time.seconds) + (time.nanos ?? 0) / 1e9 - started / 1000).toFixed(2)} s` : '?';
      const failure = event.workflowTaskFailedEventAttributes?.failure?.message ?? event.activityTaskFailedEventAttributes?.failure?.message
        ?? event.activityTaskTimedOutEventAttributes?.failure?.message;
      return `  #${event.eventId} ${at} ${eventKind(event)}${failure ? `: ${failure}` : ''}`;
    });
    parts.push(`${handle.workflowId}: ${events.length} events, the last:\n${lines.join('\n')}`);
  }
  workers.forEach((worker, i) => {
    const ended = worker.ended();
    parts.push(`worker ${i + 1} (pid ${worker.pid}, ${ended ? `ended: ${ended}` : 'still running'}) logged, last:\n${worker.logTail() || '  (nothing)'}`);
  });
  return parts.join('\n');
}

/** An event's kind, read off the one attributes field it has set (@temporalio/proto, with the enum, is not our dependency). */
function eventKind(event: object): string {
  const [key] = Object.entries(event).find(([name, value]) => name.endsWith('EventAttributes') && value) ?? ['?'];
  return key.replace(/EventAttributes$/, '');
}

const daysIn = (period: Period) => (Date.parse(period.to) - Date.parse(period.from)) / 86_400_000 + 1;

/** The invariants of every period checked, summed: the table has one row per scenario. */
async function checkPeriods(pool: Pool, mailDir: string, periods: Period[]): Promise<InvariantReport> {
  const total: InvariantReport = { rowsWrong: 0, emailsMissing: 0, emailsDuplicated: 0, sameIdRedeliveries: 0, finalTooEarly: 0 };
  for (const period of periods) {
    const report = await checkInvariants(pool, mailDir, period.from, period.to);
    for (const key of Object.keys(total) as Array<keyof InvariantReport>) total[key] += report[key];
  }
  return total;
}

/** Demo data, reports generated once, then one new order per customer: every report is stale. */
async function prepareData(pool: ReturnType<typeof createPool>, customers: number): Promise<void> {
  await new DemoData(pool).seed({ customers, days: 10, ordersPerCustomerPerDay: 2, endDate: TO, reset: true });
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM customers WHERE active ORDER BY id');
  await new ReportRegeneration(pool).regenerateBatch({ batch: { customerIds: rows.map((r) => r.id) }, from: FROM, to: TO, workflowId: 'before-the-fault', dryRun: false });
  await pool.query(`INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at)
                    SELECT id, currency, 1234, 'SKU-FAULT', '2026-11-09T12:00:00Z' FROM customers WHERE active`);
}

/** The scheduled all-customer run (a real schedule, triggered) and 20 single-customer runs at once. */
async function startConcurrentRuns(client: Awaited<ReturnType<typeof connectClient>>['client'], pool: ReturnType<typeof createPool>, taskQueue: string) {
  const scheduleId = `${taskQueue}-daily`;
  await applySchedules(client, [{
    id: scheduleId, note: 'Fault suite schedule.', every: { every: '1 day', offset: '2 hours' }, job: 'regenerate-reports',
    input: { from: FROM, to: TO, batchSize: 25 }, workflowIdPrefix: `${taskQueue}:scheduled`, overlap: 'BUFFER_ALL', catchupWindow: '1 day',
  }], { taskQueue, prune: false, idPrefix: scheduleId });
  const schedule = client.schedule.getHandle(scheduleId);
  await schedule.trigger();
  const { rows } = await pool.query<{ id: number }>('SELECT id FROM customers WHERE active ORDER BY id LIMIT 20');
  const manual = await Promise.all(
    rows.map((row) => startRegenerateReports(client, { customerIds: [row.id], from: FROM, to: TO }, { taskQueue, startedFrom: 'cli', startedBy: 'fault-suite' })),
  );
  let scheduled: string | undefined;
  while (!scheduled) {
    scheduled = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
    if (!scheduled) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await schedule.delete();
  return [client.workflow.getHandle(scheduled), ...manual.map((m) => m.handle)];
}

async function deadlockCount(databaseUrl: string, database: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [database]);
    return Number(rows[0]?.deadlocks ?? 0);
  } finally {
    await client.end();
  }
}

export function violations(result: ScenarioResult): string[] {
  const problems: string[] = [];
  if (!result.completed) problems.push(`did not complete${result.error ? ` (${result.error})` : ''}`);
  if (result.rowsWrong) problems.push(`${result.rowsWrong} rows wrong`);
  if (result.emailsMissing) problems.push(`${result.emailsMissing} emails missing`);
  if (result.emailsDuplicated) problems.push(`${result.emailsDuplicated} customers got two different emails`);
  if (result.sameIdRedeliveriesAreDuplicates && result.sameIdRedeliveries) {
    problems.push(`${result.sameIdRedeliveries} same-id redeliveries (two live senders; this scenario counts them as duplicates)`);
  }
  if (result.tornReads) problems.push(`${result.tornReads} torn reads`);
  if (result.finalTooEarly) problems.push(`${result.finalTooEarly} final rows or emails made before their day ended where the customer is`);
  if (result.deadlocks) problems.push(`${result.deadlocks} deadlocks`);
  return problems;
}

export function formatTable(results: ScenarioResult[]): string {
  const header = ['scenario', 'completed', 'rows wrong', 'emails missing', 'emails duplicated', 'same-id redeliveries', 'torn reads (polls)', 'final too early', 'deadlocks', 'time (s)'];
  const lines = results.map((r) => [
    r.scenario, r.completed ? 'yes' : 'NO', r.rowsWrong, r.emailsMissing, r.emailsDuplicated, r.sameIdRedeliveries,
    `${r.tornReads} (${r.readerPolls})`, r.finalTooEarly, r.deadlocks, r.seconds.toFixed(1),
  ].map(String));
  return markdownTable(header, lines);
}
