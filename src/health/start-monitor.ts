import type { Logger } from 'pino';
import { alertChannels, alertSettings } from '../alert-settings.js';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { declaredSchedules } from '../schedules.js';
import { AlertConditions } from '../services/alert-conditions.js';
import { Alerts } from '../services/alerts.js';
import { connectClient } from '../temporal/client.js';
import type { TemporalSettings } from '../temporal/connection-settings.js';
import { Monitor, MONITOR_INTERVAL_MS } from './monitor.js';
import { temporalProbes } from './monitor-probes.js';

export interface StartMonitorOptions {
  config: Config;
  logger: Logger;
  pool: Pool;
  temporal: TemporalSettings;
  temporalUiUrl: string;
  /** SMTP_URL or the embedded sink's. */
  smtpUrl: string;
  intervalMs?: number;
}

/** The monitor's composition root: its Temporal client, alert channels and the loop; `stop` ends all of it. */
export async function startMonitor(options: StartMonitorOptions): Promise<{ stop(): Promise<void> }> {
  const { config, logger } = options;
  await requireAlertTables(options.pool);
  const { client, close } = await connectClient(options.temporal);
  const settings = alertSettings(config, { temporalUiUrl: options.temporalUiUrl, namespace: options.temporal.namespace });
  const alerts = new Alerts(options.pool, { channels: alertChannels(settings, { url: options.smtpUrl, from: config.MAIL_FROM }) });
  if (alerts.channelNames().length === 0) logger.warn('alerts have nowhere to go (set ALERT_EMAIL or ALERT_WEBHOOK_URL): they are recorded only');
  const monitor = new Monitor({
    probes: temporalProbes(client, options.temporal.namespace),
    conditions: new AlertConditions(options.pool),
    alerts,
    settings,
    taskQueues: [config.TEMPORAL_TASK_QUEUE],
    schedules: declaredSchedules(config).map((declaration) => ({ id: declaration.id, job: declaration.job })),
    logger,
  });
  const loop = monitor.start(options.intervalMs ?? MONITOR_INTERVAL_MS);
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, noWorkerMinutes: settings.noWorkerMinutes, channels: alerts.channelNames() }, 'alert monitor watching');
  return {
    stop: async () => {
      await loop.stop();
      await close();
    },
  };
}

/** Fails at once, saying what to do, when the database predates the alerts migration (else every check would fail, every minute). */
async function requireAlertTables(pool: Pool): Promise<void> {
  try {
    await pool.query('SELECT 1 FROM alerts, alert_deliveries, alert_conditions LIMIT 0');
  } catch (error) {
    if ((error as { code?: string }).code !== '42P01') throw error; // undefined_table
    throw new Error('the database has no alerts tables yet (migration 20261218000000000_alerts): run npm run migrate first');
  }
}
