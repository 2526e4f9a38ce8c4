// `npm run job -- <command>`: start runs of any registered job (src/jobs/index.ts), watch them,
// re-run their failures, and read report rows from the shell. No job is named here: each
// job's command, flags and help come from its registry entry.
import os from 'node:os';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { InvalidInputError, resolveRegenerateInput } from '../src/contracts.js';
import { connectClient } from '../src/temporal/client.js';
import { createPool } from '../src/db/pool.js';
import { resolveServices, type Services } from '../src/dev/local-services.js';
import { JOBS, jobByWorkflowType } from '../src/jobs/index.js';
import type { AnyJob } from '../src/jobs/job-definition.js';
import { CustomerSelection } from '../src/services/customer-selection.js';
import { liveRunClaims } from '../src/services/email-claims.js';
import { ReportRows } from '../src/services/report-rows.js';
import { OrderImport } from '../src/services/order-import.js';
import { ORDERS_SOURCE } from '../src/import-orders-contract.js';
import { refusedCustomers } from '../src/jobs/customer-rule.js';
import { startResolvedJob } from '../src/temporal/start-job.js';
import { workflowUiUrl } from '../src/temporal/runs.js';
import { StoppedWatching, waitForRun } from '../src/cli/wait-for-run.js';
import { addJobFlags, flagName, inputFields, parseInputFlag, problemLines } from '../src/cli/job-flags.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { isoDay, positiveInt, strictProgram, usageError, UsageError } from '../src/cli/flags.js';
import { EXIT_CODES } from '../src/cli/exit-codes.js';
import type { FieldProblem } from '../src/validation.js';

const { config, logger } = bootstrap('job', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }, { tracing: true });
const program = strictProgram('job', 'Start and watch runs of the registered jobs, re-run their failures, read report rows.');
const withRerun = JOBS.filter((job) => job.rerunFailed).map((job) => job.kind);
program.addHelpText(
  'after',
  `
Every job command takes its input fields as flags, any field with --input '<json>', --wait
(watch the run and print its summary) and --json (JSON on stdout, for scripts).

Exit codes:
  ${EXIT_CODES.ok}  done (with --wait: the run finished and every item in it was done)
  ${EXIT_CODES.failed}  an error, or with --wait: the run failed or was cancelled
  ${EXIT_CODES.usage}  bad flags, input or settings: nothing was started
  ${EXIT_CODES.someCustomersFailed}  with --wait: the run finished but some of its items (customers) failed;
     re-run just them with: npm run job -- rerun-failed <workflow id> --wait`,
);

interface RunFlags {
  wait?: boolean;
  json?: boolean;
}

for (const job of JOBS) {
  const defaults = (job.defaultsFromConfig?.(config) ?? {}) as Record<string, unknown>;
  const command = program.command(job.kind).description(job.description);
  const typedFlags = addJobFlags(command, job, defaults);
  const fields = Object.entries(inputFields(job));
  const width = Math.max(...fields.map(([field]) => field.length));
  command
    .option('--input <json>', 'any input field, as a JSON object (the flags above win over it; fields below)')
    .option('--wait', `wait for the run to finish and print its summary${job.rerunFailed ? ' (exit 3 if some items failed)' : ''}`)
    .option('--json', 'print JSON on stdout (one object per run); progress and notes go to stderr')
    .addHelpText('after', `\nInput fields (--input '{"field": value}'):\n${fields.map(([field, schema]) => `  ${field.padEnd(width)}  ${schema.description ?? ''}`).join('\n')}`)
    .action((flags: RunFlags & { input?: string }, parsed: Command) => main(() => startFromCli(job, { ...defaults }, typedFlags(parsed), flags)));
}

program
  .command('rerun-failed <workflowId>')
  .description(`start new runs for just the items that failed in a finished run, same period and options (jobs: ${withRerun.join(', ')})`)
  .option('--wait', 'wait for the new runs to finish and print their summaries (exit 3 if some items failed again)')
  .option('--json', 'print JSON on stdout (one object per run); progress and notes go to stderr')
  .action((workflowId: string, flags: RunFlags) => main(() => rerunFailed(workflowId, flags)));

program
  .command('report')
  .description("print one customer's daily report rows")
  .requiredOption('--customer <id>', 'the customer id', positiveInt('--customer'))
  .option('--from <YYYY-MM-DD>', 'first day (default: yesterday, UTC)', isoDay('--from'))
  .option('--to <YYYY-MM-DD>', 'last day, inclusive (default: --from, or yesterday)', isoDay('--to'))
  .option('--json', 'print JSON instead of a table')
  .action((flags) => main(() => report(flags)));

program
  .command('customers')
  .description('list customers (id, name, time zone, active)')
  .option('--limit <n>', 'how many', positiveInt('--limit'), 50)
  .option('--json', 'print JSON instead of a table')
  .action((flags) => main(() => customers(flags)));

program
  .command('quarantine')
  .description("list the shop's order records the import set aside (oldest first); retry them with: npm run job -- import-orders --retry-quarantined --wait")
  .option('--limit <n>', 'how many', positiveInt('--limit'), 50)
  .option('--json', 'print JSON (payloads included) instead of a table')
  .action((flags) => main(() => quarantine(flags)));

/** runMain, plus: Ctrl-C while watching (no terminal) exits 130 once everything is closed. */
function main(work: () => Promise<void>): void {
  runMain(async () => {
    try {
      await work();
    } catch (error) {
      if (!(error instanceof StoppedWatching)) throw error;
      process.stderr.write(`\n${error.message}\n`);
      process.exitCode = 130;
    }
  });
}

/** Bad input, refused before anything is opened: one `error: <flag>: <rule>` line per problem, exit 2. */
function refuse(job: AnyJob, problems: FieldProblem[], fromInputFlag?: Record<string, unknown>, fromFlags?: Record<string, unknown>): never {
  usageError(problemLines(job, problems, fromInputFlag, fromFlags).join('\nerror: '));
}

/**
 * The settings' defaults, under `--input`, under the flags; validated once, before anything
 * connects, and that resolved input is what starts (one clock reading: a second resolve
 * just after midnight could fix another day than the one checked).
 */
async function startFromCli(job: AnyJob, defaults: Record<string, unknown>, fromFlags: Record<string, unknown>, flags: RunFlags & { input?: string }): Promise<void> {
  const fromJson = parseInputFlag(flags.input);
  if ('problem' in fromJson) refuse(job, [fromJson.problem]);
  const rawInput = { ...defaults, ...fromJson.input, ...fromFlags };
  const resolved = resolveOrRefuse(job, rawInput, fromJson.input, fromFlags);
  await withTemporal(async (services, client) => {
    await refuseUnavailable(services.databaseUrl, job, rawInput);
    await startAndReport(services, client, job, resolved, flags);
  });
}

/** The job's own rules over the input, once; problems are refused as `error: <flag>: <rule>` lines. */
function resolveOrRefuse(job: AnyJob, rawInput: Record<string, unknown>, fromInputFlag: Record<string, unknown>, fromFlags: Record<string, unknown>): unknown {
  try {
    return job.resolve(rawInput, new Date());
  } catch (error) {
    if (error instanceof InvalidInputError) refuse(job, error.problems, fromInputFlag, fromFlags);
    throw error;
  }
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
 * (EXIT_CODES) from the job's outcome: cancelled or failed 1, some items failed 3. A run
 * already running for the same scope and period is an error (RunAlreadyRunningError names it).
 */
async function startAndReport(services: Services, client: Client, job: AnyJob, input: unknown, flags: RunFlags): Promise<void> {
  const handle = await startResolvedJob(client, job, input, { taskQueue: config.TEMPORAL_TASK_QUEUE, startedFrom: 'cli', startedBy: os.userInfo().username });
  const workflowId = handle.workflowId;
  const url = workflowUiUrl(services.temporalUiUrl, services.temporal.namespace, workflowId);
  if (flags.json) {
    process.stderr.write(`started ${workflowId}\n`);
    if (!flags.wait) console.log(JSON.stringify({ workflowId, url }));
  } else {
    console.log(`started ${workflowId}\n  ${job.staticSummary(input)}\n  ${url}`);
  }
  if (!flags.wait) return;
  let summary: unknown;
  try {
    summary = await waitForRun(handle, job.progress);
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const reason = error.cause?.message ?? error.message;
    if (flags.json) console.log(JSON.stringify({ workflowId, url, outcome: 'failed', error: reason }));
    console.error(`run failed: ${reason}`);
    process.exitCode = EXIT_CODES.failed;
    return;
  }
  const outcome = job.summary.outcome(summary);
  if (flags.json) console.log(JSON.stringify({ workflowId, url, outcome, summary }));
  else console.log(`${outcome === 'cancelled' ? 'cancelled' : 'finished'}: ${job.summary.describe(summary)}`);
  if (outcome === 'cancelled') {
    console.error(`cancelled: ${workflowId} stopped before it was done`);
    process.exitCode = EXIT_CODES.failed;
  } else if (outcome === 'some-failed') {
    console.error(`finished with failures${job.rerunFailed ? `; re-run just them with: npm run job -- rerun-failed '${workflowId}' --wait` : ''}`);
    process.exitCode = EXIT_CODES.someCustomersFailed;
  }
}

async function rerunFailed(workflowId: string, flags: RunFlags): Promise<void> {
  await withTemporal(async (services, client) => {
    const handle = client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const job = jobByWorkflowType(description.type);
    if (!job) throw new UsageError(`${workflowId} is a ${description.type} run, which no registered job starts (src/jobs/index.ts)`);
    if (!job.rerunFailed) {
      throw new UsageError(`${workflowId} is a ${job.kind} run; ${job.kind} records no per-item failures to re-run (jobs that do: ${withRerun.join(', ')}). Start it again instead: npm run job -- ${job.kind} --help`);
    }
    if (description.status.name === 'RUNNING') throw new UsageError(`${workflowId} is still running; re-run its failures once it has finished`);
    // Its claims are not released here: an attempt of it the server gave up on may still be
    // sending them. The new run waits for them (the holder releases them when it stops, or
    // its lease runs out); this says so, so a slow rerun is not a mystery.
    await reportHeldEmails(services.databaseUrl, workflowId, description.raw.workflowExecutionInfo?.firstRunId || description.runId);
    const summary = await handle.result();
    const ranInput = (description.memo?.input ?? {}) as Record<string, unknown>;
    const pool = createPool(services.databaseUrl, logger, 2);
    let rerun: { inputs: Array<Record<string, unknown>>; notes: string[] };
    try {
      const selection = new CustomerSelection(pool);
      rerun = await job.rerunFailed.inputs(summary, ranInput, {
        activeIdsInRange: (firstId, lastId, timeZones) => selection.activeIdsInRange(firstId, lastId, timeZones),
        defaults: job.defaultsFromConfig?.(config) ?? {},
      });
    } finally {
      await pool.end();
    }
    for (const note of rerun.notes) console.error(`note: ${note}`);
    if (rerun.inputs.length === 0) {
      if (flags.json) console.log(JSON.stringify({ workflowId, rerun: [] }));
      else console.log(`${workflowId} had no failed items; nothing to re-run`);
      return;
    }
    for (const input of rerun.inputs) await refuseUnavailable(services.databaseUrl, job, input);
    // Resolved once, here (the database and Temporal are open: a problem is thrown, so they close first).
    const resolved = rerun.inputs.map((input) => {
      try {
        return job.resolve(input, new Date());
      } catch (error) {
        if (error instanceof InvalidInputError) throw new UsageError(`the re-run's input is refused: ${error.problems.map((problem) => problem.message).join('; ')}`);
        throw error;
      }
    });
    for (const input of resolved) await startAndReport(services, client, job, input, flags);
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

/**
 * For jobs whose input names customers: unknown ones are refused by id before anything starts,
 * and inactive ones too unless the job takes any existing customer (its registry entry's `customers`).
 */
async function refuseUnavailable(databaseUrl: string, job: AnyJob, input: Record<string, unknown>): Promise<void> {
  const ids = input.customerIds;
  if (!('customerIds' in inputFields(job)) || !Array.isArray(ids) || ids.length === 0) return;
  const pool = createPool(databaseUrl, logger, 1);
  try {
    const unavailable = refusedCustomers(job, await new CustomerSelection(pool).findUnavailable(ids as number[]));
    if (unavailable.length > 0) {
      throw new UsageError(
        `${flagName(job, 'customerIds') ?? 'customerIds'} names customers that cannot be run: ${unavailable.map((c) => `${c.customerId} (${c.reason})`).join(', ')}` +
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
    if (error instanceof InvalidInputError) usageError(error.problems.map((problem) => problem.message).join('\nerror: '));
    throw error;
  }
  await withPool(async (pool) => {
    const rows = await new ReportRows(pool).forCustomers([flags.customer], period.from, period.to);
    if (flags.json) console.log(JSON.stringify(rows, null, 2));
    else if (rows.length === 0) console.log(`no report rows for customer ${flags.customer} in ${period.from}..${period.to}`);
    else console.table(rows.map(({ customerId: _id, ...row }) => row));
  });
}

async function customers(flags: { limit: number; json?: boolean }): Promise<void> {
  await withPool(async (pool) => {
    const { rows } = await pool.query('SELECT id, name, time_zone, currency, active FROM customers ORDER BY id LIMIT $1', [flags.limit]);
    if (flags.json) console.log(JSON.stringify(rows, null, 2));
    else console.table(rows);
  });
}

async function quarantine(flags: { limit: number; json?: boolean }): Promise<void> {
  await withPool(async (pool) => {
    const records = await new OrderImport(pool).listQuarantined({ source: ORDERS_SOURCE, limit: flags.limit });
    if (flags.json) {
      console.log(JSON.stringify(records, null, 2));
      return;
    }
    if (records.length === 0) {
      console.log('the quarantine is empty: every record the shop sent was imported');
      return;
    }
    // The payload stays out of the table (a customer's data, and long): --json has it.
    console.table(records.map((record) => ({
      id: record.id, order: record.sourceOrderId ?? '-', reason: record.reason, field: record.field, message: record.message.slice(0, 80),
      firstSeen: record.firstSeenAt.slice(0, 19), seen: record.seenCount,
    })));
    console.log('after fixing the cause (say, adding the customer): npm run job -- import-orders --retry-quarantined --wait');
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
