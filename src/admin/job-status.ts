import { JOBS } from '../jobs/index.js';
import { errorText } from '../health/check-result.js';
import { temporalWithin } from '../health/temporal-call.js';
import { listRuns, type RunListItem, type RunTarget } from './run-history.js';

/** The latest run of one registered job, or why it could not be read. */
export interface LastRun {
  kind: string;
  description: string;
  /** Null when the job has never run on this task queue. */
  run: RunListItem | null;
  error?: string;
}

/**
 * The most recent run of each job of the registry, with its outcome (status, and the job's
 * own summary or progress line), all read at once and each within `timeoutMs`: a Temporal
 * that does not answer shows as an error on each row, never as a page that hangs.
 */
export async function lastRunOfEachJob(target: RunTarget, timeoutMs: number): Promise<LastRun[]> {
  return Promise.all(JOBS.map(async (job): Promise<LastRun> => {
    const base = { kind: job.kind, description: job.description };
    try {
      const [run] = await temporalWithin(target.client, timeoutMs, 'Temporal', () =>
        listRuns(target, { kind: job.kind, limit: 1, withProgress: true, withSummaries: true }));
      return { ...base, run: run ?? null };
    } catch (error) {
      return { ...base, run: null, error: errorText(error) };
    }
  }));
}
