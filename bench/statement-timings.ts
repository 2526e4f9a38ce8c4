import type pg from 'pg';
import type { Pool } from '../src/db/pool.js';
import * as importSql from '../src/services/order-import-sql.js';

export interface StatementTime {
  statement: string;
  count: number;
  ms: number;
}

// A constant is a statement, or a set of variants of one (WRITE_PAGE.trust, WRITE_PAGE.check).
const NAMES = new Map(
  Object.entries(importSql).flatMap(([name, value]): Array<[string, string]> =>
    typeof value === 'string' ? [[value, name]] : typeof value === 'object' ? Object.entries(value).map(([variant, text]) => [text, `${name}.${variant}`]) : []),
);

type QueryArg = string | { text: string; values?: unknown[] };

/** The constant's name for the import's statements (order-import-sql.ts), else the statement's first words. */
function label(query: QueryArg): string {
  const text = typeof query === 'string' ? query : query.text;
  return NAMES.get(text) ?? text.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** `query` of a pool or client, timed by statement. */
function timedQuery(query: (arg: QueryArg, values?: unknown[]) => Promise<unknown>, times: Map<string, StatementTime>) {
  return async (arg: QueryArg, values?: unknown[]) => {
    const started = performance.now();
    try {
      return await query(arg, values);
    } finally {
      const name = label(arg);
      const entry = times.get(name) ?? { statement: name, count: 0, ms: 0 };
      entry.count++;
      entry.ms += performance.now() - started;
      times.set(name, entry);
    }
  };
}

/**
 * A view of `pool` that times every statement, its own and its checked-out clients', round
 * trip included, by statement: where a page's transaction spends its time. For one sequential loop only: with
 * statements in flight at once the times would overlap.
 */
export function timingPool(pool: Pool, times: Map<string, StatementTime>): Pool {
  const timedClient = (client: pg.PoolClient): pg.PoolClient =>
    new Proxy(client, {
      get(target, prop) {
        if (prop !== 'query') {
          const value: unknown = Reflect.get(target, prop);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return timedQuery((arg, values) => target.query(arg as string, values), times);
      },
    });
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'connect') return async () => timedClient(await target.connect());
      // A page is one statement on the pool itself, no transaction around it.
      if (prop === 'query') return timedQuery((arg, values) => target.query(arg as string, values), times);
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
