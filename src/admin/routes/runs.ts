import type { FastifyInstance } from 'fastify';
import type { StartedFrom } from '../../temporal/report-runs.js';
import { csrfToken, queryField, sendHtml, type AdminContext } from '../context.js';
import { listRuns, runStatus, STARTED_FROM_VALUES, STATUS_FILTERS, type StatusFilter } from '../run-history.js';
import { runsPage } from '../views/runs.js';

const RUNS_SHOWN = 50;

export function runRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/runs', async (request, reply) => {
    // Filters outside the fixed lists are ignored, never passed on to the visibility query.
    const from = queryField(request.query, 'startedFrom');
    const startedFrom = STARTED_FROM_VALUES.find((value) => value === from) as StartedFrom | undefined;
    const statusText = queryField(request.query, 'status');
    const status = Object.hasOwn(STATUS_FILTERS, statusText) ? (statusText as StatusFilter) : undefined;
    const runs = await listRuns(ctx.temporal, {
      ...(startedFrom ? { startedFrom } : {}), ...(status ? { status } : {}), limit: RUNS_SHOWN, withProgress: true,
    }).catch((error: Error) => ({ error: error.message }));
    return sendHtml(reply, runsPage({ user: request.user!, csrfToken: csrfToken(request, reply, ctx.settings), startedFrom, status, runs, limit: RUNS_SHOWN }));
  });

  /** The live progress panel polls this: describe() plus the workflow's `progress` query. */
  app.get<{ Params: { workflowId: string } }>('/api/runs/:workflowId', async (request, reply) => {
    const { workflowId } = request.params;
    const run = workflowId.length <= 400 ? await runStatus(ctx.temporal, workflowId) : null;
    reply.header('cache-control', 'no-store');
    if (!run) return reply.code(404).send({ error: `no report run with id ${workflowId}` });
    return run;
  });
}
