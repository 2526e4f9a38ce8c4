// `npx tsx bench/small-runs.ts`: how long report runs over a few customers take, with their
// steps as activities and as local activities, next to the Temporal floor: the measurement
// behind SMALL_RUN_MAX_CUSTOMERS (src/workflows/small-runs.ts). See BENCHMARKS.md, "Small runs".
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { positiveInt, strictProgram } from '../src/cli/flags.js';
import { runMain } from '../src/cli/runtime.js';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { startRegenerateReports } from '../src/temporal/report-runs.js';
import { clientOverWorkerConnection } from '../src/temporal/worker-client.js';
import { createReportWorker } from '../src/worker.js';
import { BENCH_END_DATE, BenchData, activeCustomerIds, benchPeriod } from './bench-data.js';
import { startBenchStack } from './bench-stack.js';
import { cleanupsOnExit } from './cleanups.js';
import { formatMs, table } from './results.js';
import { percentile, timed } from './stats.js';
import { startFloorWorker } from './temporal-floor.js';
import { WorkerProcess } from './worker-process.js';

const flags = strictProgram('small-runs', 'Latency of report runs over 1, 5, 20 … customers, as activities and as local activities, next to the Temporal floor.')
  .option('--sizes <list>', 'customers per run, comma-separated', '1,2,5,10,20,50')
  .option('--runs <n>', 'runs of each measure, one of each in turn', positiveInt('--runs'), 100)
  .option('--customers <n>', 'customers in the data set', positiveInt('--customers'), 2000)
  .option('--orders <n>', 'orders in the data set', positiveInt('--orders'), 200_000)
  .option('--no-in-process', 'leave out the one-customer run started from the worker\'s own process (eager start)')
  .option('--worker-cpu-prof <dir>', 'write a V8 CPU profile of the local-activities worker (its main and workflow threads) into <dir>')
  .option('--data-dir <dir>', 'its own PostgreSQL and dev server data', '.data-bench-small-runs')
  .option('--pg-port <port>', 'embedded PostgreSQL port', positiveInt('--pg-port'), 54358)
  .option('--temporal-port <port>', 'dev server port (UI on +1000)', positiveInt('--temporal-port'), 7262)
  .parse()
  .opts<{ sizes: string; runs: number; customers: number; orders: number; inProcess: boolean; workerCpuProf?: string; dataDir: string; pgPort: number; temporalPort: number }>();

const sizes = flags.sizes.split(',').map((size) => {
  const n = Number(size);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes takes positive whole numbers, comma-separated; got '${flags.sizes}'`);
  return n;
});
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * A copy of the compiled build whose workflows treat runs of up to `maxCustomers` as small
 * (0: none, every step an activity, as before small runs existed). Its worker bundles the
 * copy's workflows when it starts (the copied bundle's stamp no longer matches).
 */
function buildWithThreshold(dir: string, maxCustomers: number): string {
  const copy = path.join(dir, `build-small-runs-up-to-${maxCustomers}`);
  fs.rmSync(copy, { recursive: true, force: true });
  fs.cpSync('build', copy, { recursive: true });
  const file = path.join(copy, 'src', 'workflows', 'small-runs.js');
  const source = fs.readFileSync(file, 'utf8');
  const changed = source.replace(/SMALL_RUN_MAX_CUSTOMERS = \d+/, `SMALL_RUN_MAX_CUSTOMERS = ${maxCustomers}`);
  if (changed === source) throw new Error(`SMALL_RUN_MAX_CUSTOMERS not found in ${file}`);
  fs.writeFileSync(file, changed);
  fs.rmSync(path.join(copy, 'dist'), { recursive: true, force: true });
  return path.join(copy, 'scripts', 'worker.js');
}

runMain(async () => {
  const logger = pino({ level: 'warn' });
  const cleanups = cleanupsOnExit(logger);
  try {
    const dataDir = path.resolve(flags.dataDir);
    const stack = await startBenchStack({ dataDir, postgresPort: flags.pgPort, temporalPort: flags.temporalPort, database: 'durable_jobs_small_runs' }, logger);
    cleanups.push(stack.stop);
    const pool = createPool(stack.databaseUrl, logger, 4);
    cleanups.push(() => pool.end());
    const spec = { customers: flags.customers, orders: flags.orders, days: 30, endDate: BENCH_END_DATE };
    await new BenchData(pool).ensure(spec, say);
    const period = benchPeriod(spec);
    const ids = await activeCustomerIds(pool);

    say('building the workers (npm run build, then a copy with activities only and one with local activities only)');
    await WorkerProcess.build();
    const workers = new Map<'activities' | 'local', string>();
    for (const [mode, threshold] of [['activities', 0], ['local', 1_000_000]] as const) {
      const taskQueue = `small-runs-${mode}-${crypto.randomBytes(4).toString('hex')}`;
      const worker = await WorkerProcess.start({
        databaseUrl: stack.databaseUrl, smtpUrl: 'smtp://127.0.0.1:9', temporalAddress: stack.temporal.address, taskQueue,
        logFile: path.join(dataDir, `worker-${mode}.log`), script: buildWithThreshold(dataDir, threshold),
        ...(mode === 'local' && flags.workerCpuProf ? { cpuProfileDir: flags.workerCpuProf } : {}),
      });
      cleanups.push(() => worker.stop());
      workers.set(mode, taskQueue);
    }
    const floor = await startFloorWorker({ temporalAddress: stack.temporal.address, logFile: path.join(dataDir, 'floor-worker.log') });
    cleanups.push(() => floor.worker.stop());
    const connection = await Connection.connect(stack.temporal.connectionOptions);
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: stack.temporal.namespace });

    // npm start's path: a worker in this process (this checkout's code) and a client over its connection.
    let inProcess: { client: Client; taskQueue: string } | undefined;
    if (flags.inProcess) {
      const taskQueue = `small-runs-in-process-${crypto.randomBytes(4).toString('hex')}`;
      const config = loadConfig({ LOG_LEVEL: 'warn', METRICS_PORT: '0' });
      const own = await createReportWorker({
        config, logger, pool, smtpUrl: 'smtp://127.0.0.1:9', ordersApi: { url: 'http://127.0.0.1:9', apiKey: 'none' }, temporal: stack.temporal, taskQueue,
      });
      const running = own.worker.run();
      cleanups.push(async () => {
        own.worker.shutdown();
        await running;
        await own.close();
      });
      inProcess = { client: clientOverWorkerConnection(own.connection, stack.temporal.namespace), taskQueue };
    }

    // Each run of k customers takes the next k ids, so no run finds its rows already written.
    let next = 0;
    const runOf = async (k: number, via: Client, taskQueue: string) => {
      const customerIds = Array.from({ length: k }, () => ids[next++ % ids.length]!);
      let workflowId = '';
      const { ms, result } = await timed(async () => {
        const { handle } = await startRegenerateReports(via, { customerIds, ...period, sendEmail: false }, { taskQueue, startedFrom: 'api', startedBy: 'bench' });
        workflowId = handle.workflowId;
        return handle.result();
      });
      if (result.customersProcessed !== k || result.failures.length > 0) throw new Error(`a run of ${k} customers did not regenerate them: ${JSON.stringify(result)}`);
      return { ms, workflowId };
    };
    // bench/temporal-floor.ts's workflow, one run at a time (its runner runs a series, with a progress bar).
    const floorRun = async () => {
      const workflowId = `small-runs-floor-${crypto.randomUUID()}`;
      const { ms } = await timed(async () => {
        const handle = await client.workflow.start('temporalFloor', { taskQueue: floor.taskQueue, workflowId });
        await handle.result();
      });
      return { ms, workflowId };
    };
    const plural = (k: number) => `${k} customer${k === 1 ? '' : 's'}`;
    const measures: Array<{ label: string; run: () => Promise<{ ms: number; workflowId: string }> }> = [
      { label: 'temporal floor', run: floorRun },
      ...sizes.flatMap((k) => [
        { label: `${plural(k)}, activities`, run: () => runOf(k, client, workers.get('activities')!) },
        { label: `${plural(k)}, local activities`, run: () => runOf(k, client, workers.get('local')!) },
      ]),
      ...(inProcess ? [{ label: '1 customer, started in the worker\'s process (eager)', run: () => runOf(1, inProcess.client, inProcess.taskQueue) }] : []),
    ];
    say('warming up (5 runs of each)');
    for (let i = 0; i < 5; i++) for (const measure of measures) await measure.run();
    // One run of each measure in turn, so load from outside (a shared machine) falls on all alike.
    const samples = new Map<string, number[]>(measures.map((m) => [m.label, []]));
    const runIds = new Map<string, string[]>(measures.map((m) => [m.label, []]));
    for (let i = 1; i <= flags.runs; i++) {
      for (const measure of measures) {
        const { ms, workflowId } = await measure.run();
        samples.get(measure.label)!.push(ms);
        runIds.get(measure.label)!.push(workflowId);
      }
      if (i % 10 === 0) say(`${i}/${flags.runs}`);
    }
    const floorP50 = percentile(samples.get('temporal floor')!, 50);
    say(`\n${flags.runs} runs per measure, in turn; period ${period.from}..${period.to}, ${ids.length} active customers, emails off`);
    say(table([
      ['measure', 'p50', 'p95', 'p50 / floor p50'],
      ...measures.map(({ label }) => {
        const latencies = samples.get(label)!;
        const p50 = percentile(latencies, 50);
        return [label, formatMs1(p50), formatMs1(percentile(latencies, 95)), (p50 / floorP50).toFixed(2)];
      }),
    ]));
    // Where the time went, from the runs' histories (medians over the last 20 runs of each measure).
    const phases = await Promise.all(measures.map(async ({ label }) => {
      const spans = await Promise.all(runIds.get(label)!.slice(-20).map((id) => historyPhases(client, id)));
      const mid = (pick: (p: HistoryPhases) => number) => formatMs1(percentile(spans.map(pick), 50));
      return [label, mid((p) => p.queuedMs), mid((p) => p.workerMs), mid((p) => p.serverMs), String(percentile(spans.map((p) => p.workflowTasks), 50))];
    }));
    say(`\n${table([['measure (history, p50 of the last 20)', 'workflow tasks queued', 'on the worker', 'started to closed', 'workflow tasks'], ...phases])}`);
    // The local activities of one-customer runs, from their markers: when each was scheduled and completed, from the task's start.
    for (const { label } of measures.filter((m) => m.label.startsWith('1 customer') && !m.label.includes(', activities'))) {
      const spans = await Promise.all(runIds.get(label)!.slice(-20).map((id) => historyPhases(client, id)));
      const steps = spans[0]!.localSteps.map((step, i) => {
        const mid = (pick: (s: HistoryPhases['localSteps'][number]) => number) => formatMs1(percentile(spans.map((p) => pick(p.localSteps[i]!)), 50));
        return [step.type, mid((s) => s.scheduledMs), mid((s) => s.completedMs)];
      });
      say(`\n${label}: local activities, from the workflow task's start (p50)\n${table([['local activity', 'scheduled at', 'completed at'], ...steps])}`);
    }
  } finally {
    await cleanups.run();
  }
});

interface HistoryPhases {
  /** Workflow tasks scheduled to started, summed: waiting for (or travelling to) a worker. */
  queuedMs: number;
  /** Workflow tasks started to completed, summed: the worker's own time, local activities included. */
  workerMs: number;
  serverMs: number;
  workflowTasks: number;
  /** Within the (first) workflow task: from its start to each local activity's schedule and completion, in order. */
  localSteps: Array<{ type: string; scheduledMs: number; completedMs: number }>;
}

async function historyPhases(client: Client, workflowId: string): Promise<HistoryPhases> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const at = (event: (typeof events)[number] | undefined) => Number(event?.eventTime?.seconds ?? 0) * 1000 + Number(event?.eventTime?.nanos ?? 0) / 1e6;
  const phases: HistoryPhases = { queuedMs: 0, workerMs: 0, serverMs: at(events.at(-1)) - at(events[0]), workflowTasks: 0, localSteps: [] };
  const firstStart = at(events.find((event) => event.workflowTaskStartedEventAttributes));
  const ms = (t?: { seconds?: unknown; nanos?: number | null } | null) => Number(t?.seconds ?? 0) * 1000 + Number(t?.nanos ?? 0) / 1e6 - firstStart;
  let scheduledAt = 0;
  let startedAt = 0;
  for (const event of events) {
    if (event.workflowTaskScheduledEventAttributes) scheduledAt = at(event);
    else if (event.workflowTaskStartedEventAttributes) {
      startedAt = at(event);
      phases.queuedMs += startedAt - scheduledAt;
    } else if (event.workflowTaskCompletedEventAttributes) {
      phases.workerMs += at(event) - startedAt;
      phases.workflowTasks++;
    } else if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
      const data = event.markerRecordedEventAttributes.details?.data?.payloads?.[0]?.data;
      const marker = JSON.parse(Buffer.from(data ?? '{}').toString()) as { activity_type: string; original_schedule_time: { seconds: number; nanos: number }; complete_time: { seconds: number; nanos: number } };
      phases.localSteps.push({ type: marker.activity_type, scheduledMs: ms(marker.original_schedule_time), completedMs: ms(marker.complete_time) });
    }
  }
  return phases;
}

/** Milliseconds with one decimal: these latencies are tens of ms, where formatMs rounds too much. */
function formatMs1(ms: number): string {
  return ms < 100 ? `${ms.toFixed(1)} ms` : formatMs(ms);
}
