import type { Pool } from '../../src/db/pool.js';
import { ReportsHeldElsewhereError } from '../../src/services/email-claims.js';

/** A claim as another attempt left it: `leaseFromNow` '-1 second' has run out, '1 minute' is live. */
export async function insertClaim(
  pool: Pool,
  customerId: number,
  period: { from: string; to: string },
  claim: { runId: string; token: string; leaseFromNow: string },
): Promise<void> {
  await pool.query(
    `INSERT INTO report_emails (customer_id, period_from, period_to, idempotency_key, message_id, workflow_id, run_id, state, claim_token, lease_until)
     VALUES ($1::bigint, $2::date, $3::date, $1::text || ':' || $2::text || ':' || $3::text,
             '<report.' || $1::text || '.' || $2::text || '.' || $3::text || '@durable-jobs>', 'other', $4, 'sending', $5, now() + $6::interval)`,
    [customerId, period.from, period.to, claim.runId, claim.token, claim.leaseFromNow],
  );
}

/** Calls `attempt` again, as Temporal retries the activity, while reports are held by another attempt. */
export async function untilDone<T>(attempt: () => Promise<T>, tries = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ReportsHeldElsewhereError) || i >= tries) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * The real pool, except that chosen statements fail the way a dropped connection does: the
 * `skip` matching ones after `failOn` run, then the next `count` fail (`afterMs` later, as a
 * connection that drops mid-query). PostgreSQL itself is real.
 */
export function faultyPool(pool: Pool): { pool: Pool; failOn(pattern: RegExp, options?: { skip?: number; count?: number; afterMs?: number }): void; failed: string[] } {
  const faults: Array<{ pattern: RegExp; skip: number; count: number; afterMs: number }> = [];
  const failed: string[] = [];
  const query = (text: string | { text: string }, values?: unknown[]) => {
    const sql = typeof text === 'string' ? text : text.text;
    const fault = faults.find((f) => f.count > 0 && f.pattern.test(sql));
    if (fault && fault.skip-- <= 0) {
      fault.count--;
      failed.push(sql.trim().split('\n')[0]!);
      const error = Object.assign(new Error('Connection terminated unexpectedly (injected)'), { code: undefined });
      return new Promise((_, reject) => setTimeout(() => reject(error), fault.afterMs));
    }
    return pool.query(text as string, values);
  };
  const proxy = new Proxy(pool, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    pool: proxy,
    failOn: (pattern, options = {}) => void faults.push({ pattern, skip: options.skip ?? 0, count: options.count ?? 1, afterMs: options.afterMs ?? 0 }),
    failed,
  };
}
