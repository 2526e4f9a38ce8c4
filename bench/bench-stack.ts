import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ensureDatabase, postgresServer } from '../src/dev/embedded-postgres.js';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server.js';
import { migrate } from '../src/db/migrate.js';
import { loadTemporalSettings, type TemporalSettings } from '../src/temporal/connection-settings.js';

export interface BenchStackOptions {
  dataDir: string;
  /** Embedded PostgreSQL port, used unless DATABASE_URL is set. */
  postgresPort: number;
  /** Dev server port (UI on +1000), used unless TEMPORAL_ADDRESS (or a profile) is set. */
  temporalPort: number;
  /** The benchmark's own database on that server; never the application's. */
  database: string;
}

export interface BenchStack {
  /** URL of the benchmark database. */
  databaseUrl: string;
  /** URL of the server's `postgres` database, for CREATE/DROP DATABASE. */
  adminUrl: string;
  temporal: TemporalSettings;
  /** The dev server's process, when the bench started one (not with TEMPORAL_ADDRESS set, nor when it reused one already listening). */
  temporalPid?: number;
  stop(): Promise<void>;
}

/**
 * The benchmark's own infrastructure: an embedded PostgreSQL and a Temporal dev server on
 * ports of their own (so a bench never touches `npm start`'s or a test run's state), or the
 * servers named by DATABASE_URL / TEMPORAL_ADDRESS, with a separate database on them.
 */
export async function startBenchStack(options: BenchStackOptions, logger: Logger): Promise<BenchStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((error) => logger.warn({ err: String(error) }, 'stop failed'));
  };
  try {
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o755 });
    // The data directory is the bench's alone: keep it out of git without touching .gitignore.
    const ignore = path.join(options.dataDir, '.gitignore');
    if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, '*\n');

    const postgres = await postgresServer(options.dataDir, options.postgresPort, logger);
    stops.push(postgres.stop);
    const adminUrl = postgres.adminUrl;
    await ensureDatabase(adminUrl, options.database);
    const databaseUrl = new URL(adminUrl);
    databaseUrl.pathname = `/${options.database}`;
    await migrate(databaseUrl.toString(), logger);

    const temporal = loadTemporalSettings();
    let temporalPid: number | undefined;
    if (!temporal.remote) {
      const server = await startTemporalDevServer(
        { dataDir: path.resolve(options.dataDir), port: options.temporalPort, uiPort: options.temporalPort + 1000 },
        logger,
      );
      stops.push(server.stop);
      temporalPid = server.pid;
      temporal.address = server.address;
      temporal.connectionOptions = { ...temporal.connectionOptions, address: server.address };
    }
    return { databaseUrl: databaseUrl.toString(), adminUrl, temporal, ...(temporalPid !== undefined ? { temporalPid } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
