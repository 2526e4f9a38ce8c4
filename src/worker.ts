import { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Pool } from './db/pool.js';
import { createReportActivities } from './activities/report-activities.js';
import { createMailTransport } from './mail-transport.js';
import { CustomerSelection } from './services/customer-selection.js';
import { ReportEmail } from './services/report-email.js';
import { ReportRegeneration } from './services/report-regeneration.js';
import type { TemporalSettings } from './temporal/connection-settings.js';
import { ensureWorkflowBundle } from './workflow-bundle.js';
import { installTemporalLogging } from './temporal/runtime-logger.js';

export interface ReportWorkerDeps {
  config: Config;
  logger: Logger;
  pool: Pool;
  smtpUrl: string;
  temporal: TemporalSettings;
  taskQueue?: string;
}

let loggingInstalled = false;

/** The worker's composition root: the one place that builds services and wires them to activities. */
export async function createReportWorker(deps: ReportWorkerDeps): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const { config, pool } = deps;
  if (!loggingInstalled) {
    installTemporalLogging(deps.logger);
    loggingInstalled = true;
  }
  const transport = createMailTransport(deps.smtpUrl, config.SMTP_MAX_CONNECTIONS);
  const activities = createReportActivities({
    customerSelection: new CustomerSelection(pool),
    reportRegeneration: new ReportRegeneration(pool),
    // One message in flight per SMTP connection: each holds a database connection while it sends.
    reportEmail: new ReportEmail(pool, transport, { from: config.MAIL_FROM, concurrency: config.SMTP_MAX_CONNECTIONS }),
  });
  const connection = await NativeConnection.connect(deps.temporal.connectionOptions);
  const worker = await Worker.create({
    connection,
    namespace: deps.temporal.namespace,
    taskQueue: deps.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    workflowBundle: { codePath: await ensureWorkflowBundle() },
    activities,
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_ACTIVITIES,
    // Cached workflows are what a worker's memory grows with; the default scales with the heap.
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
  });
  return {
    worker,
    close: async () => {
      transport.close();
      await connection.close();
    },
  };
}
