import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

// migrations/ sits at the project root: two levels up from src/db/, three from the compiled build/src/db/.
const migrationsDir = ['../../migrations', '../../../migrations']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  .find((dir) => fs.existsSync(dir))!;

const LOCK_WAIT_MS = 60_000;

/** The migrations this release ships, oldest first, named as node-pg-migrate records them in pgmigrations (file name without extension). */
export function shippedMigrations(): string[] {
  return fs.readdirSync(migrationsDir).filter((file) => file.endsWith('.sql')).map((file) => file.slice(0, -'.sql'.length)).sort();
}

/**
 * Applies pending migrations (numbered SQL files, one transaction each, recorded in
 * pgmigrations). Processes starting together (a worker, the admin page, npm start) all
 * migrate: the runner's advisory lock lets one work and fails the others at once, so they
 * wait for it and try again (then usually find nothing left to do).
 */
export async function migrate(databaseUrl: string, logger: Logger): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return await migrateOnce(databaseUrl, logger);
    } catch (error) {
      if (!/Another migration is already running/.test((error as Error).message) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function migrateOnce(databaseUrl: string, logger: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    logger: { debug: () => undefined, info: () => undefined, warn: (m: string) => logger.warn(m), error: (m: string) => logger.error(m) },
  });
  if (applied.length > 0) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
}
