// `npm run worker`: one worker process polling the task queue; start as many as you like.
import { createPool } from '../src/db/pool.js';
import { resolveServices } from '../src/dev/local-services.js';
import { createReportWorker, workerPoolSize } from '../src/worker.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { installTemporalRuntime, metricsEndpoint, metricsUrl } from '../src/observability/runtime.js';

runMain(async () => {
  const { config, logger } = bootstrap('worker', {}, { tracing: true });
  // First, before any service starts: a port already taken stops it here, naming METRICS_PORT.
  const metrics = metricsEndpoint(config);
  installTemporalRuntime(logger, metrics);
  if (metrics) logger.info({ url: metricsUrl(metrics) }, 'serving Prometheus metrics');
  const services = await resolveServices(config, logger, { temporal: true, smtp: true, shop: true });
  const pool = createPool(services.databaseUrl, logger, workerPoolSize(config));
  const { worker, close } = await createReportWorker({
    config, logger, pool, smtpUrl: services.smtpUrl, ordersApi: services.ordersApi, temporal: services.temporal, temporalUiUrl: services.temporalUiUrl,
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: services.temporal.address }, 'worker polling (Ctrl-C to stop)');
  try {
    await worker.run(); // returns after SIGINT/SIGTERM, once in-flight tasks are done
  } finally {
    await close();
    await pool.end();
    await services.stop();
  }
});
