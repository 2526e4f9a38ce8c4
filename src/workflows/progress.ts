import { defineQuery } from '@temporalio/workflow';

/** What a running regeneration is doing: served by the `progress` query and shown as current details. */
export interface RegenerateProgress {
  phase: 'validating' | 'selecting' | 'regenerating' | 'cancelling' | 'done';
  batchesDone: number;
  batchesPlanned: number;
  customersDone: number;
  /** Known up front for explicit ids and for all customers (counted when planning). */
  customersTotal: number;
  failures: number;
}

/** The run's progress, for the CLI's bar and the admin page (clients import this, never the string). */
export const progressQuery = defineQuery<RegenerateProgress>('progress');

export function initialProgress(): RegenerateProgress {
  return { phase: 'validating', batchesDone: 0, batchesPlanned: 0, customersDone: 0, customersTotal: 0, failures: 0 };
}

const count = (n: number) => n.toLocaleString('en-US');

/** One line for the Web UI, e.g. "batch 12/40, 4,800/10,000 customers, 2 failed". */
export function describeProgress(progress: RegenerateProgress): string {
  if (progress.phase === 'validating' || progress.phase === 'selecting') return `${progress.phase} customers`;
  const failed = progress.failures ? `, ${count(progress.failures)} failed` : '';
  const head = progress.phase === 'regenerating' ? '' : `${progress.phase}: `;
  return `${head}batch ${count(progress.batchesDone)}/${count(progress.batchesPlanned)}, ` +
    `${count(progress.customersDone)}/${count(progress.customersTotal)} customers${failed}`;
}
