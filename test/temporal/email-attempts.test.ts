import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMailTransport } from '../../src/mail-transport.js';
import { ReportEmail, type SendReportEmailsRequest, type SendReportsOptions } from '../../src/services/report-email.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { childEnv, runScript } from '../bad-input/support.js';
import { seedDemo, truthRows } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { faultyPool } from '../postgres/report-email-support.js';

// The email step on the real dev server, with the real worker, PostgreSQL and SMTP server:
// attempts that run out of time or give up never leave a report sent twice or not at all.

const period = { from: '2026-11-08', to: '2026-11-10' };
let env: TemporalTestEnv;
let faults: ReturnType<typeof faultyPool>;
/** While set, an email attempt that fails gives up for good (as after its last retry), quickly. */
let giveUpOnFailure = false;

/** The real service; in the "retries exhausted" test its first failure is final. */
class ReportEmailThatMayGiveUp extends ReportEmail {
  override async sendReports(request: SendReportEmailsRequest, options?: SendReportsOptions) {
    try {
      return await super.sendReports(request, options);
    } catch (error) {
      if (!giveUpOnFailure) throw error;
      throw ApplicationFailure.nonRetryable(`gave up after: ${(error as Error).message}`, 'EmailRetriesExhausted');
    }
  }
}

beforeAll(async () => {
  env = await startTemporalTestEnv({
    services: (pool, sink) => {
      faults = faultyPool(pool);
      const transport = createMailTransport(sink.url, 8);
      return { reportEmail: new ReportEmailThatMayGiveUp(faults.pool, transport, { from: 'Reports <reports@test>', concurrency: 16 }) };
    },
  });
});
beforeEach(async () => {
  await seedDemo(env.db.pool);
  fs.rmSync(env.sink.dir, { recursive: true, force: true });
  fs.mkdirSync(env.sink.dir);
  env.sink.delayReplies(0);
  giveUpOnFailure = false;
});
afterAll(() => env.close());

async function customersWithOrders(): Promise<number[]> {
  const { rows } = await env.db.pool.query('SELECT id FROM customers WHERE active ORDER BY id');
  const truth = await truthRows(env.db.pool, rows.map((r) => Number(r.id)), period.from, period.to);
  return [...new Set(truth.filter((r) => r.order_count > 0).map((r) => r.customer_id))];
}

function expectEachExactlyOnce(expected: number[]): void {
  const mailbox = readMailbox(env.sink.dir);
  const perId = new Map<string, number>();
  for (const message of mailbox) perId.set(message.messageId, (perId.get(message.messageId) ?? 0) + 1);
  expect([...perId.entries()].filter(([, n]) => n > 1), 'no Message-ID twice').toEqual([]);
  expect(mailbox.map((m) => m.customerId)).toEqual(expected);
}

async function claimsLeft(): Promise<number> {
  const { rows } = await env.db.pool.query(`SELECT count(*)::int AS n FROM report_emails WHERE state = 'sending' AND claim_token IS NOT NULL`);
  return rows[0].n;
}

describe('the email step', () => {
  it('an attempt timed out while it still sends stops; the retry continues; every report arrives exactly once', async () => {
    const expected = await customersWithOrders();
    // 8 connections, 4 s a message: the 10 s attempt cannot send them all, and still has
    // sends on the wire when the server times it out.
    env.sink.delayReplies(4_000);
    const handle = await env.client.workflow.start('regenerateReports', {
      taskQueue: env.taskQueue,
      workflowId: `email-timeout-${Date.now()}`,
      args: [{ ...period, batchSize: 100, emailAttemptTimeoutSeconds: 10 }],
    });
    const summary = await handle.result();
    expect(summary).toMatchObject({ emailsSent: expected.length, emailsAlreadySent: 0, failures: [] });
    expectEachExactlyOnce(expected);
    expect(await claimsLeft()).toBe(0);
    const history = await handle.fetchHistory();
    const email = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendReportEmails');
    expect(Number(email!.activityTaskScheduledEventAttributes!.startToCloseTimeout!.seconds)).toBe(10);
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => Number(e.activityTaskStartedEventAttributes!.attempt));
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('after the email step gave up, the ended run released its claims and rerun-failed sends the rest at once, exactly once', async () => {
    const expected = await customersWithOrders();
    giveUpOnFailure = true;
    env.sink.delayReplies(200);
    env.sink.deferNext(3); // 451 for three messages: the attempt stops, then gives up for good
    // ...and cannot release its own claims (its database connection drops): the run's end must.
    faults.failOn(/SET claim_token = NULL, lease_until = NULL\s+WHERE claim_token = \$1/);
    const { handle } = await startRegenerateReports(env.client, { customerIds: expected, ...period }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
    const failed = await handle.result();
    expect(faults.failed).toHaveLength(1);
    expect(failed.failures.length).toBe(expected.length);
    expect(failed.failures.every((f) => f.step === 'email')).toBe(true);
    const sentByFirst = readMailbox(env.sink.dir).length;
    expect(sentByFirst).toBeLessThan(expected.length);
    expect(await claimsLeft()).toBe(0);

    giveUpOnFailure = false;
    env.sink.delayReplies(0);
    const started = Date.now();
    const rerun = await runScript('job', ['rerun-failed', handle.workflowId, '--wait'], childEnv(env), { timeoutMs: 60_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000); // not after a lease ran out, nor 15 minutes
    const summary = JSON.parse(rerun.stdout.slice(rerun.stdout.indexOf('{'))) as { emailsSent: number; emailsAlreadySent: number };
    expect(summary).toMatchObject({ emailsSent: expected.length - sentByFirst, emailsAlreadySent: sentByFirst });
    expectEachExactlyOnce(expected);
  }, 120_000);
});
