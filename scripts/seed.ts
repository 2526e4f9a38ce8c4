// `npm run seed -- --customers N --days D`: a deterministic demo data set of any size.
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { resolveServices } from '../src/dev/local-services.js';
import { DemoData, DemoDataExistsError } from '../src/services/demo-data.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { isoDay, positiveInt, strictProgram, usageError } from '../src/cli/flags.js';
import { addDays } from '../src/dates.js';

const program = strictProgram('seed', 'Create deterministic demo customers and orders.')
  .option('--customers <n>', 'number of customers', positiveInt('--customers'), 200)
  .option('--days <n>', 'days of order history, ending --end-date', positiveInt('--days'), 30)
  .option('--orders-per-day <n>', 'mean orders per customer per day (skewed)', positiveInt('--orders-per-day'), 3)
  .option('--end-date <YYYY-MM-DD>', 'last day with orders (default: yesterday, UTC)', isoDay('--end-date'))
  .option('--reset', 'replace existing customers, orders, reports and the email record')
  .parse();

const flags = program.opts<{ customers: number; days: number; ordersPerDay: number; endDate?: string; reset?: boolean }>();

runMain(async () => {
  const { config, logger } = bootstrap('seed');
  const services = await resolveServices(config, logger, { temporal: false, smtp: false });
  const pool = createPool(services.databaseUrl, logger, 2);
  try {
    await migrate(services.databaseUrl, logger);
    const started = Date.now();
    const result = await new DemoData(pool).seed({
      customers: flags.customers,
      days: flags.days,
      ordersPerCustomerPerDay: flags.ordersPerDay,
      endDate: flags.endDate ?? addDays(new Date().toISOString().slice(0, 10), -1),
      reset: Boolean(flags.reset),
    });
    console.log(`seeded ${result.customers} customers and ${result.orders} orders in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  } catch (error) {
    if (error instanceof DemoDataExistsError) usageError(error.message);
    throw error;
  } finally {
    await pool.end();
    await services.stop();
  }
});
