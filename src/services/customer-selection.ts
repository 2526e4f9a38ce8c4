import type { Pool } from '../db/pool.js';
import type { CustomerBatch } from '../contracts.js';

export interface UnavailableCustomer {
  customerId: number;
  reason: 'unknown' | 'inactive';
}

export interface BatchPlan {
  batches: CustomerBatch[];
  /** Where the next page starts, or null when every active customer is planned. */
  nextAfterId: number | null;
  /** Active customers from this page on, this page included: for progress ("4,800/10,000"). */
  remainingCustomers: number;
}

/** Decides which customers a run covers and slices them into batches. */
export class CustomerSelection {
  constructor(private readonly pool: Pool) {}

  /** Explicit ids that cannot be run, each with why: a run never drops an id silently. */
  async findUnavailable(customerIds: number[]): Promise<UnavailableCustomer[]> {
    const { rows } = await this.pool.query<{ id: number; active: boolean | null }>(
      `SELECT wanted.id, c.active
         FROM unnest($1::bigint[]) AS wanted(id)
         LEFT JOIN customers c ON c.id = wanted.id
        WHERE c.active IS NOT TRUE
        ORDER BY wanted.id`,
      [customerIds],
    );
    return rows.map((row) => ({ customerId: row.id, reason: row.active === null ? 'unknown' : 'inactive' }));
  }

  /** Active customers in an id range (and in `timeZones`, if given): expands a failed range batch back into ids. */
  async activeIdsInRange(firstId: number, lastId: number, timeZones?: string[]): Promise<number[]> {
    const { rows } = await this.pool.query<{ id: number }>(
      'SELECT id FROM customers WHERE active AND id BETWEEN $1 AND $2 AND ($3::text[] IS NULL OR time_zone = ANY($3::text[])) ORDER BY id',
      [firstId, lastId, timeZones ?? null],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Plans the next page of batches over all active customers (or those in `timeZones`) as id
   * ranges, so a page of 100 batches of 500 customers stays a few kilobytes in the workflow
   * history. A range batch of some zones carries them: its range may hold other customers too.
   */
  async planActiveBatches(afterId: number, batchSize: number, maxBatches: number, timeZones?: string[]): Promise<BatchPlan> {
    const zones = timeZones ?? null;
    const { rows } = await this.pool.query<{ first_id: number; last_id: number; size: number; remaining: number }>(
      `SELECT min(id) AS first_id, max(id) AS last_id, count(*)::int AS size,
              (SELECT count(*)::int FROM customers WHERE active AND id > $1 AND ($4::text[] IS NULL OR time_zone = ANY($4::text[]))) AS remaining
         FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $2 AS slice
                 FROM customers
                WHERE active AND id > $1 AND ($4::text[] IS NULL OR time_zone = ANY($4::text[]))
                ORDER BY id
                LIMIT $2::bigint * $3::bigint) page
        GROUP BY slice
        ORDER BY slice`,
      [afterId, batchSize, maxBatches, zones],
    );
    const batches: CustomerBatch[] = rows.map((row) => (zones ? { firstId: row.first_id, lastId: row.last_id, timeZones: zones } : { firstId: row.first_id, lastId: row.last_id }));
    const full = rows.length === maxBatches && rows[rows.length - 1]?.size === batchSize;
    return { batches, nextAfterId: full ? rows[rows.length - 1]!.last_id : null, remainingCustomers: rows[0]?.remaining ?? 0 };
  }
}
