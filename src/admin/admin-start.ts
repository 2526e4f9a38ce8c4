/**
 * How the admin page starts a run, whichever page asks (a customer's start form, the
 * quarantine's retry): the role refusal every start page words the same way, and the audited
 * start itself, so both pages record the same rows and call Temporal the same way.
 */
import type { AnyJob } from '../jobs/job-definition.js';
import type { AdminUser } from '../services/admin-users.js';
import { RunAlreadyRunningError } from '../temporal/runs.js';
import { startResolvedJob } from '../temporal/start-job.js';
import type { AdminContext } from './context.js';

/** How long a start may wait for Temporal before the page says it is unreachable. */
const START_DEADLINE_MS = 10_000;

/** What a user whose role may not start `job` is told (the 403 page). */
export function roleRefusalMessage(user: AdminUser, job: AnyJob): string {
  const roles = job.doors.form?.roles.join(' or ') ?? 'none';
  return `Your role (${user.role}) can look at reports but not start runs of ${job.kind}; ask someone with the role ${roles}.`;
}

/**
 * Starts `resolved` (validated once, by the page) as `user`, audited under the job's kind around
 * the call (`start-requested`, then `started` with the workflow id, or `refused: …`). Returns the
 * workflow id; throws RunAlreadyRunningError (audited with the running run's id) or Temporal's
 * error (audited as not started).
 */
export async function startAuditedFromAdmin(
  ctx: AdminContext,
  request: { user: AdminUser; job: AnyJob; resolved: unknown; customerId: number | null; parameters: Record<string, unknown>; now: Date },
): Promise<string> {
  const { user, job } = request;
  return ctx.audit.recordStart(
    { actor: { userId: user.id, email: user.email }, action: job.kind, customerId: request.customerId, parameters: request.parameters },
    // A deadline, so an unreachable Temporal is answered in seconds rather than after the client's retries.
    () => ctx.temporal.client.withDeadline(Date.now() + START_DEADLINE_MS, async () => {
      const handle = await startResolvedJob(ctx.temporal.client, job, request.resolved, {
        taskQueue: ctx.temporal.taskQueue, startedFrom: 'admin', startedBy: user.email, now: request.now,
      });
      return handle.workflowId;
    }),
    (error) => error instanceof RunAlreadyRunningError
      ? { reason: 'already running', workflowId: error.workflowId }
      : { reason: `Temporal did not start it (${error instanceof Error ? error.message : String(error)})` },
  );
}
