import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TemporalService } from '../../src/cluster/cluster-settings.js';
import type { FaultStack } from './fault-stack.js';
import type { Scenario } from './scenarios.js';
import { exportRevision, revisionBeforeLastWorkflowChange } from './worker-revision.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function clusterOf({ stack }: { stack: FaultStack }): NonNullable<FaultStack['cluster']> {
  if (!stack.cluster) throw new Error('this scenario needs the multi-process cluster: npm run test:cluster');
  return stack.cluster;
}

/** One Temporal service stopped mid-run (kill -9, or a clean restart) and started again after `downMs`. */
function serviceFault(name: string, service: TemporalService, crash: boolean, downMs: number): Scenario {
  return {
    name,
    workers: 3,
    async inject(context) {
      await context.afterBatches(3);
      await runStillRunning(context.main(), `${service} was to be stopped`);
      await clusterOf(context).restartServices([service], { crash, downMs });
    },
  };
}

/** A fault that lands after the run finished proves nothing: the scenario fails instead. */
async function runStillRunning(main: WorkflowHandle | undefined, when: string): Promise<void> {
  const status = (await main?.describe())?.status.name;
  if (status !== 'RUNNING') throw new Error(`the fault did not bite: the main run was ${status ?? 'not started'} when ${when}`);
}

/** Identities of the workers that completed the run's workflow tasks, over its continue-as-new chain. */
async function workflowTaskWorkers(client: Client, workflowId: string): Promise<Set<string>> {
  const identities = new Set<string>();
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    let next: string | undefined;
    for (const event of history.events ?? []) {
      const identity = event.workflowTaskCompletedEventAttributes?.identity;
      if (identity) identities.add(identity);
      next = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? next;
    }
    if (!next) return identities;
    runId = next;
  }
}

/**
 * Faults only the multi-process cluster has (npm run test:cluster). The suite's other scenarios
 * run there too: `temporal-restart` restarts all four services, and `postgres-restart` /
 * `import-postgres-restart` stop the one PostgreSQL under both Temporal and our data.
 */
export const CLUSTER_SCENARIOS: Scenario[] = [
  // No shutdown: the shards it owned are taken over when it returns, from what it had persisted.
  serviceFault('history-kill-9', 'history', true, 3_000),
  // Workers and clients lose their one gRPC endpoint; their polls and calls retry until it is back.
  serviceFault('frontend-restart', 'frontend', false, 3_000),
  // Task queues move back to it (their backlog is in the database); polls in flight are lost and re-issued.
  serviceFault('matching-restart', 'matching', false, 3_000),
  {
    // A deploy mid-run: workers of the previous revision run the first batches; they are stopped
    // (drained: SIGTERM) and workers of this checkout take over the same run. The run's history
    // so far was made by the old workflow code, so the new code must replay it: a changed step is
    // guarded by patched() (README, "Deploying workflow changes"). Checked: workflow tasks of this
    // run were completed by old and by new workers.
    name: 'worker-deploy',
    workers: 3,
    firstWorkersFrom: async (stack) => exportRevision(stack.deployFrom ?? revisionBeforeLastWorkflowChange()),
    async run(context) {
      const { workers, startWorker, afterBatches } = context;
      const main = await context.startMainRun();
      await afterBatches(3);
      await runStillRunning(main, 'the old workers were to be stopped');
      const old = workers.splice(0);
      for (const worker of old) await worker.stop();
      await sleep(1_000); // a moment with no worker at all: the run waits in the task queue
      for (let i = 0; i < old.length; i++) workers.push(await startWorker());
      await main.result();
      // Both revisions must have advanced this very run: else the deploy happened beside it, not under it.
      const completedBy = await workflowTaskWorkers(context.client, main.workflowId);
      const byOld = old.filter((worker) => completedBy.has(worker.identity)).length;
      const byNew = workers.filter((worker) => completedBy.has(worker.identity)).length;
      if (byOld === 0 || byNew === 0) throw new Error(`the deploy did not bite: workflow tasks by ${byOld} old and ${byNew} new workers`);
      return { handles: [main] };
    },
  },
];
