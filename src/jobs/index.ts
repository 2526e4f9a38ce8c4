/**
 * Every job this project runs. Each door (the CLI, schedules, the admin page, the bad-input
 * matrix) reads this list and names no job itself; the worker registers their workflows
 * (src/workflows/index.ts) and activities (src/worker.ts). Adding a job: docs/adding-a-job.md.
 */
import type { AnyJob } from './job-definition.js';
import { dailyReportsJob } from './daily-reports.js';
import { importOrdersJob } from './import-orders.js';
import { purgeOldReportsJob } from './purge-old-reports.js';
import { regenerateReportsJob } from './regenerate-reports.js';

export const JOBS: readonly AnyJob[] = [regenerateReportsJob, dailyReportsJob, purgeOldReportsJob, importOrdersJob];

export function jobByKind(kind: string): AnyJob | undefined {
  return JOBS.find((job) => job.kind === kind);
}

export function jobByWorkflowType(workflowType: string): AnyJob | undefined {
  return JOBS.find((job) => job.workflowType === workflowType);
}
