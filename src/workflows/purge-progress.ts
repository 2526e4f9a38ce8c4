import { defineQuery } from '@temporalio/workflow';

/** What a running purge is doing: served by the `progress` query and shown as current details. */
export interface PurgeProgress {
  phase: 'validating' | 'counting' | 'deleting report rows' | 'deleting email records' | 'cancelling' | 'done';
  /** The first day kept; null until the input is validated. */
  cutoff: string | null;
  dryRun: boolean;
  /** Counted before deleting (what a dry run reports). */
  reportRowsToDelete: number;
  emailRecordsToDelete: number;
  reportRowsDeleted: number;
  emailRecordsDeleted: number;
}

/** The run's progress, for the CLI's bar and the admin page (clients import this, never the string). */
export const purgeProgressQuery = defineQuery<PurgeProgress>('progress');

export function initialPurgeProgress(): PurgeProgress {
  return { phase: 'validating', cutoff: null, dryRun: false, reportRowsToDelete: 0, emailRecordsToDelete: 0, reportRowsDeleted: 0, emailRecordsDeleted: 0 };
}

const count = (n: number) => n.toLocaleString('en-US');

/** One line for the Web UI, e.g. "deleting report rows before 2025-10-27: 4,000/10,000 rows, 0/300 email records". */
export function describePurgeProgress(progress: PurgeProgress): string {
  if (progress.cutoff === null) return progress.phase;
  const counts = `${count(progress.reportRowsDeleted)}/${count(progress.reportRowsToDelete)} report rows, ` +
    `${count(progress.emailRecordsDeleted)}/${count(progress.emailRecordsToDelete)} email records`;
  if (progress.phase === 'counting') return `counting what is older than ${progress.cutoff}`;
  if (progress.dryRun) return `dry run, before ${progress.cutoff}: would delete ${count(progress.reportRowsToDelete)} report rows, ${count(progress.emailRecordsToDelete)} email records`;
  return `${progress.phase}, before ${progress.cutoff}: ${counts}`;
}
