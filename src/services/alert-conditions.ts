import type { Pool } from '../db/pool.js';
import { inTransaction } from '../db/pool.js';

/**
 * A counter's episode stays open until it has not grown for this long: misses that trickle in
 * over a few checks (or are seen by two monitors a moment apart) are one incident, and the
 * next growth after a quiet spell is a new one.
 */
export const COUNTER_QUIET_MS = 10 * 60_000;

/**
 * The state of conditions that last (a task queue nobody polls, a schedule missing runs) as the
 * monitor last saw them, in PostgreSQL (`alert_conditions`), shared by every monitor process:
 * an outage has one start, whoever saw it first, so its incident key is the same for all of
 * them, and a recovery ends it, so the next outage is a new incident.
 */
export class AlertConditions {
  constructor(private readonly pool: Pool) {}

  /**
   * The condition holds: returns since when (the start recorded by whoever saw it first, else
   * `firstSeen`), opening it if it was not open.
   */
  async holding(key: string, firstSeen: Date): Promise<Date> {
    const { rows } = await this.pool.query<{ since: Date }>(
      `INSERT INTO alert_conditions (condition_key, since) VALUES ($1, $2)
       ON CONFLICT (condition_key) DO UPDATE SET since = coalesce(alert_conditions.since, EXCLUDED.since)
       RETURNING since`,
      [key, firstSeen],
    );
    return rows[0]!.since;
  }

  /** The condition no longer holds: its episode ends (the next one is a new incident). */
  async cleared(key: string): Promise<void> {
    await this.pool.query('UPDATE alert_conditions SET since = NULL WHERE condition_key = $1 AND since IS NOT NULL', [key]);
  }

  /**
   * A counter (a schedule's missed catch-ups) read now. Growth opens an episode if none is open
   * (`opened`: this call is the one that saw it start; the incident key names `since`); an
   * episode closes once the counter has stayed put for COUNTER_QUIET_MS. A counter that went
   * down (the schedule was recreated) starts over from its new value. The first reading of a
   * counter counts from 0, so misses from before any monitor ran are alerted once too.
   */
  async counter(key: string, value: number, now: Date): Promise<{ opened: boolean; since: Date | null; grewBy: number }> {
    return inTransaction(this.pool, async (db) => {
      await db.query('INSERT INTO alert_conditions (condition_key, seen, changed_at) VALUES ($1, 0, $2) ON CONFLICT (condition_key) DO NOTHING', [key, now]);
      const { rows } = await db.query<{ since: Date | null; seen: number; changed_at: Date }>(
        'SELECT since, seen, changed_at FROM alert_conditions WHERE condition_key = $1 FOR UPDATE',
        [key],
      );
      const state = rows[0]!;
      if (value > state.seen) {
        const since = state.since ?? now;
        await db.query('UPDATE alert_conditions SET seen = $2, since = $3, changed_at = $4 WHERE condition_key = $1', [key, value, since, now]);
        return { opened: state.since === null, since, grewBy: value - state.seen };
      }
      if (value < state.seen) {
        await db.query('UPDATE alert_conditions SET seen = $2, since = NULL, changed_at = $3 WHERE condition_key = $1', [key, value, now]);
        return { opened: false, since: null, grewBy: 0 };
      }
      if (state.since !== null && now.getTime() - state.changed_at.getTime() >= COUNTER_QUIET_MS) {
        await db.query('UPDATE alert_conditions SET since = NULL WHERE condition_key = $1', [key]);
        return { opened: false, since: null, grewBy: 0 };
      }
      return { opened: false, since: state.since, grewBy: 0 };
    });
  }
}
