import readline from 'node:readline/promises';
import { SingleBar, Presets } from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import type { RegenerateReportsSummary } from '../contracts.js';
import type { RegenerateProgress } from '../workflows/progress.js';

/**
 * Waits for a run while showing a progress bar fed by the workflow's `progress` query.
 * Ctrl-C asks whether to cancel the run (it then stops between batches) or just stop
 * watching; without a terminal it stops watching and leaves the run going.
 */
export async function waitWithProgress(handle: WorkflowHandle, out: NodeJS.WriteStream = process.stderr): Promise<RegenerateReportsSummary> {
  const interactive = Boolean(out.isTTY && process.stdin.isTTY);
  const bar = new SingleBar(
    { format: '{bar} {value}/{total} customers | batch {batchesDone}/{batchesPlanned} | {phase}', stream: out, hideCursor: true, noTTYOutput: false, notTTYSchedule: 5000 },
    Presets.shades_classic,
  );
  bar.start(1, 0, { batchesDone: 0, batchesPlanned: 0, phase: 'starting' });
  let asking = false;
  const poll = setInterval(() => {
    if (asking) return;
    handle.query<RegenerateProgress>('progress').then(
      (p) => {
        bar.setTotal(Math.max(p.customersTotal, 1));
        bar.update(p.customersDone, { batchesDone: p.batchesDone, batchesPlanned: p.batchesPlanned, phase: p.phase });
      },
      () => undefined, // not started yet, or already closed: the result tells
    );
  }, 500);

  const onInterrupt = async () => {
    if (!interactive) {
      bar.stop();
      out.write(`\nstopped watching; ${handle.workflowId} keeps running (cancel it with: npm run temporal -- workflow cancel -w '${handle.workflowId}')\n`);
      process.exit(130);
    }
    if (asking) return;
    asking = true;
    bar.stop();
    const rl = readline.createInterface({ input: process.stdin, output: out });
    const answer = (await rl.question(`\nCancel ${handle.workflowId}? It stops after the batches in flight. [y/N] `)).trim().toLowerCase();
    rl.close();
    if (answer === 'y' || answer === 'yes') {
      await handle.cancel();
      out.write('cancellation requested; waiting for the batches in flight to finish...\n');
    } else {
      out.write('the run goes on; still watching (Ctrl-C again to ask again)\n');
    }
    bar.start(1, 0, { batchesDone: 0, batchesPlanned: 0, phase: 'watching' });
    asking = false;
  };
  process.on('SIGINT', onInterrupt);
  try {
    return (await handle.result()) as RegenerateReportsSummary;
  } finally {
    clearInterval(poll);
    process.off('SIGINT', onInterrupt);
    bar.stop();
  }
}
