// `npm run cluster`: a production-shaped Temporal on this machine. The pinned server, SQL tool
// and Web UI server (built once from the Go module proxy), Temporal's databases migrated on
// PostgreSQL, history, matching, frontend and the internal worker as four processes, the UI
// server, the namespace, our search attributes and schedules, N of our workers as processes
// of their own and the admin page; then the main job once, end to end. Ctrl-C stops it all.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { declaredSchedules } from '../src/schedules.js';
import { applySchedules } from '../src/temporal/schedule-sync.js';
import { connectClient } from '../src/temporal/client.js';
import { loadTemporalSettings, type TemporalSettings } from '../src/temporal/connection-settings.js';
import { startAdminServer } from '../src/admin/start-admin.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { strictProgram } from '../src/cli/flags.js';
import { ConfigError } from '../src/config.js';
import { loadClusterSettings } from '../src/cluster/cluster-settings.js';
import { GoMissingError } from '../src/cluster/go-binaries.js';
import { startCluster } from '../src/cluster/start-cluster.js';
import { ensureDemoCustomers, resolveAppServices } from '../src/cluster/app-services.js';
import { startAppWorker, waitForWorkers } from '../src/cluster/app-workers.js';
import type { ChildProcess } from '../src/cluster/child-process.js';

const flags = strictProgram('cluster', 'Run a multi-process Temporal cluster on this machine, with our workers and admin page (Ctrl-C stops everything).')
  .option('--workers <n>', 'worker processes to start (default CLUSTER_WORKERS, 2); 0 for none')
  .option('--no-first-run', 'do not import the orders and run the nightly job once after start-up')
  .parse()
  .opts<{ workers?: string; firstRun: boolean }>();

runMain(async () => {
  let settings;
  try {
    settings = loadClusterSettings({ ...process.env, ...(flags.workers !== undefined ? { CLUSTER_WORKERS: flags.workers } : {}) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const { config, logger } = bootstrap('cluster', { LOG_PRETTY: process.env.LOG_PRETTY ?? 'true', DATA_DIR: settings.CLUSTER_DATA_DIR, ADMIN_PORT: String(settings.CLUSTER_ADMIN_PORT) });
  const stops: Array<{ what: string; stop: () => Promise<void> }> = [];
  let failure: unknown;
  // Ctrl-C (and SIGTERM) end the wait below; everything is then stopped in reverse order. The
  // handlers stay for good: a terminal's Ctrl-C reaches us twice (from the terminal and relayed by
  // tsx), and a second one must not kill this process while it stops the children.
  const interrupted = new Promise<void>((resolve) => {
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
  try {
    await up(settings, config, logger, stops, interrupted);
  } catch (error) {
    failure = error;
  }
  if (stops.length > 0) logger.info('stopping everything npm run cluster started ...');
  for (const { what, stop } of stops.reverse()) {
    try {
      await stop();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, `stopping the ${what} failed`);
    }
  }
  if (failure instanceof GoMissingError) {
    process.stderr.write(`${failure.message}\n`);
    process.exitCode = 1;
    return;
  }
  if (failure !== undefined) throw failure;
});

async function up(
  settings: ReturnType<typeof loadClusterSettings>,
  config: ReturnType<typeof bootstrap>['config'],
  logger: ReturnType<typeof bootstrap>['logger'],
  stops: Array<{ what: string; stop: () => Promise<void> }>,
  interrupted: Promise<void>,
): Promise<void> {
  const cluster = await startCluster(settings, logger, { embeddedForOurData: !config.DATABASE_URL });
  stops.push({ what: 'Temporal cluster', stop: cluster.stop });
  const temporal: TemporalSettings = clusterTemporalSettings(cluster.frontendAddress, cluster.namespace);

  const app = await resolveAppServices(config, settings, cluster.embeddedPostgresUrl, logger);
  stops.push({ what: 'SMTP sink and shop', stop: app.stop });
  await migrate(app.databaseUrl, logger);
  const pool = createPool(app.databaseUrl, logger, 4);
  stops.push({ what: 'database pool', stop: () => pool.end() });
  await ensureDemoCustomers(pool, logger);

  const { client, close } = await connectClient(temporal);
  stops.push({ what: 'Temporal client', stop: close });
  const schedules = await applySchedules(client, declaredSchedules(config), { taskQueue: config.TEMPORAL_TASK_QUEUE, prune: false });
  logger.info(schedules, 'schedules applied');

  // What `npm run worker` reads in a deployment: the cluster's address and our services.
  const childEnv: Record<string, string> = {
    TEMPORAL_ADDRESS: cluster.frontendAddress,
    TEMPORAL_NAMESPACE: cluster.namespace,
    TEMPORAL_UI_URL: cluster.uiUrl,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    DATABASE_URL: app.databaseUrl,
    SMTP_URL: app.smtpUrl,
    ORDERS_API_URL: app.ordersApi.url,
    ORDERS_API_KEY: app.ordersApi.apiKey,
    DATA_DIR: settings.CLUSTER_DATA_DIR,
    // On a small machine a burst of runs stalls with the SDK's 40 (BENCHMARKS.md, the cluster).
    WORKER_MAX_WORKFLOW_TASKS: String(config.WORKER_MAX_WORKFLOW_TASKS ?? 4),
  };
  const logDir = path.resolve(settings.CLUSTER_DATA_DIR, 'logs');
  const workers: ChildProcess[] = [];
  for (let i = 1; i <= settings.CLUSTER_WORKERS; i++) {
    const worker = startAppWorker(i, { ...childEnv, METRICS_PORT: String(cluster.ports.workerMetrics(i)) }, logDir);
    workers.push(worker);
    stops.push({ what: worker.name, stop: () => worker.stop() });
  }
  await waitForWorkers(client, config.TEMPORAL_TASK_QUEUE, workers);
  logger.info({ workers: workers.map((w) => w.pid) }, `${workers.length} workers polling ${config.TEMPORAL_TASK_QUEUE}`);

  const admin = await startAdminServer({
    config, logger, pool, temporal, temporalUiUrl: cluster.uiUrl, createFirstAdmin: !config.DATABASE_URL,
    endpoints: { databaseUrl: app.databaseUrl, smtpUrl: app.smtpUrl, ordersApi: app.ordersApi },
  });
  stops.push({ what: 'admin page', stop: admin.close });

  if (flags.firstRun && workers.length > 0) {
    // The main job end to end, through the same door an operator uses: the import of the
    // shop's orders, then the nightly run over the last 24 hours (as npm start does).
    for (const args of [['import-orders', '--wait'], ['daily-reports', '--window-minutes', '1440', '--wait']]) {
      const code = await runJobCli(args, childEnv, interrupted);
      if (code === null) return;
      if (code !== 0) throw new Error(`npm run job -- ${args.join(' ')} exited ${code}`);
    }
  }
  const ports = cluster.ports;
  console.log(
    [
      '',
      `  Temporal frontend   ${cluster.frontendAddress} (gRPC), http://127.0.0.1:${ports.frontendHttp} (HTTP API); namespace '${cluster.namespace}'`,
      `  Temporal Web UI     ${cluster.uiUrl}`,
      `  history / matching / worker   127.0.0.1:${ports.grpc.history} / ${ports.grpc.matching} / ${ports.grpc.worker}; metrics http://127.0.0.1:${ports.metrics.frontend}..${ports.metrics.worker}/metrics`,
      `  Our workers         ${workers.length} processes (pids ${workers.map((w) => w.pid).join(', ') || 'none'}) on task queue '${config.TEMPORAL_TASK_QUEUE}'` +
        (workers.length ? `; metrics http://127.0.0.1:${ports.workerMetrics(1)}..${ports.workerMetrics(workers.length)}/metrics` : ''),
      `  Admin page          ${admin.url ?? `(not served: port ${config.ADMIN_PORT} is in use)`}`,
      `  PostgreSQL          ${cluster.embeddedPostgresUrl ? `embedded, 127.0.0.1:${settings.CLUSTER_POSTGRES_PORT} (Temporal: ${settings.CLUSTER_TEMPORAL_DB}, ${settings.CLUSTER_TEMPORAL_VISIBILITY_DB}; ours: durable_jobs)` : 'as configured'}`,
      `  Logs                ${path.relative(process.cwd(), logDir)}/`,
      `  Its settings        export TEMPORAL_ADDRESS=${cluster.frontendAddress} TEMPORAL_UI_URL=${cluster.uiUrl} DATABASE_URL=${config.DATABASE_URL ? '"$DATABASE_URL"' : app.databaseUrl}`,
      `  then try            npm run job -- regenerate-reports --customer 1 --wait`,
      '',
      '  Ctrl-C stops everything npm run cluster started.',
      '',
    ].join('\n'),
  );
  // A process that dies on its own is said at once (a deployment's supervisor would restart it).
  let stopping = false;
  for (const child of [...Object.values(cluster.services()), ...workers]) {
    void child.exited.then((status) => {
      if (!stopping) logger.error({ pid: child.pid, status, log: child.logFile }, `${child.name} exited on its own; Ctrl-C and start again`);
    });
  }
  await interrupted;
  stopping = true;
}

function clusterTemporalSettings(address: string, namespace: string): TemporalSettings {
  const base = loadTemporalSettings();
  return { ...base, address, namespace, remote: true, connectionOptions: { ...base.connectionOptions, address } };
}

/** `npm run job -- <args>` against the cluster, in the foreground; null when Ctrl-C came first (the run goes on in Temporal). */
function runJobCli(args: string[], env: Record<string, string>, interrupted: Promise<void>): Promise<number | null> {
  // Detached: the terminal's Ctrl-C reaches only us, and we stop it (a Ctrl-C of its own would ask whether to cancel the run).
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/job.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  return Promise.race([
    new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1))),
    interrupted.then(() => {
      child.kill('SIGTERM');
      return null;
    }),
  ]);
}
