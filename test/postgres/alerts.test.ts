import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { EmailAlertChannel, WebhookAlertChannel } from '../../src/services/alert-channels.js';
import { renderAlert, type AlertFacts } from '../../src/services/alert-message.js';
import { AlertConditions, COUNTER_QUIET_MS } from '../../src/services/alert-conditions.js';
import { Alerts, type AlertLease } from '../../src/services/alerts.js';
import { readAlertMail } from '../support/alert-mail.js';
import { createTestDatabase, testLogger, type TestDatabase } from '../support/database.js';

/** A real local HTTP server standing in for ALERT_WEBHOOK_URL: records every POST, answers as told. */
interface WebhookReceiver {
  url: string;
  posts: Array<{ idempotencyKey: string; body: Record<string, unknown> }>;
  /** Answers for the next requests, in turn ('hang': never answer); then 204. */
  answers: Array<number | 'hang'>;
  close(): Promise<void>;
}

async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver = { posts: [], answers: [] } as unknown as WebhookReceiver;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = receiver.answers.shift() ?? 204;
      if (answer === 'hang') return; // the client's timeout ends it
      if (answer >= 200 && answer < 300) {
        receiver.posts.push({ idempotencyKey: String(request.headers['idempotency-key']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      }
      response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/alerts?token=s3cret`;
  receiver.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

const facts = (incidentKey: string): AlertFacts => ({
  incidentKey,
  kind: 'run-failed',
  job: 'daily-reports',
  title: 'daily-reports: the scheduled run failed',
  happenedAt: '2026-11-05T02:00:13.000Z',
  what: ['Run: daily-reports-2026-11-05T02:00:00Z (run id r1)'],
  links: [{ label: 'The run in the Temporal Web UI', url: 'http://localhost:8233/namespaces/default/workflows/x/r1/history' }],
  fix: ["npm run job -- rerun-failed 'x' --wait"],
});

const SHORT_LEASE: AlertLease = { ms: 3_000, sendTimeoutMs: 1_500 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDatabase;
let sink: SmtpSink;
let webhook: WebhookReceiver;
let email: EmailAlertChannel;
let hook: WebhookAlertChannel;
let counter = 0;
const key = () => `test-incident-${++counter}-${Date.now()}`;
const alerts = (lease?: AlertLease) => new Alerts(db.pool, { channels: [email, hook], ...(lease ? { lease } : {}) });

beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-alert-mail-')), 0, testLogger);
  webhook = await startWebhookReceiver();
  email = new EmailAlertChannel(sink.url, 'Daily reports <reports@durable-jobs.local>', ['ops@example.com']);
  hook = new WebhookAlertChannel(webhook.url);
});
beforeEach(() => {
  fs.rmSync(sink.dir, { recursive: true, force: true });
  fs.mkdirSync(sink.dir);
  webhook.posts.length = 0;
  webhook.answers.length = 0;
});
afterAll(async () => {
  await webhook?.close();
  await sink?.stop();
  await db?.drop();
});

describe('Alerts: one alert per incident, by email and webhook', () => {
  it('an incident raised and delivered twice is sent once on each channel, with what the operator needs', async () => {
    const incident = key();
    const service = alerts();
    const first = await service.raise(facts(incident));
    const again = await service.raise(facts(incident));
    expect(first.created).toBe(true);
    expect(again).toEqual({ alertId: first.alertId, created: false });
    expect((await service.deliver(first.alertId)).sent).toEqual(['email', 'webhook']);
    expect((await service.deliver(first.alertId)).alreadySent).toEqual(['email', 'webhook']);

    const mail = readAlertMail(sink.dir);
    expect(mail).toHaveLength(1);
    const rendered = renderAlert(facts(incident));
    expect(mail[0]).toMatchObject({ messageId: rendered.messageId, incident: rendered.idempotencyKey, kind: 'run-failed', to: 'ops@example.com' });
    expect(mail[0]!.subject).toBe('[durable-jobs alert] daily-reports: the scheduled run failed');
    expect(mail[0]!.text).toContain('When: 2026-11-05 02:00:13 UTC (2026-11-05T02:00:13.000Z)');
    expect(mail[0]!.text).toContain("npm run job -- rerun-failed 'x' --wait");
    expect(webhook.posts).toHaveLength(1);
    expect(webhook.posts[0]).toMatchObject({ idempotencyKey: rendered.idempotencyKey, body: { incidentKey: incident, kind: 'run-failed', job: 'daily-reports' } });
    const { rows } = await db.pool.query(`SELECT channel, state, attempts FROM alert_deliveries WHERE alert_id = $1 ORDER BY channel`, [first.alertId]);
    expect(rows).toEqual([{ channel: 'email', state: 'sent', attempts: 1 }, { channel: 'webhook', state: 'sent', attempts: 1 }]);
  });

  it('ten concurrent raisers of one incident (ten processes, say) send it once on each channel', async () => {
    const incident = key();
    const reports = await Promise.all(Array.from({ length: 10 }, async () => {
      const service = alerts();
      const { alertId } = await service.raise(facts(incident));
      return service.deliver(alertId);
    }));
    expect(readAlertMail(sink.dir)).toHaveLength(1);
    expect(webhook.posts).toHaveLength(1);
    expect(reports.flatMap((report) => report.sent).sort()).toEqual(['email', 'webhook']);
    // The others found it sent, or claimed by the one sending it (never sent by two).
    for (const report of reports) expect(report.failed).toEqual([]);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM alerts WHERE incident_key = $1', [incident])).rows[0].n).toBe(1);
  });

  it('a claim another attempt holds is left alone until its lease runs out, then taken over and sent once', async () => {
    const service = alerts(SHORT_LEASE);
    const { alertId } = await service.raise(facts(key()));
    // An attempt that claimed both deliveries and died before sending (kill -9 right after its claim).
    await db.pool.query(`UPDATE alert_deliveries SET claim_token = 'dead-attempt', lease_until = now() + interval '2 seconds' WHERE alert_id = $1`, [alertId]);
    const held = await service.deliver(alertId);
    expect(held.sent).toEqual([]);
    expect(held.held.map((h) => h.channel)).toEqual(['email', 'webhook']);
    expect(readAlertMail(sink.dir)).toHaveLength(0);
    await sleep(Math.max(...held.held.map((h) => h.forMs)) + 100);
    expect((await service.deliver(alertId)).sent).toEqual(['email', 'webhook']);
    expect(readAlertMail(sink.dir)).toHaveLength(1);
    expect(webhook.posts).toHaveLength(1);
  });

  it('an attempt that died between the send and its mark: once its lease runs out the alert goes again, with the same Message-ID and Idempotency-Key', async () => {
    const service = alerts(SHORT_LEASE);
    const incident = key();
    const { alertId } = await service.raise(facts(incident));
    // The dead attempt: it claimed, the SMTP server and the webhook accepted, and it died before recording that.
    await db.pool.query(`UPDATE alert_deliveries SET claim_token = 'dead-attempt', lease_until = now() + interval '1 second' WHERE alert_id = $1`, [alertId]);
    expect(await email.send(renderAlert(facts(incident)), 1_500)).toBe('sent');
    expect(await hook.send(renderAlert(facts(incident)), 1_500)).toBe('sent');
    await sleep(1_200);
    expect((await service.deliver(alertId)).sent).toEqual(['email', 'webhook']);
    // At least once: nobody can know whether an acceptance that was never recorded arrived.
    // The copies carry one Message-ID and one Idempotency-Key, so receivers drop the second.
    const mail = readAlertMail(sink.dir);
    expect(mail).toHaveLength(2);
    expect(new Set(mail.map((m) => m.messageId)).size).toBe(1);
    expect(webhook.posts.map((p) => p.idempotencyKey)).toEqual([renderAlert(facts(incident)).idempotencyKey, renderAlert(facts(incident)).idempotencyKey]);
  });

  it('a transient failure (SMTP 451, webhook 503) releases the claim; the next delivery sends once', async () => {
    const service = alerts();
    const { alertId } = await service.raise(facts(key()));
    sink.deferNext(1);
    webhook.answers.push(503);
    const first = await service.deliver(alertId);
    expect(first.failed.map((f) => f.channel)).toEqual(['email', 'webhook']);
    expect(first.failed[1]!.error).not.toContain('s3cret'); // the webhook URL's token is never in a message
    expect((await service.deliver(alertId)).sent).toEqual(['email', 'webhook']);
    expect(readAlertMail(sink.dir)).toHaveLength(1);
    expect(webhook.posts).toHaveLength(1);
  });

  it('a refusal for good (SMTP 550, webhook 404) is recorded and never tried again', async () => {
    const service = alerts();
    const { alertId } = await service.raise(facts(key()));
    sink.rejectNext(1);
    webhook.answers.push(404);
    const first = await service.deliver(alertId);
    expect(first.refused.map((r) => r.channel)).toEqual(['email', 'webhook']);
    const second = await service.deliver(alertId);
    expect(second.refused.map((r) => r.channel)).toEqual(['email', 'webhook']);
    expect(second.sent).toEqual([]);
    expect(readAlertMail(sink.dir)).toHaveLength(0);
    expect(webhook.posts).toHaveLength(0);
  });

  it('a webhook that never answers is cut off at the send timeout (inside the lease) and tried again later', async () => {
    const service = new Alerts(db.pool, { channels: [hook], lease: SHORT_LEASE });
    const { alertId } = await service.raise(facts(key()));
    webhook.answers.push('hang');
    const first = await service.deliver(alertId);
    expect(first.failed.map((f) => f.channel)).toEqual(['webhook']);
    expect((await service.deliver(alertId)).sent).toEqual(['webhook']);
  });

  it('the monitor sweep sends what nobody holds: an alert whose sender gave up', async () => {
    const service = alerts();
    const { alertId } = await service.raise(facts(key()));
    const swept = await service.deliverPending();
    expect(swept.find((report) => report.alertId === alertId)?.sent).toEqual(['email', 'webhook']);
    expect((await service.deliverPending()).find((report) => report.alertId === alertId)).toBeUndefined();
  });
});

describe('AlertConditions: one incident per outage, a new one after recovery', () => {
  it('a condition keeps the start whoever saw it first, and starts over once cleared', async () => {
    const conditions = new AlertConditions(db.pool);
    const t0 = new Date('2026-11-05T02:00:00Z');
    expect(await conditions.holding('no-worker:test', t0)).toEqual(t0);
    expect(await conditions.holding('no-worker:test', new Date('2026-11-05T02:05:00Z'))).toEqual(t0);
    await conditions.cleared('no-worker:test');
    const t1 = new Date('2026-11-05T03:00:00Z');
    expect(await conditions.holding('no-worker:test', t1)).toEqual(t1);
  });

  it('a counter that grows opens one episode, kept while it grows, closed after a quiet spell; the next growth opens another', async () => {
    const conditions = new AlertConditions(db.pool);
    const at = (minutes: number) => new Date(Date.parse('2026-11-05T02:00:00Z') + minutes * 60_000);
    expect(await conditions.counter('missed:test', 0, at(0))).toEqual({ opened: false, since: null, grewBy: 0 });
    expect(await conditions.counter('missed:test', 3, at(1))).toEqual({ opened: true, since: at(1), grewBy: 3 });
    expect(await conditions.counter('missed:test', 5, at(2))).toEqual({ opened: false, since: at(1), grewBy: 2 });
    expect(await conditions.counter('missed:test', 5, at(3))).toEqual({ opened: false, since: at(1), grewBy: 0 });
    const quiet = COUNTER_QUIET_MS / 60_000;
    expect(await conditions.counter('missed:test', 5, at(2 + quiet))).toEqual({ opened: false, since: null, grewBy: 0 });
    expect(await conditions.counter('missed:test', 6, at(3 + quiet))).toEqual({ opened: true, since: at(3 + quiet), grewBy: 1 });
    // Recreated schedule: its counter starts over, no incident.
    expect(await conditions.counter('missed:test', 0, at(4 + quiet))).toEqual({ opened: false, since: null, grewBy: 0 });
  });
});
