import type { Logger } from 'pino';
import { loadClusterSettings, TEMPORAL_SERVICES } from '../../src/cluster/cluster-settings.js';
import { startCluster } from '../../src/cluster/start-cluster.js';
import { settingsFor, type FaultStack } from './fault-stack.js';

export interface ClusterStackOptions {
  dataDir: string;
  postgresPort: number;
  basePort: number;
  uiPort: number;
  workers: number;
  deployFrom?: string;
}

/**
 * The fault suite's stack on the multi-process cluster (npm run test:cluster): its own data
 * directory and ports, embedded PostgreSQL holding Temporal's databases and every scenario's,
 * and the cluster's faults: one service killed or restarted, all four restarted, PostgreSQL
 * restarted under all of them.
 */
export async function startClusterFaultStack(options: ClusterStackOptions, logger: Logger): Promise<FaultStack> {
  const settings = loadClusterSettings({
    ...process.env,
    CLUSTER_DATA_DIR: options.dataDir,
    CLUSTER_POSTGRES_PORT: String(options.postgresPort),
    CLUSTER_BASE_PORT: String(options.basePort),
    CLUSTER_UI_PORT: String(options.uiPort),
    CLUSTER_TEMPORAL_POSTGRES_URL: '',
  });
  const cluster = await startCluster(settings, logger, { embeddedForOurData: true });
  return {
    postgresAdminUrl: cluster.embeddedPostgresUrl!,
    temporal: settingsFor(cluster.frontendAddress),
    restartPostgres: cluster.restartPostgres!,
    restartTemporal: (downMs) => cluster.restartServices(TEMPORAL_SERVICES, { crash: false, downMs }),
    minWorkers: options.workers,
    cluster,
    ...(options.deployFrom ? { deployFrom: options.deployFrom } : {}),
    close: cluster.stop,
  };
}
