// `npm start`: the whole stack on embedded defaults: an import of the shop's orders, one nightly
// run over the last 24 hours (every customer's last finished day, in their own zone, regenerated
// and emailed), then a running worker until Ctrl-C. Whatever is configured (DATABASE_URL,
// SMTP_URL, ORDERS_API_URL, TEMPORAL_ADDRESS) is used instead of the embedded default.
import os from 'node:os';
import { WorkflowFailedError } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import { reportTuning } from '../src/config.js';
import { createPool, inTransaction } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { resolveServices } from '../src/dev/local-services.js';
import { insertDemoCustomers } from '../src/services/demo-data.js';
import { clientOverWorkerConnection } from '../src/temporal/worker-client.js';
import { workflowUiUrl } from '../src/temporal/runs.js';
import { dailyReportsJob } from '../src/jobs/daily-reports.js';
import { importOrdersJob } from '../src/jobs/import-orders.js';
import type { ImportOrdersSummary } from '../src/import-orders-contract.js';
import { startJob } from '../src/temporal/start-job.js';
import type { DailyReportsSummary } from '../src/daily-reports-contract.js';
import { createReportWorker, workerPoolSize } from '../src/worker.js';
import { startAdminServer } from '../src/admin/start-admin.js';
import { startMonitor } from '../src/health/start-monitor.js';
import { alertSettings } from '../src/alert-settings.js';
import { declaredSchedules } from '../src/schedules.js';
import { applySchedules } from '../src/temporal/schedule-sync.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { installTemporalRuntime, metricsEndpoint, metricsUrl } from '../src/observability/runtime.js';

/** The shop's demo data set has 200 customers (src/dev/shop/shop-data.ts); these are they. */
const DEMO_CUSTOMERS = 200;

/** What this process started, each with how to stop it; stopped in reverse order, whatever happened. */
type Started = Array<{ what: string; stop: () => Promise<void> }>;

runMain(async () => {
  const startedAt = Date.now();
  const { config, logger } = bootstrap('start', { LOG_PRETTY: process.env.LOG_PRETTY ?? 'true' }, { tracing: true });
  // First, before any service starts: a port already taken stops it here, naming METRICS_PORT.
  installTemporalRuntime(logger, metricsEndpoint(config));
  const started: Started = [];
  // The first error is the one the user sees; stopping what was started comes first, and an
  // error while stopping (say, closing a connection a worker still uses) never hides it.
  let failure: unknown;
  try {
    await start(config, logger, started, startedAt);
  } catch (error) {
    failure = error;
  }
  for (const { what, stop } of started.reverse()) {
    try {
      await stop();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, `stopping the ${what} failed`);
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure; // runMain prints it and exits 1, after all of the above
});

async function start(config: Config, logger: Logger, started: Started, startedAt: number): Promise<void> {
  const services = await resolveServices(config, logger);
  started.push({ what: 'embedded services', stop: services.stop });
  const pool = createPool(services.databaseUrl, logger, workerPoolSize(config));
  started.push({ what: 'database pool', stop: () => pool.end() });

  await migrate(services.databaseUrl, logger);
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
  if (rows[0]?.n === 0) {
    // The customers live here; their orders live in the shop (src/dev/shop-api.ts, the same
    // demo data set) and come in through the import below, as in production.
    await inTransaction(pool, (db) => insertDemoCustomers(db, DEMO_CUSTOMERS));
    logger.info({ customers: DEMO_CUSTOMERS }, 'demo customers created; their orders come from the shop API (npm run seed -- --help puts orders straight into PostgreSQL instead)');
  }

  const { worker, connection: workerConnection, close: closeWorker } = await createReportWorker({
    config, logger, pool, smtpUrl: services.smtpUrl, ordersApi: services.ordersApi, temporal: services.temporal, temporalUiUrl: services.temporalUiUrl,
  });
  const running = worker.run();
  running.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
  // The worker's connection can only close once the worker has stopped: shut down, wait, close.
  started.push({
    what: 'worker',
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      try {
        await running;
      } finally {
        await closeWorker();
      }
    },
  });
  // Starts from this process (the runs below, the admin page's forms) go over the worker's own
  // connection, so they start eagerly on it (src/temporal/worker-client.ts).
  const client = clientOverWorkerConnection(workerConnection, services.temporal.namespace);
  const admin = await startAdminServer({
    config, logger, pool, temporal: services.temporal, temporalUiUrl: services.temporalUiUrl, endpoints: services, createFirstAdmin: !config.DATABASE_URL, client,
  });
  started.push({ what: 'admin server', stop: admin.close });
  // Alerts that no worker can raise (no worker polling, schedules skipping runs), every minute.
  const monitor = await startMonitor({ config, logger, pool, temporal: services.temporal, temporalUiUrl: services.temporalUiUrl, smtpUrl: services.smtpUrl });
  started.push({ what: 'alert monitor', stop: monitor.stop });

  const schedules = await applySchedules(client, declaredSchedules(config), { taskQueue: config.TEMPORAL_TASK_QUEUE, prune: false });
  logger.info(schedules, 'schedules applied (npm run schedules -- list)');
  const startedBy = os.userInfo().username;
  // First the orders: what the 15-minute schedule does, now. On a fresh start that is the
  // shop's whole demo data set; the report days it touches are regenerated (not emailed).
  const importRun = await startJob(client, importOrdersJob, {}, { taskQueue: config.TEMPORAL_TASK_QUEUE, startedFrom: 'start', startedBy });
  const importLink = workflowUiUrl(services.temporalUiUrl, services.temporal.namespace, importRun.handle.workflowId);
  logger.info({ workflowId: importRun.handle.workflowId }, `importing the shop's orders: ${importLink}`);
  const imported = await untilDone<ImportOrdersSummary>(importRun.handle.result(), running, 'the order import', importLink);
  if (!imported) {
    logger.info(`stopped before the import finished; it goes on when a worker runs again: ${importLink}`);
    return;
  }
  logger.info({ pages: imported.pages, inserted: imported.inserted, updated: imported.updated, quarantined: imported.quarantined, daysRegenerated: imported.daysRegenerated }, 'orders imported');

  // What the hourly schedule does, over the last 24 hours instead of the last hour: each
  // customer's most recent day that has ended where they are, as final reports.
  const { handle, input } = await startJob(client, dailyReportsJob, { at: config.DAILY_REPORTS_AT, windowMinutes: 24 * 60, reportOptions: reportTuning(config) }, {
    taskQueue: config.TEMPORAL_TASK_QUEUE, startedFrom: 'start', startedBy,
  });
  const link = workflowUiUrl(services.temporalUiUrl, services.temporal.namespace, handle.workflowId);
  logger.info({ workflowId: handle.workflowId, window: `${input.windowStart}..${input.windowEnd}` }, `reporting every customer's last finished day: ${link}`);

  const summary = await untilDone<DailyReportsSummary>(handle.result(), running, 'the first run', link);
  if (!summary) {
    logger.info(`stopped before the first run finished; it goes on when a worker runs again: ${link}`);
    return;
  }
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const metrics = metricsEndpoint(config);
  const { days } = summary;
  const total = (count: (day: (typeof days)[number]) => number) => days.reduce((sum, day) => sum + count(day), 0);
  logger.info(
    {
      days: days.map((day) => `${day.day} (${day.timeZones.length} zones)`),
      customers: total((day) => day.customersProcessed), emailsSent: total((day) => day.emailsSent), failures: total((day) => day.failures),
    },
    `first run completed ${seconds}s after start`,
  );
  console.log(
    [
      '',
      `  Admin page        ${admin.url ?? `(not served: port ${config.ADMIN_PORT} is in use)`}`,
      `  Temporal Web UI   ${services.temporalUiUrl}`,
      `  Metrics           ${metrics ? metricsUrl(metrics) : '(not served: METRICS_PORT=0)'}`,
      `  This run          ${link}`,
      `  Report emails     ${config.SMTP_URL ? '(sent via SMTP_URL)' : `${config.DATA_DIR}/mail/`}`,
      `  Alerts            ${alertTargets(config)}`,
      `  Try               npm run job -- regenerate-reports --customer 1 --wait`,
      `                    npm run temporal -- workflow list`,
      '',
      '  The worker keeps running; Ctrl-C stops everything npm start started.',
      '',
    ].join('\n'),
  );
  await running;
}

/** Where alerts go (README, Alerts): the addresses and the webhook the settings name. */
function alertTargets(config: Config): string {
  const { emails, webhookUrl } = alertSettings(config, { temporalUiUrl: '', namespace: '' });
  const where = [...emails.map((email) => (config.SMTP_URL ? email : `${email} (in ${config.DATA_DIR}/mail/)`)), ...(webhookUrl ? ['the webhook (ALERT_WEBHOOK_URL)'] : [])];
  return where.length > 0 ? where.join(', ') : 'nowhere: set ALERT_EMAIL or ALERT_WEBHOOK_URL';
}

/** A run's result, or null when the worker stopped first: Ctrl-C (the worker stops on it) or a failing worker ends the wait too. */
async function untilDone<T>(result: Promise<unknown>, running: Promise<void>, what: string, link: string): Promise<T | null> {
  return Promise.race([
    (result as Promise<T>).catch((error: unknown) => {
      if (!(error instanceof WorkflowFailedError)) throw error;
      throw new Error(`${what} failed: ${error.cause?.message ?? error.message} (${link})`);
    }),
    running.then(() => null),
  ]);
}
