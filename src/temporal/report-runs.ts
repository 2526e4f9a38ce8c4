import { Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import {
  REGENERATE_REPORTS_WORKFLOW,
  regenerateReportsWorkflowId,
  resolveRegenerateInput,
  workflowInputOf,
  type RegenerateReportsInput,
  type ResolvedRegenerateInput,
} from '../contracts.js';
import type { regenerateReports } from '../workflows/regenerate-reports.js';
import { CUSTOMER_IDS, PERIOD, STARTED_FROM } from './search-attributes.js';

export type StartedFrom = 'cli' | 'schedule' | 'admin' | 'api' | 'start';

export interface StartRunOptions {
  taskQueue: string;
  startedFrom: StartedFrom;
  /** Who asked: an OS user, an admin's email. Goes to the memo, never into logs. */
  startedBy: string;
  now?: Date;
}

/**
 * Starts `regenerateReports` the way every door of ours does: input validated and defaults
 * filled before anything starts, a readable id, and search attributes and a memo saying
 * for whom, for when, and by whom.
 */
export async function startRegenerateReports(
  client: Client,
  rawInput: RegenerateReportsInput | undefined,
  options: StartRunOptions,
): Promise<{ handle: WorkflowHandle<typeof regenerateReports>; input: ResolvedRegenerateInput }> {
  const input = resolveRegenerateInput(rawInput, options.now ?? new Date());
  // The resolved input, every field of it: the run does what was validated here, and the
  // memo shows it (the period fixed, so a run that starts late still covers the same days).
  const workflowInput = workflowInputOf(input);
  const workflowId = regenerateReportsWorkflowId(input, options.taskQueue);
  const scope = input.customerIds ? `customers ${input.customerIds.join(', ')}` : 'all active customers';
  try {
    const handle = await client.workflow.start<typeof regenerateReports>(REGENERATE_REPORTS_WORKFLOW, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [workflowInput],
      typedSearchAttributes: [
        { key: CUSTOMER_IDS, value: input.customerIds ? input.customerIds.map(String) : ['all'] },
        { key: STARTED_FROM, value: options.startedFrom },
        { key: PERIOD, value: `${input.from}..${input.to}` },
      ],
      memo: { startedBy: options.startedBy, startedFrom: options.startedFrom, input: workflowInput },
      staticSummary: `${input.dryRun ? 'Dry run: ' : ''}regenerate reports for ${scope}, ${input.from}..${input.to}`,
      staticDetails: [
        `Started from **${options.startedFrom}** (who: see the memo).`,
        `Email: ${input.sendEmail ? (input.resend ? 'resend' : 'yes') : 'no'}; batch size ${input.batchSize}, parallelism ${input.parallelism}, ` +
          `up to ${input.batchesPerActivity} batches per activity.`,
      ].join('\n\n'),
    });
    return { handle, input };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new RunAlreadyRunningError(workflowId);
    throw error;
  }
}

/** A manual run for the same customers and period is still running: refused, naming it. */
export class RunAlreadyRunningError extends Error {
  override name = 'RunAlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(`a run for the same customers and period is already running: ${workflowId} (follow it with: npm run temporal -- workflow show --follow -w '${workflowId}')`);
  }
}

export function workflowUiUrl(uiBaseUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiBaseUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
