// The import bench's shop API, in a process of its own (started by bench/shop-server.ts):
// every variant's client then talks to it over the same loopback HTTP, and none of them
// shares a thread with the shop's JSON encoding.
import pino from 'pino';
import { startShopApi, type ShopApiOptions } from '../src/dev/shop-api.js';

const options = JSON.parse(process.env.BENCH_SHOP_OPTIONS ?? '{}') as Omit<ShopApiOptions, 'logger'>;
const shop = await startShopApi({ ...options, logger: pino({ level: 'warn' }) });
process.stdout.write(`${JSON.stringify({ url: shop.url, apiKey: shop.apiKey, controlToken: shop.controlToken, orders: shop.orderCount(), data: shop.data })}\n`);
const stop = () => void shop.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
