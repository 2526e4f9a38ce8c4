import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { createMailTransport } from '../../src/mail-transport.js';
import { ReportCorrections } from '../../src/services/report-corrections.js';
import { ReportEmail } from '../../src/services/report-email.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { createTestDatabase, seedDemo, type TestDatabase } from '../support/database.js';
import { testLogger } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';

/**
 * Found by the import fault-suite work: a revision whose correction was not sent (its send
 * gave up, or its day's report run failed) was replaced by the next revision of the day, whose
 * "before" was the already-regenerated report, not what the customer read; the first
 * revision's row stayed pending for good. Now the next revision takes over the earlier one's
 * "before" and supersedes it, so one correction covers both changes, starting from what the
 * customer was sent.
 */
let db: TestDatabase;
let sink: SmtpSink;
let transport: Transporter;
const day = '2026-11-09';
const regenerate = (customerIds: number[]) => new ReportRegeneration(db.pool).regenerateBatch({ batch: { customerIds }, from: day, to: day, workflowId: 'regen', dryRun: false });

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-mail-')), 0, testLogger);
  transport = createMailTransport(sink.url, 2);
  await seedDemo(db.pool);
  await regenerate([1, 2, 3, 4, 5, 6, 7, 8]);
});
afterAll(async () => {
  transport?.close();
  await sink?.stop();
  await db?.drop();
});

describe('ReportCorrections across revisions', () => {
  it('a correction whose revision could not send is not lost when a later change of the day brings a new revision', async () => {
    const { rows: [row] } = await db.pool.query('SELECT customer_id::int, order_count FROM daily_reports WHERE customer_id <= 8 AND report_date = $1 AND order_count > 0 ORDER BY 1 LIMIT 1', [day]);
    const customerId = row.customer_id as number;
    const emailedCount = row.order_count as number;
    await new ReportEmail(db.pool, transport, { from: 'Reports <reports@example.com>', concurrency: 2 })
      .sendReports({ customerIds: [customerId], from: day, to: day, resend: false, dryRun: false, runId: 'nightly', workflowId: 'nightly' });
    const lateOrder = (cents: number) => db.pool.query(
      `INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at)
       SELECT id, currency, $3, 'LATE', (($2::date + time '12:00') AT TIME ZONE time_zone) FROM customers WHERE id = $1`,
      [customerId, day, cents],
    );

    // Import 1: a late order; the day is recorded, regenerated, and its correction cannot be sent (SMTP down through every attempt).
    const smtpDown = { sendMail: async () => { throw new Error('connect ECONNREFUSED (SMTP down)'); } } as unknown as Transporter;
    const during = new ReportCorrections(db.pool, smtpDown, { from: 'Reports <reports@example.com>' });
    await during.recordBefore({ day, customerIds: [customerId], revision: 'shop@2026-12-01T10:00:00.000000Z' });
    await lateOrder(4200);
    await regenerate([customerId]);
    await expect(during.send({ day, revision: 'shop@2026-12-01T10:00:00.000000Z', workflowId: 'import', runId: 'run-1' })).rejects.toThrow(/SMTP down/);

    // Another late order for the day; import 2 (SMTP back) takes the day under the new latest change.
    await lateOrder(1300);
    const after = new ReportCorrections(db.pool, transport, { from: 'Reports <reports@example.com>' });
    await after.recordBefore({ day, customerIds: [customerId], revision: 'shop@2026-12-01T11:00:00.000000Z' });
    await regenerate([customerId]);
    await after.send({ day, revision: 'shop@2026-12-01T11:00:00.000000Z', workflowId: 'import', runId: 'run-2' });

    // The customer read `emailedCount` orders: whatever corrections arrive must start there, and none may stay due.
    const corrections = readMailbox(sink.dir).filter((m) => m.subject.startsWith('Correction') && m.customerId === customerId);
    const bodies = corrections.map((m) => fs.readFileSync(path.join(sink.dir, m.file), 'utf8'));
    const { rows: pending } = await db.pool.query("SELECT revision FROM report_corrections WHERE customer_id = $1 AND state = 'pending'", [customerId]);
    expect({ pending: pending.length, fromWhatWasRead: bodies.some((body) => body.includes(`orders: ${emailedCount} =E2=86=92`)) })
      .toEqual({ pending: 0, fromWhatWasRead: true }); // before the fix: { pending: 1, fromWhatWasRead: false }
  });

  it('an older revision recorded after a newer one (a slower import) neither takes over nor supersedes it', async () => {
    const { rows: [row] } = await db.pool.query('SELECT customer_id::int FROM daily_reports WHERE customer_id <= 8 AND report_date = $1 AND order_count > 0 ORDER BY 1 OFFSET 1 LIMIT 1', [day]);
    const customerId = row.customer_id as number;
    await new ReportEmail(db.pool, transport, { from: 'Reports <reports@example.com>', concurrency: 2 })
      .sendReports({ customerIds: [customerId], from: day, to: day, resend: false, dryRun: false, runId: 'nightly-2', workflowId: 'nightly' });
    const corrections = new ReportCorrections(db.pool, transport, { from: 'Reports <reports@example.com>' });
    await corrections.recordBefore({ day, customerIds: [customerId], revision: 'shop@2026-12-01T13:00:00.000000Z' });
    await corrections.recordBefore({ day, customerIds: [customerId], revision: 'shop@2026-12-01T12:00:00.000000Z' });
    const { rows } = await db.pool.query('SELECT revision, state FROM report_corrections WHERE customer_id = $1 ORDER BY revision', [customerId]);
    expect(rows).toEqual([
      { revision: 'shop@2026-12-01T12:00:00.000000Z', state: 'pending' },
      { revision: 'shop@2026-12-01T13:00:00.000000Z', state: 'pending' },
    ]);
  });
});
