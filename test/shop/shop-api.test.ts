import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShopApi, type ShopApi } from '../../src/dev/shop-api.js';
import { shopControlClient } from '../../src/dev/shop/controls.js';
import { malformedKind } from '../../src/dev/shop/faults.js';
import type { ApiOrder } from '../../src/dev/shop/order-store.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const UNLIMITED = { perSecond: 1_000_000, burst: 1_000_000 };
// One day of 200 customers' orders, whole seconds apart at most: many share a second.
const TIES = { customers: 200, days: 1, ordersPerCustomerPerDay: 50, endDate: '2026-11-10' };

interface Page {
  orders: ApiOrder[];
  next_cursor: string | null;
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'shop-api-'));
const byTime = (a: ApiOrder, b: ApiOrder) => a.updated_at.localeCompare(b.updated_at) || a.id - b.id;

async function get(shop: ShopApi, query: string, key = shop.apiKey) {
  const response = await fetch(`${shop.url}/orders${query}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Page & { error?: string } };
}

/** Every page from `query` on; returns the orders and the last cursor handed out. */
async function walk(shop: ShopApi, query: Record<string, string>) {
  const orders: ApiOrder[] = [];
  const pages: ApiOrder[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const params = new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) });
    const { status, body } = await get(shop, `?${params}`);
    expect(status, JSON.stringify(body)).toBe(200);
    orders.push(...body.orders);
    pages.push(body.orders);
    if (body.next_cursor === null) return { orders, pages, lastCursor: cursor };
    cursor = body.next_cursor;
  }
}

describe('shop API', () => {
  let dir: string;
  let shop: ShopApi;
  beforeAll(async () => {
    dir = tempDir();
    shop = await startShopApi({ dir, data: TIES, rateLimit: UNLIMITED, logger });
  });
  afterAll(async () => {
    await shop?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a missing or wrong key with 401 and a JSON error', async () => {
    const missing = await fetch(`${shop.url}/orders`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await missing.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    const wrong = await get(shop, '', 'not-the-key');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/wrong API key/);
  });

  it('answers a bad parameter with 400 naming the parameter and its rule', async () => {
    const cases: Array<[string, RegExp]> = [
      ['?limit=0', /limit must be a whole number from 1 to 1000/],
      ['?limit=1001', /limit must be a whole number from 1 to 1000/],
      ['?limit=ten', /limit .*got 'ten'/],
      ['?updated_since=2026-11-10', /updated_since must be an ISO-8601 instant with a zone/],
      ['?updated_since=2026-02-30T00:00:00Z', /updated_since/],
      ['?updated_since=2026-11-10T00:00:00+01:00', /%2B/],
      ['?cursor=bm9wZQ', /cursor .* is damaged/],
      ['?updatedSince=2026-11-10T00:00:00Z', /unknown parameter 'updatedSince'/],
      ['?limit=5&limit=6', /'limit' is given 2 times/],
    ];
    for (const [query, error] of cases) {
      const { status, body } = await get(shop, query);
      expect(status, query).toBe(400);
      expect(body.error, query).toMatch(error);
    }
    // A real cursor with one character changed is refused too, not followed somewhere else.
    const { body } = await get(shop, '?limit=5');
    const cursor = body.next_cursor!;
    const damaged = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    expect((await get(shop, `?cursor=${damaged}`)).status).toBe(400);
  });

  it('pages through every order exactly once in (updated_at, id) order, 500 by default', async () => {
    const expected = (await shop.snapshot()).sort(byTime);
    expect(expected.length).toBeGreaterThan(7000);
    const first = await get(shop, '');
    expect(first.body.orders).toHaveLength(500);
    const { orders } = await walk(shop, { limit: '997' });
    expect(orders).toEqual(expected);
    const last = await get(shop, `?limit=1000&updated_since=${expected.at(-1)!.updated_at}`);
    expect(last.body).toEqual({ orders: [expected.at(-1)], next_cursor: null });
  });

  it('breaks ties by id: a page boundary inside a run of orders with one updated_at loses and repeats nothing', async () => {
    const expected = (await shop.snapshot()).sort(byTime);
    const sizes = new Map<string, number>();
    for (const order of expected) sizes.set(order.updated_at, (sizes.get(order.updated_at) ?? 0) + 1);
    const [tied, size] = [...sizes].sort((a, b) => b[1] - a[1])[0]!;
    expect(size).toBeGreaterThanOrEqual(3);
    const start = expected.findIndex((order) => order.updated_at === tied);
    // Pages of 2 from the tie's start: the first page ends inside the tie.
    const { pages } = await walk(shop, { updated_since: tied, limit: '2' });
    expect(pages[0]!.map((order) => order.updated_at)).toEqual([tied, tied]);
    expect(pages[1]![0]!.updated_at).toBe(tied);
    expect(pages.flat()).toEqual(expected.slice(start));
  });

  it('takes updated_since as inclusive, in any zone offset, to the millisecond', async () => {
    const expected = (await shop.snapshot()).sort(byTime);
    const order = expected[Math.floor(expected.length / 2)]!;
    const since = new Date(order.updated_at);
    const later = expected.filter((other) => other.updated_at >= order.updated_at);
    const { body } = await get(shop, `?limit=1000&updated_since=${order.updated_at}`);
    expect(body.orders).toEqual(later.slice(0, 1000));
    expect(body.orders[0]!.updated_at).toBe(order.updated_at);
    const plusOne = new Date(since.getTime() + 3_600_000).toISOString().replace('Z', '+01:00');
    expect((await get(shop, `?limit=3&updated_since=${encodeURIComponent(plusOne)}`)).body.orders).toEqual(later.slice(0, 3));
    const justAfter = `${order.updated_at.slice(0, -1)}0001Z`;
    expect((await get(shop, `?limit=1&updated_since=${justAfter}`)).body.orders[0]!.updated_at > order.updated_at).toBe(true);
  });

  it('moves a corrected, cancelled or late order after every cursor, so a resumed walk sees it', async () => {
    const { orders, lastCursor } = await walk(shop, { limit: '1000' });
    const oldest = orders[0]!;
    const corrected = await shop.correctAmount(oldest.id, '12.34');
    const cancelled = await shop.cancel(orders[1]!.id);
    const late = await shop.addOrder({ customerId: 7, createdAt: '2026-11-09T12:00:00Z', amount: '5', sku: 'SKU-LATE' });
    expect(corrected.updated_at > orders.at(-1)!.updated_at).toBe(true);
    expect(cancelled.updated_at > corrected.updated_at).toBe(true);
    expect(late).toMatchObject({ id: orders.length + 1, customer_id: 7, currency: 'EUR', amount: '5.00', sku: 'SKU-LATE', created_at: '2026-11-09T12:00:00.000Z', status: 'placed' });
    // Resume from the last cursor: the last page again, then the three changes in the order they happened.
    const resumed = await walk(shop, { cursor: lastCursor!, limit: '1000' });
    expect(resumed.orders.slice(-3)).toEqual([
      { ...oldest, amount: '12.34', updated_at: corrected.updated_at },
      { ...orders[1]!, status: 'cancelled', updated_at: cancelled.updated_at },
      late,
    ]);
    await expect(shop.cancel(orders[1]!.id)).rejects.toThrow(/already cancelled/);
    await expect(shop.correctAmount(10_000_000, '1.00')).rejects.toThrow(/does not exist/);
    await expect(shop.addOrder({ customerId: 999, createdAt: '2026-11-09T12:00:00Z', amount: '5', sku: 'X' })).rejects.toThrow(/customerId must be one of the shop's customers, 1 to 200/);
    await expect(shop.correctAmount(1, '1.234')).rejects.toThrow(/up to 2 decimals/);
  });

  it('answers 429 with Retry-After in whole seconds over the rate limit', async () => {
    await shop.rateLimit({ perSecond: 0.5, burst: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await get(shop, '?limit=1'));
      expect(statuses.map((answer) => answer.status)).toEqual([200, 200, 429]);
      expect(statuses[2]!.headers.get('retry-after')).toBe('2');
      expect(statuses[2]!.body.error).toMatch(/rate limited: at most 0.5 requests a second/);
    } finally {
      await shop.reset();
    }
    expect((await get(shop, '?limit=1')).status).toBe(200);
  });

  it('fail5xx answers the next n requests with 500, 502, 503, then recovers', async () => {
    await shop.fail5xx(4);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(shop, '?limit=1')).status);
    expect(statuses).toEqual([500, 502, 503, 500, 200]);
  });

  it('slow delays every response', async () => {
    await shop.slow(300);
    const started = Date.now();
    expect((await get(shop, '?limit=1')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await shop.reset();
  });

  it('cutMidBody sends part of the body, then drops the connection', async () => {
    await shop.cutMidBody(1);
    const before = await shop.requestCounts();
    const response = await fetch(`${shop.url}/orders?limit=1000`, { headers: { authorization: `Bearer ${shop.apiKey}` } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect((await get(shop, '?limit=1')).status).toBe(200);
    expect((await shop.requestCounts()).cut).toBe(before.cut + 1);
  });

  it('malformed damages every k-th order (by id) in rotating ways, leaving the rest of the page valid', async () => {
    const truth = new Map((await shop.snapshot()).map((order) => [order.id, order]));
    await shop.malformed({ every: 3 });
    const { body } = await get(shop, '?limit=1000');
    await shop.reset();
    const seen = new Set<string>();
    for (const order of body.orders) {
      const valid = truth.get(order.id)!;
      const kind = malformedKind(order.id, 3);
      if (kind) seen.add(kind);
      if (kind === undefined) expect(order).toEqual(valid);
      if (kind === 'unknown-customer') expect(order).toEqual({ ...valid, customer_id: 201 });
      if (kind === 'wrong-currency') expect(order.currency).not.toBe(valid.currency);
      if (kind === 'negative-amount') expect(order).toEqual({ ...valid, amount: `-${valid.amount}` });
      if (kind === 'missing-field') expect(Object.keys(order)).not.toContain('amount');
    }
    expect(seen.size).toBe(4);
  });

  it('schemaBreak leaves a required field out of every order of every page until reset', async () => {
    await shop.schemaBreak('customer_id');
    const broken = await get(shop, '?limit=50');
    expect(broken.body.orders.every((order) => !('customer_id' in order))).toBe(true);
    await shop.reset();
    expect((await get(shop, '?limit=50')).body.orders.every((order) => typeof order.customer_id === 'number')).toBe(true);
  });

  it('counts the requests it served by status', async () => {
    const before = await shop.requestCounts();
    await get(shop, '?limit=1');
    await get(shop, '?limit=0');
    await get(shop, '', 'wrong');
    const after = await shop.requestCounts();
    expect(after.total - before.total).toBe(3);
    for (const status of ['200', '400', '401']) expect(after.byStatus[status]! - (before.byStatus[status] ?? 0)).toBe(1);
    expect(after.ordersServed - before.ordersServed).toBe(1);
  });

  it('offers the same controls over HTTP, behind the control token', async () => {
    await expect(shopControlClient(shop.url, 'wrong').fail5xx(1)).rejects.toThrow(/401/);
    const remote = shopControlClient(shop.url, shop.controlToken);
    await remote.fail5xx(1);
    expect((await get(shop, '?limit=1')).status).toBe(500);
    const added = await remote.addOrder({ customerId: 3, createdAt: '2026-11-08T00:00:00Z', amount: '1.50', sku: 'SKU-REMOTE' });
    expect((await remote.correctAmount(added.id, '2.50')).amount).toBe('2.50');
    await expect(remote.cancel(10_000_000)).rejects.toThrow(/404.*does not exist/);
    await expect(remote.malformed({ every: 0 })).rejects.toThrow(/400.*every must be a whole number of at least 1/);
    expect(await remote.snapshot()).toEqual(await shop.snapshot());
    expect((await remote.requestCounts()).total).toBe((await shop.requestCounts()).total);
  });
});

describe('shop API restart', () => {
  it('replays its changes after a restart, and refuses other generation options for the same directory', async () => {
    const dir = tempDir();
    const data = { customers: 30, days: 5, ordersPerCustomerPerDay: 2, endDate: '2026-11-10' };
    let shop = await startShopApi({ dir, data, rateLimit: UNLIMITED, logger });
    try {
      await shop.correctAmount(5, '99.99');
      await shop.cancel(6);
      const late = await shop.addOrder({ customerId: 30, createdAt: '2026-11-01T00:00:00Z', amount: '3.21', sku: 'SKU-001' });
      const before = await shop.snapshot();
      const { orders: walkedBefore } = await walk(shop, { limit: '50' });
      await shop.stop();
      // A change cut short by a crash (no newline) is dropped, not replayed and not in the way of the next one.
      fs.appendFileSync(path.join(dir, 'mutations.ndjson'), '{"op":"cancel","at":');
      shop = await startShopApi({ dir, rateLimit: UNLIMITED, logger });
      expect(shop.data).toEqual(data);
      expect(await shop.snapshot()).toEqual(before);
      expect((await walk(shop, { limit: '50' })).orders).toEqual(walkedBefore);
      const next = await shop.correctAmount(1, '1.00');
      expect(next.updated_at > late.updated_at).toBe(true);
      await shop.stop();
      await expect(startShopApi({ dir, data: { ...data, customers: 31 }, logger })).rejects.toThrow(/generated with .*customers 31 differs/);
      shop = await startShopApi({ dir, data: { ...data, customers: 31 }, reset: true, logger });
      expect((await shop.snapshot()).every((order) => order.status === 'placed')).toBe(true);
    } finally {
      await shop.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
