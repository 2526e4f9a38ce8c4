import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { ReportsHeldElsewhereError } from '../../src/services/email-claims.js';
import { ReportEmail, type SendReportEmailsRequest } from '../../src/services/report-email.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { createTestDatabase, seedDemo, testLogger, type TestDatabase } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { insertClaim, untilDone } from './report-email-support.js';

let db: TestDatabase;
let sink: SmtpSink;
let transport: Transporter;
let email: ReportEmail;
const period = { from: '2026-11-09', to: '2026-11-10' };
const ids = Array.from({ length: 12 }, (_, i) => i + 1);

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-mail-')), 0, testLogger);
  transport = nodemailer.createTransport(sink.url, { pool: true, maxConnections: 4 } as object);
  // Chunks of 5: every test below runs across three chunks (read, claimed and sent in turn).
  email = new ReportEmail(db.pool, transport, { from: 'Reports <reports@test>', concurrency: 4, chunkSize: 5 });
});
beforeEach(async () => {
  await seedDemo(db.pool);
  await new ReportRegeneration(db.pool).regenerateBatch({ batch: { customerIds: ids }, ...period, workflowId: 'regen', dryRun: false });
  fs.rmSync(sink.dir, { recursive: true, force: true });
  fs.mkdirSync(sink.dir);
});
afterAll(async () => {
  transport.close();
  await sink.stop();
  await db.drop();
});

// Each "run" here is one workflow id with one run id, like a real start.
const request = (overrides: Partial<SendReportEmailsRequest> = {}): SendReportEmailsRequest => ({
  customerIds: ids, ...period, resend: false, workflowId: 'wf-1', dryRun: false, ...overrides,
  runId: overrides.runId ?? `run-of-${overrides.workflowId ?? 'wf-1'}`,
});

async function customersWithOrders(): Promise<number[]> {
  const { rows } = await db.pool.query(
    `SELECT customer_id FROM daily_reports WHERE customer_id = ANY($1) AND report_date BETWEEN $2 AND $3
      GROUP BY customer_id HAVING sum(order_count) > 0 ORDER BY 1`,
    [ids, period.from, period.to],
  );
  return rows.map((r) => Number(r.customer_id));
}

describe('ReportEmail', () => {
  it('sends one report per customer with orders, to that customer, and records it', async () => {
    const expected = await customersWithOrders();
    expect(expected.length).toBeGreaterThan(3);
    expect(expected.length).toBeLessThan(ids.length); // some customers had no orders: no email
    const result = await email.sendReports(request());
    expect(result).toEqual({ sent: expected.length, alreadySent: 0, skippedNoOrders: ids.length - expected.length, failures: [] });
    const mailbox = readMailbox(sink.dir);
    expect(mailbox.map((m) => m.customerId)).toEqual(expected);
    expect(mailbox[0]!.to).toContain(`customer${expected[0]}@example.com`);
    expect(mailbox[0]!.subject).toBe('Your sales report for 2026-11-09 to 2026-11-10');
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM report_emails');
    expect(rows[0].n).toBe(expected.length);
  });

  it('reports progress up to every customer of the call', async () => {
    const reported: Array<[number, number]> = [];
    await email.sendReports(request(), { onProgress: (done, total) => reported.push([done, total]) });
    expect(reported.at(-1)).toEqual([ids.length, ids.length]);
    expect(reported.map(([done]) => done)).toEqual([...reported.map(([done]) => done)].sort((a, b) => a - b));
  });

  it('never sends the same report twice: not on a second call, not from two concurrent runs', async () => {
    // A run that finds reports the other is sending fails its attempt; its retry counts them.
    const [a, b] = await Promise.all([untilDone(() => email.sendReports(request())), untilDone(() => email.sendReports(request({ workflowId: 'wf-2' })))]);
    const expected = await customersWithOrders();
    expect(a.sent + b.sent).toBe(expected.length);
    expect(a.alreadySent + b.alreadySent).toBe(expected.length);
    const again = await email.sendReports(request({ workflowId: 'wf-3' }));
    expect(again).toMatchObject({ sent: 0, alreadySent: expected.length });
    const mailbox = readMailbox(sink.dir);
    expect(mailbox).toHaveLength(expected.length);
    expect(new Set(mailbox.map((m) => m.messageId)).size).toBe(expected.length);
  });

  it('resend sends once more per run, and a retried resend of the same run does not', async () => {
    await email.sendReports(request());
    const first = await email.sendReports(request({ resend: true, workflowId: 'resend-run' }));
    const retried = await email.sendReports(request({ resend: true, workflowId: 'resend-run' }));
    const expected = await customersWithOrders();
    expect(first.sent).toBe(expected.length);
    // The retry counts them as sent by this run (an earlier attempt did it) but sends nothing.
    expect(retried).toMatchObject({ sent: expected.length, alreadySent: 0 });
    expect(readMailbox(sink.dir)).toHaveLength(2 * expected.length);
  });

  it('a transient SMTP failure throws (so the activity retries) and the retry sends only what is missing', async () => {
    const expected = await customersWithOrders();
    sink.deferNext(1);
    await expect(email.sendReports(request())).rejects.toThrow(/451/);
    const retry = await email.sendReports(request());
    expect(retry.sent + retry.alreadySent).toBe(expected.length);
    expect(readMailbox(sink.dir).map((m) => m.customerId)).toEqual(expected);
  });

  it('a permanent rejection is that customer’s failure; the others are sent', async () => {
    const expected = await customersWithOrders();
    const lonely = new ReportEmail(db.pool, transport, { from: 'Reports <reports@test>', concurrency: 1 });
    sink.rejectNext(1);
    const result = await lonely.sendReports(request());
    expect(result.failures).toEqual([{ customerId: expected[0], step: 'email', reason: 'SMTP rejected the message (550)' }]);
    expect(result.sent).toBe(expected.length - 1);
  });

  it("leaves another run's live claim alone (neither sent nor counted), and takes over one whose lease ran out (same Message-ID)", async () => {
    const [live, lapsed] = await customersWithOrders();
    await insertClaim(db.pool, live!, period, { runId: 'other-run', token: 'other-attempt', leaseFromNow: '1 minute' });
    await insertClaim(db.pool, lapsed!, period, { runId: 'other-run', token: 'other-attempt', leaseFromNow: '-1 second' });
    const error = await email.sendReports(request({ customerIds: [live!, lapsed!] })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportsHeldElsewhereError);
    expect((error as Error).message).toMatch(/^1 report\(s\) not sent: 1 held by another run/);
    const mailbox = readMailbox(sink.dir);
    expect(mailbox.map((m) => m.customerId)).toEqual([lapsed]);
    expect(mailbox[0]!.messageId).toBe(`<report.${lapsed}.${period.from}.${period.to}@durable-jobs>`);
    const { rows } = await db.pool.query(`SELECT customer_id, run_id, state, claim_token FROM report_emails ORDER BY customer_id`);
    expect(rows).toEqual([
      { customer_id: live, run_id: 'other-run', state: 'sending', claim_token: 'other-attempt' },
      { customer_id: lapsed, run_id: 'run-of-wf-1', state: 'sent', claim_token: null },
    ].sort((a, b) => a.customer_id! - b.customer_id!));
  });

  it('dry run counts and sends nothing', async () => {
    const result = await email.sendReports(request({ dryRun: true }));
    expect(result.sent).toBe((await customersWithOrders()).length);
    expect(readMailbox(sink.dir)).toEqual([]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM report_emails');
    expect(rows[0].n).toBe(0);
  });
  it('a report with a day not over yet says "so far", is sent once per run, and never stands in for the final report', async () => {
    const expected = await customersWithOrders();
    // As a manual run before the last day ended where the customers are would leave them.
    await db.pool.query(`UPDATE daily_reports SET final = false WHERE report_date = $1`, [period.to]);
    expect(await email.sendReports(request({ workflowId: 'manual-1' }))).toMatchObject({ sent: expected.length, alreadySent: 0 });
    expect(await email.sendReports(request({ workflowId: 'manual-1' }))).toMatchObject({ sent: expected.length, alreadySent: 0 }); // a retry of that run
    expect(await email.sendReports(request({ workflowId: 'manual-2' }))).toMatchObject({ sent: expected.length }); // another manual run: its own "so far"
    let mail = readMailbox(sink.dir);
    expect(mail).toHaveLength(2 * expected.length);
    expect(mail.every((m) => !m.final && m.subject.endsWith('(so far)'))).toBe(true);

    // The nightly run for their zone replaces the rows with final ones: the final report goes out, once.
    await db.pool.query(`UPDATE daily_reports SET final = true WHERE report_date = $1`, [period.to]);
    expect(await email.sendReports(request({ workflowId: 'nightly' }))).toMatchObject({ sent: expected.length, alreadySent: 0 });
    expect(await email.sendReports(request({ workflowId: 'nightly-again' }))).toMatchObject({ sent: 0, alreadySent: expected.length });
    mail = readMailbox(sink.dir).filter((m) => m.final);
    expect(mail.map((m) => m.customerId)).toEqual(expected);
    expect(mail.every((m) => !m.subject.includes('so far'))).toBe(true);
  });
});
