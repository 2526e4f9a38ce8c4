import type { ApiOrder } from './order-store.js';

export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: the most requests in a burst. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 50 };

/** A required field of an order (what schemaBreak can leave out of a whole page). */
export const ORDER_FIELDS = ['id', 'customer_id', 'currency', 'amount', 'sku', 'created_at', 'updated_at', 'status'] as const;
export type OrderField = (typeof ORDER_FIELDS)[number];

/** The ways malformed() damages a record, in rotation. */
export const MALFORMED_KINDS = ['unknown-customer', 'wrong-currency', 'negative-amount', 'missing-field'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** A token bucket: a request takes a token; an empty bucket says how long until the next. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(readonly limit: RateLimit) {
    this.tokens = limit.burst;
  }

  /** 0: go ahead; otherwise the whole seconds to wait (Retry-After). */
  take(now = Date.now()): number {
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.limit.perSecond));
  }
}

/**
 * Which kind of damage malformed({ every }) does to an order, or undefined for a valid one:
 * orders whose id is a multiple of `every` are damaged, the kind rotating with id / every.
 * By id, not by position, so a page fetched again has the same bad records.
 */
export function malformedKind(id: number, every: number): MalformedKind | undefined {
  if (id % every !== 0) return undefined;
  return MALFORMED_KINDS[(id / every) % MALFORMED_KINDS.length];
}

/**
 * Damages one record in place: a customer the shop does not have, another currency than the
 * customer's, a negative amount, or no `amount` at all. The rest of the page stays valid.
 */
export function damageOrder(order: Partial<ApiOrder>, kind: MalformedKind, customers: number, currencies: readonly string[]): void {
  switch (kind) {
    case 'unknown-customer':
      order.customer_id = customers + 1;
      return;
    case 'wrong-currency':
      order.currency = currencies[(currencies.indexOf(order.currency!) + 1) % currencies.length]!;
      return;
    case 'negative-amount':
      order.amount = `-${order.amount}`;
      return;
    case 'missing-field':
      delete order.amount;
      return;
  }
}
