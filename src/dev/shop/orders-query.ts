import crypto from 'node:crypto';
import type { OrderPosition } from './order-store.js';

export const PAGE_LIMIT = { default: 500, max: 1000 } as const;

export interface OrdersQuery {
  /** Inclusive lower bound on updated_at (ms). */
  updatedSince?: number;
  /** Continue strictly after this (updated_at, id). */
  after?: OrderPosition;
  limit: number;
}

const PARAMETERS = ['updated_since', 'cursor', 'limit'];

/** Reads `GET /orders`'s query string; an error names the parameter and its rule (answered 400). */
export function parseOrdersQuery(params: URLSearchParams): { query: OrdersQuery } | { error: string } {
  for (const name of new Set(params.keys())) {
    if (!PARAMETERS.includes(name)) return { error: `unknown parameter '${name}': the parameters are updated_since, cursor and limit` };
    if (params.getAll(name).length > 1) return { error: `parameter '${name}' is given ${params.getAll(name).length} times; give it once` };
  }
  const query: OrdersQuery = { limit: PAGE_LIMIT.default };
  const since = params.get('updated_since');
  if (since !== null) {
    const instant = parseInstant(since);
    if (instant === undefined) {
      const hint = since.includes(' ') ? " (a '+' in a URL reads as a space: write it %2B)" : '';
      return { error: `updated_since must be an ISO-8601 instant with a zone, e.g. 2026-11-05T00:00:00Z or 2026-11-05T01:00:00.000+01:00; got '${since}'${hint}` };
    }
    query.updatedSince = instant;
  }
  const cursor = params.get('cursor');
  if (cursor !== null) {
    const after = decodeCursor(cursor);
    if (after === undefined) return { error: `cursor '${cursor.slice(0, 100)}' is damaged or was not issued by this API: pass next_cursor exactly as returned, or start again with updated_since` };
    query.after = after;
  }
  const limit = params.get('limit');
  if (limit !== null) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > PAGE_LIMIT.max) {
      return { error: `limit must be a whole number from 1 to ${PAGE_LIMIT.max} (default ${PAGE_LIMIT.default}); got '${limit}'` };
    }
    query.limit = Number(limit);
  }
  return { query };
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An ISO-8601 instant with a zone, to the millisecond; undefined if it is not one (including
 * impossible dates such as Feb 30). Digits past the millisecond round up, so an inclusive
 * bound never takes in an order before it.
 */
export function parseInstant(text: string): number | undefined {
  const match = INSTANT.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second = '0', fraction = '', zone, sign, zoneHours = '0', zoneMinutes = '0'] = match.slice(1);
  const date = Date.UTC(Number(year), Number(month) - 1, Number(day));
  if (Number.isNaN(date) || new Date(date).getUTCDate() !== Number(day) || Number(month) < 1 || Number(month) > 12) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 || Number(zoneHours) > 23 || Number(zoneMinutes) > 59) return undefined;
  const offsetMinutes = zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes));
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3)) + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0);
  return date + ((Number(hour) * 60 + Number(minute) - offsetMinutes) * 60 + Number(second)) * 1000 + millis;
}

/**
 * Cursors are opaque to clients: base64url of `updated_at.id.check`, where the check (a hash
 * of the rest) makes a damaged cursor an error instead of a silent jump to somewhere else.
 */
export function encodeCursor(position: OrderPosition): string {
  const body = `${position.updatedAt}.${position.id}`;
  return Buffer.from(`${body}.${check(body)}`).toString('base64url');
}

export function decodeCursor(cursor: string): OrderPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const match = /^(\d{1,16})\.(\d{1,15})\.([0-9a-f]{12})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match || check(`${match[1]}.${match[2]}`) !== match[3]) return undefined;
  return { updatedAt: Number(match[1]), id: Number(match[2]) };
}

const check = (body: string) => crypto.createHash('sha256').update(`shop-cursor:${body}`).digest('hex').slice(0, 12);
