import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoOrders, type ShopDataOptions } from '../../src/dev/shop/demo-orders.js';
import { OrderStore } from '../../src/dev/shop/order-store.js';
import { createTestDatabase, seedDemo, type TestDatabase } from '../support/database.js';

function shopOrders(options: ShopDataOptions) {
  const store = new OrderStore();
  loadDemoOrders(options, store);
  store.finishLoading();
  return Array.from({ length: store.count }, (_, slot) => store.toApi(slot + 1));
}

describe("the shop's demo orders", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  // Importing the shop's orders must give the order set `npm run seed` inserts: same ids, same fields.
  it.each([
    { customers: 40, days: 10, ordersPerCustomerPerDay: 3, endDate: '2026-11-10' },
    { customers: 700, days: 30, ordersPerCustomerPerDay: 2.5, endDate: '2026-03-29' },
    { customers: 200, days: 1, ordersPerCustomerPerDay: 50, endDate: '2026-11-10' },
  ])('are the orders DemoData.seed inserts for the same options: %j', async (options) => {
    const seeded = await seedDemo(db.pool, { ...options, reset: true });
    const { rows } = await db.pool.query<{ id: string; customer_id: string; currency: string; amount_cents: string; sku: string; created_at: Date }>(
      'SELECT id, customer_id, currency, amount_cents, sku, created_at FROM orders ORDER BY id',
    );
    const orders = shopOrders(options);
    expect(orders).toHaveLength(seeded.orders);
    const fromDatabase = rows.map((row) => ({
      id: Number(row.id),
      customer_id: Number(row.customer_id),
      currency: row.currency,
      amount: (Number(row.amount_cents) / 100).toFixed(2),
      sku: row.sku,
      created_at: row.created_at.toISOString(),
      updated_at: row.created_at.toISOString(),
      status: 'placed',
    }));
    expect(orders).toEqual(fromDatabase);
  });

  it('generates a large data set quickly (the benchmark uses 1,000,000 orders; npm test 100,000)', () => {
    const started = performance.now();
    const store = new OrderStore();
    const count = loadDemoOrders({ customers: 3700, days: 30, ordersPerCustomerPerDay: 1, endDate: '2026-11-10' }, store);
    store.finishLoading();
    const generatedMs = performance.now() - started;
    const pageStarted = performance.now();
    const page = store.page(Date.parse('2026-11-01T00:00:00Z'), undefined, 500);
    const orders = Array.from(page.ids, (id) => store.toApi(id));
    const pageMs = performance.now() - pageStarted;
    console.log(`shop data: ${count} orders generated and indexed in ${generatedMs.toFixed(0)} ms; a 500-order page in ${pageMs.toFixed(2)} ms`);
    expect(count).toBeGreaterThan(90_000);
    expect(orders).toHaveLength(500);
    expect(orders[0]!.updated_at >= '2026-11-01T00:00:00.000Z').toBe(true);
  });
});
