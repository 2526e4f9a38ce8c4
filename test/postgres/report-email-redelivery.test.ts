import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Transporter } from 'nodemailer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { createMailTransport } from '../../src/mail-transport.js';
import type { SendOutcome } from '../../src/services/email-claims.js';
import { ReportEmail } from '../../src/services/report-email.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { createTestDatabase, seedDemo, testLogger, type TestDatabase } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { insertClaim } from './report-email-support.js';

// What the email metrics hear per message (durable_jobs_emails_sent / _redelivered): a send
// whose claim was taken over from another attempt whose lease ran out is 'sent-again' (that
// attempt may have sent it); a claim released by its attempt, or none at all, is a plain send.

let db: TestDatabase;
let sink: SmtpSink;
let transport: Transporter;
const period = { from: '2026-11-09', to: '2026-11-10' };
const ids = Array.from({ length: 12 }, (_, i) => i + 1);

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-mail-')), 0, testLogger);
  transport = createMailTransport(sink.url, 2);
  await seedDemo(db.pool);
  await new ReportRegeneration(db.pool).regenerateBatch({ batch: { customerIds: ids }, ...period, workflowId: 'regen', dryRun: false });
});
afterAll(async () => {
  transport.close();
  await sink.stop();
  await db.drop();
});

it("reports a send that took over a lapsed claim as sent-again, and a released or new one as sent", async () => {
  const { rows } = await db.pool.query<{ customer_id: string }>(
    `SELECT customer_id FROM daily_reports WHERE customer_id = ANY($1) AND report_date BETWEEN $2 AND $3
      GROUP BY customer_id HAVING sum(order_count) > 0 ORDER BY 1`,
    [ids, period.from, period.to],
  );
  const withOrders = rows.map((row) => Number(row.customer_id));
  expect(withOrders.length).toBeGreaterThanOrEqual(3);
  const [lapsed, released] = withOrders;
  // An attempt that died holding its claim (lease run out), and one that stopped and released its claim.
  await insertClaim(db.pool, lapsed!, period, { runId: 'run-1', token: 'run-1:activity:1', leaseFromNow: '-1 second' });
  await insertClaim(db.pool, released!, period, { runId: 'run-1', token: 'run-1:activity:1', leaseFromNow: '1 minute' });
  await db.pool.query(`UPDATE report_emails SET claim_token = NULL, lease_until = NULL WHERE customer_id = $1`, [released]);

  const outcomes: SendOutcome[] = [];
  const result = await new ReportEmail(db.pool, transport, { from: 'Reports <reports@test>', concurrency: 2, chunkSize: 5 }).sendReports(
    { customerIds: ids, ...period, resend: false, workflowId: 'wf-1', runId: 'run-1', attemptToken: 'run-1:activity:2', dryRun: false },
    { onMessage: (outcome) => outcomes.push(outcome) },
  );
  expect(result.sent).toBe(withOrders.length);
  expect(outcomes.filter((outcome) => outcome === 'sent-again')).toHaveLength(1);
  expect(outcomes.filter((outcome) => outcome === 'sent')).toHaveLength(withOrders.length - 1);
  expect(readMailbox(sink.dir).map((message) => message.customerId)).toEqual(withOrders);

  // A second attempt of the run finds them all sent: it hands nothing to SMTP, so hears nothing.
  outcomes.length = 0;
  await new ReportEmail(db.pool, transport, { from: 'Reports <reports@test>', concurrency: 2 }).sendReports(
    { customerIds: ids, ...period, resend: false, workflowId: 'wf-1', runId: 'run-1', attemptToken: 'run-1:activity:3', dryRun: false },
    { onMessage: (outcome) => outcomes.push(outcome) },
  );
  expect(outcomes).toEqual([]);
});
