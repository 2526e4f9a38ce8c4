import type { FastifyInstance } from 'fastify';
import { resolveRegenerateInput, LIMITS } from '../../contracts.js';
import { daysBetween } from '../../dates.js';
import { startRegenerateReports } from '../../temporal/report-runs.js';
import { RunAlreadyRunningError } from '../../temporal/runs.js';
import { canStartRuns } from '../auth.js';
import { csrfToken, queryField, sendHtml, type AdminContext } from '../context.js';
import { defaultRange, loadCustomerPage, readRange } from '../customer-page.js';
import { addError, hasErrors, parseRegenerateForm } from '../regenerate-form.js';
import { customerPage } from '../views/customer.js';
import { customersPage } from '../views/customers.js';
import { errorPage } from '../views/error.js';

const PAGE_SIZE = 25;
/** How long a start may wait for Temporal before the page says it is unreachable. */
const START_DEADLINE_MS = 10_000;

export function customerRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/', async (_request, reply) => reply.redirect('/customers', 303));

  app.get('/customers', async (request, reply) => {
    const query = queryField(request.query, 'q').slice(0, 200);
    const pageText = queryField(request.query, 'page');
    const page = /^\d{1,5}$/.test(pageText) && Number(pageText) > 0 ? Number(pageText) : 1;
    const result = await ctx.directory.search(query, page, PAGE_SIZE);
    return sendHtml(reply, customersPage({ user: request.user!, csrfToken: csrfToken(request, reply, ctx.settings), query, result }));
  });

  app.get<{ Params: { id: string } }>('/customers/:id', async (request, reply) => {
    const customerId = parseCustomerId(request.params.id);
    const range = readRange(queryField(request.query, 'from'), queryField(request.query, 'to'), ctx.now());
    const watch = queryField(request.query, 'run');
    const token = csrfToken(request, reply, ctx.settings);
    const view = await loadCustomerPage(
      ctx,
      { user: request.user!, csrfToken: token, customerIdText: request.params.id, customerId, range, ...(watch ? { watchWorkflowId: watch } : {}) },
      range.errors,
    );
    if (!view) return sendHtml(reply.code(404), errorPage({ status: 404, message: `There is no customer with id ${request.params.id}.`, user: request.user, csrfToken: token }));
    return sendHtml(reply, customerPage(view));
  });

  app.post<{ Params: { id: string } }>('/customers/:id/regenerate', async (request, reply) => {
    const user = request.user!;
    const actor = { userId: user.id, email: user.email };
    const token = csrfToken(request, reply, ctx.settings);
    const now = ctx.now();
    const customerId = parseCustomerId(request.params.id);
    // Every start asked for is audited, a refused one too, with what was asked.
    const refused = (reason: string, parameters: Record<string, unknown>) =>
      ctx.audit.record({ actor, email: user.email, action: 'regenerate-reports', outcome: `refused: ${reason}`, customerId, parameters });
    if (!canStartRuns(user)) {
      await refused(`role ${user.role} may not start runs`, {});
      return sendHtml(reply.code(403), errorPage({ status: 403, message: `Your role (${user.role}) can look at reports but not start runs; ask an operator.`, user, csrfToken: token }));
    }
    // The id is checked here, not trusted from the page it came from: an edited form is just input.
    const form = parseRegenerateForm(customerId, request.body, now);
    if (customerId === null) addError(form.errors, 'customer', `'${request.params.id}' is not a customer id (a positive whole number)`);
    else {
      for (const unavailable of await ctx.selection.findUnavailable([customerId])) {
        addError(form.errors, 'customer', unavailable.reason === 'unknown'
          ? `customer ${customerId} does not exist`
          : `customer ${customerId} is inactive; inactive customers get no reports`);
      }
    }
    if (hasErrors(form.errors)) {
      await refused(Object.values(form.errors).flat().join('; '), { ...form.values, ...(customerId === null ? { customer: request.params.id } : {}) });
      const view = await loadCustomerPage(ctx, {
        user, csrfToken: token, customerIdText: request.params.id, customerId, range: defaultRange(now), form: { values: form.values, errors: form.errors },
      });
      return sendHtml(reply.code(400), customerPage(view!));
    }
    const resolved = resolveRegenerateInput(form.input, now);
    const parameters = { from: resolved.from, to: resolved.to, sendEmail: resolved.sendEmail, resend: resolved.resend, dryRun: resolved.dryRun };
    let workflowId: string;
    try {
      workflowId = await ctx.audit.recordStart(
        { actor, action: 'regenerate-reports', customerId, parameters },
        // A deadline, so an unreachable Temporal is answered in seconds rather than after the client's retries.
        () => ctx.temporal.client.withDeadline(Date.now() + START_DEADLINE_MS, async () => {
          const { handle } = await startRegenerateReports(ctx.temporal.client, { customerIds: [customerId!], ...parameters }, {
            taskQueue: ctx.temporal.taskQueue, startedFrom: 'admin', startedBy: user.email, now,
          });
          return handle.workflowId;
        }),
        (error) => error instanceof RunAlreadyRunningError
          ? { reason: 'already running', workflowId: error.workflowId }
          : { reason: `Temporal did not start it (${error instanceof Error ? error.message : String(error)})` },
      );
    } catch (error) {
      const running = error instanceof RunAlreadyRunningError;
      // One manual run per customer and period at a time: show the one that is running.
      const message = running
        ? `A run for this customer and period is already running (${error.workflowId}); its progress is shown above. Start again once it has finished.`
        : 'Temporal could not be reached, so nothing was started. Try again in a minute; if it keeps failing, the details are in the server log.';
      if (!running) request.log.error({ err: error, userId: user.id, customerId }, 'regeneration from the admin page not started: Temporal call failed');
      const view = await loadCustomerPage(ctx, {
        user, csrfToken: token, customerIdText: request.params.id, customerId, range: defaultRange(now), ...(running ? { watchWorkflowId: error.workflowId } : {}),
        form: { values: form.values, errors: { form: [message] } },
      });
      return sendHtml(reply.code(running ? 409 : 503), customerPage(view!));
    }
    request.log.info({ userId: user.id, customerId, workflowId }, 'regeneration started from the admin page');
    const range = viewRangeAround(defaultRange(now), resolved);
    return reply.redirect(`/customers/${customerId}?from=${range.from}&to=${range.to}&run=${encodeURIComponent(workflowId)}`, 303);
  });
}

function parseCustomerId(text: string): number | null {
  return /^\d{1,15}$/.test(text) && Number(text) > 0 ? Number(text) : null;
}

/** Shows the regenerated period: the default range widened to include it, or just the period if that gets too long. */
function viewRangeAround(view: { from: string; to: string }, period: { from: string; to: string }): { from: string; to: string } {
  const from = period.from < view.from ? period.from : view.from;
  const to = period.to > view.to ? period.to : view.to;
  return daysBetween(from, to) + 1 > LIMITS.maxRangeDays ? { from: period.from, to: period.to } : { from, to };
}
