import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { RequestCounts } from '../src/dev/shop/controls.js';
import { loadDemoOrders, type ShopDataOptions } from '../src/dev/shop/demo-orders.js';
import { OrderStore } from '../src/dev/shop/order-store.js';

export interface BenchShop {
  url: string;
  apiKey: string;
  /** Orders the shop serves (its generator does not hit a target exactly). */
  orders: number;
  data: ShopDataOptions;
  requestCounts(): Promise<RequestCounts>;
  stop(): Promise<void>;
}

/**
 * The shop's data options that come closest to `orders` orders for these customers and days.
 * The generator draws each customer's count (one in ten gets none, a cubic skew for the
 * rest), so the mean per customer per day is a guess, corrected once by generating it.
 */
export function shopDataFor(target: { orders: number; customers: number; days: number; endDate: string }): ShopDataOptions {
  const count = (ordersPerCustomerPerDay: number) => {
    const options = { customers: target.customers, days: target.days, ordersPerCustomerPerDay, endDate: target.endDate };
    return loadDemoOrders(options, new OrderStore(Math.ceil(target.orders * 1.2)));
  };
  // E[orders of a customer] ≈ 0.9 × (rate × days − 0.5): the floor of the cubic draw loses half an order on average.
  const guess = (target.orders / (0.9 * target.customers) + 0.5) / target.days;
  const corrected = guess * (target.orders / Math.max(1, count(guess)));
  return { customers: target.customers, days: target.days, ordersPerCustomerPerDay: corrected, endDate: target.endDate };
}

/**
 * Starts the shop API (src/dev/shop-api.ts) in a child process on a fresh data directory,
 * with a rate limit no import reaches: the bench measures the import, not the shop's limit.
 */
export async function startBenchShop(options: { dir: string; data: ShopDataOptions }): Promise<BenchShop> {
  const shopOptions = { dir: options.dir, port: 0, data: options.data, reset: true, rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bench/shop-process.ts'], {
    env: { ...process.env, BENCH_SHOP_OPTIONS: JSON.stringify(shopOptions) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const firstLine = await Promise.race([
    new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve)),
    exited.then((code) => {
      throw new Error(`the bench's shop API exited with ${code} before it listened`);
    }),
  ]);
  const ready = JSON.parse(firstLine) as { url: string; apiKey: string; controlToken: string; orders: number; data: ShopDataOptions };
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    orders: ready.orders,
    data: ready.data,
    requestCounts: async () => {
      const response = await fetch(`${ready.url}/_control/request-counts`, { headers: { authorization: `Bearer ${ready.controlToken}` } });
      return (await response.json()) as RequestCounts;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
