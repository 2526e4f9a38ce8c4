import pg from 'pg';
import { shippedMigrations } from '../db/migrate.js';
import { displayUrl, errorText, withTimeout, type CheckResult } from './check-result.js';

export interface MigrationState {
  /** Shipped migrations the database has recorded, oldest first. */
  applied: string[];
  /** Shipped migrations it has not: `npm run migrate` applies them. */
  pending: string[];
  /** Recorded migrations this release does not ship (a newer release migrated the database?). */
  unknown: string[];
}

/** Compares node-pg-migrate's record (`pgmigrations`) with the files in migrations/. */
export async function migrationState(db: Pick<pg.ClientBase, 'query'>): Promise<MigrationState> {
  const { rows: table } = await db.query<{ exists: boolean }>(`SELECT to_regclass('pgmigrations') IS NOT NULL AS exists`);
  const recorded = table[0]?.exists ? (await db.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY run_on, id')).rows.map((row) => row.name) : [];
  const shipped = shippedMigrations();
  const done = new Set(recorded);
  return {
    applied: shipped.filter((name) => done.has(name)),
    pending: shipped.filter((name) => !done.has(name)),
    unknown: recorded.filter((name) => !shipped.includes(name)),
  };
}

/** PostgreSQL reachable (one connection of its own, within `timeoutMs`) and every shipped migration applied. */
export async function checkPostgres(databaseUrl: string, timeoutMs: number, fix: string): Promise<CheckResult> {
  const part = 'PostgreSQL';
  const where = displayUrl(databaseUrl).replace(/^postgres(ql)?:\/\//, '');
  const client = new pg.Client({
    connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: 'durable-jobs doctor',
  });
  // A connection the server ends while we wait (a restart) is an 'error' event: without a listener it would end the process.
  client.on('error', () => undefined);
  try {
    await withTimeout(timeoutMs, `PostgreSQL at ${where}`, client.connect());
  } catch (error) {
    void client.end().catch(() => undefined);
    return { part, status: 'fail', detail: `cannot connect to ${where} (${errorText(error)}); ${fix}` };
  }
  try {
    const state = await withTimeout(timeoutMs, `PostgreSQL at ${where}`, migrationState(client));
    const total = state.applied.length + state.pending.length;
    if (state.pending.length > 0) {
      return {
        part, status: 'fail',
        detail: `${where}: ${state.pending.length} of ${total} migrations not applied: ${state.pending.join(', ')} (apply them with: npm run migrate)`,
      };
    }
    if (state.unknown.length > 0) {
      return {
        part, status: 'warn',
        detail: `${where}: all ${total} migrations applied, and ${state.unknown.length} this release does not ship: ${state.unknown.join(', ')} (was it migrated by a newer release?)`,
      };
    }
    return { part, status: 'ok', detail: `${where}: all ${total} migrations applied` };
  } catch (error) {
    return { part, status: 'fail', detail: `${where} connected, but reading pgmigrations failed (${errorText(error)})` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
