import readline from 'node:readline/promises';
import { SingleBar, Presets } from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import type { ProgressView } from '../jobs/job-definition.js';

const CTRL_C = 0x03;

/** Ctrl-C without a terminal: the watching stopped, the run goes on. The caller cleans up, then exits 130. */
export class StoppedWatching extends Error {
  override name = 'StoppedWatching';
  constructor(readonly workflowId: string) {
    super(`stopped watching; ${workflowId} keeps running (cancel it with: npm run temporal -- workflow cancel -w '${workflowId}')`);
  }
}

/** What shows while waiting: the job's bar when it has a progress query, else one line. */
interface Display {
  show(phase: string): void;
  stop(): void;
}

function progressDisplay<Progress>(handle: WorkflowHandle, progress: ProgressView<Progress> | undefined, out: NodeJS.WriteStream): Display & { poll(): Promise<unknown> } {
  if (!progress) {
    return {
      show: (phase) => void out.write(`${phase}: waiting for ${handle.workflowId} to finish (this job reports no progress)\n`),
      stop: () => undefined,
      poll: () => Promise.resolve(),
    };
  }
  const bar = new SingleBar({ format: '{bar} {value}/{total} {unit} | {detail}', stream: out, hideCursor: true, notTTYSchedule: 5000 }, Presets.shades_classic);
  let stopped = true;
  return {
    show: (phase) => {
      bar.start(1, 0, { unit: '', detail: phase });
      stopped = false;
    },
    stop: () => {
      bar.stop();
      stopped = true;
    },
    poll: () =>
      handle.query(progress.query).then(
        (value) => {
          if (stopped) return;
          const { done, total, unit, detail } = progress.bar(value);
          bar.setTotal(Math.max(total, 1));
          bar.update(done, { unit, detail });
        },
        () => undefined, // not started yet, or already closed: the result tells
      ),
  };
}

/**
 * Waits for a run and returns its result, showing the job's progress bar (fed by its progress
 * query) on `out`. In a terminal, Ctrl-C asks whether to cancel the run (it then stops once
 * the work in flight is done) or keep watching; without one, Ctrl-C stops watching, leaves the
 * run going and rejects with StoppedWatching, so the caller still cleans up.
 */
export async function waitForRun<Summary, Progress>(
  handle: WorkflowHandle,
  progress: ProgressView<Progress> | undefined,
  out: NodeJS.WriteStream = process.stderr,
): Promise<Summary> {
  const stdin = process.stdin;
  const interactive = Boolean(out.isTTY && stdin.isTTY);
  const display = progressDisplay(handle, progress, out);
  display.show('starting');
  let asking = false;
  // One query at a time, and the one in flight awaited before returning: the caller closes
  // the connection next, and a query still retrying on a closed channel throws from a timer,
  // killing the process. (A query slower than the interval, on a loaded machine, used to leave
  // an earlier one behind, unawaited.)
  let inFlight: Promise<unknown> | null = null;
  const poll = setInterval(() => {
    if (asking || inFlight) return;
    inFlight = display.poll().finally(() => {
      inFlight = null;
    });
  }, 500);

  const ask = async () => {
    if (asking) return;
    asking = true;
    display.stop();
    const rl = readline.createInterface({ input: stdin, output: out });
    // Ctrl-C at the question means "no".
    const answer = await Promise.race([
      rl.question(`\nCancel ${handle.workflowId}? It stops once the work in flight is done. [y/N] `),
      new Promise<string>((resolve) => rl.once('SIGINT', () => resolve('n'))),
    ]);
    rl.close();
    if (/^y(es)?$/i.test(answer.trim())) {
      await handle.cancel();
      out.write('cancellation requested; waiting for the work in flight to finish...\n');
    } else {
      out.write('\nthe run goes on; still watching (Ctrl-C to ask again)\n');
    }
    stdin.setRawMode(true); // readline restored cooked mode on close
    stdin.resume();
    display.show('watching');
    asking = false;
  };
  // In raw mode Ctrl-C arrives as a byte instead of a SIGINT to the whole process group,
  // so `npm run` (which would exit on the signal) never sees it and the question can be asked.
  const onKey = (data: Buffer) => {
    // Deferred: this same keystroke must not reach the question's own reader as a Ctrl-C.
    if (!asking && data.includes(CTRL_C)) setImmediate(() => void ask());
  };
  let onSignal = () => undefined as void;
  const stoppedWatching = new Promise<never>((_, reject) => {
    onSignal = () => reject(new StoppedWatching(handle.workflowId));
  });
  if (interactive) {
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onKey);
  } else {
    process.on('SIGINT', onSignal);
  }
  try {
    return (await Promise.race([handle.result(), stoppedWatching])) as Summary;
  } finally {
    clearInterval(poll);
    await inFlight;
    display.stop();
    if (interactive) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    } else {
      process.off('SIGINT', onSignal);
    }
  }
}
