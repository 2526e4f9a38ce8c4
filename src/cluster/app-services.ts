import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { inTransaction, type Pool } from '../db/pool.js';
import { ensureDatabase, EMBEDDED_DATABASE } from '../dev/embedded-postgres.js';
import { startShopApi } from '../dev/shop-api.js';
import { startSmtpSink } from '../dev/smtp-sink.js';
import { insertDemoCustomers } from '../services/demo-data.js';
import type { ClusterSettings } from './cluster-settings.js';

/** Where our workers' dependencies are: what `npm run worker` reads from its environment. */
export interface AppServices {
  databaseUrl: string;
  smtpUrl: string;
  ordersApi: { url: string; apiKey: string };
  stop(): Promise<void>;
}

/**
 * Our side of the cluster: DATABASE_URL, SMTP_URL and ORDERS_API_URL when set, else the
 * embedded defaults: a database of our own on the cluster's PostgreSQL, the SMTP sink and the
 * demo shop on the cluster's ports (started here once, so N workers share one of each).
 */
export async function resolveAppServices(config: Config, settings: ClusterSettings, embeddedPostgresUrl: string | undefined, logger: Logger): Promise<AppServices> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.splice(0).reverse()) await fn().catch((error: Error) => logger.warn({ err: error.message }, 'stop failed'));
  };
  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      await ensureDatabase(embeddedPostgresUrl!, EMBEDDED_DATABASE);
      const url = new URL(embeddedPostgresUrl!);
      url.pathname = `/${EMBEDDED_DATABASE}`;
      databaseUrl = url.toString();
    }
    let smtpUrl = config.SMTP_URL;
    if (!smtpUrl) {
      const sink = await startSmtpSink(path.join(settings.CLUSTER_DATA_DIR, 'mail'), settings.CLUSTER_SMTP_PORT, logger);
      stops.push(sink.stop);
      smtpUrl = sink.url;
    }
    let ordersApi = config.ORDERS_API_URL && config.ORDERS_API_KEY ? { url: config.ORDERS_API_URL, apiKey: config.ORDERS_API_KEY } : undefined;
    if (!ordersApi) {
      const shop = await startShopApi({ dir: path.join(settings.CLUSTER_DATA_DIR, 'shop'), port: settings.CLUSTER_SHOP_PORT, logger });
      stops.push(shop.stop);
      ordersApi = { url: shop.url, apiKey: shop.apiKey };
    }
    return { databaseUrl, smtpUrl, ordersApi, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The demo's customers (the shop's demo data set has these 200), when our database has none yet. */
export async function ensureDemoCustomers(pool: Pool, logger: Logger): Promise<void> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
  if (rows[0]?.n !== 0) return;
  await inTransaction(pool, (db) => insertDemoCustomers(db, 200));
  logger.info({ customers: 200 }, 'demo customers created; their orders come from the shop API');
}
