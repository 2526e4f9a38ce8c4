import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ORDERS_SOURCE } from '../../import-orders-contract.js';
import { importOrdersJob } from '../../jobs/import-orders.js';
import { RunAlreadyRunningError } from '../../temporal/runs.js';
import { InvalidInputError } from '../../validation.js';
import { roleRefusalMessage, startAuditedFromAdmin } from '../admin-start.js';
import { csrfToken, queryField, sendHtml, type AdminContext } from '../context.js';
import { mayStart } from '../job-forms.js';
import { runStatus, type RunStatus } from '../run-history.js';
import { errorPage } from '../views/error.js';
import { quarantinePage } from '../views/quarantine.js';

export const QUARANTINE_PAGE_SIZE = 50;

/**
 * The import's quarantine (issue #12): the shop's order records set aside as bad, listed for
 * every signed-in role, and a retry (an incremental import-orders run with `retryQuarantined`)
 * for the roles the import job's form names. The same list as `npm run job -- quarantine`.
 */
export function quarantineRoutes(app: FastifyInstance, ctx: AdminContext): void {
  /** Renders the list page (`after`: the id this page starts after) with an optional notice and run panel. */
  async function listPage(
    request: FastifyRequest, reply: FastifyReply,
    extras: { status?: number; after?: number | null; error?: string; notice?: string; watch?: RunStatus | null } = {},
  ) {
    const user = request.user!;
    const after = extras.after ?? null;
    const view = {
      user, csrfToken: csrfToken(request, reply, ctx.settings), source: ORDERS_SOURCE, pageSize: QUARANTINE_PAGE_SIZE, after,
      mayRetry: mayStart(user, importOrdersJob), watch: extras.watch ?? null, ...(extras.notice ? { notice: extras.notice } : {}),
    };
    if (extras.error) return sendHtml(reply.code(extras.status ?? 400), quarantinePage({ ...view, records: { error: extras.error }, nextAfter: null }));
    // One more than a page tells whether a next page exists without counting the table.
    const found = await ctx.orderImport.listQuarantined({ source: ORDERS_SOURCE, limit: QUARANTINE_PAGE_SIZE + 1, ...(after !== null ? { afterId: after } : {}) });
    const records = found.slice(0, QUARANTINE_PAGE_SIZE);
    const nextAfter = found.length > QUARANTINE_PAGE_SIZE ? records[records.length - 1]!.id : null;
    return sendHtml(reply.code(extras.status ?? 200), quarantinePage({ ...view, records, nextAfter }));
  }

  /** Open quarantined records, oldest first, a page at a time (`after`: the last id of the previous page). */
  app.get('/quarantine', async (request, reply) => {
    const afterText = queryField(request.query, 'after');
    if (afterText !== '' && !/^\d{1,15}$/.test(afterText)) {
      return listPage(request, reply, { status: 400, error: `after must be a record id (a whole number), got '${afterText.slice(0, 20)}'. Start again from the oldest records.` });
    }
    const watchId = queryField(request.query, 'run');
    const watch = watchId !== '' && watchId.length <= 400 ? await runStatus(ctx.temporal, watchId).catch(() => null) : null;
    return listPage(request, reply, { after: afterText === '' ? null : Number(afterText), watch });
  });

  /**
   * Starts an incremental import that first validates the open quarantined records again.
   * Nothing is read from the form but its CSRF token: the input is fixed here.
   */
  app.post('/quarantine/retry', async (request, reply) => {
    const user = request.user!;
    const job = importOrdersJob;
    const parameters = { retryQuarantined: true };
    const refused = (reason: string) =>
      ctx.audit.record({ actor: { userId: user.id, email: user.email }, email: user.email, action: job.kind, outcome: `refused: ${reason}`, customerId: null, parameters });
    if (!mayStart(user, job)) {
      await refused(`role ${user.role} may not start runs`);
      return sendHtml(reply.code(403), errorPage({ status: 403, message: roleRefusalMessage(user, job), user, csrfToken: csrfToken(request, reply, ctx.settings) }));
    }
    const now = ctx.now();
    let resolved: ReturnType<typeof job.resolve>;
    try {
      // The settings' defaults under the one field this page sets, as the CLI's `--retry-quarantined`.
      resolved = job.resolve({ ...job.defaultsFromConfig?.(ctx.config), retryQuarantined: true }, now);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      const message = error.problems.map((problem) => problem.message).join('; ');
      await refused(message);
      return listPage(request, reply, { status: 400, notice: `Nothing was started: ${message}` });
    }
    let workflowId: string;
    try {
      workflowId = await startAuditedFromAdmin(ctx, { user, job, resolved, customerId: null, parameters, now });
    } catch (error) {
      if (error instanceof RunAlreadyRunningError) {
        // Incremental imports share one id: the running one must end before a retry can start.
        const notice = `An import of the shop's orders is already running (${error.workflowId}), so no retry was started. Its progress is shown below; retry once it has finished.`;
        return listPage(request, reply, { status: 409, notice, watch: await runStatus(ctx.temporal, error.workflowId).catch(() => null) });
      }
      request.log.error({ err: error, userId: user.id, kind: job.kind }, 'start from the admin page failed: Temporal call failed');
      return listPage(request, reply, {
        status: 503, notice: 'Temporal could not be reached, so nothing was started. Try again in a minute; if it keeps failing, the details are in the server log.',
      });
    }
    request.log.info({ userId: user.id, kind: job.kind, workflowId }, 'run started from the admin page');
    return reply.redirect(`/quarantine?run=${encodeURIComponent(workflowId)}`, 303);
  });
}
