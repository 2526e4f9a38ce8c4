import { defineQuery } from '@temporalio/workflow';

/** What a running import is doing: served by its `progress` query and shown as current details. */
export interface ImportProgress {
  phase: 'importing' | 'regenerating reports' | 'done';
  pages: number;
  /** Orders inserted or updated so far. */
  written: number;
  quarantined: number;
  daysToRegenerate: number;
  daysDone: number;
}

export const importProgressQuery = defineQuery<ImportProgress>('progress');

const count = (n: number) => n.toLocaleString('en-US');

/** One line, e.g. "page 12, 5,400 orders written, 3 quarantined". */
export function describeImportProgress(progress: ImportProgress): string {
  const head = `${progress.phase === 'importing' ? '' : `${progress.phase}: `}page ${count(progress.pages)}, ${count(progress.written)} orders written`;
  const quarantined = progress.quarantined ? `, ${count(progress.quarantined)} quarantined` : '';
  const days = progress.phase === 'regenerating reports' ? `, day ${progress.daysDone}/${progress.daysToRegenerate}` : '';
  return `${head}${quarantined}${days}`;
}
