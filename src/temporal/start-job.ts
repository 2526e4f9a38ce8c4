import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { JobDefinition } from '../jobs/job-definition.js';
import { RunAlreadyRunningError, type StartRunOptions } from './runs.js';
import { STARTED_FROM } from './search-attributes.js';
import { mayStartEagerly } from './worker-client.js';

/**
 * Starts a run of any registered job the way every door of ours does: input validated and
 * defaults filled before anything starts (InvalidInputError otherwise), the job's readable
 * id, and search attributes, a memo and a summary saying what, for whom and by whom.
 */
export async function startJob<Input extends object, Resolved, Summary, Progress>(
  client: Client,
  job: JobDefinition<Input, Resolved, Summary, Progress>,
  rawInput: Partial<Input> | undefined,
  options: StartRunOptions,
): Promise<{ handle: WorkflowHandle; input: Resolved }> {
  const input = job.resolve(rawInput, options.now ?? new Date());
  return { handle: await startResolvedJob(client, job, input, options), input };
}

/**
 * `startJob` for a door that has already resolved the input itself (the admin page places
 * the problems next to its fields first): the input is validated once at the door, not again here.
 */
export async function startResolvedJob<Input extends object, Resolved, Summary, Progress>(
  client: Client,
  job: JobDefinition<Input, Resolved, Summary, Progress>,
  input: Resolved,
  options: StartRunOptions,
): Promise<WorkflowHandle> {
  // The resolved input, every field of it: the run does what was validated here, and the memo
  // shows it (a default period fixed, so a run that starts late still covers the same days).
  const workflowInput = job.workflowInput(input);
  const workflowId = job.workflowId(input, { taskQueue: options.taskQueue, startedFrom: options.startedFrom });
  try {
    return await client.workflow.start(job.workflowType, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [workflowInput],
      typedSearchAttributes: [{ key: STARTED_FROM, value: options.startedFrom }, ...job.searchAttributes(input)],
      memo: { startedBy: options.startedBy, startedFrom: options.startedFrom, input: workflowInput },
      staticSummary: job.staticSummary(input),
      // A worker in this process takes the first workflow task straight from the start call's answer.
      ...(mayStartEagerly(client) ? { requestEagerStart: true } : {}),
      ...(job.staticDetails ? { staticDetails: `Started from **${options.startedFrom}** (who: see the memo).\n\n${job.staticDetails(input)}` } : {}),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new RunAlreadyRunningError(workflowId);
    throw error;
  }
}
