import type { Logger } from 'pino';

export interface Cleanups {
  /** Registers a step; steps run in reverse order, each even if an earlier one failed. */
  push(step: () => Promise<unknown>): void;
  /** Runs the steps (once) and stops listening for signals. */
  run(): Promise<void>;
}

/**
 * What a bench started (servers, pools, worker processes), stopped at the end or on Ctrl-C:
 * an interrupted bench must not leave a PostgreSQL or a worker holding its ports.
 */
export function cleanupsOnExit(logger: Logger): Cleanups {
  const steps: Array<() => Promise<unknown>> = [];
  const run = async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const step of steps.splice(0).reverse()) await step().catch((error) => logger.warn({ err: String(error) }, 'cleanup failed'));
  };
  const onSignal = () => void run().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { push: (step) => void steps.push(step), run };
}
