import type { Logger } from 'pino';
import { loadConfig, ConfigError, type Config } from '../config.js';
import { createLogger } from '../logger.js';
import { EXIT_CODES } from './exit-codes.js';
import { UsageError } from './flags.js';
import { shutdownTracing, startTracing } from '../observability/tracing.js';

/**
 * Loads config and a logger for an entry point; a bad environment is reported once, then exit 2.
 * With `tracing`, also starts OpenTelemetry tracing if OTEL_* ask for it (runMain flushes it).
 */
export function bootstrap(name: string, overrides: Partial<Record<keyof Config, string>> = {}, options: { tracing?: boolean } = {}): { config: Config; logger: Logger } {
  try {
    const config = loadConfig({ ...process.env, ...overrides });
    const logger = createLogger(config, name);
    if (options.tracing) startTracing(name, logger);
    return { config, logger };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_CODES.usage);
    }
    throw error;
  }
}

/**
 * Runs an entry point's main, which cleans up after itself (try/finally) and records its exit
 * code in process.exitCode. Only after it has settled: an error is printed as one line
 * (stack with LOG_LEVEL=debug) and exits 1, a UsageError exits 2.
 */
export function runMain(main: () => Promise<void>): void {
  // Spans still buffered go out before the process ends, whichever way main ended.
  const settled = main().then(shutdownTracing, async (error: unknown) => {
    await shutdownTracing();
    throw error;
  });
  settled.catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(EXIT_CODES.usage);
    }
    const debug = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
    process.stderr.write(`error: ${debug && error instanceof Error ? error.stack : (error as Error).message ?? String(error)}\n`);
    process.exit(EXIT_CODES.failed);
  });
}
