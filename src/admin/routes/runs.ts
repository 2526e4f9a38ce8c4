import type { FastifyInstance } from 'fastify';
import { jobByKind } from '../../jobs/index.js';
import type { StartedFrom } from '../../temporal/runs.js';
import { csrfToken, queryField, sendHtml, type AdminContext } from '../context.js';
import { InvalidPageTokenError, PageTokens } from '../page-tokens.js';
import { listRunsPage, runStatus, STARTED_FROM_VALUES, STATUS_FILTERS, type StatusFilter } from '../run-history.js';
import { runsPage, type RunsPaging } from '../views/runs.js';

export const RUNS_PAGE_SIZE = 25;
export const MAX_RUNS_PAGE_SIZE = 100;
/** How many pages back "Newer" can walk: the trail of tokens travels in the link. */
const MAX_PAGE_DEPTH = 50;

export function runRoutes(app: FastifyInstance, ctx: AdminContext): void {
  const pageTokens = new PageTokens(ctx.settings.sessionSecret);
  /**
   * Runs, newest first, a page at a time. `page` is the trail of Temporal paging tokens from the
   * newest page to this one (dot-separated): "Older" adds the next token, "Newer" drops the last.
   */
  app.get('/runs', async (request, reply) => {
    // Filters outside the fixed lists are ignored, never passed on to the visibility query.
    const from = queryField(request.query, 'startedFrom');
    const startedFrom = STARTED_FROM_VALUES.find((value) => value === from) as StartedFrom | undefined;
    const statusText = queryField(request.query, 'status');
    const status = Object.hasOwn(STATUS_FILTERS, statusText) ? (statusText as StatusFilter) : undefined;
    // The registry's own value, never the text as given.
    const kind = jobByKind(queryField(request.query, 'kind'))?.kind;
    const view = { user: request.user!, csrfToken: csrfToken(request, reply, ctx.settings), kind, startedFrom, status };
    const sizeText = queryField(request.query, 'size');
    const pageText = queryField(request.query, 'page');
    const trail = pageText === '' ? [] : pageText.split('.');
    const badPaging = (message: string) =>
      sendHtml(reply.code(400), runsPage({ ...view, runs: { error: message }, paging: { size: RUNS_PAGE_SIZE, trail: [], nextPageToken: null } }));
    if (sizeText !== '' && !(/^\d{1,3}$/.test(sizeText) && Number(sizeText) >= 1 && Number(sizeText) <= MAX_RUNS_PAGE_SIZE)) {
      return badPaging(`size must be a whole number from 1 to ${MAX_RUNS_PAGE_SIZE} (runs a page), got '${sizeText.slice(0, 20)}'.`);
    }
    if (trail.length > MAX_PAGE_DEPTH) return badPaging(`This link goes more than ${MAX_PAGE_DEPTH} pages back; narrow the list with the filters instead.`);
    const size = sizeText === '' ? RUNS_PAGE_SIZE : Number(sizeText);
    // Every token of the trail is checked, so "Newer" never leads to a page that cannot be shown.
    const list = JSON.stringify([kind ?? '', startedFrom ?? '', status ?? '', size]);
    let pageToken: Buffer | undefined;
    try {
      for (const token of trail) pageToken = pageTokens.verify(list, token);
    } catch (error) {
      if (!(error instanceof InvalidPageTokenError)) throw error;
      return badPaging('This page link is not valid: its paging token was changed, cut short or made for another list. Start again from the newest runs.');
    }
    try {
      const page = await listRunsPage(ctx.temporal, {
        ...(kind ? { kind } : {}), ...(startedFrom ? { startedFrom } : {}), ...(status ? { status } : {}),
        limit: size, withProgress: true, withSummaries: true, ...(pageToken ? { pageToken } : {}),
      });
      const paging: RunsPaging = { size, trail, nextPageToken: page.nextPageToken ? pageTokens.sign(list, page.nextPageToken) : null };
      return sendHtml(reply, runsPage({ ...view, runs: page.runs, paging }));
    } catch (error) {
      const paging: RunsPaging = { size, trail: [], nextPageToken: null };
      return sendHtml(reply, runsPage({ ...view, runs: { error: (error as Error).message }, paging }));
    }
  });

  /** The live progress panel polls this: describe() plus the job's progress query. */
  app.get<{ Params: { workflowId: string } }>('/api/runs/:workflowId', async (request, reply) => {
    const { workflowId } = request.params;
    const run = workflowId.length <= 400 ? await runStatus(ctx.temporal, workflowId) : null;
    reply.header('cache-control', 'no-store');
    if (!run) return reply.code(404).send({ error: `no run of a registered job with id ${workflowId}` });
    return run;
  });
}
