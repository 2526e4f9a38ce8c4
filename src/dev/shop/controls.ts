import type { AddOrderInput } from './shop-data.js';
import type { OrderField, RateLimit } from './faults.js';
import type { ApiOrder } from './order-store.js';

export interface RequestCounts {
  /** Requests to the API (not the control API), by the status answered. */
  byStatus: Record<string, number>;
  total: number;
  /** Responses cut off mid-body by cutMidBody (also counted by their status). */
  cut: number;
  /** Orders sent in 200 pages. */
  ordersServed: number;
}

/**
 * What tests, the fault suite and the bench can do to a running shop: the same calls on the
 * in-process handle and, for a shop in another process, through shopControlClient().
 */
export interface ShopControls {
  /** A late order for a past day; its updated_at is now. */
  addOrder(input: AddOrderInput): Promise<ApiOrder>;
  correctAmount(id: number, amount: string): Promise<ApiOrder>;
  cancel(id: number): Promise<ApiOrder>;
  /** The next `count` API requests answer 500, 502, 503 in turn. */
  fail5xx(count: number): Promise<void>;
  /** Delay every API response by `ms` (0: off). */
  slow(ms: number): Promise<void>;
  /** The next `count` API responses send half their body, then the socket is destroyed. */
  cutMidBody(count: number): Promise<void>;
  /** Orders whose id is a multiple of `every` come back damaged (see malformedKind); null: off. */
  malformed(options: { every: number } | null): Promise<void>;
  /** Every page leaves `field` out of every order; null: off. */
  schemaBreak(field: OrderField | null): Promise<void>;
  rateLimit(limit: RateLimit): Promise<void>;
  /** Every fault off and the rate limit back to the one the shop started with; data and counts stay. */
  reset(): Promise<void>;
  /** Every order, by id, as the API returns it without faults. */
  snapshot(): Promise<ApiOrder[]>;
  requestCounts(): Promise<RequestCounts>;
}

/** The control API's calls: `POST /_control/<name>` with the arguments as a JSON object. */
export const CONTROL_CALLS = {
  'add-order': (controls: ShopControls, body: Record<string, unknown>) => controls.addOrder(body as unknown as AddOrderInput),
  'correct-amount': (controls: ShopControls, body: Record<string, unknown>) => controls.correctAmount(body.id as number, body.amount as string),
  cancel: (controls: ShopControls, body: Record<string, unknown>) => controls.cancel(body.id as number),
  'fail-5xx': (controls: ShopControls, body: Record<string, unknown>) => controls.fail5xx(body.count as number),
  slow: (controls: ShopControls, body: Record<string, unknown>) => controls.slow(body.ms as number),
  'cut-mid-body': (controls: ShopControls, body: Record<string, unknown>) => controls.cutMidBody(body.count as number),
  malformed: (controls: ShopControls, body: Record<string, unknown>) => controls.malformed(body.every === null ? null : { every: body.every as number }),
  'schema-break': (controls: ShopControls, body: Record<string, unknown>) => controls.schemaBreak(body.field as OrderField | null),
  'rate-limit': (controls: ShopControls, body: Record<string, unknown>) => controls.rateLimit(body as unknown as RateLimit),
  reset: (controls: ShopControls) => controls.reset(),
} as const;

/** Drives a shop API in another process through its control API (`/_control/...`). */
export function shopControlClient(baseUrl: string, controlToken: string): ShopControls {
  const url = (name: string) => new URL(`_control/${name}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const headers = { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' };
  const call = async <T>(name: keyof typeof CONTROL_CALLS | 'snapshot' | 'request-counts', body?: object): Promise<T> => {
    const response = await fetch(url(name), body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`shop control ${name} answered ${response.status}: ${text}`);
    if (name === 'snapshot') return text.split('\n').filter(Boolean).map((line) => JSON.parse(line)) as T;
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    addOrder: (input) => call('add-order', input),
    correctAmount: (id, amount) => call('correct-amount', { id, amount }),
    cancel: (id) => call('cancel', { id }),
    fail5xx: (count) => call('fail-5xx', { count }),
    slow: (ms) => call('slow', { ms }),
    cutMidBody: (count) => call('cut-mid-body', { count }),
    malformed: (options) => call('malformed', { every: options?.every ?? null }),
    schemaBreak: (field) => call('schema-break', { field }),
    rateLimit: (limit) => call('rate-limit', limit),
    reset: () => call('reset', {}),
    snapshot: () => call('snapshot'),
    requestCounts: () => call('request-counts'),
  };
}
