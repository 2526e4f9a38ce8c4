import pg from 'pg';
import type { Logger } from 'pino';

// DATE columns stay 'YYYY-MM-DD' strings: a JS Date would shift them by the process time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
// bigint columns hold ids and cents, far below 2^53: plain numbers keep results JSON-safe.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

export function createPool(connectionString: string, logger: Logger, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: 'durable-jobs' });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle PostgreSQL connection lost'));
  return pool;
}

/**
 * Runs `work` in one transaction on one client; rolls back on any error. With `rollback`, it
 * rolls back after `work` too: a dry run that makes its writes to count them, then undoes them.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: { rollback?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  // A checked-out client has no error listener of the pool's: without this one, the server
  // going away mid-transaction would crash the process instead of failing the query.
  const onError = () => undefined;
  client.on('error', onError);
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query(options.rollback ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    failure = error as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onError);
    // After a failure the connection may be broken: let the pool discard it rather than reuse it.
    client.release(failure);
  }
}
