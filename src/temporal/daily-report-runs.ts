import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { TASK_QUEUE_DEFAULT } from '../contracts.js';
import { DAILY_REPORTS_WORKFLOW, resolveDailyReportsInput, type DailyReportsInput, type ResolvedDailyReportsInput } from '../daily-reports-contract.js';
import type { dailyReports } from '../workflows/daily-reports.js';
import { CUSTOMER_IDS, STARTED_FROM } from './search-attributes.js';
import { RunAlreadyRunningError, type StartRunOptions } from './report-runs.js';

/**
 * Starts the nightly job by hand, as if its schedule fired now: validated at the door, a
 * readable id naming the window's end. With `windowMinutes: 1440` it reports, for every
 * customer, the last day that has ended where they are (what `npm start` runs first).
 */
export async function startDailyReports(
  client: Client,
  rawInput: DailyReportsInput | undefined,
  options: StartRunOptions,
): Promise<{ handle: WorkflowHandle<typeof dailyReports>; input: ResolvedDailyReportsInput }> {
  const input = resolveDailyReportsInput(rawInput, options.now ?? new Date());
  const queue = options.taskQueue === TASK_QUEUE_DEFAULT ? '' : `@${options.taskQueue}`;
  const workflowId = `daily-reports:${options.startedFrom}:${input.windowEnd.slice(0, 19)}Z${queue}`;
  const handle = await client.workflow.start<typeof dailyReports>(DAILY_REPORTS_WORKFLOW, {
    taskQueue: options.taskQueue,
    workflowId,
    args: [rawInput ?? {}],
    typedSearchAttributes: [
      { key: STARTED_FROM, value: options.startedFrom },
      { key: CUSTOMER_IDS, value: ['all'] },
    ],
    memo: { startedBy: options.startedBy, startedFrom: options.startedFrom, input: rawInput ?? {} },
    staticSummary: `Daily reports: every customer whose clock passed ${input.at} in the ${input.windowMinutes} minutes before ${input.windowEnd}`,
  }).catch((error: unknown) => {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new RunAlreadyRunningError(workflowId);
    throw error;
  });
  return { handle, input };
}
