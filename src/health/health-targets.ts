import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import type { ServiceEndpoints } from '../dev/local-services.js';
import { declaredSchedules, type ScheduleDeclaration } from '../schedules.js';
import type { TemporalSettings } from '../temporal/connection-settings.js';
import type { TemporalTarget } from './temporal-health.js';
import { whenSettled } from './temporal-call.js';

/** What each part's failure should tell people to do, worded for this deployment (a configured service, or an embedded default). */
export interface ServiceFixes {
  postgres: string;
  smtp: string;
  shop: string;
  temporal: string;
}

/** Everything the checks look at: the services as configured, the task queue, the declared schedules. */
export interface HealthTargets {
  databaseUrl: string;
  smtpUrl: string;
  ordersApi: { url: string; apiKey: string };
  temporal: TemporalTarget;
  /**
   * The task queue every job of the registry runs on: each door (CLI, schedules, admin page,
   * npm start) starts its runs on TEMPORAL_TASK_QUEUE, and the worker polls it for all of them.
   */
  taskQueue: string;
  schedules: ScheduleDeclaration[];
  fixes: ServiceFixes;
  /** Secrets the rows must never show, whatever a server's error message says. */
  secrets: string[];
}

const EMBEDDED_STARTERS = 'npm start, npm run worker and npm run admin start it';

export function serviceFixes(config: Config, temporal: Pick<TemporalSettings, 'remote'>): ServiceFixes {
  return {
    postgres: config.DATABASE_URL
      ? 'is the server up, and DATABASE_URL right?'
      : `the embedded PostgreSQL is not running on EMBEDDED_POSTGRES_PORT (${config.EMBEDDED_POSTGRES_PORT}): ${EMBEDDED_STARTERS} (or set DATABASE_URL)`,
    smtp: config.SMTP_URL
      ? 'is the server up, and SMTP_URL right?'
      : `the embedded SMTP sink is not running on SMTP_SINK_PORT (${config.SMTP_SINK_PORT}): npm start and npm run worker start it (or set SMTP_URL)`,
    shop: config.ORDERS_API_URL
      ? 'is the shop up, and ORDERS_API_URL right?'
      : `the embedded shop API is not running on SHOP_API_PORT (${config.SHOP_API_PORT}): npm start and npm run worker start it (or set ORDERS_API_URL)`,
    temporal: temporal.remote
      ? 'is the server up, and TEMPORAL_ADDRESS (or your envconfig profile) right?'
      : 'the local Temporal dev server is not running: npm start starts it (or set TEMPORAL_ADDRESS)',
  };
}

/**
 * The configured secrets: passwords in DATABASE_URL and SMTP_URL, ORDERS_API_KEY, Temporal's API
 * key. A password equal to its user name is left out: the rows show user names, and blanking
 * those would only hide which account was tried (postgres:postgres, say).
 */
function configuredSecrets(config: Config, temporal: TemporalSettings): string[] {
  const password = (text: string | undefined) => {
    if (!text) return '';
    const url = new URL(text);
    return url.password === url.username ? '' : decodeURIComponent(url.password);
  };
  const apiKey = temporal.connectionOptions.apiKey;
  return [password(config.DATABASE_URL), password(config.SMTP_URL), config.ORDERS_API_KEY ?? '', typeof apiKey === 'string' ? apiKey : ''].filter(Boolean);
}

/** The targets of a deployment: its settings' services (configuredServices), task queue and schedules. */
export function healthTargets(config: Config, endpoints: ServiceEndpoints, temporal: TemporalTarget): HealthTargets {
  return {
    databaseUrl: endpoints.databaseUrl,
    smtpUrl: endpoints.smtpUrl,
    ordersApi: endpoints.ordersApi,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    schedules: declaredSchedules(config),
    fixes: serviceFixes(config, endpoints.temporal),
    secrets: configuredSecrets(config, endpoints.temporal),
  };
}

/** A target that opens a connection of its own for the checks (`npm run doctor`), giving up after `timeoutMs`. */
export function connectForChecks(settings: TemporalSettings, timeoutMs: number): TemporalTarget {
  return {
    address: settings.address,
    namespace: settings.namespace,
    connect: async () => {
      const connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: timeoutMs });
      const client = new Client({ connection, namespace: settings.namespace });
      // Retries of calls the checks gave up on may still be on a timer: the channel stays open for them.
      return { client, close: async () => { await whenSettled(client); await connection.close(); } };
    },
  };
}

/** A target that checks through a client its owner keeps open (the admin page's). */
export function lentClient(client: Client, address: string): TemporalTarget {
  return { address, namespace: client.options.namespace, connect: async () => ({ client, close: async () => undefined }) };
}
