import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { loadTemporalSettings, type TemporalSettings } from '../temporal/connection-settings.js';
import { EMBEDDED_DATABASE, embeddedPostgresUrl, startEmbeddedPostgres } from './embedded-postgres.js';
import { isListening } from './ports.js';
import { EMBEDDED_SHOP_API_KEY, startShopApi } from './shop-api.js';
import { startSmtpSink } from './smtp-sink.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

/** Where each external service is: what the settings name, or where its embedded default listens. */
export interface ServiceEndpoints {
  databaseUrl: string;
  smtpUrl: string;
  /** The import job's source: ORDERS_API_URL, or the embedded shop. Its key never goes to a log. */
  ordersApi: { url: string; apiKey: string };
  temporal: TemporalSettings;
}

export interface Services extends ServiceEndpoints {
  temporalUiUrl: string;
  /** Stops whatever this process started; services it reused keep running. */
  stop(): Promise<void>;
}

/**
 * Where every external service is, starting nothing: DATABASE_URL, SMTP_URL, ORDERS_API_URL
 * and Temporal's settings, else the address each embedded default listens on (EMBEDDED_POSTGRES_PORT,
 * SMTP_SINK_PORT, SHOP_API_PORT, 127.0.0.1:7233). `npm run doctor` checks these; resolveServices
 * starts the embedded ones that are not running.
 */
export function configuredServices(config: Config): ServiceEndpoints {
  return {
    databaseUrl: config.DATABASE_URL ?? embeddedPostgresUrl(config.EMBEDDED_POSTGRES_PORT, EMBEDDED_DATABASE),
    smtpUrl: config.SMTP_URL ?? `smtp://127.0.0.1:${config.SMTP_SINK_PORT}`,
    ordersApi: config.ORDERS_API_URL && config.ORDERS_API_KEY
      ? { url: config.ORDERS_API_URL, apiKey: config.ORDERS_API_KEY }
      : { url: `http://127.0.0.1:${config.SHOP_API_PORT}`, apiKey: EMBEDDED_SHOP_API_KEY },
    temporal: loadTemporalSettings(),
  };
}

/**
 * Resolves every external service from configuration, starting the embedded default for
 * each one that is not configured: DATABASE_URL, SMTP_URL, ORDERS_API_URL, TEMPORAL_ADDRESS
 * (or profile). An embedded SMTP sink or shop already listening on its port (another
 * process's, say `npm start`'s) is used, not started again.
 */
export async function resolveServices(
  config: Config,
  logger: Logger,
  need: { temporal?: boolean; smtp?: boolean; shop?: boolean } = { temporal: true, smtp: true, shop: true },
): Promise<Services> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((error) => logger.warn({ err: String(error) }, 'stop failed'));
  };
  try {
    const configured = configuredServices(config);
    let { databaseUrl, smtpUrl, ordersApi } = configured;
    if (!config.DATABASE_URL) {
      const postgres = await startEmbeddedPostgres(config.DATA_DIR, config.EMBEDDED_POSTGRES_PORT, logger);
      stops.push(postgres.stop);
      databaseUrl = postgres.urlFor(EMBEDDED_DATABASE);
    }

    if (need.smtp && !config.SMTP_URL && !(await isListening(config.SMTP_SINK_PORT))) {
      const sink = await startSmtpSink(path.join(config.DATA_DIR, 'mail'), config.SMTP_SINK_PORT, logger);
      stops.push(sink.stop);
      smtpUrl = sink.url;
    }

    if (need.shop && !config.ORDERS_API_URL && !(await isListening(config.SHOP_API_PORT))) {
      // The demo's orders live here; npm start seeds the same customers into PostgreSQL.
      const shop = await startShopApi({ dir: path.join(config.DATA_DIR, 'shop'), port: config.SHOP_API_PORT, logger });
      stops.push(shop.stop);
      ordersApi = { url: shop.url, apiKey: shop.apiKey };
    }

    const { temporal } = configured;
    let temporalUiUrl = config.TEMPORAL_UI_URL;
    if (need.temporal && !temporal.remote) {
      const server = await startTemporalDevServer({ dataDir: config.DATA_DIR }, logger);
      stops.push(server.stop);
      temporalUiUrl = server.uiUrl;
    }
    return { databaseUrl, smtpUrl, ordersApi, temporal, temporalUiUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
