import crypto from 'node:crypto';
import type { Pool } from '../db/pool.js';
import type { AdminUser } from './admin-users.js';

/**
 * Server-side sessions for the admin page. The cookie holds a random 256-bit token; the
 * table holds its SHA-256, so reading the table does not let anyone sign in as a user.
 * Signing out or expiry deletes the row, which ends the session everywhere at once.
 */
export class AdminSessions {
  constructor(
    private readonly pool: Pool,
    private readonly ttlHours: number,
  ) {}

  async create(userId: number): Promise<{ token: string; expiresAt: Date }> {
    const token = crypto.randomBytes(32).toString('base64url');
    const { rows } = await this.pool.query<{ expiresAt: Date }>(
      `INSERT INTO admin_sessions (token_sha256, user_id, expires_at)
       VALUES ($1, $2, now() + make_interval(hours => $3))
       RETURNING expires_at AS "expiresAt"`,
      [sha256(token), userId, this.ttlHours],
    );
    // Opportunistic clean-up keeps the table small without a scheduled job.
    await this.pool.query('DELETE FROM admin_sessions WHERE expires_at < now()');
    return { token, expiresAt: rows[0]!.expiresAt };
  }

  /** The signed-in user for a cookie token, or null when unknown or expired. */
  async userFor(token: string): Promise<AdminUser | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const { rows } = await this.pool.query<AdminUser>(
      `SELECT u.id, u.email, u.role, u.must_change_password AS "mustChangePassword"
         FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id
        WHERE s.token_sha256 = $1 AND s.expires_at > now()`,
      [sha256(token)],
    );
    return rows[0] ?? null;
  }

  async end(token: string): Promise<void> {
    await this.pool.query('DELETE FROM admin_sessions WHERE token_sha256 = $1', [sha256(token)]);
  }

  /** Ends every other session of a user, e.g. after a password change. */
  async endOthers(userId: number, keepToken: string): Promise<void> {
    await this.pool.query('DELETE FROM admin_sessions WHERE user_id = $1 AND token_sha256 <> $2', [userId, sha256(keepToken)]);
  }
}

const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex');
