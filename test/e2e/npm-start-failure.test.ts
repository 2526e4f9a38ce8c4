import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { regenerateReportsWorkflowId, resolveRegenerateInput } from '../../src/contracts.js';
import { processesUsing, spawnNpmStart } from './npm-start-process.js';

/**
 * `npm start` whose first run cannot start: a run with the same id (every active customer,
 * yesterday, this task queue) is already running, so Temporal refuses it after the worker,
 * the admin page and the embedded PostgreSQL are up. It must say so, stop all of them and
 * exit non-zero; it used to print "Cannot close connection while Workers hold a reference"
 * instead (it closed the worker's connection while the worker still ran) and skip the rest
 * of its clean-up.
 */
const taskQueue = `reports-start-failure-${process.pid}`;
let connection: Connection;
let client: Client;
const blockers: string[] = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
  // The id npm start computes for its first run: today's "yesterday", and tomorrow's in case the test crosses midnight UTC.
  const now = Date.now();
  for (const at of [now, now + 86_400_000]) {
    const workflowId = regenerateReportsWorkflowId(resolveRegenerateInput({}, new Date(at)), taskQueue);
    // On a queue nobody polls: it stays running for as long as the test needs.
    await client.workflow.start('regenerateReports', { taskQueue: `${taskQueue}-nobody`, workflowId, args: [{}] });
    blockers.push(workflowId);
  }
});
afterAll(async () => {
  for (const workflowId of blockers) await client.workflow.getHandle(workflowId).terminate('test done').catch(() => undefined);
  await connection?.close();
});

it('npm start whose first run fails prints the real error, stops everything it started and exits non-zero', async () => {
  const start = spawnNpmStart({ TEMPORAL_TASK_QUEUE: taskQueue });
  const timer = setTimeout(() => start.child.kill('SIGKILL'), 110_000);
  const code = await start.exited;
  clearTimeout(timer);
  const output = start.output();
  try {
    // It got as far as the worker and the admin page before the run was refused.
    expect(output, output).toContain('admin page listening');
    expect(output, output).toContain(`error: a run for the same customers and period is already running: ${blockers[0]}`);
    expect(output).not.toContain('Cannot close connection');
    expect(code, output).toBe(1);
    // Everything it started is gone: no PostgreSQL (or anything else) is left running on its data directory.
    expect(processesUsing(start.dataDir)).toEqual([]);
  } finally {
    fs.rmSync(start.dataDir, { recursive: true, force: true });
  }
}, 120_000);
