import crypto from 'node:crypto';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporalFloor } from './floor/floor-workflow.js';
import { startProgress } from './progress.js';
import { timed } from './stats.js';
import { WorkerProcess } from './worker-process.js';

/** How the floor is measured (printed, and in BENCHMARKS.md). */
export const TEMPORAL_FLOOR_CONFIGURATION =
  'an empty workflow with one no-op local activity (bench/floor/), on a worker of its own: a separate Node process like our worker ' +
  '(node --optimize-for-size, the TypeScript through tsx), SDK default worker options, its own task queue on the same dev server; ' +
  'started and awaited from the bench\'s client (start, then result), one run after another';

const FLOOR_WORKER_SCRIPT = path.join('bench', 'floor', 'floor-worker.ts');

/** Starts the floor's worker process and waits until it polls. */
export async function startFloorWorker(options: { temporalAddress: string; logFile: string }): Promise<{ worker: WorkerProcess; taskQueue: string }> {
  const taskQueue = `bench-floor-${crypto.randomBytes(4).toString('hex')}`;
  const nodeOptions = [process.env.NODE_OPTIONS, '--import tsx'].filter(Boolean).join(' ');
  const worker = await WorkerProcess.start({
    // The floor worker reads only the TEMPORAL_* settings; these two are WorkerProcess's required fields.
    databaseUrl: '',
    smtpUrl: '',
    temporalAddress: options.temporalAddress,
    taskQueue,
    logFile: options.logFile,
    script: FLOOR_WORKER_SCRIPT,
    env: { NODE_OPTIONS: nodeOptions },
  });
  return { worker, taskQueue };
}

/** `count` floor runs one after another; each latency is from the start call to the result. */
export async function temporalFloorRuns(client: Client, taskQueue: string, count: number): Promise<number[]> {
  const latencies: number[] = [];
  const bar = startProgress('temporal floor', count);
  try {
    for (let i = 0; i < count; i++) {
      const workflowId = `bench-floor-${crypto.randomUUID()}`;
      const { ms } = await timed(async () => {
        const handle = await client.workflow.start<typeof temporalFloor>('temporalFloor', { taskQueue, workflowId });
        await handle.result();
      });
      latencies.push(ms);
      bar.update(latencies.length);
    }
  } finally {
    bar.stop();
  }
  return latencies;
}
