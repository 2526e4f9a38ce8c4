import { proxyLocalActivities } from '@temporalio/workflow';
import type { FloorActivities } from './floor-worker.js';

const { noop } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10 seconds' });

/**
 * The Temporal floor: a workflow that does nothing but one local activity that does nothing.
 * Started and awaited, it costs what every run on this server costs at least: the start, one
 * workflow task on a worker (the local activity runs inside it), the completion, the result.
 */
export async function temporalFloor(): Promise<void> {
  await noop();
}
