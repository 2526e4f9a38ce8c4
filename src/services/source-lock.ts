import type { Pool } from '../db/pool.js';

/** Another import of the same source holds the lock: this one waits for its turn (retryable). */
export class SourceBusyError extends Error {
  override name = 'SourceBusyError';
  constructor(readonly source: string) {
    super(`another import of '${source}' is running; this one waits for it`);
  }
}

/**
 * One importer per source at a time, across runs, schedules and workers: a session-level
 * PostgreSQL advisory lock, held on a connection of its own for as long as the work runs.
 * A worker that dies drops its connection and with it the lock, so nothing is ever stuck
 * behind a dead holder (a lock row with a lease would need a timeout to guess).
 */
export class SourceLock {
  constructor(private readonly pool: Pool) {}

  async withLock<T>(source: string, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection that failed is destroyed, never pooled: it might still hold the lock.
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext('orders-import:' || $1)) AS locked", [source]);
      if (!rows[0]!.locked) throw new SourceBusyError(source);
      try {
        return await work();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('orders-import:' || $1))", [source]).catch((error: Error) => {
          broken = error;
        });
      }
    } finally {
      client.release(broken);
    }
  }
}
