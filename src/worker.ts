import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Pool } from './db/pool.js';
import { createReportActivities, type ReportServices } from './activities/report-activities.js';
import { createDailyReportActivities } from './activities/daily-report-activities.js';
import { createPurgeActivities, type PurgeServices } from './activities/purge-activities.js';
import { createImportActivities } from './activities/import-activities.js';
import { createMailTransport } from './mail-transport.js';
import { CustomerSelection } from './services/customer-selection.js';
import { DueReportDays } from './services/due-report-days.js';
import { OrderImport } from './services/order-import.js';
import { ReportEmail } from './services/report-email.js';
import { ReportCorrections } from './services/report-corrections.js';
import { ReportPurge } from './services/report-purge.js';
import { ReportRegeneration } from './services/report-regeneration.js';
import { ShopOrdersClient } from './services/shop-orders-client.js';
import { SourceLock } from './services/source-lock.js';
import type { TemporalSettings } from './temporal/connection-settings.js';
import { ensureWorkflowBundle } from './workflow-bundle.js';
import { createAlertActivities } from './activities/alert-activities.js';
import { alertChannels, alertSettings } from './alert-settings.js';
import { Alerts } from './services/alerts.js';
import { activityTracingInterceptors, workflowSpanSinks } from './observability/temporal-tracing.js';
import { traceSmtpSends } from './observability/smtp-tracing.js';
import { activeTracing } from './observability/tracing.js';
import { installTemporalRuntime } from './observability/runtime.js';
import { JobMetrics } from './observability/job-metrics.js';
import { runMetricsSinks } from './observability/run-metrics-sink.js';
import { jobByWorkflowType } from './jobs/index.js';

export interface ReportWorkerDeps {
  config: Config;
  logger: Logger;
  pool: Pool;
  smtpUrl: string;
  /** The import job's source (Services.ordersApi); its key goes to no log. */
  ordersApi: { url: string; apiKey: string };
  temporal: TemporalSettings;
  taskQueue?: string;
  /** The Temporal Web UI, for the links in alerts (default: TEMPORAL_UI_URL). */
  temporalUiUrl?: string;
  /** Replaces built services; for tests that inject a fault into one. */
  services?: Partial<ReportServices & PurgeServices>;
}

/**
 * Emails in flight per email activity: one per SMTP connection, never more. A message handed
 * to nodemailer beyond its connections waits in its pool's queue and starts its SMTP exchange
 * whenever a connection frees up, after a cancellation or past the claim lease's deadline that
 * were checked before it was handed over. Sends are marked in groups, so a connection never
 * waits for the database between messages.
 */
export function emailConcurrency(config: Pick<Config, 'SMTP_MAX_CONNECTIONS'>): number {
  return config.SMTP_MAX_CONNECTIONS;
}

/**
 * Database connections a worker needs: one per activity slot, plus for two email activities
 * two per SMTP connection each (claims, renewals, marks and the next chunk's reads).
 */
export function workerPoolSize(config: Pick<Config, 'SMTP_MAX_CONNECTIONS' | 'WORKER_MAX_ACTIVITIES'>): number {
  return config.WORKER_MAX_ACTIVITIES + 2 * 2 * config.SMTP_MAX_CONNECTIONS;
}

/** Where this worker's alerts go and what they link to (src/alert-settings.ts). */
function alertServices(deps: ReportWorkerDeps) {
  const settings = alertSettings(deps.config, { temporalUiUrl: deps.temporalUiUrl ?? deps.config.TEMPORAL_UI_URL, namespace: deps.temporal.namespace });
  return { settings, alerts: new Alerts(deps.pool, { channels: alertChannels(settings, { url: deps.smtpUrl, from: deps.config.MAIL_FROM }) }) };
}

/** The worker's composition root: the one place that builds services and wires them to activities. */
export async function createReportWorker(deps: ReportWorkerDeps): Promise<{ worker: Worker; connection: NativeConnection; close: () => Promise<void> }> {
  const { config, pool } = deps;
  // Entry points install it first, with the metrics endpoint; otherwise (tests) logging only.
  installTemporalRuntime(deps.logger);
  const metrics = new JobMetrics(Runtime.instance().metricMeter, (workflowType) => jobByWorkflowType(workflowType)?.kind);
  const transport = traceSmtpSends(createMailTransport(deps.smtpUrl, config.SMTP_MAX_CONNECTIONS), deps.smtpUrl);
  const activities = {
    ...createReportActivities({
      customerSelection: new CustomerSelection(pool),
      reportRegeneration: new ReportRegeneration(pool),
      reportEmail: new ReportEmail(pool, transport, { from: config.MAIL_FROM, concurrency: emailConcurrency(config) }),
      ...deps.services,
    }, metrics),
    ...createDailyReportActivities({ dueReportDays: new DueReportDays(pool) }, metrics),
    ...createPurgeActivities({ reportPurge: deps.services?.reportPurge ?? new ReportPurge(pool) }, metrics),
    ...createImportActivities({
      orderImport: new OrderImport(pool),
      ordersApi: new ShopOrdersClient({ baseUrl: deps.ordersApi.url, apiKey: deps.ordersApi.apiKey }),
      sourceLock: new SourceLock(pool),
      reportCorrections: new ReportCorrections(pool, transport, { from: config.MAIL_FROM }),
      overlapMs: config.ORDERS_IMPORT_OVERLAP_SECONDS * 1000,
      maxRequestsPerSecond: config.ORDERS_API_MAX_REQUESTS_PER_SECOND,
    }, metrics),
    // Alerts about scheduled runs (the run-alerts workflow interceptor calls it for every job).
    ...createAlertActivities(alertServices(deps)),
  };
  const connection = await NativeConnection.connect(deps.temporal.connectionOptions);
  const worker = await Worker.create({
    connection,
    namespace: deps.temporal.namespace,
    taskQueue: deps.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    // OpenTelemetry's workflow interceptors over a no-op tracer unless this process traces (src/workflow-bundle.ts).
    workflowBundle: { codePath: await ensureWorkflowBundle(activeTracing() ? 'traced' : 'untraced') },
    activities,
    // OpenTelemetry, when OTEL_* turn it on (src/observability/tracing.ts): a span per activity
    // attempt, and the workflow interceptors' spans (the untraced bundle records none).
    interceptors: { activity: activityTracingInterceptors() },
    // The run-metrics workflow interceptor's calls (src/workflows/interceptors/run-metrics.ts), and the tracing one's.
    sinks: { ...runMetricsSinks(metrics), ...workflowSpanSinks() },
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_ACTIVITIES,
    // Fewer workflow tasks at a time when set, so each finishes within its timeout (see WORKER_MAX_WORKFLOW_TASKS in src/config.ts).
    ...(config.WORKER_MAX_WORKFLOW_TASKS !== undefined ? { maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_WORKFLOW_TASKS } : {}),
    // Small runs' steps run as local activities (src/workflows/small-runs.ts): the same services,
    // database pool and SMTP connections as activities, so the same bound (the SDK's default is 100).
    maxConcurrentLocalActivityExecutions: config.WORKER_MAX_ACTIVITIES,
    // Temporal tells a running activity that it was cancelled or timed out only in the answer
    // to a heartbeat, and the SDK core sends the activities' heartbeats (every 2 s) on at most
    // every 80 % of the heartbeat timeout (8 s) unless capped here: capped, an email attempt
    // that the server gave up on stops sending within about 2 s instead of 8.
    maxHeartbeatThrottleInterval: '2 seconds',
    // Cached workflows are what a worker's memory grows with; the default scales with the heap.
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
  });
  return {
    worker,
    // For a client in the same process (src/temporal/worker-client.ts): its runs start eagerly on this worker.
    connection,
    close: async () => {
      transport.close();
      await connection.close();
    },
  };
}
