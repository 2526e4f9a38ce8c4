import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailTransport } from '../../src/mail-transport.js';
import { ReportEmail } from '../../src/services/report-email.js';
import { readMailbox } from '../support/mailbox.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

// An email attempt hears that the server gave up on it only in the answer to a heartbeat.
// Terminating the run is that and nothing else: the attempt's own deadline (sendUntil) is
// 15 minutes away, so if sends stop it is because the heartbeat's answer stopped them.

const REPLY_DELAY_MS = 300;
/** The worker caps the SDK's heartbeat throttle at this (src/worker.ts). */
const HEARTBEAT_THROTTLE_MS = 2_000;
const period = { from: '2026-11-08', to: '2026-11-10' };
let env: TemporalTestEnv;

beforeAll(async () => {
  env = await startTemporalTestEnv({
    // Two connections at 300 ms a reply: about 6 messages a second, ~25 s for every customer.
    services: (pool, sink) => ({ reportEmail: new ReportEmail(pool, createMailTransport(sink.url, 2), { from: 'Reports <reports@test>', concurrency: 2 }) }),
  });
  await seedDemo(env.db.pool, { customers: 170 });
  fs.rmSync(env.sink.dir, { recursive: true, force: true });
  fs.mkdirSync(env.sink.dir);
});
afterAll(() => env.close());

const storedAt = (file: string) => Number(/\.(\d{13})-\d+\.eml$/.exec(file)![1]);

describe('an email attempt whose run is terminated', () => {
  it('stops sending within one heartbeat throttle and one reply, and releases what it did not send', async () => {
    env.sink.delayReplies(REPLY_DELAY_MS);
    const handle = await env.client.workflow.start('regenerateReports', {
      taskQueue: env.taskQueue,
      workflowId: `email-terminated-${Date.now()}`,
      args: [{ ...period, batchSize: 500 }],
    });
    while (readMailbox(env.sink.dir).length < 10) await new Promise((resolve) => setTimeout(resolve, 100));
    const terminatedAt = Date.now();
    await handle.terminate('test: the attempt must learn it through its heartbeat');

    // Until nothing has arrived for a while (the count stops growing).
    let count = -1;
    while (count !== readMailbox(env.sink.dir).length) {
      count = readMailbox(env.sink.dir).length;
      await new Promise((resolve) => setTimeout(resolve, 2 * REPLY_DELAY_MS + 500));
    }
    const mailbox = readMailbox(env.sink.dir);
    const { rows: customers } = await env.db.pool.query(`SELECT count(*)::int AS n FROM report_emails`);
    expect(mailbox.length, 'it stopped well before sending everything').toBeLessThan(customers[0].n);
    const late = mailbox.filter((m) => storedAt(m.file) > terminatedAt + HEARTBEAT_THROTTLE_MS + REPLY_DELAY_MS + 700);
    expect(late.map((m) => m.customerId), 'messages that started after the attempt should have heard').toEqual([]);

    // It stopped by itself: what it sent is marked, the rest released (no live lease left).
    const { rows } = await env.db.pool.query(
      `SELECT count(*) FILTER (WHERE state = 'sending' AND claim_token IS NOT NULL AND lease_until > now())::int AS leased,
              count(*) FILTER (WHERE state = 'sent')::int AS sent
         FROM report_emails`,
    );
    expect(rows[0]).toEqual({ leased: 0, sent: mailbox.length });
  }, 120_000);
});
