import type { Client, WorkflowHandle } from '@temporalio/client';
import type { RegenerateReportsInput, RegenerateReportsSummary } from '../../src/contracts.js';
import type { SmtpSink } from '../../src/dev/smtp-sink.js';
import { emailRetryStarted, emailStepRunning } from './email-step.js';
import type { FaultStack } from './fault-stack.js';
import { rerunFailedWithCli } from './job-cli.js';
import type { TcpProxy } from './tcp-proxy.js';
import type { WorkerProcess } from './worker-process.js';
import { downtimeThreeDays } from './downtime-scenario.js';
import { smallRunKill9, smallRunPartition } from './small-run-scenarios.js';

export interface ScenarioWorker extends WorkerProcess {
  /** Its link to Temporal, when the scenario puts workers behind proxies (`workersBehindProxy`). */
  temporalLink?: TcpProxy;
}

/** An inclusive range of report days whose rows and emails are checked. */
export interface Period {
  from: string;
  to: string;
}

/** Input fields for the main run; may name fields today's schema does not know yet (the run then fails, saying so). */
export type MainRunInput = Partial<RegenerateReportsInput> & Record<string, unknown>;

export interface ScenarioContext {
  stack: FaultStack;
  sink: SmtpSink;
  workers: ScenarioWorker[];
  startWorker(): Promise<ScenarioWorker>;
  /** Resolves once the main run has finished `count` batches: "mid-run". */
  afterBatches(count: number): Promise<void>;
  client: Client;
  taskQueue: string;
  /** What the workers were started with (database, SMTP sink, Temporal address, task queue): for a CLI run as a child process. */
  env: Record<string, string>;
  customers: number;
  /** When the runner gives up on the scenario's runs (epoch ms). */
  deadline: number;
  /** The main run, once started. */
  main(): WorkflowHandle | undefined;
  /** Starts the main run: every active customer, the suite's period, emails on; the scenario's `input`, then `extra`, on top. */
  startMainRun(extra?: MainRunInput): Promise<WorkflowHandle>;
}

export interface Scenario {
  name: string;
  workers: number;
  /** Also trigger a scheduled all-customer run and 20 concurrent single-customer runs. */
  concurrentRuns?: boolean;
  /** Fields on top of the main run's input (batchSize 25, parallelism 2). */
  input?(customers: number): MainRunInput;
  /** Settings for every worker process (e.g. fewer SMTP connections). */
  workerEnv?: Record<string, string>;
  /** Each worker reaches Temporal through a TCP proxy of its own, which the scenario can cut. */
  workersBehindProxy?: boolean;
  /**
   * The fault makes two live senders (an attempt the server gave up on that still runs), not a
   * lost "250": a same-id redelivery is then a duplicate, and must be 0.
   */
  sameIdRedeliveriesAreDuplicates?: boolean;
  /** The periods the torn-read watcher watches and the invariants check (default: the main run's). */
  periods?: Period[];
  /** The directory of another checkout whose code the scenario's first workers run (a deploy's old revision); default this one. */
  firstWorkersFrom?(stack: FaultStack): Promise<string>;
  /** The default shape: the runner starts the main run, then this injects the fault mid-run. */
  inject?(context: ScenarioContext): Promise<void>;
  /**
   * A scenario that drives its runs itself (sets a fault up before any run starts, re-runs a
   * run's failures, or drives a schedule instead of a main run): it returns the runs to wait for
   * and, if not `periods`, the periods to check. `inject` is not called.
   */
  run?(context: ScenarioContext): Promise<{ handles: WorkflowHandle[]; periods?: Period[] }>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const PARTITION_MS = 20_000;

/** The SMTP sink's per-message reply delay that makes sending to every customer over `connections` take about `ms`. */
const replyDelayFor = (customers: number, ms: number, connections: number) => Math.max(1, Math.round((ms * connections) / customers));

/**
 * The worker running one of the main run's activities now (describe()'s pending activities
 * name it), so a kill lands on work in flight also when several workers share the run
 * (npm run test:cluster starts at least 3); the first worker if none is found.
 */
async function busyWorker({ main, workers }: ScenarioContext): Promise<ScenarioWorker> {
  const pending = (await main()?.describe().catch(() => undefined))?.raw.pendingActivities ?? [];
  const identities = new Set(pending.map((activity) => activity.lastWorkerIdentity));
  return workers.find((worker) => identities.has(worker.identity)) ?? workers[0]!;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-kill-9',
    workers: 1,
    async inject(context) {
      await context.afterBatches(3);
      const victim = await busyWorker(context);
      await victim.crash();
      context.workers.push(await context.startWorker());
    },
  },
  {
    name: 'temporal-restart',
    workers: 1,
    async inject({ stack, afterBatches }) {
      await afterBatches(3);
      await stack.restartTemporal!(3_000);
    },
  },
  {
    name: 'postgres-restart',
    workers: 1,
    async inject({ stack, afterBatches }) {
      await afterBatches(3);
      await stack.restartPostgres!(3_000);
    },
  },
  {
    name: 'smtp-outage-30s',
    workers: 1,
    async inject({ sink, afterBatches }) {
      await afterBatches(2);
      sink.outage(30_000);
      await sleep(30_000);
    },
  },
  {
    name: 'smtp-drop-after-accept',
    workers: 1,
    async inject({ sink, afterBatches }) {
      await afterBatches(2);
      sink.dropAfterAccept(3);
    },
  },
  {
    name: 'two-workers-one-killed',
    workers: 2,
    async inject(context) {
      await context.afterBatches(3);
      await (await busyWorker(context)).crash();
    },
  },
  {
    name: 'schedule-plus-20-manual',
    workers: 2,
    concurrentRuns: true,
    async inject() {},
  },
  {
    // The worker sending the emails loses Temporal (not PostgreSQL, not SMTP) for longer than
    // the heartbeat timeout: the server retries the email activity on the other worker while the
    // old attempt, cut off but alive, is still sending.
    name: 'worker-partition-20s',
    workers: 2,
    workersBehindProxy: true,
    sameIdRedeliveriesAreDuplicates: true,
    // One email activity for every customer (one lane of up to 10 batches of 500), over two
    // SMTP connections slowed to take ~25 s in all: it outlasts the 10 s heartbeat timeout.
    input: () => ({ batchSize: 500, parallelism: 1 }),
    workerEnv: { SMTP_MAX_CONNECTIONS: '2' },
    async run(context) {
      context.sink.delayReplies(replyDelayFor(context.customers, 25_000, 2));
      const main = await context.startMainRun();
      const { attempt, worker } = await emailStepRunning(context, 20);
      worker.temporalLink!.partition();
      const healAt = Date.now() + PARTITION_MS;
      const retry = await emailRetryStarted(context, (a) => a.activityId === attempt.activityId && a.attempt > attempt.attempt, healAt);
      await sleep(healAt - Date.now());
      worker.temporalLink!.heal();
      if (!retry) throw new Error(`the email activity was not retried during the ${PARTITION_MS / 1000} s partition: the fault did not bite`);
      return { handles: [main] };
    },
  },
  {
    // Each message takes 200 ms, so the email activity runs past its start-to-close timeout: the
    // timed-out attempt must stop sending while the retry carries on.
    name: 'slow-smtp',
    workers: 1,
    sameIdRedeliveriesAreDuplicates: true,
    // One email activity for every customer over four connections (~20 messages a second), with
    // an attempt timeout of about a third of the ~customers/20 s it needs (at least the minimum, 10 s).
    input: (customers) => ({ batchSize: 500, parallelism: 1, emailAttemptTimeoutSeconds: Math.max(10, Math.round(customers / 20 / 3)) }),
    workerEnv: { SMTP_MAX_CONNECTIONS: '4' },
    async run(context) {
      context.sink.delayReplies(200);
      const main = await context.startMainRun();
      const { attempt } = await emailStepRunning(context, 1);
      // The first attempt ran out of time (timed out, or stopped itself just before) and a retry took over.
      const retried = (a: { activityId: string; attempt: number }) => a.activityId === attempt.activityId && a.attempt > attempt.attempt;
      if (!(await emailRetryStarted(context, retried, context.deadline))) {
        throw new Error('the email activity was never retried: the fault did not bite (does emailAttemptTimeoutSeconds reach the activity?)');
      }
      return { handles: [main] };
    },
  },
  {
    // The SMTP server refuses every connection (421) for longer than the email activity's
    // retries last: the run ends with the email step failed; then `npm run job -- rerun-failed`
    // with SMTP healthy again must send every report, once.
    name: 'email-retries-exhausted-then-rerun',
    workers: 1,
    sameIdRedeliveriesAreDuplicates: true,
    input: () => ({ emailMaxAttempts: 3 }),
    async run(context) {
      context.sink.outage(context.deadline - Date.now());
      const main = await context.startMainRun();
      const summary = (await main.result()) as RegenerateReportsSummary;
      const failed = [...summary.failures, ...summary.failedRanges].filter((failure) => failure.step === 'email').length;
      if (failed === 0) throw new Error('the run finished without an email failure: the fault did not bite');
      context.sink.outage(0); // healthy again
      const rerun = await rerunFailedWithCli(context.env, main.workflowId, context.deadline - Date.now());
      return { handles: [main, context.client.workflow.getHandle(rerun)] };
    },
  },
  downtimeThreeDays,
  smallRunKill9,
  smallRunPartition,
];
