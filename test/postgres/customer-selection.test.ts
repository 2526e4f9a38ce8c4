import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerSelection } from '../../src/services/customer-selection.js';
import { createTestDatabase, seedDemo, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let selection: CustomerSelection;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemo(db.pool, { customers: 40 });
  selection = new CustomerSelection(db.pool);
});
afterAll(() => db.drop());

describe('CustomerSelection', () => {
  it('reports unknown and inactive ids by id, in order', async () => {
    // Customer 17 and 34 are inactive in the demo data (every 17th).
    expect(await selection.findUnavailable([1, 17, 999, 2])).toEqual([
      { customerId: 17, reason: 'inactive' },
      { customerId: 999, reason: 'unknown' },
    ]);
    expect(await selection.findUnavailable([1, 2, 3])).toEqual([]);
  });

  it('slices all active customers into id ranges, page by page, covering each exactly once', async () => {
    const covered: number[] = [];
    let afterId = 0;
    let pages = 0;
    for (;;) {
      const plan = await selection.planActiveBatches(afterId, 5, 3);
      pages++;
      for (const batch of plan.batches) {
        if (!('firstId' in batch)) throw new Error('expected ranges');
        const { rows } = await db.pool.query('SELECT id FROM customers WHERE active AND id BETWEEN $1 AND $2 ORDER BY id', [batch.firstId, batch.lastId]);
        expect(rows.length).toBeLessThanOrEqual(5);
        covered.push(...rows.map((r) => Number(r.id)));
      }
      if (plan.nextAfterId === null) break;
      afterId = plan.nextAfterId;
    }
    const { rows } = await db.pool.query('SELECT id FROM customers WHERE active ORDER BY id');
    expect(covered).toEqual(rows.map((r) => Number(r.id)));
    expect(covered).toHaveLength(38);
    expect(pages).toBe(3); // 38 customers, 15 per page
  });
});
