import type { FastifyInstance } from 'fastify';
import { runHealthChecks } from '../../health/health-checks.js';
import { csrfToken, sendHtml, type AdminContext } from '../context.js';
import { lastRunOfEachJob } from '../job-status.js';
import { statusPage } from '../views/status.js';

/**
 * Each check's and each visibility read's deadline on the status page: a dead dependency
 * makes the page slower by this much at most, never hangs it (the checks run at once).
 */
export const STATUS_CHECK_TIMEOUT_MS = 3_000;

/** The status panel: `npm run doctor`'s checks, and the last run of each job, for every signed-in role. */
export function statusRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/status', async (request, reply) => {
    const [report, lastRuns] = await Promise.all([
      runHealthChecks(ctx.health, { timeoutMs: STATUS_CHECK_TIMEOUT_MS, now: ctx.now }),
      lastRunOfEachJob(ctx.temporal, STATUS_CHECK_TIMEOUT_MS),
    ]);
    return sendHtml(reply, statusPage({ user: request.user!, csrfToken: csrfToken(request, reply, ctx.settings), report, lastRuns }));
  });
}
