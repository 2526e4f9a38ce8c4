import crypto from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Pool } from '../db/pool.js';

export const ADMIN_ROLES = ['operator', 'viewer'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export interface AdminUser {
  id: number;
  email: string;
  role: AdminRole;
  mustChangePassword: boolean;
}

export const MIN_PASSWORD_LENGTH = 12;

export class AdminUserError extends Error {
  override name = 'AdminUserError';
}

// Verifying against a real hash when the email is unknown keeps "no such user" and
// "wrong password" equally slow, so response times do not reveal which emails exist.
const DUMMY_HASH = hash(crypto.randomBytes(16).toString('hex'));

/** The people who may use the admin page, with argon2id password hashes. */
export class AdminUsers {
  constructor(private readonly pool: Pool) {}

  /**
   * Creates a user. Without a password, generates a one-time password (returned once,
   * stored only as a hash) that must be changed at the first sign-in.
   */
  async create(request: { email: string; role: AdminRole; password?: string }): Promise<{ user: AdminUser; oneTimePassword?: string }> {
    const email = normalizeEmail(request.email);
    if (!ADMIN_ROLES.includes(request.role)) throw new AdminUserError(`role must be one of ${ADMIN_ROLES.join(', ')}, got '${request.role}'`);
    const oneTimePassword = request.password === undefined ? generatePassword() : undefined;
    const password = request.password ?? oneTimePassword!;
    checkPasswordRule(password);
    const { rows } = await this.pool.query<AdminUser>(
      `INSERT INTO admin_users (email, role, password_hash, must_change_password)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (lower(email)) DO NOTHING
       RETURNING id, email, role, must_change_password AS "mustChangePassword"`,
      [email, request.role, await hash(password), oneTimePassword !== undefined],
    );
    if (!rows[0]) throw new AdminUserError(`a user with email ${email} already exists`);
    return { user: rows[0], ...(oneTimePassword ? { oneTimePassword } : {}) };
  }

  /** The user if the email and password match, else null (never says which part was wrong). */
  async authenticate(email: string, password: string): Promise<AdminUser | null> {
    // PostgreSQL text cannot hold NUL, so no stored email contains one; binding it would fail the request.
    const { rows } = email.includes('\u0000')
      ? { rows: [] }
      : await this.pool.query<AdminUser & { passwordHash: string }>(
          `SELECT id, email, role, must_change_password AS "mustChangePassword", password_hash AS "passwordHash"
             FROM admin_users WHERE lower(email) = lower($1)`,
          [email.trim()],
        );
    const row = rows[0];
    const ok = await verify(row?.passwordHash ?? (await DUMMY_HASH), password).catch(() => false);
    if (!row || !ok) return null;
    const { passwordHash: _hash, ...user } = row;
    return user;
  }

  /**
   * Replaces a password, but only for someone who proves the current one (after a one-time
   * password, that one): a session cookie alone, say a stolen one, cannot take the account over.
   * Returns false, changing nothing, when the current password is wrong.
   */
  async changePassword(userId: number, currentPassword: string, newPassword: string): Promise<boolean> {
    checkPasswordRule(newPassword);
    const { rows } = await this.pool.query<{ passwordHash: string }>('SELECT password_hash AS "passwordHash" FROM admin_users WHERE id = $1', [userId]);
    const ok = await verify(rows[0]?.passwordHash ?? (await DUMMY_HASH), currentPassword).catch(() => false);
    if (!rows[0] || !ok) return false;
    await this.pool.query('UPDATE admin_users SET password_hash = $2, must_change_password = false WHERE id = $1', [userId, await hash(newPassword)]);
    return true;
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM admin_users');
    return rows[0]?.n ?? 0;
  }

  /**
   * The embedded default's first user: if nobody can sign in yet, an operator
   * `admin@localhost` with a one-time password. Returns the password, or null if users exist.
   * The advisory lock keeps two processes starting at once from both creating one.
   */
  async createFirstAdminIfNone(email = 'admin@localhost'): Promise<string | null> {
    const client = await this.pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock(hashtext('admin_users:first'))");
      if ((await this.count()) > 0) return null;
      const { oneTimePassword } = await this.create({ email, role: 'operator' });
      return oneTimePassword ?? null;
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext('admin_users:first'))").catch(() => undefined);
      client.release();
    }
  }
}

function normalizeEmail(value: string): string {
  const email = value.trim();
  // Deliberately loose: one @, something on each side, no spaces. `admin@localhost` is valid.
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) throw new AdminUserError(`'${value}' is not an email address`);
  return email;
}

export function checkPasswordRule(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AdminUserError(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
}

/** 20 characters from an unambiguous alphabet (~115 bits). */
function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(crypto.randomBytes(20), (byte) => alphabet[byte % alphabet.length]).join('');
}
