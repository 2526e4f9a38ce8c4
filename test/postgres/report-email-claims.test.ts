import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import { createMailTransport } from '../../src/mail-transport.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { AttemptClaims, EmailAttemptOutOfTimeError, liveRunClaims, ReportsHeldElsewhereError } from '../../src/services/email-claims.js';
import { ReportEmail, type ReportEmailOptions, type SendReportEmailsRequest } from '../../src/services/report-email.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { createTestDatabase, seedDemo, testLogger, type TestDatabase } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { faultyPool, insertClaim, untilDone } from './report-email-support.js';

// Claims are fenced by attempt: two attempts never send the same report, every way out of an
// attempt leaves what it sent marked and what it did not send released, and nothing rejects
// where nobody listens.

let db: TestDatabase;
let sink: SmtpSink;
let transport: Transporter;
const period = { from: '2026-11-09', to: '2026-11-10' };
const ids = Array.from({ length: 24 }, (_, i) => i + 1);
let expected: number[];

const unhandled: unknown[] = [];
const onUnhandled = (error: unknown) => void unhandled.push(error);

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-mail-')), 0, testLogger);
  // The worker's pooled transport (createTransport(url, options) would ignore `pool`).
  transport = createMailTransport(sink.url, 4);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  await seedDemo(db.pool);
  await new ReportRegeneration(db.pool).regenerateBatch({ batch: { customerIds: ids }, ...period, workflowId: 'regen', dryRun: false });
  const { rows } = await db.pool.query(
    `SELECT customer_id FROM daily_reports WHERE customer_id = ANY($1) AND report_date BETWEEN $2 AND $3
      GROUP BY customer_id HAVING sum(order_count) > 0 ORDER BY 1`,
    [ids, period.from, period.to],
  );
  expected = rows.map((r) => Number(r.customer_id));
});
beforeEach(async () => {
  await db.pool.query('TRUNCATE report_emails');
  fs.rmSync(sink.dir, { recursive: true, force: true });
  fs.mkdirSync(sink.dir);
  sink.delayReplies(0);
});
afterEach(async () => {
  // Let anything a test left running surface before judging it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(unhandled, 'no unhandled rejection or uncaught exception').toEqual([]);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  transport.close();
  await sink.stop();
  await db.drop();
});

/** Chunks of 5 customers: every call runs across several chunks. */
const service = (options: Partial<ReportEmailOptions> = {}, pool = db.pool) =>
  new ReportEmail(pool, transport, { from: 'Reports <reports@test>', concurrency: 4, chunkSize: 5, ...options });

let attempts = 0;
/** One attempt of the run `run-1` (each call its own attempt token, as Temporal's attempts are). */
const attempt = (overrides: Partial<SendReportEmailsRequest> = {}): SendReportEmailsRequest => ({
  customerIds: ids, ...period, resend: false, workflowId: 'wf-1', runId: 'run-1', dryRun: false,
  attemptToken: `run-1:activity:${++attempts}`, ...overrides,
});

/** A final report's key and Message-ID, as the service computes them. */
function reportKey(customerId: number): { customerId: number; key: string; messageId: string } {
  const key = `${customerId}:${period.from}:${period.to}`;
  return { customerId, key, messageId: `<report.${key.replace(/[^A-Za-z0-9.-]+/g, '.')}@durable-jobs>` };
}

/** When the SMTP sink stored a message (its file name carries the time). */
function storedAt(file: string): number {
  return Number(/\.(\d{13})-\d+\.eml$/.exec(file)![1]);
}

/** Every message the SMTP server stored, counted per Message-ID. */
function deliveries(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of readMailbox(sink.dir)) counts.set(message.messageId, (counts.get(message.messageId) ?? 0) + 1);
  return counts;
}

async function records(): Promise<Array<{ customer_id: number; message_id: string; state: string; claim_token: string | null }>> {
  const { rows } = await db.pool.query('SELECT customer_id, message_id, state, claim_token FROM report_emails ORDER BY customer_id');
  return rows;
}

/** After an attempt stopped: what arrived is recorded sent, nothing is still claimed by it. */
async function expectSentMarkedAndRestReleased(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 500)); // a send left running would land now
  const arrived = deliveries();
  expect([...arrived.values()].every((n) => n === 1), 'no Message-ID twice').toBe(true);
  const rows = await records();
  const sent = rows.filter((r) => r.state === 'sent').map((r) => r.message_id).sort();
  expect(sent, 'every message that arrived is marked sent, and only those').toEqual([...arrived.keys()].sort());
  expect(rows.filter((r) => r.state === 'sending' && r.claim_token !== null), 'unsent claims released').toEqual([]);
  return arrived.size;
}

/** The retry finishes the job: every customer with orders got exactly one message. */
async function expectRetryFinishes(email = service()): Promise<void> {
  await untilDone(() => email.sendReports(attempt()));
  const arrived = deliveries();
  expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual(expected);
  expect([...arrived.values()].every((n) => n === 1)).toBe(true);
}

describe('claims belong to one attempt', () => {
  it('two attempts of the same run sending at once send each report exactly once', async () => {
    sink.delayReplies(20);
    const email = service();
    const results = await Promise.all([untilDone(() => email.sendReports(attempt())), untilDone(() => email.sendReports(attempt()))]);
    const arrived = deliveries();
    expect(arrived.size).toBe(expected.length);
    expect([...arrived.entries()].filter(([, n]) => n > 1)).toEqual([]);
    // Each call counts the run's sends as sent (its own or an earlier attempt's); none as "already sent".
    for (const result of results) expect(result).toMatchObject({ sent: expected.length, alreadySent: 0 });
  });

  it("a later attempt of the same run neither sends nor counts reports an earlier attempt still holds; it fails, retryably", async () => {
    const [held] = expected;
    await insertClaim(db.pool, held!, period, { runId: 'run-1', token: 'run-1:activity:earlier', leaseFromNow: '1 minute' });
    const error = await service().sendReports(attempt()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportsHeldElsewhereError);
    expect((error as Error).message).toContain('1 still held by an earlier attempt of this run');
    expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual(expected.slice(1));
    // Once the earlier attempt's lease has run out, the retry sends it, with the same Message-ID.
    await db.pool.query(`UPDATE report_emails SET lease_until = now() - interval '1 second' WHERE claim_token = 'run-1:activity:earlier'`);
    const retry = await service().sendReports(attempt());
    expect(retry).toMatchObject({ sent: expected.length, alreadySent: 0 });
    expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual(expected);
  });

  // An ended run may still have a live attempt (timed out by the server but not told yet, cut
  // off from Temporal, its SMTP send stalled): only that holder, or its lease running out,
  // frees what it claimed. A rerun that took them at once would be a second sender.
  it("claims of an ended run still leased by a live holder are not taken by a rerun until the holder releases them", async () => {
    const holder = new AttemptClaims(db.pool, 'ended-run:activity:3', { ...period, workflowId: 'wf-ended', runId: 'ended-run' });
    expect(await holder.claim(expected.map((customerId) => reportKey(customerId)))).toHaveProperty('size', expected.length);
    expect(await liveRunClaims(db.pool, 'ended-run')).toMatchObject({ held: expected.length });

    const rerun = () => service().sendReports(attempt({ runId: 'rerun', workflowId: 'wf-rerun', attemptToken: `rerun:activity:${++attempts}` }));
    const error = await rerun().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportsHeldElsewhereError);
    expect(error).toMatchObject({ byThisRun: 0, byOtherRuns: expected.length });
    expect(readMailbox(sink.dir), 'nothing the holder may still be sending').toEqual([]);

    // The holder sends one itself and stops: it marks that one and releases the rest.
    await holder.markSent([reportKey(expected[0]!).key]);
    expect(await holder.release()).toBe(expected.length - 1);
    expect(await liveRunClaims(db.pool, 'ended-run')).toMatchObject({ held: 0 });
    const result = await rerun();
    expect(result, 'held reports are never counted already sent; what the holder sent is').toMatchObject({ sent: expected.length - 1, alreadySent: 1 });
    expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual(expected.slice(1));
  });

  it("a rerun waits within its attempt for an ended run's live claims, and sends them once the holder's lease lapses", async () => {
    const lease = { ms: 1_500, safetyMarginMs: 500 };
    const holder = new AttemptClaims(db.pool, 'ended-run:activity:3', { ...period, workflowId: 'wf-ended', runId: 'ended-run' }, lease);
    const heldIds = expected.slice(0, 3);
    await holder.claim(heldIds.map((customerId) => reportKey(customerId)));
    const leaseEnds = Date.now() + lease.ms;
    // The holder's worker died: it never releases. The rerun does the rest at once, then waits.
    const result = await service().sendReports(attempt({ runId: 'rerun', workflowId: 'wf-rerun' }), { waitForHeldUntil: Date.now() + 10_000 });
    expect(result).toMatchObject({ sent: expected.length, alreadySent: 0 });
    const mailbox = readMailbox(sink.dir);
    expect(mailbox.map((m) => m.customerId)).toEqual(expected);
    for (const message of mailbox.filter((m) => heldIds.includes(m.customerId))) {
      expect(storedAt(message.file), `customer ${message.customerId} sent only after the lease lapsed`).toBeGreaterThanOrEqual(leaseEnds - 50);
    }
  });

  it('a claim inserted by the previous release (rolling deploy: no token, no lease named) is protected for 15 minutes', async () => {
    const customerId = expected[0]!;
    // What the previous release's claim did: INSERT naming neither column, then stamp sent_at.
    await db.pool.query(
      `INSERT INTO report_emails (customer_id, period_from, period_to, idempotency_key, message_id, workflow_id, run_id, state)
       VALUES ($1, $2, $3, $4, $5, 'wf-old', 'old-run', 'sending')`,
      [customerId, period.from, period.to, reportKey(customerId).key, reportKey(customerId).messageId],
    );
    await db.pool.query(`UPDATE report_emails SET sent_at = now() WHERE idempotency_key = $1`, [reportKey(customerId).key]);
    const { rows } = await db.pool.query(`SELECT claim_token, extract(epoch FROM lease_until - now())::float8 AS lease_s FROM report_emails`);
    expect(rows[0].claim_token).not.toBeNull();
    expect(rows[0].lease_s).toBeGreaterThan(15 * 60 - 5);
    expect(rows[0].lease_s).toBeLessThanOrEqual(15 * 60);

    const error = await service().sendReports(attempt()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportsHeldElsewhereError);
    expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual(expected.slice(1));
    // 15 minutes later (the lease moved back instead of waiting): new code takes it over.
    await db.pool.query(`UPDATE report_emails SET lease_until = now() - interval '1 second' WHERE claim_token = $1`, [rows[0].claim_token]);
    expect(await service().sendReports(attempt())).toMatchObject({ sent: expected.length, alreadySent: 0 });
    expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual(expected);
  });

  it('a wall clock stepped back (NTP) does not stretch the lease: a claim taken over meanwhile is not sent', async () => {
    const lease = { ms: 600, safetyMarginMs: 200 };
    const request = { ...period, workflowId: 'wf-1', runId: 'run-1' };
    const customerId = expected[0]!;
    const report = { customerId, key: `${customerId}:${period.from}:${period.to}`, messageId: '<clock@test>' };
    const mine = new AttemptClaims(db.pool, 'run-1:activity:clock', request, lease);
    expect(await mine.claim([report])).toEqual(new Set([report.key]));
    await new Promise((resolve) => setTimeout(resolve, 700)); // its lease ran out...
    const rival = new AttemptClaims(db.pool, 'run-1:activity:rival', request, lease);
    expect(await rival.claim([report])).toEqual(new Set([report.key])); // ...and another attempt took the report over
    const steppedBack = Date.now() - 60_000;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(steppedBack);
    try {
      expect(await mine.maySend(report.key)).toBe(false);
    } finally {
      clock.mockRestore();
    }
  });

  it('keeps its claims leased while sends outlast the lease, so another attempt cannot take them over', async () => {
    sink.delayReplies(150);
    // A 1.2 s lease (no send starts in its last 0.4 s) on one chunk that takes ~2 s to send.
    const email = service({ concurrency: 1, chunkSize: 50, claimLease: { ms: 1_200, safetyMarginMs: 400 } });
    const first = email.sendReports(attempt());
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const rival = await service({ claimLease: { ms: 1_200, safetyMarginMs: 400 } }).sendReports(attempt()).catch((e: unknown) => e);
    expect(rival).toBeInstanceOf(ReportsHeldElsewhereError);
    await first;
    const arrived = deliveries();
    expect(arrived.size).toBe(expected.length);
    expect([...arrived.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('an attempt told to stop stops, then accounts for everything', () => {
  it('an aborted signal stops new sends; the sends in flight finish and are marked, the rest released; the retry continues', async () => {
    sink.delayReplies(100);
    const controller = new AbortController();
    const cancelled = new Error('activity cancelled');
    const stopped = service({ concurrency: 2 }).sendReports(attempt(), {
      signal: controller.signal,
      onProgress: (done) => void (done >= 3 && controller.abort(cancelled)),
    });
    await expect(stopped).rejects.toBe(cancelled);
    const sentBeforeStop = await expectSentMarkedAndRestReleased();
    expect(sentBeforeStop).toBeGreaterThan(0);
    expect(sentBeforeStop).toBeLessThan(expected.length);
    await expectRetryFinishes();
  });

  it('hands nodemailer no more messages than it has connections: after an abort, no message starts its SMTP exchange', async () => {
    const replyDelay = 300;
    sink.delayReplies(replyDelay);
    const twoConnections = createMailTransport(sink.url, 2);
    try {
      const controller = new AbortController();
      let abortedAt = 0;
      let progressCalls = 0;
      // Asked for 8 at once: 6 would wait in nodemailer's queue and go out after the abort.
      const email = new ReportEmail(db.pool, twoConnections, { from: 'Reports <reports@test>', concurrency: 8, chunkSize: 50 });
      const stopped = email.sendReports(attempt(), {
        signal: controller.signal,
        // The first call accounts for the chunk (customers without orders); each later one is a send.
        onProgress: () => {
          if (++progressCalls >= 3 && !abortedAt) {
            abortedAt = Date.now();
            controller.abort(new Error('activity cancelled'));
          }
        },
      });
      await expect(stopped).rejects.toThrow('activity cancelled');
      await new Promise((resolve) => setTimeout(resolve, 3 * replyDelay));
      const late = readMailbox(sink.dir).filter((m) => storedAt(m.file) > abortedAt + replyDelay + 100);
      expect(late.map((m) => m.customerId), 'messages that started their SMTP exchange after the abort').toEqual([]);
      await expectSentMarkedAndRestReleased();
    } finally {
      twoConnections.close();
    }
  });

  it('stops before sendUntil (the attempt running out of time) the same way', async () => {
    sink.delayReplies(100);
    const stopped = service({ concurrency: 2 }).sendReports(attempt(), { sendUntil: Date.now() + 250 });
    await expect(stopped).rejects.toBeInstanceOf(EmailAttemptOutOfTimeError);
    expect(await expectSentMarkedAndRestReleased()).toBeLessThan(expected.length);
    await expectRetryFinishes();
  });
});

describe('every error path awaits the sends in flight and marks what was sent', () => {
  it('reading the next chunk fails while this chunk sends', async () => {
    sink.delayReplies(100);
    const faulty = faultyPool(db.pool);
    // The second chunk's read, while the first chunk's sends are on the wire.
    faulty.failOn(/FROM customers c\s+LEFT JOIN report_emails/, { skip: 1, afterMs: 150 });
    await expect(service({}, faulty.pool).sendReports(attempt())).rejects.toThrow(/injected/);
    expect(faulty.failed).toHaveLength(1);
    expect(await expectSentMarkedAndRestReleased()).toBeGreaterThan(0);
    await expectRetryFinishes();
  });

  it('claiming the next chunk fails while this chunk sends', async () => {
    sink.delayReplies(100);
    const faulty = faultyPool(db.pool);
    faulty.failOn(/WITH inserted AS/, { skip: 1, afterMs: 150 });
    await expect(service({}, faulty.pool).sendReports(attempt())).rejects.toThrow(/injected/);
    expect(await expectSentMarkedAndRestReleased()).toBeGreaterThan(0);
    await expectRetryFinishes();
  });

  it('dropping the claim after a permanent rejection (5xx) fails', async () => {
    sink.delayReplies(50);
    const faulty = faultyPool(db.pool);
    faulty.failOn(/DELETE FROM report_emails/);
    sink.rejectNext(1);
    await expect(service({}, faulty.pool).sendReports(attempt())).rejects.toThrow(/injected/);
    expect(faulty.failed).toHaveLength(1);
    await expectSentMarkedAndRestReleased();
    // The retry tries the rejected one again (it was not dropped), and sends it this time.
    await expectRetryFinishes();
  });

  it('marking sent reports fails while the database restarts: marked once it is back, never sent again', async () => {
    sink.delayReplies(20);
    const lease = { ms: 3_000, safetyMarginMs: 1_000 };
    const faulty = faultyPool(db.pool);
    // Every mark for about a second fails, the end-of-call ones included.
    faulty.failOn(/SET state = 'sent'/, { count: 4, afterMs: 50 });
    await expect(service({ claimLease: lease }, faulty.pool).sendReports(attempt())).rejects.toThrow(/injected/);
    expect(faulty.failed.length).toBeGreaterThanOrEqual(2); // both marks the old code tried
    expect(await expectSentMarkedAndRestReleased()).toBeGreaterThan(0);
    // Whatever the attempt sent is recorded, so the retry after its lease sends only the rest.
    await new Promise((resolve) => setTimeout(resolve, lease.ms + 200));
    await expectRetryFinishes(service({ claimLease: lease }));
  });

  it('marking sent reports fails once: they are marked at the end, never sent again', async () => {
    sink.delayReplies(20);
    const faulty = faultyPool(db.pool);
    faulty.failOn(/SET state = 'sent'/);
    await expect(service({}, faulty.pool).sendReports(attempt())).rejects.toThrow(/injected/);
    expect(faulty.failed).toHaveLength(1);
    expect(await expectSentMarkedAndRestReleased()).toBeGreaterThan(0);
    await expectRetryFinishes();
  });
});
