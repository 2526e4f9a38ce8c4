// waitForRun's polling of a run's progress: at most one query at a time, and none left
// running when it returns (the CLI closes the connection next: a query still retrying on a
// closed channel throws from a timer and kills the process, as seen on a loaded machine).
import { PassThrough } from 'node:stream';
import type { WorkflowHandle } from '@temporalio/client';
import { defineQuery } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { waitForRun } from '../../src/cli/wait-for-run.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('waitForRun', () => {
  it('never has two progress queries in flight, and returns only after the last one settled', async () => {
    let inFlight = 0;
    let most = 0;
    let settled = 0;
    let queries = 0;
    // A server that answers a query in 1.3 s (a loaded machine): slower than the 0.5 s poll.
    const handle = {
      workflowId: 'wf-slow-queries',
      query: async () => {
        queries++;
        most = Math.max(most, ++inFlight);
        await sleep(1300);
        inFlight--;
        settled++;
        return { done: 1, total: 2 };
      },
      result: async () => {
        await sleep(1600);
        return { ok: true };
      },
    } as unknown as WorkflowHandle;
    const out = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    out.resume?.();
    const progress = { query: defineQuery('progress'), describe: () => '', bar: () => ({ done: 1, total: 2, unit: 'customers', detail: '' }) };
    const summary = await waitForRun(handle, progress as never, out);
    expect(summary).toEqual({ ok: true });
    expect(most).toBe(1);
    expect(queries).toBeGreaterThan(0);
    expect(settled).toBe(queries); // nothing left running once it returned
  });
});
