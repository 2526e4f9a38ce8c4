import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { InvalidInputError } from '../validation.js';
import { SCHEDULED_START_TIME } from '../temporal/search-attributes.js';

/**
 * A job's input as its registry entry resolves it, at the run's time: a scheduled or
 * backfilled run reads its scheduled time (the 2026-11-05 02:00 run covers 2026-11-04 even if
 * it starts late), any other run its start. Invalid input fails the run at once with a
 * non-retryable `InvalidInput` failure carrying the problems ({ field, message }[]) as details.
 */
export function resolveAtRunTime<Resolved>(resolve: (raw: unknown, now: Date) => Resolved, rawInput: unknown): Resolved {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME);
  try {
    return resolve(rawInput, scheduledAt ?? new Date(info.startTime));
  } catch (error) {
    if (error instanceof InvalidInputError) {
      throw ApplicationFailure.create({ type: 'InvalidInput', nonRetryable: true, message: error.message, details: [error.problems] });
    }
    throw error;
  }
}
