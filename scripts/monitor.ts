// `npm run monitor`: the alert monitor on its own (README, "Alerts"), for a deployment where
// workers run elsewhere: alerts when no worker has polled the task queue for
// ALERT_NO_WORKER_MINUTES and when a schedule skips runs that missed their catch-up window.
// Run one or several (they share the incidents in PostgreSQL); Ctrl-C stops it.
import { createPool } from '../src/db/pool.js';
import { resolveServices } from '../src/dev/local-services.js';
import { startMonitor } from '../src/health/start-monitor.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';

runMain(async () => {
  const { config, logger } = bootstrap('monitor');
  // It watches for workers and reads schedules; it never starts a Temporal server, a shop or an
  // SMTP sink of its own (an embedded sink must already run: npm start's).
  const services = await resolveServices(config, logger, { temporal: false, smtp: false, shop: false });
  const pool = createPool(services.databaseUrl, logger, 2);
  try {
    const monitor = await startMonitor({ config, logger, pool, temporal: services.temporal, temporalUiUrl: services.temporalUiUrl, smtpUrl: services.smtpUrl });
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await monitor.stop();
  } finally {
    await pool.end();
    await services.stop();
  }
});
