import readline from 'node:readline/promises';
import { SingleBar, Presets } from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import type { RegenerateReportsSummary } from '../contracts.js';
import type { RegenerateProgress } from '../workflows/progress.js';

const CTRL_C = 0x03;

/**
 * Waits for a run while showing a progress bar fed by the workflow's `progress` query.
 * In a terminal, Ctrl-C asks whether to cancel the run (it then stops between activities) or
 * keep watching; without one, Ctrl-C stops watching and leaves the run going.
 */
export async function waitWithProgress(handle: WorkflowHandle, out: NodeJS.WriteStream = process.stderr): Promise<RegenerateReportsSummary> {
  const stdin = process.stdin;
  const interactive = Boolean(out.isTTY && stdin.isTTY);
  const bar = new SingleBar(
    { format: '{bar} {value}/{total} customers | batch {batchesDone}/{batchesPlanned} | {phase}', stream: out, hideCursor: true, notTTYSchedule: 5000 },
    Presets.shades_classic,
  );
  const startBar = (phase: string) => bar.start(1, 0, { batchesDone: 0, batchesPlanned: 0, phase });
  startBar('starting');
  let asking = false;
  // The query in flight, awaited before returning: the caller closes the connection next,
  // and a query still retrying on a closed channel would throw from a timer.
  let inFlight: Promise<unknown> = Promise.resolve();
  const poll = setInterval(() => {
    if (asking) return;
    inFlight = handle.query<RegenerateProgress>('progress').then(
      (p) => {
        if (asking) return;
        bar.setTotal(Math.max(p.customersTotal, 1));
        bar.update(p.customersDone, { batchesDone: p.batchesDone, batchesPlanned: p.batchesPlanned, phase: p.phase });
      },
      () => undefined, // not started yet, or already closed: the result tells
    );
  }, 500);

  const ask = async () => {
    if (asking) return;
    asking = true;
    bar.stop();
    const rl = readline.createInterface({ input: stdin, output: out });
    // Ctrl-C at the question means "no".
    const answer = await Promise.race([
      rl.question(`\nCancel ${handle.workflowId}? It stops after the batches in flight. [y/N] `),
      new Promise<string>((resolve) => rl.once('SIGINT', () => resolve('n'))),
    ]);
    rl.close();
    if (/^y(es)?$/i.test(answer.trim())) {
      await handle.cancel();
      out.write('cancellation requested; waiting for the batches in flight to finish...\n');
    } else {
      out.write('\nthe run goes on; still watching (Ctrl-C to ask again)\n');
    }
    stdin.setRawMode(true); // readline restored cooked mode on close
    stdin.resume();
    startBar('watching');
    asking = false;
  };
  // In raw mode Ctrl-C arrives as a byte instead of a SIGINT to the whole process group,
  // so `npm run` (which would exit on the signal) never sees it and the question can be asked.
  const onKey = (data: Buffer) => {
    // Deferred: this same keystroke must not reach the question's own reader as a Ctrl-C.
    if (!asking && data.includes(CTRL_C)) setImmediate(() => void ask());
  };
  const onSignal = () => {
    bar.stop();
    out.write(`\nstopped watching; ${handle.workflowId} keeps running (cancel it with: npm run temporal -- workflow cancel -w '${handle.workflowId}')\n`);
    process.exit(130);
  };
  if (interactive) {
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onKey);
  } else {
    process.on('SIGINT', onSignal);
  }
  try {
    return (await handle.result()) as RegenerateReportsSummary;
  } finally {
    clearInterval(poll);
    await inFlight;
    bar.stop();
    if (interactive) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    } else {
      process.off('SIGINT', onSignal);
    }
  }
}
