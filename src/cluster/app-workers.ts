import path from 'node:path';
import type { Client } from '@temporalio/client';
import { logTail, startChild, type ChildProcess } from './child-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW (@temporalio/proto is not our dependency).
const WORKFLOW_TASK_QUEUE = 1;

/**
 * One of our workers (`scripts/worker.ts`) as its own process group, configured only through
 * the environment, as a deployment would run `npm run worker` (TEMPORAL_ADDRESS, DATABASE_URL, ...).
 */
export function startAppWorker(index: number, env: Record<string, string>, logDir: string, cwd?: string): ChildProcess {
  return startChild(`worker-${index}`, process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    env: { ...process.env, LOG_PRETTY: 'false', ...env },
    logFile: path.join(logDir, `worker-${index}.log`),
    ...(cwd ? { cwd } : {}),
  });
}

/** Pollers Temporal has seen on the task queue's workflow side in the last minute, by identity. */
export async function workflowPollers(client: Client, taskQueue: string): Promise<string[]> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: WORKFLOW_TASK_QUEUE,
  });
  return (pollers ?? []).map((poller) => poller.identity ?? '');
}

/**
 * Waits until each worker polls the task queue (its identity is `<pid>@<host>`, the SDK's
 * default), so "started" means Temporal can hand it work; fails with its log if one exits.
 */
export async function waitForWorkers(client: Client, taskQueue: string, workers: ChildProcess[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = workers.find((worker) => !worker.running());
    if (dead) throw new Error(`${dead.name} exited (${await dead.exited}); the end of ${dead.logFile}:\n${logTail(dead.logFile)}`);
    const identities = await workflowPollers(client, taskQueue).catch(() => []);
    if (workers.every((worker) => identities.some((identity) => identity.startsWith(`${worker.pid}@`)))) return;
    if (Date.now() > deadline) throw new Error(`workers not polling ${taskQueue} after ${timeoutMs / 1000}s; see ${workers.map((w) => w.logFile).join(', ')}`);
    await sleep(250);
  }
}
