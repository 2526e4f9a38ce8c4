import { Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { temporalLogger } from '../temporal/runtime-logger.js';
import { HISTOGRAM_BUCKETS } from './job-metrics.js';

/** Where the worker serves Prometheus metrics (`http://host:port/metrics`). */
export interface MetricsEndpoint {
  host: string;
  port: number;
}

/** METRICS_PORT=0: this process serves no metrics. */
export function metricsEndpoint(config: Pick<Config, 'METRICS_HOST' | 'METRICS_PORT'>): MetricsEndpoint | null {
  return config.METRICS_PORT === 0 ? null : { host: config.METRICS_HOST, port: config.METRICS_PORT };
}

export function metricsUrl(endpoint: MetricsEndpoint): string {
  return `http://${hostForUrl(endpoint.host)}:${endpoint.port}/metrics`;
}

/** Another process (a second worker, another `npm start`) already serves metrics on this port. */
export class MetricsPortInUseError extends Error {
  override name = 'MetricsPortInUseError';
  constructor(endpoint: MetricsEndpoint) {
    super(
      `METRICS_PORT: ${hostForUrl(endpoint.host)}:${endpoint.port} is already in use (another worker or npm start on this machine?); ` +
        'give each process its own METRICS_PORT, or METRICS_PORT=0 to serve no metrics from this one',
    );
  }
}

let installed: { metrics: MetricsEndpoint | null } | undefined;

/**
 * Installs this process's Temporal runtime: the SDK's logs through pino and, given an endpoint,
 * its Prometheus exporter. That one exporter serves the runtime's own series (task latencies,
 * slots, poll failures: `temporal_*`) and ours (`durable_jobs_*`, recorded on the same runtime's
 * meter, see job-metrics.ts), so there is one port to scrape and no second metrics library.
 *
 * Once per process, before any worker connection: the first NativeConnection would otherwise
 * install a default runtime, with neither. A later call without an endpoint (createReportWorker
 * makes sure a runtime is installed) keeps the installed one.
 */
export function installTemporalRuntime(logger: Logger, metrics: MetricsEndpoint | null = null): void {
  if (installed) {
    if (metrics && (installed.metrics?.host !== metrics.host || installed.metrics.port !== metrics.port)) {
      throw new Error(`the Temporal runtime of this process is already installed ${installed.metrics ? `with metrics on port ${installed.metrics.port}` : 'without metrics'}; install it once, first`);
    }
    return;
  }
  try {
    Runtime.install({
      logger: temporalLogger(logger),
      ...(metrics
        ? {
            telemetryOptions: {
              metrics: {
                prometheus: {
                  bindAddress: `${hostForUrl(metrics.host)}:${metrics.port}`,
                  // Prometheus conventions: counters end in _total, a unit is part of the name,
                  // durations are in seconds (the runtime's own latencies too).
                  countersTotalSuffix: true,
                  unitSuffix: true,
                  useSecondsForDurations: true,
                  histogramBucketOverrides: HISTOGRAM_BUCKETS,
                },
              },
            },
          }
        : {}),
    });
  } catch (error) {
    if (metrics && /address already in use/i.test(String(error))) throw new MetricsPortInUseError(metrics);
    throw error;
  }
  installed = { metrics };
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
