// `npm start`: the whole stack on embedded defaults, one regeneration of every customer, then
// a running worker until Ctrl-C. Whatever is configured (DATABASE_URL, SMTP_URL,
// TEMPORAL_ADDRESS) is used instead of the embedded default.
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { resolveServices } from '../src/dev/local-services.js';
import { DemoData } from '../src/services/demo-data.js';
import { addDays } from '../src/dates.js';
import { startRegenerateReports, workflowUiUrl } from '../src/temporal/report-runs.js';
import { createReportWorker, workerPoolSize } from '../src/worker.js';
import { startAdminServer } from '../src/admin/start-admin.js';
import { declaredSchedules } from '../src/schedules.js';
import { applySchedules } from '../src/temporal/schedule-sync.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';

runMain(async () => {
  const startedAt = Date.now();
  const { config, logger } = bootstrap('start', { LOG_PRETTY: process.env.LOG_PRETTY ?? 'true' });
  const services = await resolveServices(config, logger);
  const pool = createPool(services.databaseUrl, logger, workerPoolSize(config));
  let closeWorker = async () => {};
  let closeAdmin = async () => {};
  try {
    await migrate(services.databaseUrl, logger);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    if (rows[0]?.n === 0) {
      const seeded = await new DemoData(pool).seed({
        customers: 200, days: 30, ordersPerCustomerPerDay: 3,
        endDate: addDays(new Date().toISOString().slice(0, 10), -1), reset: false,
      });
      logger.info(seeded, 'demo data created (npm run seed -- --help for other sizes)');
    }

    const { worker, close } = await createReportWorker({ config, logger, pool, smtpUrl: services.smtpUrl, temporal: services.temporal });
    closeWorker = close;
    const running = worker.run();
    const admin = await startAdminServer({
      config, logger, pool, temporal: services.temporal, temporalUiUrl: services.temporalUiUrl, createFirstAdmin: !config.DATABASE_URL,
    });
    closeAdmin = admin.close;

    const connection = await Connection.connect(services.temporal.connectionOptions);
    const client = new Client({ connection, namespace: services.temporal.namespace });
    const schedules = await applySchedules(client, declaredSchedules(config), { taskQueue: config.TEMPORAL_TASK_QUEUE, prune: false });
    logger.info(schedules, 'schedules applied (npm run schedules -- list)');
    const { handle, input } = await startRegenerateReports(
      client,
      { batchSize: config.REPORT_BATCH_SIZE, parallelism: config.REPORT_PARALLELISM },
      { taskQueue: config.TEMPORAL_TASK_QUEUE, startedFrom: 'start', startedBy: os.userInfo().username },
    );
    const link = workflowUiUrl(services.temporalUiUrl, services.temporal.namespace, handle.workflowId);
    logger.info({ workflowId: handle.workflowId, period: `${input.from}..${input.to}` }, `regenerating every customer's reports: ${link}`);
    const summary = await handle.result();
    await connection.close();
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    logger.info(
      { customers: summary.customersProcessed, rows: summary.rowsWritten, emailsSent: summary.emailsSent, emailsAlreadySent: summary.emailsAlreadySent, failures: summary.failures.length },
      `first run completed ${seconds}s after start`,
    );
    console.log(
      [
        '',
        `  Admin page        ${admin.url ?? `(not served: port ${config.ADMIN_PORT} is in use)`}`,
        `  Temporal Web UI   ${services.temporalUiUrl}`,
        `  This run          ${link}`,
        `  Report emails     ${config.SMTP_URL ? '(sent via SMTP_URL)' : `${config.DATA_DIR}/mail/`}`,
        `  Try               npm run job -- regenerate-reports --customer 1 --wait`,
        `                    npm run temporal -- workflow list`,
        '',
        '  The worker keeps running; Ctrl-C stops everything npm start started.',
        '',
      ].join('\n'),
    );
    await running;
  } finally {
    await closeAdmin();
    await closeWorker();
    await pool.end();
    await services.stop();
  }
});
