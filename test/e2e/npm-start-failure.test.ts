import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { processesUsing, spawnNpmStart } from './npm-start-process.js';

/**
 * `npm start` whose first run fails: the test terminates the run as soon as npm start names
 * it, while the worker, the admin page and the embedded PostgreSQL are up (one customer per
 * batch and per activity, one at a time, so the run lasts long enough to be caught). It must
 * say so, stop all of them and exit non-zero; it used to print "Cannot close connection
 * while Workers hold a reference" instead (it closed the worker's connection while the
 * worker still ran) and skip the rest of its clean-up.
 */
const taskQueue = `reports-start-failure-${process.pid}`;
const reason = 'stopped by the npm-start-failure test';
let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
});
afterAll(() => connection?.close());

/** The id of the first run, from the log line npm start prints when it has started it. */
function firstRunId(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { workflowId?: string; activityType?: string; msg?: string };
    if (entry.workflowId && !entry.activityType && entry.msg?.includes('http')) return entry.workflowId;
  }
  return undefined;
}

it('npm start whose first run fails prints the real error, stops everything it started and exits non-zero', async () => {
  const start = await spawnNpmStart({ TEMPORAL_TASK_QUEUE: taskQueue, REPORT_BATCH_SIZE: '1', REPORT_PARALLELISM: '1', REPORT_BATCHES_PER_ACTIVITY: '1' });
  const timer = setTimeout(() => start.child.kill('SIGKILL'), 100_000);
  let workflowId: string | undefined;
  while (!(workflowId = firstRunId(start.output())) && start.child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(workflowId, start.output()).toBeDefined();
  await client.workflow.getHandle(workflowId!).terminate(reason);
  const code = await start.exited;
  clearTimeout(timer);
  const output = start.output();
  try {
    // It got as far as the worker and the admin page, then the run failed.
    expect(output, output).toContain('admin page listening');
    // The first run npm start starts is the order import.
    expect(output, output).toMatch(new RegExp(`^error: the order import failed: .*${reason}`, 'm'));
    expect(output).not.toContain('Cannot close connection');
    expect(code, output).toBe(1);
    // Everything it started is gone: no PostgreSQL (or anything else) is left running on its data directory.
    expect(processesUsing(start.dataDir)).toEqual([]);
  } finally {
    fs.rmSync(start.dataDir, { recursive: true, force: true });
  }
}, 120_000);
