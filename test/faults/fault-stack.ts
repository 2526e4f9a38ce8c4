import path from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedPostgres, type LocalPostgres } from '../../src/dev/embedded-postgres.js';
import { startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import { loadTemporalSettings, type TemporalSettings } from '../../src/temporal/connection-settings.js';
import type { Cluster } from '../../src/cluster/start-cluster.js';

/** The servers a fault scenario runs against; restartable when this process started them. */
export interface FaultStack {
  postgresAdminUrl: string;
  temporal: TemporalSettings;
  restartPostgres?: (downMs: number) => Promise<void>;
  restartTemporal?: (downMs: number) => Promise<void>;
  /** Worker processes every scenario that starts with workers runs at least (the cluster profile: 3). */
  minWorkers?: number;
  /** The multi-process cluster's own faults: one Temporal service killed or restarted (npm run test:cluster). */
  cluster?: Pick<Cluster, 'restartServices'>;
  /** The git revision whose code the old workers of the deploy scenario run (npm run test:cluster --deploy-from). */
  deployFrom?: string;
  close(): Promise<void>;
}

/** How many worker processes a scenario starts with on this stack: its own count, raised to the stack's minimum (none stays none). */
export function workersFor(stack: FaultStack, declared: number): number {
  return declared === 0 ? 0 : Math.max(declared, stack.minWorkers ?? 0);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function settingsFor(address: string): TemporalSettings {
  const base = loadTemporalSettings();
  return { ...base, address, remote: true, connectionOptions: { ...base.connectionOptions, address } };
}

/** Its own PostgreSQL and Temporal dev server (on their own ports), so they can be stopped and restarted. */
export async function startOwnFaultStack(options: { dataDir: string; postgresPort: number; temporalPort: number }, logger: Logger): Promise<FaultStack> {
  const dataDir = path.resolve(options.dataDir);
  let postgres: LocalPostgres = await startEmbeddedPostgres(dataDir, options.postgresPort, logger);
  const startTemporal = () => startTemporalDevServer({ dataDir, port: options.temporalPort, uiPort: options.temporalPort + 1000 }, logger);
  let temporal: DevServer = await startTemporal();
  return {
    postgresAdminUrl: postgres.urlFor('postgres'),
    temporal: settingsFor(temporal.address),
    restartPostgres: async (downMs) => {
      await postgres.stop();
      await sleep(downMs);
      postgres = await startEmbeddedPostgres(dataDir, options.postgresPort, logger);
    },
    restartTemporal: async (downMs) => {
      await temporal.stop();
      await sleep(downMs);
      temporal = await startTemporal(); // same SQLite file: history survives
    },
    close: async () => {
      await temporal.stop();
      await postgres.stop();
    },
  };
}

/** Servers someone else runs (the test suite's): scenarios that need no restart only. */
export function sharedFaultStack(postgresAdminUrl: string, temporalAddress: string): FaultStack {
  return { postgresAdminUrl, temporal: settingsFor(temporalAddress), close: async () => undefined };
}
