import type { Logger } from 'pino';
import { loadConfig, ConfigError, type Config } from '../config.js';
import { createLogger } from '../logger.js';

/** Loads config and a logger for an entry point; a bad environment is reported once, then exit 2. */
export function bootstrap(name: string, overrides: Partial<Record<keyof Config, string>> = {}): { config: Config; logger: Logger } {
  try {
    const config = loadConfig({ ...process.env, ...overrides });
    return { config, logger: createLogger(config, name) };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Runs an entry point's main, printing an unexpected error as one line (stack with LOG_LEVEL=debug). */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const debug = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
    process.stderr.write(`error: ${debug && error instanceof Error ? error.stack : (error as Error).message ?? String(error)}\n`);
    process.exit(1);
  });
}
