import crypto from 'node:crypto';
import { inTransaction, type Pool } from '../db/pool.js';

/** How long a failed attempt counts against its account. */
export const ACCOUNT_WINDOW_MINUTES = 15;

export interface SignInAttempt {
  /** False: the account had too many failed attempts in the window; nothing was checked. */
  allowed: boolean;
  /** The password was right: the attempt no longer counts. */
  succeeded(): Promise<void>;
  /** The password was wrong: the attempt counts for the window. */
  failed(): Promise<void>;
}

/**
 * Password guesses per account (lower-cased email), whatever the client address: the per-client
 * rate limit alone lets a botnet, or a client behind rotating addresses, try an account without
 * end. Kept in PostgreSQL so every admin process shares the count. An unknown email is counted
 * exactly like a known one, so being throttled says nothing about whether an account exists.
 */
export class SignInThrottle {
  constructor(
    private readonly pool: Pool,
    private readonly maxFailures: number,
  ) {}

  /**
   * Takes a slot before the password is checked, so parallel guesses cannot all pass the count
   * before any of them is recorded: under a per-account lock, the count (which includes attempts
   * still being checked) and the new row are one short transaction; the password check is not.
   */
  async begin(email: string): Promise<SignInAttempt> {
    const account = accountKey(email);
    const { id, earlier } = await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`admin_sign_in_attempts:${account}`]);
      const { rows: counted } = await client.query<{ earlier: number }>(
        'SELECT count(*)::int AS earlier FROM admin_sign_in_attempts WHERE account_sha256 = $1 AND at > now() - make_interval(mins => $2)',
        [account, ACCOUNT_WINDOW_MINUTES],
      );
      const { rows: inserted } = await client.query<{ id: number }>('INSERT INTO admin_sign_in_attempts (account_sha256) VALUES ($1) RETURNING id', [account]);
      return { id: inserted[0]!.id, earlier: counted[0]!.earlier };
    });
    const forget = async () => {
      await this.pool.query('DELETE FROM admin_sign_in_attempts WHERE id = $1', [id]);
    };
    if (earlier >= this.maxFailures) {
      // A refused attempt checked nothing: it does not extend the lock-out.
      await forget();
      return { allowed: false, succeeded: forget, failed: forget };
    }
    return {
      allowed: true,
      succeeded: async () => {
        await forget();
        // Opportunistic clean-up keeps the table small without a scheduled job.
        await this.pool.query('DELETE FROM admin_sign_in_attempts WHERE at < now() - make_interval(mins => $1)', [ACCOUNT_WINDOW_MINUTES]);
      },
      failed: async () => undefined,
    };
  }
}

function accountKey(email: string): string {
  return crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}
