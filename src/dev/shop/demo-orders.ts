import { CURRENCIES } from '../../services/demo-data.js';
import { PgRandom } from './pg-random.js';
import type { OrderStore } from './order-store.js';

/** The shop's data set: a pure function of these, like DemoDataOptions (without `reset`). */
export interface ShopDataOptions {
  customers: number;
  days: number;
  ordersPerCustomerPerDay: number;
  /** Last day with orders, YYYY-MM-DD (UTC). */
  endDate: string;
}

/** Customer i's currency, by insertDemoCustomers' rule: CURRENCIES[1 + ((i / 7) % 4)] in SQL's 1-based arrays. */
export function demoCustomerCurrency(customerId: number): string {
  return CURRENCIES[Math.floor(customerId / 7) % CURRENCIES.length]!;
}

/**
 * Loads the orders DemoData.seed inserts for the same options, with the same ids, by drawing
 * PostgreSQL's random() from the same setseed(0.42) in the order DemoData's query draws them.
 * That order is its plan's: a customer's weight (one number, or two) is drawn when the nested
 * loop reaches the customer; an order's four numbers (amount: two, SKU, created_at) when the
 * Incremental Sort above the loop hands the order on, and that node hands on orders in
 * batches (see incrementalSortTiming). test/shop/demo-orders.test.ts compares the result with
 * PostgreSQL's field by field. Returns how many orders were loaded.
 */
export function loadDemoOrders(options: ShopDataOptions, store: OrderStore): number {
  const random = new PgRandom(0.42);
  const end = Date.parse(`${options.endDate}T00:00:00Z`) + 86_400_000;
  let customer = 0;
  let remaining = 0;
  const nextOrderOf = (): number => {
    while (remaining === 0) {
      if (customer === options.customers) return 0;
      customer++;
      // Same operations in the same order as the SQL, so the floating point rounds the same way.
      remaining = random.next() < 0.1 ? 0 : Math.floor(4 * options.ordersPerCustomerPerDay * options.days * Math.pow(random.next(), 3));
    }
    remaining--;
    return customer;
  };
  let loaded = 0;
  incrementalSortTiming(nextOrderOf, (customerId) => {
    const amountCents = 500 + Math.floor(random.next() * random.next() * 50_000);
    const skuDraw = random.next();
    const sku = `SKU-${String(1 + Math.floor(skuDraw * skuDraw * 40)).padStart(3, '0')}`;
    const secondsBack = Math.floor(random.next() * options.days * 86_400);
    store.load({ customerId, currency: demoCustomerCurrency(customerId), amountCents, sku, createdAt: end - secondsBack * 1000 });
    loaded++;
  });
  return loaded;
}

/**
 * When PostgreSQL's Incremental Sort (nodeIncrementalSort.c) reads its input and when it hands
 * rows on, for input already in order and a presorted key (here: the customer). It reads at
 * least 32 rows, then on to the end of the 32nd row's key group, and hands the batch on; a
 * batch over 64 rows instead hands on its earlier key groups, then reads the rest of the last
 * group and hands that on. `read` returns a row's key (0: no more rows); rows come out in the
 * order they went in, so only the interleaving of reads and `handOn`s matters here.
 */
function incrementalSortTiming(read: () => number, handOn: (key: number) => void): void {
  const MIN_GROUP_SIZE = 32;
  const MAX_FULL_SORT_GROUP_SIZE = 64;
  let carried = 0;
  for (;;) {
    const batch = carried ? [carried] : [];
    carried = 0;
    let pivot = 0;
    let done = false;
    let large = false;
    for (;;) {
      const key = read();
      if (key === 0) {
        done = true;
        break;
      }
      if (batch.length < MIN_GROUP_SIZE) {
        batch.push(key);
        if (batch.length === MIN_GROUP_SIZE) pivot = key;
      } else if (key === pivot) {
        batch.push(key);
      } else {
        carried = key;
        break;
      }
      if (batch.length > MAX_FULL_SORT_GROUP_SIZE) {
        large = true;
        break;
      }
    }
    if (large) {
      const lastGroupStart = batch.indexOf(pivot);
      for (let i = 0; i < lastGroupStart; i++) handOn(batch[i]!);
      let lastGroupSize = batch.length - lastGroupStart;
      for (;;) {
        const key = read();
        if (key === 0) done = true;
        else if (key === pivot) lastGroupSize++;
        else carried = key;
        if (key !== pivot) break;
      }
      for (let i = 0; i < lastGroupSize; i++) handOn(pivot);
    } else {
      for (const key of batch) handOn(key);
    }
    if (done) return;
  }
}
