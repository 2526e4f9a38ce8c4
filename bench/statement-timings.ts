import type pg from 'pg';
import type { Pool } from '../src/db/pool.js';
import * as importSql from '../src/services/order-import-sql.js';

export interface StatementTime {
  statement: string;
  count: number;
  ms: number;
}

const NAMES = new Map(Object.entries(importSql).map(([name, text]) => [text, name]));

/** The constant's name for the import's statements (order-import-sql.ts), else the statement's first words. */
function label(text: string): string {
  return NAMES.get(text) ?? text.trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * A view of `pool` whose checked-out clients time every statement, round trip included, by
 * statement: where a page's transaction spends its time. For one sequential loop only: with
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
        return async (text: string, values?: unknown[]) => {
          const started = performance.now();
          try {
            return await target.query(text, values);
          } finally {
            const name = label(text);
            const entry = times.get(name) ?? { statement: name, count: 0, ms: 0 };
            entry.count++;
            entry.ms += performance.now() - started;
            times.set(name, entry);
          }
        };
      },
    });
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'connect') return async () => timedClient(await target.connect());
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
