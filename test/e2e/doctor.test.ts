import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { runner } from 'node-pg-migrate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { EMBEDDED_DATABASE, embeddedPostgresUrl, ensureDatabase, startEmbeddedPostgres, type LocalPostgres } from '../../src/dev/embedded-postgres.js';
import { waitUntil } from '../../src/dev/ports.js';
import { startShopApi, type ShopApi } from '../../src/dev/shop-api.js';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import type { HealthReport } from '../../src/health/check-result.js';
import { checkTaskQueue, taskQueuePollers } from '../../src/health/task-queue-health.js';
import { declaredSchedules } from '../../src/schedules.js';
import { loadTemporalSettings } from '../../src/temporal/connection-settings.js';
import { applySchedules } from '../../src/temporal/schedule-sync.js';
import { createReportWorker } from '../../src/worker.js';
import { testLogger } from '../support/database.js';

/**
 * `npm run doctor` as a readiness probe, run as the real command against a stack of this
 * file's own that it can stop: PostgreSQL, the Temporal dev server, the SMTP sink, the shop
 * API and a worker, on free ports, configured the way a deployment on embedded defaults is
 * (only ports and the Temporal address set). Each service is stopped in turn (the previous
 * one restarted first): the doctor must exit 1 and name exactly that part.
 */
const SHOP_DATA = { customers: 5, days: 2, ordersPerCustomerPerDay: 1, endDate: '2026-11-10' };
const taskQueue = `doctor-test-${process.pid}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-doctor-'));
fs.chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as the `postgres` user, who must reach it
const ports = { postgres: 0, temporal: 0, temporalUi: 0, smtp: 0, shop: 0 };

let postgres: LocalPostgres;
let temporal: DevServer;
let sink: SmtpSink;
let shop: ShopApi;
let pool: Pool;
let worker: { worker: Worker; running: Promise<void>; close: () => Promise<void> };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const startPostgres = () => startEmbeddedPostgres(dataDir, ports.postgres, testLogger);
const startTemporal = () => startTemporalDevServer({ dataDir, port: ports.temporal, uiPort: ports.temporalUi }, testLogger);
const startSink = () => startSmtpSink(path.join(dataDir, 'mail'), ports.smtp, testLogger);
const startShop = () => startShopApi({ dir: path.join(dataDir, 'shop'), port: ports.shop, data: SHOP_DATA, logger: testLogger });
const temporalAddress = () => `127.0.0.1:${ports.temporal}`;

/** The settings of this stack as a deployment on embedded defaults has them; `env` overrides. */
function doctorEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    ...process.env as Record<string, string>,
    DATA_DIR: dataDir,
    DATABASE_URL: '', SMTP_URL: '', ORDERS_API_URL: '', ORDERS_API_KEY: '',
    EMBEDDED_POSTGRES_PORT: String(ports.postgres),
    SMTP_SINK_PORT: String(ports.smtp),
    SHOP_API_PORT: String(ports.shop),
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'warn',
    ...env,
  };
}

/** `npm run doctor -- <args>`, the real command in a child process: its exit code and everything it printed. */
function doctor(args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; output: string; stdout: string }> {
  const child = spawn('npm', ['run', '--silent', 'doctor', '--', '--timeout', '2', ...args], { env: doctorEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output: stdout + stderr, stdout })));
}

/** The table's row for a part: its status column ('ok', 'FAIL', 'warn', 'skip') and detail. */
function row(output: string, part: string): { status: string; detail: string } | undefined {
  const line = output.split('\n').find((text) => text.startsWith(`${part} `));
  const match = line && new RegExp(`^${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+(\\S+)\\s+(.*)$`).exec(line);
  return match ? { status: match[1]!, detail: match[2]! } : undefined;
}

const statusOf = (output: string, parts: string[]) => Object.fromEntries(parts.map((part) => [part, row(output, part)?.status]));
const SERVICES = ['Temporal', 'PostgreSQL', 'SMTP', 'shop API'];

async function startWorker() {
  const settings = loadTemporalSettings();
  const temporalSettings = { ...settings, address: temporalAddress(), remote: true, connectionOptions: { ...settings.connectionOptions, address: temporalAddress() } };
  const config = loadConfig({ LOG_LEVEL: 'warn', TEMPORAL_TASK_QUEUE: taskQueue });
  const created = await createReportWorker({
    config, logger: testLogger, pool, smtpUrl: sink.url, ordersApi: { url: shop.url, apiKey: shop.apiKey }, temporal: temporalSettings, taskQueue,
  });
  const running = created.worker.run();
  running.catch(() => undefined); // awaited in afterAll
  return { ...created, running };
}

/** With a connection of its own (the server may have restarted), until a worker polls the queue again. */
async function untilWorkerPolls(): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection, namespace: 'default' });
  try {
    await waitUntil(async () => checkTaskQueue(await taskQueuePollers(client, 'default', taskQueue, 2_000), new Date()).status === 'ok', 'the worker polling again');
  } finally {
    await connection.close();
  }
}

async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    return await work(new Client({ connection, namespace: 'default' }));
  } finally {
    await connection.close();
  }
}

beforeAll(async () => {
  for (const name of Object.keys(ports) as Array<keyof typeof ports>) ports[name] = await freePort();
  [postgres, temporal, sink, shop] = await Promise.all([startPostgres(), startTemporal(), startSink(), startShop()]);
  const databaseUrl = embeddedPostgresUrl(ports.postgres, EMBEDDED_DATABASE);
  await migrate(databaseUrl, testLogger);
  pool = createPool(databaseUrl, testLogger, 4);
  worker = await startWorker();
  const config = loadConfig({ TEMPORAL_TASK_QUEUE: taskQueue });
  await withClient(async (client) => {
    await applySchedules(client, declaredSchedules(config), { taskQueue, prune: false });
    // The frequent ones paused, so none fires a run while the test runs; a paused schedule is a warning, not a failure.
    for (const id of ['daily-reports', 'import-orders']) await client.schedule.getHandle(id).pause('paused by the doctor test');
  });
  await untilWorkerPolls();
}, 180_000);

afterAll(async () => {
  if (worker) {
    worker.worker.shutdown();
    await worker.running.catch(() => undefined);
    await worker.close();
  }
  await pool?.end();
  for (const stop of [shop?.stop, sink?.stop, temporal?.stop, postgres?.stop]) await stop?.().catch(() => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('npm run doctor', () => {
  it('passes with everything up: exit 0, a row per part, paused schedules as warnings', async () => {
    const { code, output } = await doctor();
    expect(code, output).toBe(0);
    expect(statusOf(output, [...SERVICES, 'search attributes', `task queue ${taskQueue}`, 'schedule purge-old-reports']), output).toEqual({
      Temporal: 'ok', PostgreSQL: 'ok', SMTP: 'ok', 'shop API': 'ok', 'search attributes': 'ok', [`task queue ${taskQueue}`]: 'ok', 'schedule purge-old-reports': 'ok',
    });
    expect(row(output, 'PostgreSQL')!.detail).toMatch(/all \d+ migrations applied/);
    expect(row(output, `task queue ${taskQueue}`)!.detail).toMatch(/^1 worker polling/);
    expect(row(output, 'schedule purge-old-reports')!.detail).toMatch(/^active, next run \d{4}-\d\d-\d\dT/);
    expect(row(output, 'schedule daily-reports'), output).toEqual({ status: 'warn', detail: expect.stringMatching(/^paused: paused by the doctor test/) });
    expect(output).toMatch(/^ready: all 9 checks passed; 2 warnings/m);
  });

  it('--json prints the same checks for scripts', async () => {
    const { code, stdout } = await doctor(['--json']);
    expect(code, stdout).toBe(0);
    const report = JSON.parse(stdout) as HealthReport;
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => check.part)).toEqual([
      'Temporal', 'search attributes', `task queue ${taskQueue}`, 'PostgreSQL', 'SMTP', 'shop API', 'schedule daily-reports', 'schedule purge-old-reports', 'schedule import-orders',
    ]);
  });

  it('fails naming each service stopped in turn, and passes again once it is back', async () => {
    const stops: Array<{ part: string; stop: () => Promise<void>; restart: () => Promise<void> }> = [
      { part: 'Temporal', stop: () => temporal.stop(), restart: async () => { temporal = await startTemporal(); await untilWorkerPolls(); } },
      { part: 'PostgreSQL', stop: () => postgres.stop(), restart: async () => void (postgres = await startPostgres()) },
      { part: 'SMTP', stop: () => sink.stop(), restart: async () => void (sink = await startSink()) },
      { part: 'shop API', stop: () => shop.stop(), restart: async () => void (shop = await startShop()) },
    ];
    for (const service of stops) {
      await service.stop();
      const { code, output } = await doctor();
      await service.restart();
      expect(code, output).toBe(1);
      // Exactly the stopped part fails; the other services still answer.
      expect(statusOf(output, SERVICES), output).toEqual(Object.fromEntries(SERVICES.map((part) => [part, part === service.part ? 'FAIL' : 'ok'])));
      expect(output, output).toMatch(new RegExp(`^NOT READY: 1 of 9 checks failed \\(${service.part}\\)`, 'm'));
      if (service.part === 'Temporal') {
        // What goes through Temporal is not checked, and says why.
        expect(row(output, `task queue ${taskQueue}`)).toEqual({ status: 'skip', detail: 'not checked: Temporal did not answer' });
      }
    }
    const { code, output } = await doctor();
    expect(code, output).toBe(0);
  }, 180_000);

  it('fails when no worker polls the task queue, a migration is missing, the shop refuses the key or a schedule is missing; never prints a secret', async () => {
    // A database migrated up to the last migration but one.
    const adminUrl = embeddedPostgresUrl(ports.postgres, 'postgres');
    await ensureDatabase(adminUrl, 'doctor_partly_migrated');
    const partly = embeddedPostgresUrl(ports.postgres, 'doctor_partly_migrated');
    const files = fs.readdirSync('migrations').filter((file) => file.endsWith('.sql')).sort();
    await runner({ databaseUrl: partly, dir: path.resolve('migrations'), direction: 'up', count: files.length - 1, migrationsTable: 'pgmigrations', checkOrder: true, log: () => undefined });
    const lastMigration = files.at(-1)!.replace(/\.sql$/, '');

    const [noWorker, missingMigration, wrongKey, smtpLogin] = await Promise.all([
      doctor([], { TEMPORAL_TASK_QUEUE: `${taskQueue}-nobody-polls` }),
      doctor([], { DATABASE_URL: partly }),
      doctor([], { ORDERS_API_URL: shop.url, ORDERS_API_KEY: 'wrong-shop-key-4711' }),
      doctor([], { SMTP_URL: `smtp://mailer:smtp-secret-0815@127.0.0.1:${ports.smtp}` }),
    ]);

    expect(noWorker.code, noWorker.output).toBe(1);
    expect(row(noWorker.output, `task queue ${taskQueue}-nobody-polls`), noWorker.output).toEqual({
      status: 'FAIL', detail: 'no worker has polled its workflow and activity tasks in the last 2 min (none seen); runs wait until one does: start one: npm run worker (or npm start)',
    });

    expect(missingMigration.code, missingMigration.output).toBe(1);
    expect(row(missingMigration.output, 'PostgreSQL'), missingMigration.output).toEqual({
      status: 'FAIL', detail: `postgres@127.0.0.1:${ports.postgres}/doctor_partly_migrated: 1 of ${files.length} migrations not applied: ${lastMigration} (apply them with: npm run migrate)`,
    });

    expect(wrongKey.code, wrongKey.output).toBe(1);
    expect(row(wrongKey.output, 'shop API'), wrongKey.output).toEqual({
      status: 'FAIL', detail: `${shop.url}: the orders API refused our key (401); check ORDERS_API_KEY`,
    });
    expect(wrongKey.output).not.toContain('wrong-shop-key-4711');

    // The sink takes any login: the check logs in, and shows the user, never the password.
    expect(smtpLogin.code, smtpLogin.output).toBe(0);
    expect(row(smtpLogin.output, 'SMTP')).toEqual({ status: 'ok', detail: `smtp://mailer@127.0.0.1:${ports.smtp} answered; login as mailer accepted` });
    expect(smtpLogin.output).not.toContain('smtp-secret-0815');

    await withClient((client) => client.schedule.getHandle('purge-old-reports').delete());
    const missingSchedule = await doctor();
    await withClient((client) => applySchedules(client, declaredSchedules(loadConfig({ TEMPORAL_TASK_QUEUE: taskQueue })), { taskQueue, prune: false }));
    expect(missingSchedule.code, missingSchedule.output).toBe(1);
    expect(row(missingSchedule.output, 'schedule purge-old-reports'), missingSchedule.output).toEqual({
      status: 'FAIL', detail: 'does not exist, so its job (purge-old-reports) never runs on its own; create it: npm run schedules -- apply',
    });
  }, 120_000);

  it('refuses bad flags with the usage exit code, 2', async () => {
    const { code, output } = await doctor(['--timeout', 'soon']);
    expect(code, output).toBe(2);
    expect(output).toContain("--timeout must be a positive integer, got 'soon'");
  });
});
