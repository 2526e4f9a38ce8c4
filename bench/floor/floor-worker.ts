import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadTemporalSettings } from '../../src/temporal/connection-settings.js';

/** The line the bench waits for before it measures (bench/worker-process.ts waits for the same). */
const FLOOR_WORKER_READY = 'worker polling';

/** The floor's one local activity: nothing at all. */
export const floorActivities = {
  async noop(): Promise<void> {},
};
export type FloorActivities = typeof floorActivities;

export const FLOOR_WORKFLOWS_PATH = fileURLToPath(new URL(`./floor-workflow${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/**
 * A worker of its own for the floor workflow, in a process of its own like our worker, on
 * its own task queue (TEMPORAL_TASK_QUEUE), connected the same way (TEMPORAL_* settings,
 * envconfig), with the SDK's default worker options. It runs until SIGTERM/SIGINT.
 */
export async function runFloorWorker(): Promise<void> {
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE;
  if (!taskQueue) throw new Error('TEMPORAL_TASK_QUEUE must name the floor worker\'s task queue');
  const temporal = loadTemporalSettings();
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  try {
    const worker = await Worker.create({ connection, namespace: temporal.namespace, taskQueue, workflowsPath: FLOOR_WORKFLOWS_PATH, activities: floorActivities });
    process.stdout.write(`${FLOOR_WORKER_READY} on ${taskQueue}\n`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

// Run as a process (bench/temporal-floor.ts starts it); imported, it only exports.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runFloorWorker().catch((error: unknown) => {
    process.stderr.write(`floor worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
