import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { AlertSettings } from '../../src/alert-settings.js';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server.js';
import { Monitor, type MonitorDeps } from '../../src/health/monitor.js';
import { temporalProbes } from '../../src/health/monitor-probes.js';
import { WORKER_SEEN_WITHIN_MS } from '../../src/health/task-queue-health.js';
import { EmailAlertChannel } from '../../src/services/alert-channels.js';
import { AlertConditions } from '../../src/services/alert-conditions.js';
import { Alerts } from '../../src/services/alerts.js';
import { readAlertMail } from '../support/alert-mail.js';
import { createTestDatabase, testLogger, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/free-port.js';

let db: TestDatabase;
let sink: SmtpSink;
beforeAll(async () => {
  db = await createTestDatabase();
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-monitor-mail-')), 0, testLogger);
});
beforeEach(() => {
  fs.rmSync(sink.dir, { recursive: true, force: true });
  fs.mkdirSync(sink.dir);
});
afterAll(async () => {
  await sink?.stop();
  await db?.drop();
});

const settings = (namespace: string): AlertSettings => ({
  emails: ['ops@example.com'], webhookUrl: null, failedItemsThreshold: 0, quarantinedThreshold: 0, noWorkerMinutes: 1,
  adminUrl: 'https://admin.example.com', temporalUiUrl: 'http://localhost:8233', namespace,
});

/** A monitor process of its own over `client` (several may watch at once: they share the database). */
function monitor(client: Client, namespace: string, watch: Pick<MonitorDeps, 'taskQueues' | 'schedules'>): Monitor {
  return new Monitor({
    probes: temporalProbes(client, namespace),
    conditions: new AlertConditions(db.pool),
    alerts: new Alerts(db.pool, { channels: [new EmailAlertChannel(sink.url, 'Daily reports <reports@durable-jobs.local>', ['ops@example.com'])] }),
    settings: settings(namespace),
    logger: testLogger,
    ...watch,
  });
}

const later = (from: Date, ms: number) => new Date(from.getTime() + ms);

describe('the alert monitor, outside the workers', () => {
  it('no worker polling a task queue for ALERT_NO_WORKER_MINUTES: one alert per outage, and one more after a worker came back and went again', async () => {
    const namespace = inject('temporalNamespace');
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const client = new Client({ connection, namespace });
    const taskQueue = `monitor-test-${crypto.randomBytes(4).toString('hex')}`;
    const watcher = monitor(client, namespace, { taskQueues: [taskQueue], schedules: [] });
    const otherWatcher = monitor(client, namespace, { taskQueues: [taskQueue], schedules: [] });
    try {
      const t0 = new Date();
      expect((await watcher.checkOnce(t0)).incidents).toEqual([]); // nobody polls: the outage starts now, alerted in a minute
      expect((await watcher.checkOnce(later(t0, 30_000))).incidents).toEqual([]);
      const first = await watcher.checkOnce(later(t0, 61_000));
      expect(first).toEqual({ incidents: [`no-worker:${namespace}/${taskQueue}:${t0.toISOString()}`], errors: [] });
      await otherWatcher.checkOnce(later(t0, 62_000)); // a second monitor sees the same outage
      await watcher.checkOnce(later(t0, 120_000));
      const mail = readAlertMail(sink.dir);
      expect(mail).toHaveLength(1);
      expect(mail[0]!.kind).toBe('no-worker');
      expect(mail[0]!.subject).toBe(`[durable-jobs alert] no worker has polled task queue ${taskQueue} for 1 minute`);
      expect(mail[0]!.text).toContain(`npm run temporal -- task-queue describe --task-queue ${taskQueue}`);
      expect(mail[0]!.text).toContain('https://admin.example.com/status');

      // A worker polls: the outage is over. It stops: a new outage, from its last poll.
      const workerConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
      const worker = await Worker.create({ connection: workerConnection, namespace, taskQueue, workflowBundle: { codePath: inject('workflowBundlePath') } });
      const running = worker.run();
      const probes = temporalProbes(client, namespace);
      let lastPoll: Date | null = null;
      while (!lastPoll) {
        lastPoll = await probes.lastPoll(taskQueue);
        if (!lastPoll) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect((await watcher.checkOnce(new Date())).incidents).toEqual([]);
      worker.shutdown();
      await running;
      await workerConnection.close();
      const stoppedAt = (await probes.lastPoll(taskQueue))!;
      const second = await watcher.checkOnce(later(stoppedAt, WORKER_SEEN_WITHIN_MS + 61_000));
      expect(second.incidents).toEqual([`no-worker:${namespace}/${taskQueue}:${stoppedAt.toISOString()}`]);
      await watcher.checkOnce(later(stoppedAt, WORKER_SEEN_WITHIN_MS + 120_000));
      const after = readAlertMail(sink.dir);
      expect(after).toHaveLength(2);
      expect(after[1]!.text).toContain(`Last poll seen: ${stoppedAt.toISOString()}`);
    } finally {
      await connection.close();
    }
  });

  it('a schedule that skipped runs because the server was down longer than its catch-up window: one alert, however many monitors look', async () => {
    // A Temporal server of this test's own, to stop for longer than the schedule's catch-up window (10 s, the least Temporal allows).
    const [port, uiPort] = [await freePort(), await freePort()];
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-monitor-temporal-'));
    const start = () => startTemporalDevServer({ dataDir, port, uiPort }, testLogger);
    let server = await start();
    let connection = await Connection.connect({ address: server.address });
    try {
      const scheduleId = 'import-orders';
      await new Client({ connection }).schedule.create({
        scheduleId,
        spec: { intervals: [{ every: '2 seconds' }] },
        // Starts runs nobody picks up (no worker): enough for the schedule to count what it skips.
        action: { type: 'startWorkflow', workflowType: 'importOrders', workflowId: 'monitor-test-import', taskQueue: 'nobody-polls', args: [{}] },
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 seconds' },
      });
      // The schedule runs a few times (its first run waits for a worker; the next are skipped as overlaps),
      // then the server is down for twice the catch-up window.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      await connection.close();
      await server.stop();
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      server = await start();
      connection = await Connection.connect({ address: server.address });
      const client = new Client({ connection });
      const probes = temporalProbes(client, 'default');
      let missed = 0;
      for (let tries = 0; missed === 0 && tries < 300; tries++) {
        missed = (await probes.missedCatchups(scheduleId))?.missed ?? 0;
        if (missed === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(missed).toBeGreaterThan(0);

      const watch = { taskQueues: [], schedules: [{ id: scheduleId, job: 'import-orders' }] };
      const now = new Date();
      const [a, b] = await Promise.all([monitor(client, 'default', watch).checkOnce(now), monitor(client, 'default', watch).checkOnce(now)]);
      expect([...a.incidents, ...b.incidents]).toHaveLength(2); // both saw it, as one incident
      expect(a.incidents[0]).toBe(b.incidents[0]);
      await monitor(client, 'default', watch).checkOnce(later(now, 60_000));
      const mail = readAlertMail(sink.dir);
      expect(mail).toHaveLength(1);
      expect(mail[0]!.kind).toBe('schedule-missed-catchup');
      expect(mail[0]!.subject).toBe('[durable-jobs alert] schedule import-orders skipped runs that missed its catch-up window');
      expect(mail[0]!.text).toContain('npm run schedules -- trigger import-orders');
    } finally {
      await connection.close();
      await server.stop();
    }
  }, 120_000);
});
