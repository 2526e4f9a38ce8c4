import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Client, Connection, WorkflowFailedError } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startShopApi, type ShopApi } from '../../src/dev/shop-api.js';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { loadTemporalSettings } from '../../src/temporal/connection-settings.js';
import { createReportWorker } from '../../src/worker.js';
import type { ReportServices } from '../../src/activities/report-activities.js';
import type { PurgeServices } from '../../src/activities/purge-activities.js';
import { createTestDatabase, testLogger, type TestDatabase } from './database.js';

export interface TemporalTestEnv {
  db: TestDatabase;
  sink: SmtpSink;
  /** The file's own shop API, when asked for (`shop`): the import job's source. */
  shop: ShopApi | null;
  /** The import's source the worker reads: the file's shop, or an address nothing listens on. */
  ordersApi: { url: string; apiKey: string };
  client: Client;
  worker: Worker;
  /** The worker's own connection: a client over it starts runs eagerly (src/temporal/worker-client.ts). */
  workerConnection: NativeConnection;
  taskQueue: string;
  close(): Promise<void>;
}

/**
 * A test file's own slice of the real stack: its own database and SMTP sink, and a real
 * worker on its own task queue of the shared dev server, so files never see each other's runs.
 */
export async function startTemporalTestEnv(options: {
  services?: (pool: TestDatabase['pool'], sink: SmtpSink) => Partial<ReportServices & PurgeServices>;
  /** Start a shop API of the file's own (a small data set unless given), for the import job. */
  shop?: boolean | Parameters<typeof startShopApi>[0]['data'];
  /** Settings for the worker (e.g. ORDERS_API_MAX_REQUESTS_PER_SECOND). */
  settings?: Record<string, string>;
} = {}): Promise<TemporalTestEnv> {
  const db = await createTestDatabase();
  const sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-mail-')), 0, testLogger);
  const shop = options.shop
    ? await startShopApi({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'dj-shop-')), logger: testLogger, data: options.shop === true ? { customers: 40, days: 3, ordersPerCustomerPerDay: 3, endDate: '2026-11-10' } : options.shop })
    : null;
  // Without a shop, the import's source is a port nothing listens on: its runs fail, visibly.
  const ordersApi = shop ? { url: shop.url, apiKey: shop.apiKey } : { url: 'http://127.0.0.1:9', apiKey: 'no-shop-in-this-test' };
  const taskQueue = `reports-test-${crypto.randomBytes(4).toString('hex')}`;
  const temporal = { ...loadTemporalSettings(), address: inject('temporalAddress'), namespace: inject('temporalNamespace') };
  temporal.connectionOptions = { ...temporal.connectionOptions, address: temporal.address };
  const config = loadConfig({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...options.settings });
  const services = options.services?.(db.pool, sink);
  const { worker, connection: workerConnection, close: closeWorker } = await createReportWorker({ config, logger: testLogger, pool: db.pool, smtpUrl: sink.url, ordersApi, temporal, taskQueue, services });
  const running = worker.run();
  const connection = await Connection.connect(temporal.connectionOptions);
  const client = new Client({ connection, namespace: temporal.namespace });
  return {
    db, sink, shop, ordersApi, client, worker, workerConnection, taskQueue,
    close: async () => {
      worker.shutdown();
      await running;
      await closeWorker();
      await connection.close();
      await sink.stop();
      await shop?.stop();
      await db.drop();
    },
  };
}

/** Starts `workflowType` with `input` as `temporal workflow start` would (no validation of ours) and returns the failure it ends with. */
export async function workflowFailure(env: TemporalTestEnv, workflowType: string, input: unknown): Promise<ApplicationFailure> {
  const handle = await env.client.workflow.start(workflowType, {
    taskQueue: env.taskQueue,
    workflowId: `bad-input-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    args: [input],
  });
  const error = await handle.result().then(() => undefined, (e: unknown) => e);
  if (!(error instanceof WorkflowFailedError) || !(error.cause instanceof ApplicationFailure)) {
    throw new Error(`expected ${workflowType} to fail with an application failure, got: ${String(error)}`);
  }
  return error.cause;
}
