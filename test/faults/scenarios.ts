import type { SmtpSink } from '../../src/dev/smtp-sink.js';
import type { FaultStack } from './fault-stack.js';
import type { WorkerProcess } from './worker-process.js';

export interface ScenarioContext {
  stack: FaultStack;
  sink: SmtpSink;
  workers: WorkerProcess[];
  startWorker(): Promise<WorkerProcess>;
  /** Resolves once the main run has finished `count` batches: "mid-run". */
  afterBatches(count: number): Promise<void>;
}

export interface Scenario {
  name: string;
  workers: number;
  /** Also trigger a scheduled all-customer run and 20 concurrent single-customer runs. */
  concurrentRuns?: boolean;
  inject(context: ScenarioContext): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-kill-9',
    workers: 1,
    async inject({ workers, startWorker, afterBatches }) {
      await afterBatches(3);
      await workers[0]!.crash();
      workers.push(await startWorker());
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
    async inject({ workers, afterBatches }) {
      await afterBatches(3);
      await workers[0]!.crash();
    },
  },
  {
    name: 'schedule-plus-20-manual',
    workers: 2,
    concurrentRuns: true,
    async inject() {},
  },
];
