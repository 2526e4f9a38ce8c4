import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import { ensureDatabase } from '../../src/dev/embedded-postgres.js';
import { ReportRegeneration } from '../../src/services/report-regeneration.js';
import { reportRows, seedDemo, testLogger, truthRows } from '../support/database.js';

// The template every other test clones is migrated to the end; this file needs a database
// stopped just before the import migration, seeded the way the previous release seeded it.
const MIGRATION = '20261210000000000_order_import';
const migrationsDir = path.resolve('migrations');
const before = fs.readdirSync(migrationsDir).filter((file) => file.endsWith('.sql') && file < `${MIGRATION}.sql`).length;
/** Migrations that come after this one, rolled back before it. */
const after = fs.readdirSync(migrationsDir).filter((file) => file.endsWith('.sql') && file > `${MIGRATION}.sql`).length;

let url: string;
let name: string;
let pool: Pool;

const migrateTo = (direction: 'up' | 'down', count: number) =>
  runner({ databaseUrl: url, dir: migrationsDir, direction, count, migrationsTable: 'pgmigrations', checkOrder: true, log: () => undefined });

beforeAll(async () => {
  const adminUrl = inject('postgresAdminUrl');
  name = `dj_test_migration_${crypto.randomBytes(4).toString('hex')}`;
  await ensureDatabase(adminUrl, name);
  const target = new URL(adminUrl);
  target.pathname = `/${name}`;
  url = target.toString();
  pool = createPool(url, testLogger, 4);
});
afterAll(async () => {
  await pool.end();
  const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
});

const allIds = Array.from({ length: 40 }, (_, i) => i + 1);
const ordersSnapshot = async () =>
  (await pool.query(`SELECT id, customer_id, currency, amount_cents, sku, created_at FROM orders ORDER BY id`)).rows;
const perCustomer = async () =>
  (await pool.query(`SELECT customer_id, count(*)::int AS n, sum(amount_cents)::bigint AS cents FROM orders GROUP BY 1 ORDER BY 1`)).rows;

describe('migration 20261210000000000_order_import', () => {
  it("keeps today's orders: every one placed, updated when created, and counted by the reports as before", async () => {
    await migrateTo('up', before);
    await seedDemo(pool);
    const ordersBefore = await ordersSnapshot();
    const perCustomerBefore = await perCustomer();
    expect(ordersBefore.length).toBeGreaterThan(500);

    await migrateTo('up', Infinity);
    expect(await ordersSnapshot()).toEqual(ordersBefore);
    const { rows } = await pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'placed' AND updated_at = created_at)::int AS kept FROM orders`);
    expect(rows[0]).toEqual({ n: ordersBefore.length, kept: ordersBefore.length });

    // The truth (placed orders only) over every day with orders still counts every order.
    const truth = await truthRows(pool, allIds, '2026-10-30', '2026-11-12');
    const truthPerCustomer = allIds
      .map((id) => truth.filter((row) => row.customer_id === id))
      .map((days) => ({ customer_id: days[0]!.customer_id, n: days.reduce((s, d) => s + d.order_count, 0), cents: days.reduce((s, d) => s + d.revenue_cents, 0) }))
      .filter((row) => row.n > 0);
    expect(truthPerCustomer).toEqual(perCustomerBefore);
    await new ReportRegeneration(pool).regenerateBatch({ batch: { customerIds: allIds }, from: '2026-10-30', to: '2026-11-12', workflowId: 'after-migration', dryRun: false });
    expect(await reportRows(pool, allIds, '2026-10-30', '2026-11-12')).toEqual(truth);
  });

  it('gives an insert that names no updated_at its created_at (the seed, the bench, the previous release), and refuses an unknown status', async () => {
    const { rows } = await pool.query(
      `INSERT INTO orders (customer_id, currency, amount_cents, sku, created_at) SELECT id, currency, 100, 'SKU-X', '2026-11-05T01:02:03Z' FROM customers WHERE id = 1
       RETURNING updated_at = created_at AS same, status`,
    );
    expect(rows).toEqual([{ same: true, status: 'placed' }]);
    await expect(pool.query(`UPDATE orders SET status = 'refunded' WHERE id = (SELECT min(id) FROM orders)`)).rejects.toThrow(/orders_status/);
  });

  it('goes down and up again, keeping the placed orders', async () => {
    await pool.query(`UPDATE orders SET status = 'cancelled' WHERE id = (SELECT min(id) FROM orders)`);
    const placed = (await pool.query(`SELECT id, customer_id, currency, amount_cents, sku, created_at FROM orders WHERE status = 'placed' ORDER BY id`)).rows;
    // Down to just before this migration (later ones are rolled back first).
    await migrateTo('down', after + 1);
    expect(await ordersSnapshot()).toEqual(placed);
    await migrateTo('up', Infinity);
    expect(await ordersSnapshot()).toEqual(placed);
  });
});
