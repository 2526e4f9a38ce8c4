import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { loadTemporalSettings, type TemporalSettings } from '../temporal/connection-settings.js';
import { EMBEDDED_DATABASE, startEmbeddedPostgres } from './embedded-postgres.js';
import { isListening } from './ports.js';
import { EMBEDDED_SHOP_API_KEY, startShopApi } from './shop-api.js';
import { startSmtpSink } from './smtp-sink.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

export interface Services {
  databaseUrl: string;
  smtpUrl: string;
  /** The import job's source: ORDERS_API_URL, or the embedded shop. Its key never goes to a log. */
  ordersApi: { url: string; apiKey: string };
  temporal: TemporalSettings;
  temporalUiUrl: string;
  /** Stops whatever this process started; services it reused keep running. */
  stop(): Promise<void>;
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
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const postgres = await startEmbeddedPostgres(config.DATA_DIR, config.EMBEDDED_POSTGRES_PORT, logger);
      stops.push(postgres.stop);
      databaseUrl = postgres.urlFor(EMBEDDED_DATABASE);
    }

    let smtpUrl = config.SMTP_URL ?? `smtp://127.0.0.1:${config.SMTP_SINK_PORT}`;
    if (need.smtp && !config.SMTP_URL && !(await isListening(config.SMTP_SINK_PORT))) {
      const sink = await startSmtpSink(path.join(config.DATA_DIR, 'mail'), config.SMTP_SINK_PORT, logger);
      stops.push(sink.stop);
      smtpUrl = sink.url;
    }

    let ordersApi = config.ORDERS_API_URL && config.ORDERS_API_KEY
      ? { url: config.ORDERS_API_URL, apiKey: config.ORDERS_API_KEY }
      : { url: `http://127.0.0.1:${config.SHOP_API_PORT}`, apiKey: EMBEDDED_SHOP_API_KEY };
    if (need.shop && !config.ORDERS_API_URL && !(await isListening(config.SHOP_API_PORT))) {
      // The demo's orders live here; npm start seeds the same customers into PostgreSQL.
      const shop = await startShopApi({ dir: path.join(config.DATA_DIR, 'shop'), port: config.SHOP_API_PORT, logger });
      stops.push(shop.stop);
      ordersApi = { url: shop.url, apiKey: shop.apiKey };
    }

    const temporal = loadTemporalSettings();
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
