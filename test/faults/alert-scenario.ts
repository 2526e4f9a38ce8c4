import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { ScheduleOverlapPolicy, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { createPool, type Pool } from '../../src/db/pool.js';
import { startSmtpSink } from '../../src/dev/smtp-sink.js';
import { runIncidentKey } from '../../src/run-alerts.js';
import { DemoData } from '../../src/services/demo-data.js';
import { connectClient } from '../../src/temporal/client.js';
import { STARTED_FROM } from '../../src/temporal/search-attributes.js';
import { readAlertMail } from '../support/alert-mail.js';
import type { FaultStack } from './fault-stack.js';
import { createScenarioDatabase, markdownTable, scenarioTaskQueue, scenarioWorkerEnv } from './scenario-setup.js';
import { parseHostPort, startTcpProxy } from './tcp-proxy.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

/**
 * The alert fault scenario (issue #13): a scheduled run fails, and the worker is killed with
 * SIGKILL while its alert activity holds the alert's claim and is talking to the SMTP server,
 * which hangs (its link is a black hole, so nothing can have been accepted). A new worker
 * starts; the activity's retry must wait out the dead attempt's lease, then send. Exactly one
 * alert email, one alert record, and the run's own failure unchanged.
 */
export const ALERT_SCENARIOS = [{ name: 'alert-worker-kill-9' }] as const;

export interface AlertScenarioResult {
  scenario: string;
  /** The scheduled run failed, with its own failure (not the alert's). */
  runFailed: boolean;
  alertEmails: number;
  distinctMessageIds: number;
  alertRecords: number;
  /** Claims taken on the email delivery (the dead attempt's and its retry's). */
  claims: number;
  /** raiseRunAlert attempts in the run's history: more than one proves the kill bit. */
  activityAttempts: number;
  /** The worker was killed while the alert activity ran and held the claim. */
  killedHoldingClaim: boolean;
  seconds: number;
  error?: string;
}

const RUN_TIMEOUT_MS = 3 * 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined>, deadline: number, what: string): Promise<T> {
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A real schedule of regenerate-reports for a customer that does not exist, triggered once: the run it started. */
async function scheduledFailingRun(client: Client, taskQueue: string, deadline: number): Promise<WorkflowHandle> {
  const scheduleId = `${taskQueue}-nightly`;
  const schedule = await client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '365 days' }] },
    action: {
      type: 'startWorkflow', workflowType: 'regenerateReports', workflowId: scheduleId, taskQueue,
      args: [{ customerIds: [999_999], from: '2026-11-08', to: '2026-11-10' }],
      typedSearchAttributes: [{ key: STARTED_FROM, value: 'schedule' }],
    },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
  });
  try {
    await schedule.trigger();
    const started = await until(async () => (await schedule.describe()).info.recentActions[0]?.action.workflow, deadline, 'the schedule to start its run');
    return client.workflow.getHandle(started.workflowId);
  } finally {
    await schedule.delete();
  }
}

/** The alert activity is running on a worker and its attempt holds the email delivery's claim. */
async function alertClaimHeld(pool: Pool, handle: WorkflowHandle, incidentKey: string): Promise<true | undefined> {
  const { rows } = await pool.query(
    `SELECT 1 FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
      WHERE a.incident_key = $1 AND d.channel = 'email' AND d.state = 'pending' AND d.claim_token IS NOT NULL AND d.lease_until > now()`,
    [incidentKey],
  );
  if (rows.length === 0) return undefined;
  const pending = (await handle.describe()).raw.pendingActivities ?? [];
  // PENDING_ACTIVITY_STATE_STARTED = 2 (@temporalio/proto is not our dependency).
  return pending.some((activity) => activity.activityType?.name === 'raiseRunAlert' && Number(activity.state) === 2) ? true : undefined;
}

export async function runAlertScenario(stack: FaultStack, scenario: (typeof ALERT_SCENARIOS)[number], logger: Logger): Promise<AlertScenarioResult> {
  const started = Date.now();
  const deadline = started + RUN_TIMEOUT_MS;
  const { url: databaseUrl } = await createScenarioDatabase(stack, scenario.name, logger);
  const pool = createPool(databaseUrl, logger, 2);
  await new DemoData(pool).seed({ customers: 20, days: 3, ordersPerCustomerPerDay: 1, endDate: '2026-11-10', reset: true });
  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-faults-alert-mail-'));
  const sink = await startSmtpSink(mailDir, 0, logger);
  // The SMTP server as the worker sees it: behind a link that goes dark before the run, so the
  // alert's connection hangs before the greeting (the kill lands mid-send, and nothing was accepted).
  const smtpLink = await startTcpProxy(parseHostPort(sink.url.replace('smtp://', '')));
  smtpLink.partition();
  const taskQueue = scenarioTaskQueue(scenario.name);
  const env = { ...scenarioWorkerEnv(stack, databaseUrl, `smtp://${smtpLink.address}`, taskQueue), ALERT_EMAIL: 'oncall@example.com' };
  const workers: WorkerProcess[] = [];
  const { client, close } = await connectClient(stack.temporal);
  const result: AlertScenarioResult = {
    scenario: scenario.name, runFailed: false, alertEmails: 0, distinctMessageIds: 0, alertRecords: 0, claims: 0, activityAttempts: 0, killedHoldingClaim: false, seconds: 0,
  };
  let handle: WorkflowHandle | undefined;
  try {
    workers.push(await startWorkerProcess(env));
    handle = await scheduledFailingRun(client, taskQueue, deadline);
    const { runId } = await handle.describe();
    const incidentKey = runIncidentKey({ workflowId: handle.workflowId, runId }, 'run-failed');
    await until(() => alertClaimHeld(pool, handle!, incidentKey), deadline, 'the alert activity to claim the alert');
    await workers[0]!.crash();
    result.killedHoldingClaim = true;
    smtpLink.heal(); // the relay is back; the dead worker's connection closes
    workers.push(await startWorkerProcess(env));
    const failure = await Promise.race([
      handle.result().then(() => undefined, (error: unknown) => error),
      sleep(Math.max(0, deadline - Date.now())).then(() => new Error('the run did not end in time')),
    ]);
    result.runFailed = failure instanceof WorkflowFailedError && /999999/.test(failure.cause?.message ?? '');
    if (!result.runFailed) result.error = `the run did not fail with its own failure: ${String((failure as Error | undefined)?.message ?? 'it completed')}`;
    const history = await handle.fetchHistory();
    result.activityAttempts = Math.max(0, ...history.events!
      .filter((event) => event.activityTaskStartedEventAttributes && history.events!.find((e) => e.eventId?.toString() === event.activityTaskStartedEventAttributes!.scheduledEventId?.toString())
        ?.activityTaskScheduledEventAttributes?.activityType?.name === 'raiseRunAlert')
      .map((event) => Number(event.activityTaskStartedEventAttributes!.attempt)));
    const records = await pool.query<{ attempts: number }>(
      `SELECT d.attempts FROM alerts a JOIN alert_deliveries d ON d.alert_id = a.id AND d.channel = 'email' WHERE a.incident_key = $1`,
      [incidentKey],
    );
    result.alertRecords = (await pool.query('SELECT count(*)::int AS n FROM alerts')).rows[0].n;
    result.claims = records.rows[0]?.attempts ?? 0;
  } catch (error) {
    result.error = (error as Error).message;
  }
  result.seconds = (Date.now() - started) / 1000;
  await handle?.terminate('fault scenario over').catch(() => undefined);
  for (const worker of workers) await worker.stop();
  await close();
  const mail = readAlertMail(mailDir);
  result.alertEmails = mail.length;
  result.distinctMessageIds = new Set(mail.map((message) => message.messageId)).size;
  await smtpLink.close();
  await sink.stop();
  await pool.end();
  if (!result.error) fs.rmSync(mailDir, { recursive: true, force: true });
  return result;
}

export function alertViolations(result: AlertScenarioResult): string[] {
  const problems: string[] = [];
  if (result.error) problems.push(result.error);
  if (!result.runFailed) problems.push('the scheduled run did not end with its own failure');
  if (result.alertEmails !== 1) problems.push(`${result.alertEmails} alert emails (exactly 1 expected)`);
  if (result.alertRecords !== 1) problems.push(`${result.alertRecords} alert records (exactly 1 expected)`);
  if (!result.killedHoldingClaim) problems.push('the worker was not killed while its alert activity held the claim: the fault did not bite');
  if (result.activityAttempts < 2) problems.push(`the alert activity ran ${result.activityAttempts} time(s): the kill did not reach it`);
  return problems;
}

export function formatAlertTable(results: AlertScenarioResult[]): string {
  const header = ['scenario', 'run failed (own failure)', 'alert emails', 'distinct Message-IDs', 'alert records', 'claims taken', 'alert activity attempts', 'killed holding the claim', 'time (s)'];
  return markdownTable(header, results.map((r) => [
    r.scenario, r.runFailed ? 'yes' : 'NO', r.alertEmails, r.distinctMessageIds, r.alertRecords, r.claims, r.activityAttempts, r.killedHoldingClaim ? 'yes' : 'NO', r.seconds.toFixed(1),
  ].map(String)));
}
