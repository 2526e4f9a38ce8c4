import path from 'node:path';
import { isListening, waitUntil } from '../dev/ports.js';
import { logTail, startChild, type ChildProcess } from './child-process.js';
import { TEMPORAL_SERVER } from './go-binaries.js';
import type { PortLayout, TemporalService } from './cluster-settings.js';

/** The committed server config (a template) and dynamic config every service process reads. */
export const SERVER_CONFIG_FILE = path.resolve('cluster/temporal/config.yaml');
export const DYNAMIC_CONFIG_FILE = path.resolve('cluster/temporal/dynamicconfig.yaml');

export interface ServiceOptions {
  ports: PortLayout;
  historyShards: number;
  /** datastoreEnv(): where the persistence and visibility databases are. */
  datastore: Record<string, string>;
  logDir: string;
}

/** What one service process gets: the shared settings plus its own metrics address. */
export function serviceEnv(service: TemporalService, options: Pick<ServiceOptions, 'ports' | 'historyShards' | 'datastore'>): Record<string, string> {
  const { ports } = options;
  return {
    ...options.datastore,
    NUM_HISTORY_SHARDS: String(options.historyShards),
    FRONTEND_GRPC_PORT: String(ports.grpc.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    HISTORY_GRPC_PORT: String(ports.grpc.history),
    MATCHING_GRPC_PORT: String(ports.grpc.matching),
    WORKER_GRPC_PORT: String(ports.grpc.worker),
    FRONTEND_MEMBERSHIP_PORT: String(ports.membership.frontend),
    HISTORY_MEMBERSHIP_PORT: String(ports.membership.history),
    MATCHING_MEMBERSHIP_PORT: String(ports.membership.matching),
    WORKER_MEMBERSHIP_PORT: String(ports.membership.worker),
    TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${ports.metrics[service]}`,
    DYNAMIC_CONFIG_FILE,
  };
}

/**
 * Starts one Temporal service as its own OS process (`temporal-server start --service=X`) and
 * waits until its gRPC port accepts connections. Ready here means listening; that the
 * services found each other is checked by the namespace setup, through the frontend.
 */
export async function startTemporalService(service: TemporalService, options: ServiceOptions): Promise<ChildProcess> {
  const port = options.ports.grpc[service];
  if (await isListening(port)) {
    throw new Error(`port ${port} (Temporal ${service}) is already in use: another cluster running? Stop it, or set CLUSTER_BASE_PORT`);
  }
  const child = startChild(`temporal-${service}`, TEMPORAL_SERVER.path, ['--config-file', SERVER_CONFIG_FILE, '--allow-no-auth', 'start', '--service', service], {
    env: { ...process.env, ...serviceEnv(service, options) },
    logFile: path.join(options.logDir, `temporal-${service}.log`),
  });
  await waitUntil(async () => {
    if (!child.running()) throw new Error(`Temporal ${service} exited (${await child.exited}); the end of ${child.logFile}:\n${logTail(child.logFile)}`);
    return isListening(port);
  }, `Temporal ${service} (port ${port})`, 120_000);
  return child;
}
