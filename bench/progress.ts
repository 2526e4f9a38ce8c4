import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets how many of `total` are done. */
  update(done: number): void;
  stop(): void;
}

const LINE_INTERVAL_MS = 5_000;

/**
 * Progress of one long step on stderr: a bar on a terminal, a plain line every few seconds
 * otherwise (CI logs, the e2e test), so a slow variant never looks like a hang.
 */
export function startProgress(label: string, total: number): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `  ${label.padEnd(22)} [{bar}] {value}/{total} {duration_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  const started = Date.now();
  let done = 0;
  const timer = setInterval(() => {
    process.stderr.write(`  ${label}: ${done}/${total} after ${((Date.now() - started) / 1000).toFixed(0)}s\n`);
  }, LINE_INTERVAL_MS);
  timer.unref();
  return { update: (value) => void (done = value), stop: () => clearInterval(timer) };
}

/** A step with no countable units: elapsed time only. */
export async function withElapsed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const progress = startProgress(label, 1);
  try {
    return await work();
  } finally {
    progress.stop();
  }
}
