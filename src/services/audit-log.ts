import type { Pool } from '../db/pool.js';

export interface AuditActor {
  userId: number;
  email: string;
}

/**
 * What is recorded. A start is recorded under its job's kind (`regenerate-reports`,
 * `purge-old-reports`: src/jobs/index.ts); the others are about signing in and out.
 * The outcome says what became of it: `succeeded`, `failed: …`, `throttled`, and for starts
 * `start-requested` (Temporal was being asked), `started` or `refused: …`.
 */
// `string & {}`: any job kind (the registry is the list), while the session actions stay spelled out.
export type AuditAction = 'sign-in' | 'sign-out' | 'password-change' | (string & {});

export interface AuditEvent {
  /** Null when nobody is signed in (a failed sign-in): `email` is then what was typed. */
  actor: AuditActor | null;
  email: string;
  action: AuditAction;
  outcome: string;
  customerId?: number | null;
  parameters?: Record<string, unknown>;
  workflowId?: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  userEmail: string;
  action: string;
  outcome: string;
  customerId: number | null;
  parameters: Record<string, unknown>;
  workflowId: string | null;
}

/** The most a typed value may take in a row: an email address is at most 254 characters. */
const MAX_TEXT = 320;

/**
 * What admins did, and what was tried: sign-ins, sign-outs, password changes, and every start
 * from the admin page (refused ones too). It is the one place personal data such as a typed
 * email belongs; logs carry user ids only. A password is never an argument here.
 */
export class AuditLog {
  constructor(private readonly pool: Pool) {}

  async record(event: AuditEvent): Promise<number> {
    const { rows } = await this.pool.query<{ id: number }>(
      `INSERT INTO admin_audit (user_id, user_email, action, outcome, customer_id, parameters, workflow_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        event.actor?.userId ?? null, storable(event.email), event.action, storable(event.outcome), event.customerId ?? null,
        JSON.stringify(event.parameters ?? {}, (_key, value: unknown) => (typeof value === 'string' ? storable(value) : value)),
        event.workflowId ?? null,
      ],
    );
    return rows[0]!.id;
  }

  /**
   * Records a start around the start itself, without holding a transaction across the call to
   * Temporal: the row is committed as `start-requested` first, then completed with the workflow
   * id and `started`, or `refused: <reason>` when `start` throws (the error is rethrown). If the
   * process dies while Temporal is being asked, the row still says a start was requested.
   */
  async recordStart(
    event: { actor: AuditActor; action: AuditAction; customerId: number | null; parameters: Record<string, unknown> },
    start: () => Promise<string>,
    describeRefusal: (error: unknown) => { reason: string; workflowId?: string },
  ): Promise<string> {
    const id = await this.record({ ...event, email: event.actor.email, outcome: 'start-requested' });
    let workflowId: string;
    try {
      workflowId = await start();
    } catch (error) {
      const refusal = describeRefusal(error);
      await this.complete(id, `refused: ${refusal.reason}`, refusal.workflowId ?? null);
      throw error;
    }
    await this.complete(id, 'started', workflowId);
    return workflowId;
  }

  /** The starts (and refused starts) of every job for one customer, newest first: only starts name a customer. */
  async forCustomer(customerId: number, limit = 20): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<AuditEntry>(
      `SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, user_email AS "userEmail", action, outcome,
              customer_id AS "customerId", parameters, workflow_id AS "workflowId"
         FROM admin_audit WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
      [customerId, limit],
    );
    return rows;
  }

  private async complete(id: number, outcome: string, workflowId: string | null): Promise<void> {
    await this.pool.query('UPDATE admin_audit SET outcome = $2, workflow_id = $3 WHERE id = $1', [id, storable(outcome), workflowId]);
  }
}

/** PostgreSQL text cannot hold NUL, and a typed value is kept short. */
function storable(text: string): string {
  return text.replace(/\u0000/g, '\uFFFD').slice(0, MAX_TEXT);
}
