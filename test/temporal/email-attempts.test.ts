import fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMailTransport } from '../../src/mail-transport.js';
import { AttemptClaims } from '../../src/services/email-claims.js';
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
      return { reportEmail: new ReportEmailThatMayGiveUp(faults.pool, transport, { from: 'Reports <reports@test>', concurrency: 8 }) };
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

  it('a small run whose email step gives up for good completes and reports its customer failed, as a big run does', async () => {
    const [customerId] = await customersWithOrders();
    giveUpOnFailure = true;
    env.sink.deferNext(1); // 451 for the one message: the attempt gives up for good
    const { handle } = await startRegenerateReports(env.client, { customerIds: [customerId!], ...period }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
    expect(await handle.result()).toMatchObject({
      customersProcessed: 1, emailsSent: 0, failures: [{ customerId, step: 'email', reason: expect.stringMatching(/^gave up after: /) }],
    });
    expect(await claimsLeft()).toBe(0);
    expect(readMailbox(env.sink.dir)).toEqual([]);
  });

  it('after the email step gave up (the SMTP server refused), its attempts released their own claims: rerun-failed sends the rest at once, exactly once', async () => {
    const expected = await customersWithOrders();
    giveUpOnFailure = true;
    env.sink.delayReplies(200);
    env.sink.deferNext(3); // 451 for three messages: the attempt stops, releases what it did not send, gives up for good
    const { handle } = await startRegenerateReports(env.client, { customerIds: expected, ...period }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' });
    const failed = await handle.result();
    expect(failed.failures.length).toBeGreaterThan(0);
    expect(failed.failures.every((f) => f.step === 'email')).toBe(true);
    const sentByFirst = readMailbox(env.sink.dir).length;
    expect(sentByFirst).toBeLessThan(expected.length);
    expect(await claimsLeft(), 'the failed attempt released its own claims; nothing else did').toBe(0);

    giveUpOnFailure = false;
    env.sink.delayReplies(0);
    const started = Date.now();
    const rerun = await runScript('job', ['rerun-failed', handle.workflowId, '--wait', '--json'], childEnv(env), { timeoutMs: 60_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toContain('still held');
    expect(Date.now() - started).toBeLessThan(30_000); // not after a lease ran out, nor 15 minutes
    const { summary } = JSON.parse(rerun.stdout) as { summary: { emailsSent: number; emailsAlreadySent: number } };
    expect(summary.emailsSent + summary.emailsAlreadySent).toBe(expected.length);
    expect(summary.emailsSent).toBe(expected.length - sentByFirst);
    expectEachExactlyOnce(expected);
  }, 120_000);

  // The hazard of releasing a run's claims when it ends: an attempt the server gave up on may
  // still be sending (cut off from Temporal, its SMTP send stalled). Here it holds two reports
  // under a live lease after its run ended; it sends one of them while the rerun runs.
  it("rerun-failed leaves an ended run's claims to their live holder: it says so, waits, and no report goes out twice", async () => {
    const expected = await customersWithOrders();
    env.sink.deferNext(3);
    const { handle } = await startRegenerateReports(
      env.client, { customerIds: expected, ...period, emailMaxAttempts: 1 }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' },
    );
    const failed = await handle.result();
    expect(failed.failures.length).toBeGreaterThan(2);
    const runId = (await handle.describe()).runId;
    const { rows } = await env.db.pool.query<{ customer_id: string; idempotency_key: string; message_id: string }>(
      `SELECT customer_id, idempotency_key, message_id FROM report_emails WHERE state = 'sending' AND claim_token IS NULL ORDER BY customer_id LIMIT 2`,
    );
    expect(rows).toHaveLength(2);
    const lease = { ms: 10_000, safetyMarginMs: 2_000 };
    const stalled = new AttemptClaims(env.db.pool, `${runId}:email:stalled`, { ...period, workflowId: handle.workflowId, runId }, lease);
    await stalled.claim(rows.map((r) => ({ customerId: Number(r.customer_id), key: r.idempotency_key, messageId: r.message_id })));
    const leaseEnds = Date.now() + lease.ms;
    const sentBefore = readMailbox(env.sink.dir).length;

    const rerun = runScript('job', ['rerun-failed', handle.workflowId, '--wait', '--json'], childEnv(env), { timeoutMs: 90_000 });
    // Once the rerun is sending, the stalled attempt's send of the first report completes.
    while (readMailbox(env.sink.dir).length === sentBefore) await new Promise((resolve) => setTimeout(resolve, 100));
    const transport = createMailTransport(env.sink.url, 1);
    try {
      await transport.sendMail({ from: 'reports@test', to: 'c@test', messageId: rows[0]!.message_id, headers: { 'X-Report-Customer': rows[0]!.customer_id }, text: 'stalled send' });
    } finally {
      transport.close();
    }
    await stalled.markSent([rows[0]!.idempotency_key]); // ...and then its worker dies: the second claim waits out the lease

    const result = await rerun;
    expect(result.code, result.stderr).toBe(0);
    expectEachExactlyOnce(expected);
    expect(result.stderr).toContain(`2 reports are still held by an attempt of ${handle.workflowId} that may still be sending`);
    const second = readMailbox(env.sink.dir).find((m) => m.messageId === rows[1]!.message_id)!;
    expect(Number(/\.(\d{13})-\d+\.eml$/.exec(second.file)![1]), 'sent by the rerun only once the lease lapsed').toBeGreaterThanOrEqual(leaseEnds - 100);
    // One attempt (emailMaxAttempts 1, inherited): the rerun waited for the held reports within it.
    const { summary } = JSON.parse(result.stdout) as { summary: { emailsAlreadySent: number; failures: unknown[] } };
    expect(summary.failures).toEqual([]);
    expect(summary.emailsAlreadySent).toBeGreaterThanOrEqual(1);
  }, 150_000);
});
