import type { Pool } from '../db/pool.js';

/** Another import of the same source holds the lock: this one waits for its turn (retryable). */
export class SourceBusyError extends Error {
  override name = 'SourceBusyError';
  constructor(readonly source: string) {
    super(`another import of '${source}' is running; this one waits for it`);
  }
}

/** The lock's connection broke (PostgreSQL restarted, the network dropped): another importer may now run. */
export class SourceLockLostError extends Error {
  override name = 'SourceLockLostError';
}

/**
 * One importer per source at a time, across runs, schedules and workers: a session-level
 * PostgreSQL advisory lock, held on a connection of its own for as long as the work runs.
 * A worker that dies drops its connection and with it the lock, so nothing is ever stuck
 * behind a dead holder (a lock row with a lease would need a timeout to guess).
 *
 * If that connection breaks while the work runs, the lock is gone: `lost` fires, and the work
 * stops at its next safe point (between pages), to retry under a new lock. Each page is its
 * own transaction and idempotent, so a page written meanwhile by another importer is harmless.
 */
export class SourceLock {
  constructor(private readonly pool: Pool) {}

  async withLock<T>(source: string, work: (lost: AbortSignal) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const lost = new AbortController();
    // Without a listener, an error on this checked-out connection (the server going away)
    // would be an unhandled 'error' event and end the worker process.
    const onError = (error: Error) => lost.abort(new SourceLockLostError(`the connection holding the import lock of '${source}' broke (${error.message}); the import stops and retries`));
    client.on('error', onError);
    // A connection that failed is destroyed, never pooled: it might still hold the lock.
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext('orders-import:' || $1)) AS locked", [source]);
      if (!rows[0]!.locked) throw new SourceBusyError(source);
      try {
        return await work(lost.signal);
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('orders-import:' || $1))", [source]).catch((error: Error) => {
          broken = error;
        });
      }
    } finally {
      client.release(broken ?? (lost.signal.aborted ? (lost.signal.reason as Error) : undefined));
      client.off('error', onError);
    }
  }
}
