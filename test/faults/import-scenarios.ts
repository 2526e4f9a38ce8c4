import type { RequestCounts } from '../../src/dev/shop/controls.js';
import type { ShopApi } from '../../src/dev/shop-api.js';
import type { FaultStack } from './fault-stack.js';
import type { WorkerProcess } from './worker-process.js';

/** What an import scenario's fault can reach. */
export interface ImportScenarioContext {
  stack: FaultStack;
  /** The shop as it runs now (a new handle after `restartShop`). */
  shop(): ShopApi;
  /** Stops the shop's HTTP server, waits, starts it again on the same data directory and port. */
  restartShop(downMs: number): Promise<void>;
  workers: WorkerProcess[];
  startWorker(): Promise<WorkerProcess>;
  /**
   * Resolves once the shop has served this fraction of the import's pages (200 answers, counted
   * by the shop itself, so "mid-import" is exact), or false if the import ended or the deadline passed.
   */
  afterFraction(fraction: number): Promise<boolean>;
  /**
   * Resolves once an importOrderPages attempt is running on a worker (describe()'s pending
   * activities) with that worker's identity (`<pid>@<host>`), or false at the deadline.
   */
  pageAttemptRunning(): Promise<string | false>;
}

/** What the scenario's fault left behind, to prove it bit. */
export interface ImportFaultEvidence {
  /** Attempts of importOrderPages that failed and were retried. */
  retries: number;
  /** The shop's answers summed over its restarts. */
  requests: RequestCounts;
}

export interface ImportScenario {
  name: string;
  workers: number;
  /** Waits for its moment (afterFraction), breaks something, and returns once it has healed. */
  inject(context: ImportScenarioContext): Promise<void>;
  /** Why the fault did not bite, or undefined: a scenario whose fault never lands cannot fail. */
  didNotBite(evidence: ImportFaultEvidence): string | undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const failures5xx = (counts: RequestCounts) => (counts.byStatus[500] ?? 0) + (counts.byStatus[502] ?? 0) + (counts.byStatus[503] ?? 0);
const noRetry = ({ retries }: ImportFaultEvidence) => (retries === 0 ? 'no page activity was retried' : undefined);

/**
 * The import fault suite: each scenario imports the shop's whole demo data set (the runner
 * also changes already-imported orders mid-import) and breaks one thing mid-import.
 */
export const IMPORT_SCENARIOS: ImportScenario[] = [
  {
    // Two bursts of three 5xx answers (500, 502, 503): the activity retries with backoff, resuming after its last committed page.
    name: 'import-api-5xx',
    workers: 1,
    async inject({ shop, afterFraction }) {
      if (await afterFraction(0.3)) await shop().fail5xx(3);
      if (await afterFraction(0.6)) await shop().fail5xx(3);
    },
    didNotBite: (evidence) => (failures5xx(evidence.requests) < 6 ? `${failures5xx(evidence.requests)} of 6 injected 5xx answers were served` : noRetry(evidence)),
  },
  {
    // For 8 s the shop allows 4 requests a second (bursts of 2) while the importer asks for 200: every 429 waits its Retry-After.
    name: 'import-429-storm',
    workers: 1,
    async inject({ shop, afterFraction }) {
      if (!(await afterFraction(0.3))) return;
      await shop().rateLimit({ perSecond: 4, burst: 2 });
      await sleep(8_000);
      await shop().reset(); // the starting (generous) limit back
    },
    didNotBite: (evidence) => (!evidence.requests.byStatus[429] ? 'no 429 was served' : noRetry(evidence)),
  },
  {
    // The worker dies mid-page: no shutdown, its activity is lost until the heartbeat timeout, then resumes on the new worker.
    name: 'import-worker-kill-9',
    workers: 1,
    async inject({ shop, workers, startWorker, afterFraction, pageAttemptRunning }) {
      if (!(await afterFraction(0.35))) return;
      // Slowed answers keep the activity inside a page (waiting for its response) when the kill lands, not between activities.
      await shop().slow(250);
      const runningOn = await pageAttemptRunning();
      if (runningOn) await sleep(100);
      // With several workers (npm run test:cluster), the one holding the page is the one to kill.
      const victim = workers.find((worker) => worker.identity === runningOn) ?? workers[0]!;
      await victim.crash();
      await shop().slow(0);
      workers.push(await startWorker());
    },
    didNotBite: noRetry,
  },
  {
    // The shop's server stops (connections refused) for 3 s and starts again on the same data directory and port.
    name: 'import-api-restart',
    workers: 1,
    async inject({ restartShop, afterFraction }) {
      if (await afterFraction(0.35)) await restartShop(3_000);
    },
    didNotBite: noRetry,
  },
  {
    // PostgreSQL stops for 3 s mid-import: a page's transaction fails, the source lock's connection dies with it.
    name: 'import-postgres-restart',
    workers: 1,
    async inject({ stack, afterFraction }) {
      if (!stack.restartPostgres) throw new Error('import-postgres-restart needs a PostgreSQL the suite can restart (npm run test:faults)');
      if (await afterFraction(0.35)) await stack.restartPostgres(3_000);
    },
    didNotBite: noRetry,
  },
  {
    // Two bursts of two responses cut after half their body (headers promised the whole).
    name: 'import-cut-mid-body',
    workers: 1,
    async inject({ shop, afterFraction }) {
      if (await afterFraction(0.3)) await shop().cutMidBody(2);
      if (await afterFraction(0.6)) await shop().cutMidBody(2);
    },
    didNotBite: (evidence) => (evidence.requests.cut < 4 ? `${evidence.requests.cut} of 4 responses were cut` : noRetry(evidence)),
  },
];
