import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { createMailTransport } from '../../src/mail-transport.js';
import { CorrectionsHeldElsewhereError, ReportCorrections } from '../../src/services/report-corrections.js';
import { ReportEmail } from '../../src/services/report-email.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { AttemptClaims } from '../../src/services/email-claims.js';
import { composeCorrectionEmail, describeChanges } from '../../src/services/correction-email-message.js';
import { createTestDatabase, seedDemo, testLogger, type TestDatabase } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';

let db: TestDatabase;
let sink: SmtpSink;
let transport: Transporter;
let corrections: ReportCorrections;
const day = '2026-11-09';
let emailed: number[];
const regenerate = (customerIds: number[]) => new ReportRegeneration(db.pool).regenerateBatch({ batch: { customerIds }, from: day, to: day, workflowId: 'regen', dryRun: false });
const corrected = () => readMailbox(sink.dir).filter((m) => m.subject.startsWith('Correction'));

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-mail-')), 0, testLogger);
  transport = createMailTransport(sink.url, 2);
  corrections = new ReportCorrections(db.pool, transport, { from: 'Reports <reports@example.com>' });
  await seedDemo(db.pool);
  await regenerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // The final report of the day for customers with orders among 1-8 (9 and 10 are never emailed).
  const { rows } = await db.pool.query('SELECT customer_id::int FROM daily_reports WHERE customer_id <= 8 AND report_date = $1 AND order_count > 0 ORDER BY 1', [day]);
  emailed = rows.map((row) => row.customer_id as number);
  expect(emailed.length).toBeGreaterThanOrEqual(3);
  const sent = await new ReportEmail(db.pool, transport, { from: 'Reports <reports@example.com>', concurrency: 2 })
    .sendReports({ customerIds: emailed, from: day, to: day, resend: false, dryRun: false, runId: 'nightly', workflowId: 'nightly' });
  expect(sent.sent).toBe(emailed.length);
});
afterAll(async () => {
  transport?.close();
  await sink?.stop();
  await db?.drop();
});

async function lateOrder(customerId: number, cents: number) {
  await db.pool.query(
    `INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at)
     SELECT id, currency, $2, 'LATE', (($3::date + time '12:00') AT TIME ZONE time_zone) FROM customers WHERE id = $1`,
    [customerId, cents, day],
  );
}

describe('ReportCorrections', () => {
  it('keeps the reports of emailed customers only, once per revision (a retry keeps the first snapshot)', async () => {
    expect(await corrections.recordBefore({ day, customerIds: null, revision: 'import-1' })).toBe(emailed.length);
    await lateOrder(emailed[0]!, 5000);
    await regenerate([emailed[0]!]);
    // A retry after the day was regenerated must not take the new numbers as the old ones.
    expect(await corrections.recordBefore({ day, customerIds: null, revision: 'import-1' })).toBe(0);
    const { rows } = await db.pool.query('SELECT customer_id::int FROM report_corrections WHERE revision = $1 ORDER BY 1', ['import-1']);
    expect(rows.map((row) => row.customer_id)).toEqual(emailed);
  });

  it('emails the customers whose numbers changed, and no one else; a repeat sends nothing more', async () => {
    const first = await corrections.send({ day, revision: 'import-1', workflowId: 'import', runId: 'run-1' });
    expect(first).toEqual({ sent: 1, alreadySent: 0, unchanged: emailed.length - 1 });
    expect(corrected().map((m) => m.customerId)).toEqual([emailed[0]]);
    const again = await corrections.send({ day, revision: 'import-1', workflowId: 'import', runId: 'run-1' });
    expect(again).toEqual({ sent: 0, alreadySent: 0, unchanged: 0 });
    expect(corrected()).toHaveLength(1);
  });

  it('a retry after a send whose bookkeeping was lost counts it as sent, never sends it again', async () => {
    await corrections.recordBefore({ day, customerIds: [emailed[1]!], revision: 'import-2' });
    await lateOrder(emailed[1]!, 7000);
    await regenerate([emailed[1]!]);
    await corrections.send({ day, revision: 'import-2', workflowId: 'import', runId: 'run-2' });
    // As if the attempt died between the email's mark and the correction's own state.
    await db.pool.query("UPDATE report_corrections SET state = 'pending' WHERE revision = 'import-2'");
    expect(await corrections.send({ day, revision: 'import-2', workflowId: 'import', runId: 'run-2' })).toEqual({ sent: 0, alreadySent: 1, unchanged: 0 });
    expect(corrected().filter((m) => m.customerId === emailed[1])).toHaveLength(1);
  });

  it('waits for a correction another live attempt holds, instead of sending it too', async () => {
    await corrections.recordBefore({ day, customerIds: [emailed[2]!], revision: 'import-3' });
    await lateOrder(emailed[2]!, 9000);
    await regenerate([emailed[2]!]);
    const key = `${emailed[2]}:${day}:${day}:correction:import-3`;
    const other = new AttemptClaims(db.pool, 'other-attempt', { from: day, to: day, workflowId: 'import', runId: 'run-3' });
    await other.claim([{ customerId: emailed[2]!, key, messageId: '<x@y>' }]);
    await expect(corrections.send({ day, revision: 'import-3', workflowId: 'import', runId: 'run-3' })).rejects.toBeInstanceOf(CorrectionsHeldElsewhereError);
    expect(corrected().filter((m) => m.customerId === emailed[2])).toHaveLength(0);
    await other.release();
    expect(await corrections.send({ day, revision: 'import-3', workflowId: 'import', runId: 'run-3' })).toMatchObject({ sent: 1 });
  });
});

describe('correction email wording', () => {
  it('says what changed, and only that', () => {
    const before = { orderCount: 3, revenueCents: 4500, topSku: 'A' };
    const after = { orderCount: 4, revenueCents: 5200, topSku: 'A' };
    expect(describeChanges(before, after, 'EUR')).toEqual(['orders: 3 → 4', 'revenue: 45.00 EUR → 52.00 EUR']);
    expect(describeChanges(before, before, 'EUR')).toEqual([]);
    const email = composeCorrectionEmail('Ada <script>', '2026-11-09', 'EUR', before, after);
    expect(email.subject).toBe('Correction: your sales report for 2026-11-09');
    expect(email.text).toContain('orders: 3 → 4');
    expect(email.html).not.toContain('<script>');
  });
});
