import crypto from 'node:crypto';
import fs from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DailyReportsSummary } from '../../src/daily-reports-contract.js';
import { addDays, localDate, localTime } from '../../src/dates.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { seedDemo } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await startTemporalTestEnv();
});
beforeEach(async () => {
  await seedDemo(env.db.pool, { endDate: new Date().toISOString().slice(0, 10), days: 3 });
  fs.rmSync(env.sink.dir, { recursive: true, force: true });
  fs.mkdirSync(env.sink.dir);
});
afterAll(() => env.close());

/** Starts dailyReports as `temporal workflow start --input` would (no schedule: the window ends when it starts). */
async function startDaily(input: unknown) {
  return env.client.workflow.start('dailyReports', { taskQueue: env.taskQueue, workflowId: `daily-test-${crypto.randomBytes(4).toString('hex')}`, args: [input] });
}

async function failureOf(input: unknown): Promise<ApplicationFailure> {
  const error = await (await startDaily(input)).result().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return (error as WorkflowFailedError).cause as ApplicationFailure;
}

/** `at` a few minutes ago on a UTC clock: UTC customers' day has just become due. */
const justPassedInUtc = () => localTime(new Date(Date.now() - 3 * 60_000), 'UTC');

describe('dailyReports on the real dev server', () => {
  it.each([
    [{ at: '25:00' }, 'at', 'at must be a time of day written HH:MM'],
    [{ windowMinutes: 0 }, 'windowMinutes', 'windowMinutes must be a whole number of minutes from 1 to 1440'],
    [{ reportOptions: { from: '2026-11-01' } }, 'reportOptions', 'reportOptions.from is decided per due day and zone by the nightly job'],
    [{ reportOptions: { batchSize: 0 } }, 'reportOptions', 'reportOptions.batchSize must be a whole number'],
    [{ when: 'now' }, 'input', 'input unknown field(s): when'],
  ])('refuses %j as InvalidInput naming the field (%s), writing nothing', async (input, field, message) => {
    const failure = await failureOf(input);
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(message);
    // The problems travel as data in the failure's details: { field, message }, nothing to parse.
    expect(failure.details?.[0]).toEqual([{ field, message: expect.stringContaining(message) }]);
    const { rows } = await env.db.pool.query('SELECT count(*)::int AS n FROM daily_reports');
    expect(rows[0].n).toBe(0);
  });

  it('fails, naming them, when customers have a time zone nobody knows (once a day), after reporting everyone else', async () => {
    await env.db.pool.query(`UPDATE customers SET time_zone = 'Mars/Olympus_Mons' WHERE id = 1`);
    const failure = await failureOf({ at: justPassedInUtc() });
    expect(failure.type).toBe('ReportDaysFailed');
    expect(failure.message).toContain('customers with unknown time zones get no reports: Mars/Olympus_Mons (1)');
    const summary = failure.details?.[0] as DailyReportsSummary;
    expect(summary.days).toHaveLength(1);
    expect(summary.days[0]).toMatchObject({ timeZones: ['UTC'], outcome: 'completed', failures: 0 });
  });

  it('a day whose customers failed fails the run and says how to re-run them', async () => {
    env.sink.rejectNext(1); // one customer's report is refused for good (550)
    const failure = await failureOf({ at: justPassedInUtc() });
    expect(failure.type).toBe('ReportDaysFailed');
    const summary = failure.details?.[0] as DailyReportsSummary;
    expect(summary.days).toHaveLength(1);
    const [day] = summary.days;
    expect(day).toMatchObject({ timeZones: ['UTC'], outcome: 'completed', failures: 1 });
    expect(failure.message).toContain(`npm run job -- rerun-failed '${day!.workflowId}'`);
    const child = await env.client.workflow.getHandle(day!.workflowId).result();
    expect(child.failures).toEqual([expect.objectContaining({ step: 'email', reason: 'SMTP rejected the message (550)' })]);
  });
});

describe('the day runs of the nightly job', () => {
  it('say where their parent came from, and a day whose run id is taken fails that day, naming it, instead of the whole run', async () => {
    const { STARTED_FROM } = await import('../../src/temporal/search-attributes.js');
    const parentId = `daily-test-${crypto.randomBytes(4).toString('hex')}`;
    const at = justPassedInUtc();
    const yesterday = addDays(localDate(new Date(Date.now() - 3 * 60_000), 'UTC'), -1);
    // Someone started a run under the day's id by hand, on a queue nobody polls: it stays running.
    const squatter = await env.client.workflow.start('regenerateReports', { taskQueue: `${env.taskQueue}-idle`, workflowId: `${parentId}:${yesterday}`, args: [{}] });
    try {
      const parent = await env.client.workflow.start('dailyReports', {
        taskQueue: env.taskQueue, workflowId: parentId, args: [{ at }], typedSearchAttributes: [{ key: STARTED_FROM, value: 'cli' }],
      });
      const error = await parent.result().then(() => undefined, (e: unknown) => e);
      const failure = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(failure.type).toBe('ReportDaysFailed');
      expect(failure.message).toContain(`a run with the id ${parentId}:${yesterday} is already running`);
    } finally {
      await squatter.terminate('test done');
    }
    // Another parent, unhindered: its day run carries the parent's DjStartedFrom, not 'schedule'.
    const other = await env.client.workflow.start('dailyReports', {
      taskQueue: env.taskQueue, workflowId: `${parentId}-2`, args: [{ at }], typedSearchAttributes: [{ key: STARTED_FROM, value: 'cli' }],
    });
    const summary = (await other.result()) as DailyReportsSummary;
    const child = await env.client.workflow.getHandle(summary.days[0]!.workflowId).describe();
    expect(child.typedSearchAttributes.get(STARTED_FROM)).toBe('cli');
  });
});

describe('manual runs of a day not over yet', () => {
  it('write provisional rows and email "so far"; the day that has ended is final', async () => {
    // Kiritimati (UTC+14): its today is not over; its yesterday is.
    const { rows } = await env.db.pool.query(`SELECT id FROM customers WHERE active AND time_zone = 'Pacific/Kiritimati' ORDER BY id`);
    const ids = rows.map((r) => Number(r.id));
    expect(ids.length).toBeGreaterThan(0);
    const today = localDate(new Date(), 'Pacific/Kiritimati');
    // An order a minute ago: today, there.
    await env.db.pool.query(`INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at) SELECT id, currency, 999, 'SKU-NOW', now() - interval '1 minute' FROM customers WHERE id = ANY($1)`, [ids]);
    const { handle } = await startRegenerateReports(env.client, { customerIds: ids, from: addDays(today, -1), to: today }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
    await handle.result();
    const { rows: written } = await env.db.pool.query(
      `SELECT report_date::text AS day, bool_and(final) AS final, bool_or(final) AS any_final FROM daily_reports WHERE customer_id = ANY($1) GROUP BY 1 ORDER BY 1`,
      [ids],
    );
    expect(written).toEqual([{ day: addDays(today, -1), final: true, any_final: true }, { day: today, final: false, any_final: false }]);
    const mail = readMailbox(env.sink.dir);
    expect(mail.map((m) => m.customerId).sort((a, b) => a - b)).toEqual(ids);
    expect(mail.every((m) => !m.final && m.subject.endsWith('(so far)'))).toBe(true);
  });
});
