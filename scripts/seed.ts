// `npm run seed -- --customers N --days D`: a deterministic demo data set of any size.
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { resolveServices } from '../src/dev/local-services.js';
import { DemoData, DemoDataExistsError } from '../src/services/demo-data.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { isoDay, positiveInt, strictProgram, UsageError } from '../src/cli/flags.js';
import { addDays } from '../src/dates.js';

const program = strictProgram('seed', 'Create deterministic demo customers and orders.')
  .option('--customers <n>', 'number of customers', positiveInt('--customers'), 200)
  .option('--days <n>', 'days of order history, ending --end-date', positiveInt('--days'), 30)
  .option('--orders-per-day <n>', 'mean orders per customer per day (skewed)', positiveInt('--orders-per-day'), 3)
  .option('--end-date <YYYY-MM-DD>', 'last day with orders (default: yesterday, UTC)', isoDay('--end-date'))
  .option('--reset', 'replace existing customers, orders, reports and the email record')
  .option('--json', 'print the counts as JSON')
  .parse();

const flags = program.opts<{ customers: number; days: number; ordersPerDay: number; endDate?: string; reset?: boolean; json?: boolean }>();
// Warnings only: the migrator's info line is JSON, and this prints its own readable result.
const { config, logger } = bootstrap('seed', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });

runMain(async () => {
  const services = await resolveServices(config, logger, { temporal: false, smtp: false });
  const pool = createPool(services.databaseUrl, logger, 2);
  try {
    await migrate(services.databaseUrl, logger);
    const started = Date.now();
    const endDate = flags.endDate ?? addDays(new Date().toISOString().slice(0, 10), -1);
    const result = await new DemoData(pool).seed({
      customers: flags.customers,
      days: flags.days,
      ordersPerCustomerPerDay: flags.ordersPerDay,
      endDate,
      reset: Boolean(flags.reset),
    });
    const seconds = (Date.now() - started) / 1000;
    if (flags.json) console.log(JSON.stringify({ customers: result.customers, orders: result.orders, endDate, seconds }));
    else console.log(`seeded ${result.customers} customers and ${result.orders} orders up to ${endDate} in ${seconds.toFixed(1)}s`);
  } catch (error) {
    // Thrown, not exited: the pool and the services below still close; runMain then exits 2.
    if (error instanceof DemoDataExistsError) throw new UsageError(error.message);
    throw error;
  } finally {
    await pool.end();
    await services.stop();
  }
});
