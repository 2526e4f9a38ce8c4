// `npm run job -- <command>`: start report runs and read report rows from the shell.
import os from 'node:os';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { hasFailures, InvalidInputError, LIMITS, MAX_LISTED_FAILURES, resolveRegenerateInput, type RegenerateReportsInput, type RegenerateReportsSummary } from '../src/contracts.js';
import { reportTuning } from '../src/config.js';
import { connectClient } from '../src/temporal/client.js';
import { createPool } from '../src/db/pool.js';
import { resolveServices, type Services } from '../src/dev/local-services.js';
import { CustomerSelection } from '../src/services/customer-selection.js';
import { liveRunClaims } from '../src/services/email-claims.js';
import { ReportRows } from '../src/services/report-rows.js';
import { startRegenerateReports } from '../src/temporal/report-runs.js';
import { workflowUiUrl } from '../src/temporal/runs.js';
import { waitWithProgress } from '../src/cli/wait-for-run.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { collectPositiveInts, isoDay, positiveInt, strictProgram, usageError, UsageError } from '../src/cli/flags.js';
import { EXIT_CODES } from '../src/cli/exit-codes.js';

const { config, logger } = bootstrap('job', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const program = strictProgram('job', 'Start report runs and read report rows.');
program.addHelpText(
  'after',
  `
Exit codes:
  ${EXIT_CODES.ok}  done (with --wait: the run finished for every customer)
  ${EXIT_CODES.failed}  an error, or with --wait: the run failed or was cancelled
  ${EXIT_CODES.usage}  bad flags, input or settings: nothing was started
  ${EXIT_CODES.someCustomersFailed}  with --wait: the run finished but some customers failed;
     re-run just them with: npm run job -- rerun-failed <workflow id> --wait`,
);

program
  .command('regenerate-reports')
  .description('purge and regenerate daily report rows, then email each customer its report')
  .option('--customer <id>', 'a customer id; repeat for several (default: all active customers)', collectPositiveInts('--customer'))
  .option('--from <YYYY-MM-DD>', 'first local day (default: yesterday, UTC)', isoDay('--from'))
  .option('--to <YYYY-MM-DD>', 'last local day, inclusive (default: --from, or yesterday)', isoDay('--to'))
  .option('--no-email', 'do not send report emails')
  .option('--resend', 'send the report again even if it was sent before')
  .option('--dry-run', 'report what would change; write and send nothing')
  .option('--batch-size <n>', 'customers per transaction', positiveInt('--batch-size'), config.REPORT_BATCH_SIZE)
  .option('--parallelism <n>', 'batches in flight at once', positiveInt('--parallelism'), config.REPORT_PARALLELISM)
  .option(
    '--batches-per-activity <n>',
    'most batches one activity regenerates (default: REPORT_BATCHES_PER_ACTIVITY, else 10, fewer for large batches)',
    positiveInt('--batches-per-activity'),
    config.REPORT_BATCHES_PER_ACTIVITY,
  )
  .option('--wait', 'wait for the run to finish and print its summary (exit 3 if some customers failed)')
  .action((flags) => runMain(() => regenerate(flags)));

program
  .command('rerun-failed <workflowId>')
  .description('start a new run for just the customers that failed in a finished run (same period and options)')
  .option('--wait', 'wait for the new run to finish and print its summary (exit 3 if some customers failed)')
  .action((workflowId: string, flags: { wait?: boolean }) => runMain(() => rerunFailed(workflowId, flags)));

program
  .command('report')
  .description("print one customer's daily report rows")
  .requiredOption('--customer <id>', 'the customer id', positiveInt('--customer'))
  .option('--from <YYYY-MM-DD>', 'first day (default: yesterday, UTC)', isoDay('--from'))
  .option('--to <YYYY-MM-DD>', 'last day, inclusive (default: --from, or yesterday)', isoDay('--to'))
  .option('--json', 'print JSON instead of a table')
  .action((flags) => runMain(() => report(flags)));

program
  .command('customers')
  .description('list customers (id, name, time zone, active)')
  .option('--limit <n>', 'how many', positiveInt('--limit'), 50)
  .action((flags) => runMain(() => customers(flags)));

interface RegenerateFlags {
  customer?: number[];
  from?: string;
  to?: string;
  email: boolean;
  resend?: boolean;
  dryRun?: boolean;
  batchSize: number;
  parallelism: number;
  batchesPerActivity?: number;
  wait?: boolean;
}

function regenerateInput(flags: RegenerateFlags): RegenerateReportsInput {
  return {
    ...(flags.customer ? { customerIds: flags.customer } : {}),
    ...(flags.from ? { from: flags.from } : {}),
    ...(flags.to ? { to: flags.to } : {}),
    sendEmail: flags.email,
    resend: Boolean(flags.resend),
    dryRun: Boolean(flags.dryRun),
    batchSize: flags.batchSize,
    parallelism: flags.parallelism,
    ...(flags.batchesPerActivity !== undefined ? { batchesPerActivity: flags.batchesPerActivity } : {}),
  };
}

async function regenerate(flags: RegenerateFlags): Promise<void> {
  const rawInput = regenerateInput(flags);
  try {
    resolveRegenerateInput(rawInput, new Date());
  } catch (error) {
    if (error instanceof InvalidInputError) usageError(error.problems.map((problem) => problem.message).join('\n       '));
    throw error;
  }
  await withTemporal(async (services, client) => {
    if (flags.customer) await refuseUnavailable(services.databaseUrl, flags.customer);
    await startAndReport(services, client, rawInput, Boolean(flags.wait));
  });
}

/** Database and Temporal client for a command; whatever was started for it stops after. */
async function withTemporal(work: (services: Services, client: Client) => Promise<void>): Promise<void> {
  const services = await resolveServices(config, logger, { temporal: false, smtp: false });
  try {
    const { client, close } = await connectClient(services.temporal);
    try {
      await work(services, client);
    } finally {
      await close();
    }
  } finally {
    await services.stop();
  }
}

/**
 * Starts the run, prints its id and link, and with `wait` its summary; records the exit code
 * (EXIT_CODES): failed or cancelled 1, finished with failed customers 3. A run already running
 * for the same customers and period is an error (RunAlreadyRunningError names it).
 */
async function startAndReport(services: Services, client: Client, rawInput: RegenerateReportsInput, wait: boolean): Promise<void> {
  const { handle, input } = await startRegenerateReports(client, rawInput, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    startedFrom: 'cli',
    startedBy: os.userInfo().username,
  });
  console.log(`started ${handle.workflowId} (${input.from}..${input.to})`);
  console.log(`  ${workflowUiUrl(services.temporalUiUrl, services.temporal.namespace, handle.workflowId)}`);
  if (!wait) return;
  try {
    const summary = await waitWithProgress(handle);
    console.log(JSON.stringify(summary, null, 2));
    if (summary.cancelled) {
      console.error(`cancelled: ${summary.customersProcessed} customers were done before it stopped`);
      process.exitCode = EXIT_CODES.failed;
    } else if (hasFailures(summary)) {
      console.error(`finished with failures: ${describeFailures(summary)}; re-run just them with: npm run job -- rerun-failed '${handle.workflowId}' --wait`);
      process.exitCode = EXIT_CODES.someCustomersFailed;
    }
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    console.error(`run failed: ${error.cause?.message ?? error.message}`);
    process.exitCode = EXIT_CODES.failed;
  }
}

function describeFailures(summary: RegenerateReportsSummary): string {
  const customers = summary.failures.length + summary.failuresNotListed;
  const ranges = summary.failedRanges.length + (summary.failedRangesNotListed ?? 0);
  return [
    ...(customers > 0 ? [`${customers} customer${customers === 1 ? '' : 's'} failed`] : []),
    ...(ranges > 0 ? [`${ranges} batch${ranges === 1 ? '' : 'es'} of customers (id ranges) failed`] : []),
  ].join(', ');
}

async function rerunFailed(workflowId: string, flags: { wait?: boolean }): Promise<void> {
  await withTemporal(async (services, client) => {
    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') throw new UsageError(`${workflowId} is still running; re-run its failures once it has finished`);
    // Its claims are not released here: an attempt of it the server gave up on may still be
    // sending them. The new run waits for them (the holder releases them when it stops, or
    // its lease runs out); this says so, so a slow rerun is not a mystery.
    await reportHeldEmails(services.databaseUrl, workflowId, description.raw.workflowExecutionInfo?.firstRunId || description.runId);
    const summary = (await handle.result()) as RegenerateReportsSummary;
    const pool = createPool(services.databaseUrl, logger, 2);
    const ids = new Set(summary.failures.map((failure) => failure.customerId));
    try {
      const selection = new CustomerSelection(pool);
      for (const range of summary.failedRanges) for (const id of await selection.activeIdsInRange(range.firstId, range.lastId, range.timeZones)) ids.add(id);
    } finally {
      await pool.end();
    }
    if (summary.failuresNotListed > 0) {
      console.error(`note: ${summary.failuresNotListed} failed customers were not listed in the summary (it lists ${MAX_LISTED_FAILURES}); they are not in this re-run: re-run the whole period for those`);
    }
    if ((summary.failedRangesNotListed ?? 0) > 0) {
      console.error(
        `note: ${summary.failedRangesNotListed} failed id ranges were not listed in the summary (it lists ${MAX_LISTED_FAILURES}); ` +
          'their customers are not in this re-run: re-run the whole period for those (npm run job -- regenerate-reports --from … --to …)',
      );
    }
    if (ids.size === 0) {
      console.log(`${workflowId} had no failed customers; nothing to re-run`);
      return;
    }
    await refuseUnavailable(services.databaseUrl, [...ids]);
    // The original run's options, every one of them (the settings fill what it did not say);
    // only who and when change: these customers, the period it ran (so no zone for "yesterday").
    const memoInput = (description.memo?.input ?? {}) as RegenerateReportsInput & { customerTimeZones?: unknown };
    const { customerTimeZones: _zones, timeZone: _zone, ...options } = memoInput;
    // A run names at most LIMITS.maxCustomerIds (100) customers: a failed range of an all-customer
    // run can hold more, so they are re-run in as many runs as that takes, one after another.
    const sorted = [...ids].sort((a, b) => a - b);
    const parts = Math.ceil(sorted.length / LIMITS.maxCustomerIds);
    if (parts > 1) console.log(`${sorted.length} failed customers: re-running them in ${parts} runs of at most ${LIMITS.maxCustomerIds}`);
    for (let i = 0; i < sorted.length; i += LIMITS.maxCustomerIds) {
      const rawInput: RegenerateReportsInput = {
        ...reportTuning(config),
        ...options,
        customerIds: sorted.slice(i, i + LIMITS.maxCustomerIds),
        from: summary.from,
        to: summary.to,
        dryRun: summary.dryRun,
      };
      await startAndReport(services, client, rawInput, Boolean(flags.wait));
    }
  });
}

async function reportHeldEmails(databaseUrl: string, workflowId: string, runId: string): Promise<void> {
  const pool = createPool(databaseUrl, logger, 1);
  try {
    const { held, leaseEndsInMs } = await liveRunClaims(pool, runId);
    if (held === 0) return;
    console.error(
      `note: ${held} report${held === 1 ? ' is' : 's are'} still held by an attempt of ${workflowId} that may still be sending; ` +
        `the new run sends them once that attempt stops or its lease runs out (at most ${Math.ceil(leaseEndsInMs / 1000)} s, ` +
        `unless it is still alive and renewing it)`,
    );
  } finally {
    await pool.end();
  }
}

async function refuseUnavailable(databaseUrl: string, customerIds: number[]): Promise<void> {
  const pool = createPool(databaseUrl, logger, 1);
  try {
    const unavailable = await new CustomerSelection(pool).findUnavailable(customerIds);
    if (unavailable.length > 0) {
      throw new UsageError(
        `--customer names customers that cannot be run: ${unavailable.map((c) => `${c.customerId} (${c.reason})`).join(', ')}` +
          ' (list them with: npm run job -- customers)',
      );
    }
  } finally {
    await pool.end();
  }
}

async function report(flags: { customer: number; from?: string; to?: string; json?: boolean }): Promise<void> {
  let period;
  try {
    period = resolveRegenerateInput({ ...(flags.from ? { from: flags.from } : {}), ...(flags.to ? { to: flags.to } : {}) }, new Date());
  } catch (error) {
    if (error instanceof InvalidInputError) usageError(error.problems.map((problem) => problem.message).join('; '));
    throw error;
  }
  await withPool(async (pool) => {
    const rows = await new ReportRows(pool).forCustomers([flags.customer], period.from, period.to);
    if (flags.json) console.log(JSON.stringify(rows, null, 2));
    else if (rows.length === 0) console.log(`no report rows for customer ${flags.customer} in ${period.from}..${period.to}`);
    else console.table(rows.map(({ customerId: _id, ...row }) => row));
  });
}

async function customers(flags: { limit: number }): Promise<void> {
  await withPool(async (pool) => {
    const { rows } = await pool.query('SELECT id, name, time_zone, currency, active FROM customers ORDER BY id LIMIT $1', [flags.limit]);
    console.table(rows);
  });
}

async function withPool(work: (pool: ReturnType<typeof createPool>) => Promise<void>): Promise<void> {
  const services = await resolveServices(config, logger, { temporal: false, smtp: false });
  const pool = createPool(services.databaseUrl, logger, 2);
  try {
    await work(pool);
  } finally {
    await pool.end();
    await services.stop();
  }
}

program.parse();
