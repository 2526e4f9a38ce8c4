import type { CustomerBatch } from '../contracts.js';

export interface BatchGroup<B = CustomerBatch> {
  /** Index of the group's first batch in this run's plan. */
  first: number;
  batches: B[];
  /** A run from before batches were grouped (see the workflow's patch): one batch per old activity. */
  legacy?: boolean;
}

/**
 * Groups consecutive batches into activities, largest first and shrinking towards the end
 * (guided self-scheduling: each group takes 1/lanes of what is left, at most `max`). Most
 * batches then share an activity, which saves a hand-over through the server per batch,
 * while the small groups at the end let every lane finish at about the same time.
 */
export function groupBatches<B>(batches: B[], lanes: number, max: number): Array<BatchGroup<B>> {
  const groups: Array<BatchGroup<B>> = [];
  for (let first = 0; first < batches.length; ) {
    const size = Math.max(1, Math.min(max, Math.ceil((batches.length - first) / lanes)));
    groups.push({ first, batches: batches.slice(first, first + size) });
    first += size;
  }
  return groups;
}
