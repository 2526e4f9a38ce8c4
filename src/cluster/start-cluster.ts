import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres, type LocalPostgres } from '../dev/embedded-postgres.js';
import { isListening } from '../dev/ports.js';
import type { ChildProcess } from './child-process.js';
import { portLayout, TEMPORAL_SERVICES, type ClusterSettings, type PortLayout, type TemporalService } from './cluster-settings.js';
import { ensureGoBinaries } from './go-binaries.js';
import { ensureNamespace } from './namespace-setup.js';
import { datastoreEnv, migrateTemporalDatabases, temporalPostgresFromUrl, type TemporalPostgres } from './temporal-databases.js';
import { startTemporalService } from './temporal-services.js';
import { startUiServer } from './ui-server.js';

/** Retention of closed runs in the cluster's namespace (the dev server keeps them a day). */
const RETENTION_DAYS = 7;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Cluster {
  frontendAddress: string;
  namespace: string;
  uiUrl: string;
  ports: PortLayout;
  /** The embedded PostgreSQL's `postgres` database (admin URL), when the cluster started one. */
  embeddedPostgresUrl?: string;
  /** The running process of each Temporal service. */
  services(): Record<TemporalService, ChildProcess>;
  /**
   * Stops the given services (SIGTERM, or kill -9 with `crash`; in reverse start order), waits
   * `downMs`, and starts them again in start order: one service, or all four for a full restart.
   */
  restartServices(services: readonly TemporalService[], options: { crash: boolean; downMs: number }): Promise<void>;
  /** Stops the embedded PostgreSQL under everything that uses it, waits, starts it again. */
  restartPostgres?(downMs: number): Promise<void>;
  /** Stops everything the cluster started, the UI and services first, PostgreSQL last. */
  stop(): Promise<void>;
}

/**
 * A multi-process Temporal cluster on this machine: the pinned binaries (built once), Temporal's
 * databases created and migrated on PostgreSQL (the embedded one, or CLUSTER_TEMPORAL_POSTGRES_URL),
 * history, matching, frontend and the internal worker as four processes, the namespace with our
 * search attributes, and the Web UI server. If any step fails, what was started is stopped.
 */
export async function startCluster(settings: ClusterSettings, logger: Logger, options: { embeddedForOurData: boolean }): Promise<Cluster> {
  const dataDir = path.resolve(settings.CLUSTER_DATA_DIR);
  const logDir = path.join(dataDir, 'logs');
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((error: Error) => logger.warn({ err: error.message }, 'stopping failed'));
  };
  try {
    await ensureGoBinaries(settings.CLUSTER_GO, (line) => logger.info(line));

    // The embedded PostgreSQL holds whatever has no server of its own: Temporal's two
    // databases (without CLUSTER_TEMPORAL_POSTGRES_URL) and our data (without DATABASE_URL).
    let embedded: LocalPostgres | undefined;
    const startPostgres = () => startEmbeddedPostgres(dataDir, settings.CLUSTER_POSTGRES_PORT, logger);
    // Never someone else's server found on the port: the cluster restarts its PostgreSQL (test:cluster) and owns its data.
    if ((!settings.CLUSTER_TEMPORAL_POSTGRES_URL || options.embeddedForOurData) && (await isListening(settings.CLUSTER_POSTGRES_PORT))) {
      throw new Error(`port ${settings.CLUSTER_POSTGRES_PORT} (the cluster's embedded PostgreSQL) is already in use: another cluster, or another program; stop it or set CLUSTER_POSTGRES_PORT`);
    }
    if (!settings.CLUSTER_TEMPORAL_POSTGRES_URL || options.embeddedForOurData) {
      embedded = await startPostgres();
      stops.push(() => embedded!.stop());
    }
    const temporalPostgres = temporalPostgresFromUrl(
      settings.CLUSTER_TEMPORAL_POSTGRES_URL ?? embedded!.urlFor('postgres'),
      settings.CLUSTER_TEMPORAL_DB,
      settings.CLUSTER_TEMPORAL_VISIBILITY_DB,
    );
    await migrateTemporalDatabases(temporalPostgres, (name) => databaseExists(temporalPostgres, name), (line) => logger.info(line));

    const ports = portLayout(settings.CLUSTER_BASE_PORT);
    const serviceOptions = { ports, historyShards: settings.CLUSTER_HISTORY_SHARDS, datastore: datastoreEnv(temporalPostgres), logDir };
    const running = {} as Record<TemporalService, ChildProcess>;
    for (const service of TEMPORAL_SERVICES) {
      running[service] = await startTemporalService(service, serviceOptions);
      stops.push(() => running[service].stop());
      logger.info({ service, pid: running[service].pid, grpc: ports.grpc[service] }, `Temporal ${service} started`);
    }
    const frontendAddress = `127.0.0.1:${ports.grpc.frontend}`;
    await ensureNamespace(frontendAddress, settings.TEMPORAL_NAMESPACE, RETENTION_DAYS);
    logger.info({ namespace: settings.TEMPORAL_NAMESPACE }, 'namespace and search attributes ready');

    const ui = await startUiServer({ frontendAddress, port: settings.CLUSTER_UI_PORT, namespace: settings.TEMPORAL_NAMESPACE, logDir });
    stops.push(() => ui.child.stop());

    return {
      frontendAddress,
      namespace: settings.TEMPORAL_NAMESPACE,
      uiUrl: ui.url,
      ports,
      ...(embedded ? { embeddedPostgresUrl: embedded.urlFor('postgres') } : {}),
      services: () => ({ ...running }),
      restartServices: async (services, { crash, downMs }) => {
        const chosen = TEMPORAL_SERVICES.filter((service) => services.includes(service));
        for (const service of [...chosen].reverse()) await (crash ? running[service].crash() : running[service].stop());
        await sleep(downMs);
        for (const service of chosen) running[service] = await startTemporalService(service, serviceOptions);
      },
      ...(embedded
        ? {
            restartPostgres: async (downMs: number) => {
              await embedded!.stop();
              await sleep(downMs);
              embedded = await startPostgres();
            },
          }
        : {}),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Whether Temporal's database exists yet (asked on the server's `postgres` database, as the SQL tool does). */
async function databaseExists(server: TemporalPostgres, name: string): Promise<boolean> {
  const client = new pg.Client({
    host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres',
    ...(server.tls.enabled ? { ssl: { rejectUnauthorized: server.tls.verifyHost } } : {}),
  });
  await client.connect();
  try {
    return ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

