import type { Config } from './config.js';
import { EmailAlertChannel, WebhookAlertChannel, type AlertChannel } from './services/alert-channels.js';

/** Where alerts go by default with the embedded SMTP sink: `npm start` users find them in ${DATA_DIR}/mail/. */
export const EMBEDDED_ALERT_EMAIL = 'alerts@durable-jobs.local';

/** What every process that raises alerts (worker, monitor) reads from the settings. */
export interface AlertSettings {
  /** Empty: no alert email. */
  emails: string[];
  webhookUrl: string | null;
  failedItemsThreshold: number;
  quarantinedThreshold: number;
  noWorkerMinutes: number;
  /** Links in alerts: the admin page, and the Temporal Web UI of this namespace. */
  adminUrl: string;
  temporalUiUrl: string;
  namespace: string;
}

type AlertConfig = Pick<
  Config,
  'ALERT_EMAIL' | 'ALERT_WEBHOOK_URL' | 'ALERT_FAILED_ITEMS_THRESHOLD' | 'ALERT_QUARANTINED_THRESHOLD' | 'ALERT_NO_WORKER_MINUTES' | 'ALERT_ADMIN_URL' | 'SMTP_URL' | 'ADMIN_HOST' | 'ADMIN_PORT'
>;

export function alertSettings(config: AlertConfig, where: { temporalUiUrl: string; namespace: string }): AlertSettings {
  // With a real SMTP server and no ALERT_EMAIL, nobody was named: sending to a made-up
  // local address through a real relay would bounce, so no email (the webhook may still go).
  const emails = config.ALERT_EMAIL === 'none' ? []
    : config.ALERT_EMAIL !== undefined ? config.ALERT_EMAIL.split(',').map((address) => address.trim())
    : config.SMTP_URL ? [] : [EMBEDDED_ALERT_EMAIL];
  const host = config.ADMIN_HOST.includes(':') ? `[${config.ADMIN_HOST}]` : config.ADMIN_HOST;
  return {
    emails,
    webhookUrl: config.ALERT_WEBHOOK_URL ?? null,
    failedItemsThreshold: config.ALERT_FAILED_ITEMS_THRESHOLD,
    quarantinedThreshold: config.ALERT_QUARANTINED_THRESHOLD,
    noWorkerMinutes: config.ALERT_NO_WORKER_MINUTES,
    adminUrl: (config.ALERT_ADMIN_URL ?? `http://${host}:${config.ADMIN_PORT}`).replace(/\/$/, ''),
    temporalUiUrl: where.temporalUiUrl,
    namespace: where.namespace,
  };
}

/** The channels these settings name: email through `smtpUrl` (SMTP_URL or the sink), the webhook. */
export function alertChannels(settings: AlertSettings, smtp: { url: string; from: string }): AlertChannel[] {
  return [
    ...(settings.emails.length > 0 ? [new EmailAlertChannel(smtp.url, smtp.from, settings.emails)] : []),
    ...(settings.webhookUrl ? [new WebhookAlertChannel(settings.webhookUrl)] : []),
  ];
}
