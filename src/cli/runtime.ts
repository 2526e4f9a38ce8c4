import type { Logger } from 'pino';
import { loadConfig, ConfigError, type Config } from '../config.js';
import { createLogger } from '../logger.js';
import { EXIT_CODES } from './exit-codes.js';
import { UsageError } from './flags.js';

/** Loads config and a logger for an entry point; a bad environment is reported once, then exit 2. */
export function bootstrap(name: string, overrides: Partial<Record<keyof Config, string>> = {}): { config: Config; logger: Logger } {
  try {
    const config = loadConfig({ ...process.env, ...overrides });
    return { config, logger: createLogger(config, name) };
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
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(EXIT_CODES.usage);
    }
    const debug = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
    process.stderr.write(`error: ${debug && error instanceof Error ? error.stack : (error as Error).message ?? String(error)}\n`);
    process.exit(EXIT_CODES.failed);
  });
}
