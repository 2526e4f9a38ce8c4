import crypto from 'node:crypto';
import fs from 'node:fs';
import { ScheduleOverlapPolicy, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EMBEDDED_ALERT_EMAIL } from '../../src/alert-settings.js';
import { alertIdempotencyKey } from '../../src/services/alert-message.js';
import { runIncidentKey } from '../../src/run-alerts.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { STARTED_FROM } from '../../src/temporal/search-attributes.js';
import { readAlertMail } from '../support/alert-mail.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
const period = { from: '2026-11-08', to: '2026-11-10' };

beforeAll(async () => {
  // The worker's settings as a user of the embedded defaults has them: no SMTP_URL, so alerts
  // go to alerts@durable-jobs.local in the SMTP sink (this file's own).
  env = await startTemporalTestEnv({ settings: { ALERT_ADMIN_URL: 'https://admin.example.com' } });
});
beforeEach(async () => {
  await seedDemo(env.db.pool);
  fs.rmSync(env.sink.dir, { recursive: true, force: true });
  fs.mkdirSync(env.sink.dir);
});
afterAll(() => env.close());

/** A real schedule of the regenerate-reports job on this file's task queue, triggered once: the run it started. */
async function scheduledRun(input: Record<string, unknown>): Promise<WorkflowHandle> {
  const scheduleId = `alerts-test-${crypto.randomBytes(4).toString('hex')}`;
  const schedule = await env.client.schedule.create({
    scheduleId,
    spec: { intervals: [{ every: '365 days' }] },
    action: {
      type: 'startWorkflow', workflowType: 'regenerateReports', workflowId: scheduleId, taskQueue: env.taskQueue, args: [input],
      typedSearchAttributes: [{ key: STARTED_FROM, value: 'schedule' }],
    },
    policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL },
  });
  try {
    await schedule.trigger();
    for (;;) {
      const started = (await schedule.describe()).info.recentActions[0]?.action.workflow;
      if (started) return env.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await schedule.delete();
  }
}

const outcome = (handle: WorkflowHandle) => handle.result().then(() => 'completed', (error: unknown) => (error instanceof WorkflowFailedError ? 'failed' : String(error)));
const alertRows = async () => (await env.db.pool.query<{ incident_key: string; kind: string }>('SELECT incident_key, kind FROM alerts ORDER BY id')).rows;

describe('alerts about scheduled runs, raised in the run\'s own durable flow', () => {
  it('a scheduled run that fails raises exactly one alert email: the job, when, the failure, the run in the Web UI, the admin page, what to do', async () => {
    const handle = await scheduledRun({ customerIds: [999_999], ...period });
    expect(await outcome(handle)).toBe('failed');
    // The alert activity ran before the failure was recorded: it is in the sink now.
    const { runId } = await handle.describe();
    const incidentKey = runIncidentKey({ workflowId: handle.workflowId, runId }, 'run-failed');
    const mail = readAlertMail(env.sink.dir);
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({ to: EMBEDDED_ALERT_EMAIL, kind: 'run-failed', incident: alertIdempotencyKey(incidentKey) });
    expect(mail[0]!.subject).toBe('[durable-jobs alert] regenerate-reports: the scheduled run failed');
    expect(mail[0]!.text).toContain('999999');
    expect(mail[0]!.text).toContain(`/workflows/${encodeURIComponent(handle.workflowId)}/${runId}/history`);
    expect(mail[0]!.text).toContain('https://admin.example.com/runs?kind=regenerate-reports&startedFrom=schedule&status=failed');
    expect(mail[0]!.text).toMatch(/When: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d{4}-\d\d-\d\dT/);
    expect(await alertRows()).toContainEqual({ incident_key: incidentKey, kind: 'run-failed' });
    // The run's own failure went through unchanged.
    const error = await handle.result().catch((e: WorkflowFailedError) => e);
    expect((error as WorkflowFailedError).cause?.message).toContain('999999');
  });

  it('a run started by hand that fails raises no alert: whoever started it sees how it ended', async () => {
    const before = (await alertRows()).length;
    const { handle } = await startRegenerateReports(env.client, { customerIds: [1], ...period }, { taskQueue: env.taskQueue, startedFrom: 'cli', startedBy: 'test' });
    await env.db.pool.query(`UPDATE customers SET time_zone = 'Nowhere/Atlantis' WHERE id = 1`);
    await outcome(handle); // a failed customer, not alerted either
    const failing = await env.client.workflow.start('regenerateReports', { taskQueue: env.taskQueue, workflowId: `manual-${crypto.randomBytes(4).toString('hex')}`, args: [{ customerIds: [999_999] }] });
    expect(await outcome(failing)).toBe('failed');
    expect(readAlertMail(env.sink.dir)).toHaveLength(0);
    expect(await alertRows()).toHaveLength(before);
  });

  it('a scheduled run that continues as new and finishes with a failed customer raises one alert saying rerun-failed; a clean one raises none', async () => {
    await env.db.pool.query(`UPDATE customers SET time_zone = 'Nowhere/Atlantis' WHERE id = 2`);
    const handle = await scheduledRun({ ...period, sendEmail: false, batchSize: 5, batchesPerRun: 2 });
    expect(await outcome(handle)).toBe('completed');
    const { runId } = await env.client.workflow.getHandle(handle.workflowId).describe(); // the chain's last run
    const mail = readAlertMail(env.sink.dir);
    expect(mail).toHaveLength(1);
    expect(mail[0]!.kind).toBe('run-over-threshold');
    expect(mail[0]!.subject).toBe('[durable-jobs alert] regenerate-reports: the scheduled run finished with 1 failed items');
    expect(mail[0]!.text).toContain(`npm run job -- rerun-failed '${handle.workflowId}' --wait`);
    expect(await alertRows()).toContainEqual({ incident_key: runIncidentKey({ workflowId: handle.workflowId, runId }, 'run-over-threshold'), kind: 'run-over-threshold' });

    await env.db.pool.query(`UPDATE customers SET time_zone = 'UTC' WHERE id = 2`);
    fs.rmSync(env.sink.dir, { recursive: true, force: true });
    fs.mkdirSync(env.sink.dir);
    const clean = await scheduledRun({ ...period, sendEmail: false });
    expect(await outcome(clean)).toBe('completed');
    expect(readAlertMail(env.sink.dir)).toHaveLength(0);
    // It asked, and the activity found no incident: one raiseRunAlert in its history, nothing sent.
    const history = await clean.fetchHistory();
    expect(history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'raiseRunAlert')).toHaveLength(1);
  });
});
