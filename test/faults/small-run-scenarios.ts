import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import pg from 'pg';
import type { RegenerateReportsSummary } from '../../src/contracts.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { SMALL_RUN_MAX_CUSTOMERS } from '../../src/workflows/small-runs.js';
import { eventsOfType, type JsonHistory } from '../support/history-surgery.js';
import { countMailbox } from '../support/mailbox.js';
import type { Scenario, ScenarioContext, ScenarioWorker } from './scenarios.js';
import { FROM, TO } from './run-scenario.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const CONNECTIONS = 2;

/**
 * Every active customer in runs of SMALL_RUN_MAX_CUSTOMERS (small runs: every step a local
 * activity inside the workflow task), all at once, with the SMTP sink slowed so the email steps
 * take about `emailMs` in all: a fault injected once sends are under way hits local activities.
 */
async function startSmallRuns(context: ScenarioContext, emailMs: number): Promise<WorkflowHandle[]> {
  const ids = await activeCustomerIds(context.env.DATABASE_URL!);
  context.sink.delayReplies(Math.max(1, Math.round((emailMs * CONNECTIONS) / ids.length)));
  const handles: WorkflowHandle[] = [];
  for (let i = 0; i < ids.length; i += SMALL_RUN_MAX_CUSTOMERS) {
    const customerIds = ids.slice(i, i + SMALL_RUN_MAX_CUSTOMERS);
    const { handle } = await startRegenerateReports(context.client, { customerIds, from: FROM, to: TO }, { taskQueue: context.taskQueue, startedFrom: 'api', startedBy: 'fault-suite' });
    handles.push(handle);
  }
  return handles;
}

/** Waits until `fraction` of the customers' emails are in the sink and some reports are claimed by an email attempt in flight; returns that count. */
async function midEmailStep(context: ScenarioContext, fraction: number): Promise<number> {
  const wanted = Math.ceil(context.customers * fraction * 0.9);
  while (Date.now() < context.deadline) {
    if (countMailbox(context.sink.dir) >= wanted) {
      const claimed = await liveClaims(context.env.DATABASE_URL!);
      if (claimed > 0) return claimed;
    }
    await sleep(50);
  }
  throw new Error('the small runs did not get to their email step in time');
}

/**
 * The proof the fault hit local activities: no run scheduled an activity for its steps, and
 * `minimum` runs lost a workflow task (timed out on the worker that was killed or cut off) and
 * completed on another worker. Waits for the runs first.
 */
async function expectLostTasksRecovered(handles: WorkflowHandle[], minimum: number): Promise<void> {
  let lost = 0;
  for (const handle of handles) {
    const summary = (await handle.result()) as RegenerateReportsSummary;
    if (summary.failures.length > 0) throw new Error(`${handle.workflowId} failed customers: ${JSON.stringify(summary.failures)}`);
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as JsonHistory;
    if (eventsOfType(history, 'ActivityTaskScheduled').length > 0) throw new Error(`${handle.workflowId} scheduled activities: it was not run as a small run`);
    if (eventsOfType(history, 'WorkflowTaskTimedOut').length > 0) lost++;
  }
  if (lost < minimum) throw new Error(`${lost} small runs lost a workflow task to the fault (expected at least ${minimum}): the fault did not bite`);
}

/** A worker killed with -9 while small runs' local email activities send; a new worker finishes them. */
export const smallRunKill9: Scenario = {
  name: 'small-run-kill-9',
  workers: 1,
  workerEnv: { SMTP_MAX_CONNECTIONS: String(CONNECTIONS) },
  async run(context) {
    const handles = await startSmallRuns(context, 20_000);
    await midEmailStep(context, 0.2);
    await context.workers[0]!.crash();
    context.workers.push(await context.startWorker());
    await expectLostTasksRecovered(handles, 1);
    return { handles };
  },
};

/**
 * The worker running small runs' local email activities loses Temporal (not PostgreSQL, not
 * SMTP) for 20 s: their workflow tasks time out and the other worker runs them again, a second
 * local attempt of each email step while the first, cut off but alive, still sends. Its
 * attempt numbers start again at 1, so only the random part of the claim token keeps the two
 * apart: a same-id redelivery here is two live senders, a duplicate.
 */
export const smallRunPartition: Scenario = {
  name: 'small-run-partition-20s',
  workers: 2,
  workersBehindProxy: true,
  sameIdRedeliveriesAreDuplicates: true,
  workerEnv: { SMTP_MAX_CONNECTIONS: String(CONNECTIONS) },
  async run(context) {
    const handles = await startSmallRuns(context, 30_000);
    await midEmailStep(context, 0.2);
    const cut: ScenarioWorker = context.workers[0]!;
    cut.temporalLink!.partition();
    await sleep(20_000);
    cut.temporalLink!.heal();
    await expectLostTasksRecovered(handles, 1);
    return { handles };
  },
};

async function activeCustomerIds(databaseUrl: string): Promise<number[]> {
  return query(databaseUrl, 'SELECT id FROM customers WHERE active ORDER BY id', (rows: Array<{ id: string }>) => rows.map((row) => Number(row.id)));
}

/** Reports claimed by an email attempt whose lease still runs: sends in flight. */
async function liveClaims(databaseUrl: string): Promise<number> {
  return query(databaseUrl, `SELECT count(*)::int AS n FROM report_emails WHERE state = 'sending' AND claim_token IS NOT NULL AND lease_until > now()`, (rows: Array<{ n: number }>) => rows[0]!.n);
}

async function query<R, T>(databaseUrl: string, sql: string, map: (rows: R[]) => T): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return map((await client.query(sql)).rows as R[]);
  } finally {
    await client.end();
  }
}
