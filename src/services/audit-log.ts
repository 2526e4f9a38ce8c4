import { inTransaction, type Pool } from '../db/pool.js';

export interface AuditActor {
  userId: number;
  email: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  userEmail: string;
  action: string;
  customerId: number | null;
  parameters: Record<string, unknown>;
  workflowId: string;
}

/** What admins did: every run started from the admin page, with who, whom, what and which run. */
export class AuditLog {
  constructor(private readonly pool: Pool) {}

  /**
   * Records a start around the start itself: the row is inserted in a transaction that
   * commits only after `start` returned the workflow id. A start that throws leaves no row;
   * a row never exists for a run that was not started. (The one gap, a commit failing after
   * the start, is covered by the run's memo, which names the operator too.)
   */
  async recordStart(
    actor: AuditActor,
    action: string,
    customerId: number | null,
    parameters: Record<string, unknown>,
    start: () => Promise<string>,
  ): Promise<string> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO admin_audit (user_id, user_email, action, customer_id, parameters, workflow_id)
         VALUES ($1, $2, $3, $4, $5, '') RETURNING id`,
        [actor.userId, actor.email, action, customerId, JSON.stringify(parameters)],
      );
      const workflowId = await start();
      await client.query('UPDATE admin_audit SET workflow_id = $2 WHERE id = $1', [rows[0]!.id, workflowId]);
      return workflowId;
    });
  }

  async forCustomer(customerId: number, limit = 20): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<AuditEntry>(
      `SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, user_email AS "userEmail", action,
              customer_id AS "customerId", parameters, workflow_id AS "workflowId"
         FROM admin_audit WHERE customer_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
      [customerId, limit],
    );
    return rows;
  }
}
