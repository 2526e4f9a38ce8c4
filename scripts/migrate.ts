// `npm run migrate`: apply pending database migrations (npm start and the worker's tests do it too).
import { migrate } from '../src/db/migrate.js';
import { resolveServices } from '../src/dev/local-services.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';

runMain(async () => {
  const { config, logger } = bootstrap('migrate');
  const services = await resolveServices(config, logger, { temporal: false, smtp: false });
  try {
    await migrate(services.databaseUrl, logger);
    console.log('database schema is up to date');
  } finally {
    await services.stop();
  }
});
