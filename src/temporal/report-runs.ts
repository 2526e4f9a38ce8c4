import type { Client, WorkflowHandle } from '@temporalio/client';
import type { RegenerateReportsInput, ResolvedRegenerateInput } from '../contracts.js';
import { regenerateReportsJob } from '../jobs/regenerate-reports.js';
import type { regenerateReports } from '../workflows/regenerate-reports.js';
import type { StartRunOptions } from './runs.js';
import { startJob } from './start-job.js';

/** `startJob` for the report job, with the handle typed by its workflow: for code and tests that start report runs. */
export async function startRegenerateReports(
  client: Client,
  rawInput: RegenerateReportsInput | undefined,
  options: StartRunOptions,
): Promise<{ handle: WorkflowHandle<typeof regenerateReports>; input: ResolvedRegenerateInput }> {
  const { handle, input } = await startJob(client, regenerateReportsJob, rawInput, options);
  return { handle: handle as WorkflowHandle<typeof regenerateReports>, input };
}
