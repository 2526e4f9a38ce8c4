import crypto from 'node:crypto';
import http from 'node:http';
import type { Logger } from 'pino';
import { CURRENCIES } from '../services/demo-data.js';
import { CONTROL_CALLS, type RequestCounts, type ShopControls } from './shop/controls.js';
import type { ShopDataOptions } from './shop/demo-orders.js';
import { damageOrder, DEFAULT_RATE_LIMIT, malformedKind, ORDER_FIELDS, TokenBucket, type OrderField, type RateLimit } from './shop/faults.js';
import type { ApiOrder } from './shop/order-store.js';
import { encodeCursor, parseOrdersQuery } from './shop/orders-query.js';
import { ShopControlError, ShopData } from './shop/shop-data.js';

/** The embedded shop's API key when ORDERS_API_KEY is unset: it listens on 127.0.0.1 only. */
export const EMBEDDED_SHOP_API_KEY = 'embedded-shop-api-key';

export interface ShopApiOptions {
  /** Its data directory (options.json, mutations.ndjson), e.g. `${DATA_DIR}/shop`. */
  dir: string;
  /** 0 (the default): any free port. */
  port?: number;
  apiKey?: string;
  /** Guards `/_control/...`; default: random, see the handle's controlToken. */
  controlToken?: string;
  /** The generated data set (first start); later starts must match or pass reset. */
  data?: Partial<ShopDataOptions>;
  /** Delete the data directory first: generate afresh, forget every change. */
  reset?: boolean;
  rateLimit?: RateLimit;
  logger: Logger;
}

export interface ShopApi extends ShopControls {
  url: string;
  port: number;
  dir: string;
  apiKey: string;
  controlToken: string;
  /** What the data set was generated with. */
  data: ShopDataOptions;
  orderCount(): number;
  stop(): Promise<void>;
}

/**
 * The shop's orders API as an embedded default, like the SMTP sink: a real HTTP server,
 * in-process, over a deterministic data set (the orders DemoData.seed inserts for the same
 * options), with fault switches for tests and the fault suite. Contract: README, "The shop API".
 */
export async function startShopApi(options: ShopApiOptions): Promise<ShopApi> {
  const { logger } = options;
  const started = Date.now();
  const data = ShopData.open(options.dir, options.data, options.reset);
  const store = data.store;
  logger.info({ orders: store.count, ms: Date.now() - started, dir: options.dir }, 'shop data loaded');
  const apiKey = options.apiKey ?? EMBEDDED_SHOP_API_KEY;
  const controlToken = options.controlToken ?? crypto.randomBytes(24).toString('base64url');
  const startLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;

  const faults = { failures: 0, failuresServed: 0, slowMs: 0, cuts: 0, malformedEvery: 0, missingField: null as OrderField | null };
  let bucket = new TokenBucket(startLimit);
  const counts: RequestCounts = { byStatus: {}, total: 0, cut: 0, ordersServed: 0 };

  const controls: ShopControls = {
    addOrder: async (input) => data.addOrder(input),
    correctAmount: async (id, amount) => data.correctAmount(id, amount),
    cancel: async (id) => data.cancel(id),
    fail5xx: async (count) => void Object.assign(faults, { failures: wholeNumber('count', count), failuresServed: 0 }),
    slow: async (ms) => void (faults.slowMs = wholeNumber('ms', ms)),
    cutMidBody: async (count) => void (faults.cuts = wholeNumber('count', count)),
    malformed: async (switchOn) => void (faults.malformedEvery = switchOn === null ? 0 : wholeNumber('every', switchOn?.every, 1)),
    schemaBreak: async (field) => {
      if (field !== null && !ORDER_FIELDS.includes(field)) throw new ShopControlError(400, `field must be one of ${ORDER_FIELDS.join(', ')}, or null; got ${JSON.stringify(field)}`);
      faults.missingField = field;
    },
    rateLimit: async (limit) => {
      if (!(limit?.perSecond > 0) || !(limit?.burst >= 1)) throw new ShopControlError(400, `rate limit needs perSecond > 0 and burst >= 1; got ${JSON.stringify(limit)}`);
      bucket = new TokenBucket({ perSecond: limit.perSecond, burst: limit.burst });
    },
    reset: async () => {
      Object.assign(faults, { failures: 0, slowMs: 0, cuts: 0, malformedEvery: 0, missingField: null });
      bucket = new TokenBucket(startLimit);
    },
    snapshot: async () => data.snapshot(),
    requestCounts: async () => structuredClone(counts),
  };

  /** Answers an API request, slowed, counted, or cut off as the switches say. */
  const send = async (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const payload = Buffer.from(JSON.stringify(body));
    if (faults.slowMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.slowMs));
    counts.total++;
    counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers });
    if (faults.cuts > 0) {
      faults.cuts--;
      counts.cut++;
      // Headers promise the whole body; half arrives, then the connection dies, as when a proxy crashes.
      res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => res.destroy());
      return;
    }
    res.end(payload);
  };

  const answerApi = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const wait = bucket.take();
    if (wait > 0) {
      const { perSecond, burst } = bucket.limit;
      return send(res, 429, { error: `rate limited: at most ${perSecond} requests a second (bursts of ${burst}); retry after ${wait} s` }, { 'retry-after': String(wait) });
    }
    if (faults.failures > 0) {
      faults.failures--;
      const status = [500, 502, 503][faults.failuresServed++ % 3]!;
      return send(res, status, { error: `injected failure (${status}); try again` });
    }
    if (!matchesSecret(req.headers.authorization, apiKey)) {
      return send(res, 401, { error: 'missing or wrong API key: send the header Authorization: Bearer <key>' }, { 'www-authenticate': 'Bearer' });
    }
    if (url.pathname !== '/orders') return send(res, 404, { error: `no such resource ${url.pathname}: the API serves GET /orders` });
    if (req.method !== 'GET') return send(res, 405, { error: `${req.method} is not allowed on /orders: use GET` }, { allow: 'GET' });
    const parsed = parseOrdersQuery(url.searchParams);
    if ('error' in parsed) return send(res, 400, { error: parsed.error });
    const { updatedSince, after, limit } = parsed.query;
    const page = store.page(updatedSince, after, limit);
    const orders: Array<Partial<ApiOrder>> = Array.from(page.ids, (id) => {
      const order: Partial<ApiOrder> = store.toApi(id);
      const kind = faults.malformedEvery > 0 ? malformedKind(id, faults.malformedEvery) : undefined;
      if (kind) damageOrder(order, kind, data.options.customers, CURRENCIES);
      if (faults.missingField) delete order[faults.missingField];
      return order;
    });
    const lastId = page.ids[page.ids.length - 1];
    const nextCursor = page.more && lastId !== undefined ? encodeCursor({ updatedAt: store.updatedAtOf(lastId), id: lastId }) : null;
    counts.ordersServed += orders.length;
    return send(res, 200, { orders, next_cursor: nextCursor });
  };

  const answerControl = async (req: http.IncomingMessage, res: http.ServerResponse, name: string) => {
    const reply = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
    };
    if (!matchesSecret(req.headers.authorization, controlToken)) return reply(401, { error: 'missing or wrong control token: send Authorization: Bearer <controlToken>' });
    if (req.method === 'GET' && name === 'request-counts') return reply(200, await controls.requestCounts());
    if (req.method === 'GET' && name === 'snapshot') return writeSnapshot(res, store.count, (id) => store.toApi(id));
    const call = CONTROL_CALLS[name as keyof typeof CONTROL_CALLS];
    if (!call || req.method !== 'POST') return reply(404, { error: `no control ${req.method} ${name}: POST one of ${Object.keys(CONTROL_CALLS).join(', ')}; GET snapshot or request-counts` });
    const body = await readJson(req);
    if (body === undefined) return reply(400, { error: 'the body must be a JSON object of the call’s arguments' });
    const result = await call(controls, body);
    return reply(200, result);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    const control = /^\/_control\/([a-z0-9-]+)$/.exec(url.pathname);
    const answer = control ? answerControl(req, res, control[1]!) : answerApi(req, res, url);
    answer.catch((error: unknown) => {
      const status = error instanceof ShopControlError ? error.status : 500;
      if (status === 500) logger.error({ err: String(error) }, 'shop API request failed');
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, orders: store.count }, 'shop API listening');
  return {
    ...controls,
    url,
    port,
    dir: options.dir,
    apiKey,
    controlToken,
    data: data.options,
    orderCount: () => store.count,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections (and responses held back by slow()) would keep close() waiting.
        server.closeAllConnections();
      }),
  };
}

function matchesSecret(header: string | undefined, secret: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${secret}`);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function wholeNumber(name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new ShopControlError(400, `${name} must be a whole number of at least ${min}; got ${JSON.stringify(value)}`);
  return value;
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1_000_000) return undefined;
    chunks.push(chunk);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every order as NDJSON, by id, in chunks that wait for the socket (a million orders is ~200 MB). */
async function writeSnapshot(res: http.ServerResponse, count: number, order: (id: number) => ApiOrder): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (let first = 1; first <= count; first += 1000) {
    let chunk = '';
    for (let id = first; id < Math.min(count + 1, first + 1000); id++) chunk += `${JSON.stringify(order(id))}\n`;
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}
