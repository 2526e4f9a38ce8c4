import type { Pool } from '../db/pool.js';

export interface CustomerSummary {
  id: number;
  name: string;
  email: string;
  timeZone: string;
  currency: string;
  active: boolean;
}

export interface CustomerPage {
  customers: CustomerSummary[];
  total: number;
  page: number;
  pageSize: number;
}

const COLUMNS = `id, name, email, time_zone AS "timeZone", currency, active`;

/** Finds customers for people: by id, or by a piece of the name or email. */
export class CustomerDirectory {
  constructor(private readonly pool: Pool) {}

  /**
   * Searches by exact id (when the text is a number) or case-insensitive substring of name
   * or email. The text is a bound parameter and LIKE wildcards in it are escaped, so
   * `%` or `'; DROP …` search for those characters literally.
   */
  async search(text: string, page: number, pageSize: number): Promise<CustomerPage> {
    const query = text.trim();
    // PostgreSQL text cannot hold NUL, so no name or email contains one; binding it would fail the request.
    if (query.includes('\u0000')) return { customers: [], total: 0, page, pageSize };
    const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const id = /^\d{1,15}$/.test(query) ? Number(query) : null;
    const { rows } = await this.pool.query<CustomerSummary & { total: number }>(
      `SELECT ${COLUMNS}, count(*) OVER ()::int AS total
         FROM customers
        WHERE $1 = '' OR id = $2::bigint OR name ILIKE $3 OR email ILIKE $3
        ORDER BY id
        LIMIT $4 OFFSET $5`,
      [query, id, pattern, pageSize, (page - 1) * pageSize],
    );
    const total = rows[0]?.total ?? (page > 1 ? await this.count(query, id, pattern) : 0);
    return { customers: rows.map(({ total: _t, ...customer }) => customer), total, page, pageSize };
  }

  async find(id: number): Promise<CustomerSummary | null> {
    const { rows } = await this.pool.query<CustomerSummary>(`SELECT ${COLUMNS} FROM customers WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  // A page past the end has no rows to carry the window count.
  private async count(query: string, id: number | null, pattern: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM customers WHERE $1 = '' OR id = $2::bigint OR name ILIKE $3 OR email ILIKE $3`,
      [query, id, pattern],
    );
    return rows[0]?.n ?? 0;
  }
}
