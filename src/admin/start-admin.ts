import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import { configuredServices, type ServiceEndpoints } from '../dev/local-services.js';
import { isListening } from '../dev/ports.js';
import { healthTargets, lentClient } from '../health/health-targets.js';
import { whenSettled } from '../health/temporal-call.js';
import { AdminUsers } from '../services/admin-users.js';
import type { TemporalSettings } from '../temporal/connection-settings.js';
import type { AdminSettings } from './context.js';
import { buildAdminServer } from './server.js';
import { clientTracingInterceptors } from '../observability/temporal-tracing.js';

export interface StartAdminOptions {
  config: Config;
  logger: Logger;
  pool: Pool;
  temporal: TemporalSettings;
  temporalUiUrl: string;
  /** The other services, for the status page's checks; default: those the settings name (configuredServices). */
  endpoints?: Pick<ServiceEndpoints, 'databaseUrl' | 'smtpUrl' | 'ordersApi'>;
  /** The embedded default: create `admin@localhost` with a one-time password if nobody can sign in yet. */
  createFirstAdmin: boolean;
  /** Where the one-time password goes: the console, never the structured log. */
  print?: (text: string) => void;
  /** A client to start runs with (npm start's, over its worker's connection, so they start eagerly); default: one of its own. */
  client?: Client;
}

export interface RunningAdmin {
  /** Null when the port was taken and this process serves nothing. */
  url: string | null;
  close(): Promise<void>;
}

export function adminSettings(config: Config): AdminSettings {
  return {
    // Without a configured secret, CSRF cookies signed by an earlier process stop verifying
    // after a restart: a reload of the form fixes that. Sessions live in PostgreSQL and survive.
    sessionSecret: config.ADMIN_SESSION_SECRET ?? crypto.randomBytes(32).toString('hex'),
    sessionHours: config.ADMIN_SESSION_HOURS,
    cookieSecure: config.ADMIN_COOKIE_SECURE,
    trustProxy: config.ADMIN_TRUST_PROXY,
    signInAttemptsPerMinute: config.ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE,
    signInAttemptsPerAccount: config.ADMIN_SIGN_IN_ATTEMPTS_PER_ACCOUNT,
  };
}

/** The admin page's composition root: its Temporal client, the first user, the listening server. */
export async function startAdminServer(options: StartAdminOptions): Promise<RunningAdmin> {
  const { config, logger } = options;
  const print = options.print ?? ((text: string) => console.log(text));
  if (config.ADMIN_PORT !== 0 && (await isListening(config.ADMIN_PORT, config.ADMIN_HOST))) {
    logger.warn({ port: config.ADMIN_PORT }, `port ${config.ADMIN_PORT} is already in use: this process does not serve the admin page (set ADMIN_PORT to serve it elsewhere)`);
    return { url: null, close: async () => undefined };
  }
  await ensureSomeoneCanSignIn(options, print);
  const connection = options.client ? undefined : await Connection.connect(options.temporal.connectionOptions);
  // Starts from the admin page open a trace when tracing is on (src/observability/tracing.ts).
  const client = options.client ?? new Client({ connection, namespace: options.temporal.namespace, interceptors: { workflow: clientTracingInterceptors() } });
  const app = buildAdminServer({
    config,
    pool: options.pool,
    logger,
    settings: adminSettings(config),
    temporal: { client, namespace: options.temporal.namespace, taskQueue: config.TEMPORAL_TASK_QUEUE, temporalUiUrl: options.temporalUiUrl },
    health: healthTargets(config, { ...(options.endpoints ?? configuredServices(config)), temporal: options.temporal }, lentClient(client, options.temporal.address)),
  });
  try {
    await app.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT });
  } catch (error) {
    await connection?.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.ADMIN_PORT;
  const url = `http://${config.ADMIN_HOST.includes(':') ? `[${config.ADMIN_HOST}]` : config.ADMIN_HOST}:${port}`;
  logger.info({ url }, 'admin page listening');
  return {
    url,
    close: async () => {
      await app.close();
      if (connection) await whenSettled(client); // retries of status checks given up on
      await connection?.close(); // a lent client's connection is its owner's to close
    },
  };
}

async function ensureSomeoneCanSignIn(options: StartAdminOptions, print: (text: string) => void): Promise<void> {
  const users = new AdminUsers(options.pool);
  if (options.createFirstAdmin) {
    const password = await users.createFirstAdminIfNone();
    if (password) {
      print(
        [
          '',
          '  Admin page: first user created (this password is shown once, and must be changed at first sign-in)',
          `    email       admin@localhost`,
          `    password    ${password}`,
          '',
        ].join('\n'),
      );
    }
  } else if ((await users.count()) === 0) {
    options.logger.warn('nobody can sign in to the admin page yet; create a user with: npm run admin -- create-user --email you@example.com --role operator');
  }
}
