import { afterAll, beforeAll, expect, it } from 'vitest';
import { SourceBusyError, SourceLock, SourceLockLostError } from '../../src/services/source-lock.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

it('lets one importer of a source work at a time, and frees the lock when the work ends', async () => {
  const lock = new SourceLock(db.pool);
  let release!: () => void;
  const holding = lock.withLock('shop', () => new Promise<void>((resolve) => (release = resolve)));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await expect(lock.withLock('shop', async () => 'second')).rejects.toBeInstanceOf(SourceBusyError);
  expect(await lock.withLock('other-source', async () => 'other')).toBe('other');
  release();
  await holding;
  expect(await lock.withLock('shop', async () => 'after')).toBe('after');
});

it('a broken lock connection (PostgreSQL restarting) tells the work, crashes nothing, and frees the source', async () => {
  const lock = new SourceLock(db.pool);
  const seen = await lock.withLock('shop', async (lost) => {
    // The server ends the connection that holds the lock, as a restart would.
    await db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()");
    for (let i = 0; i < 50 && !lost.aborted; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    return lost.reason;
  });
  expect(seen).toBeInstanceOf(SourceLockLostError);
  // The dead connection was not put back in the pool, and another importer may take the source.
  expect(await lock.withLock('shop', async () => 'again')).toBe('again');
});
