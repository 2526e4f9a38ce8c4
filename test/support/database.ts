import crypto from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import { ensureDatabase } from '../../src/dev/embedded-postgres.js';
import { DemoData, type DemoDataOptions } from '../../src/services/demo-data.js';
import { truthRowsSql } from './truth.js';

export const testLogger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database cloned from the template: each test file gets its own. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `dj_test_${crypto.randomBytes(5).toString('hex')}`;
  await ensureDatabase(adminUrl, name, inject('templateDatabase'));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = createPool(url.toString(), testLogger, 20);
  return {
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.end();
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export const SMALL_DEMO: DemoDataOptions = {
  customers: 40,
  days: 10,
  ordersPerCustomerPerDay: 3,
  endDate: '2026-11-10',
  reset: true,
};

export async function seedDemo(pool: Pool, options: Partial<DemoDataOptions> = {}) {
  return new DemoData(pool).seed({ ...SMALL_DEMO, ...options });
}

export async function truthRows(pool: Pool, customerIds: number[], from: string, to: string) {
  const { rows } = await pool.query(`${truthRowsSql('c.id = ANY($3::bigint[])')} ORDER BY 1, 2`, [from, to, customerIds]);
  return rows as Array<{ customer_id: number; report_date: string; currency: string; order_count: number; revenue_cents: number }>;
}

export async function reportRows(pool: Pool, customerIds: number[], from: string, to: string) {
  const { rows } = await pool.query(
    `SELECT customer_id, report_date::text AS report_date, currency, order_count, revenue_cents
       FROM daily_reports WHERE customer_id = ANY($1::bigint[]) AND report_date BETWEEN $2 AND $3 ORDER BY 1, 2`,
    [customerIds, from, to],
  );
  return rows as Awaited<ReturnType<typeof truthRows>>;
}
