import type { FastifyInstance } from 'fastify';
import { resolveRegenerateInput, daysBetween, LIMITS } from '../../contracts.js';
import { RunAlreadyRunningError, startRegenerateReports } from '../../temporal/report-runs.js';
import { canStartRuns } from '../auth.js';
import { csrfToken, queryField, sendHtml, type AdminContext } from '../context.js';
import { defaultRange, loadCustomerPage, readRange } from '../customer-page.js';
import { addError, hasErrors, parseRegenerateForm } from '../regenerate-form.js';
import { customerPage } from '../views/customer.js';
import { customersPage } from '../views/customers.js';
import { errorPage } from '../views/error.js';

const PAGE_SIZE = 25;

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
    const token = csrfToken(request, reply, ctx.settings);
    if (!canStartRuns(user)) {
      return sendHtml(reply.code(403), errorPage({ status: 403, message: `Your role (${user.role}) can look at reports but not start runs; ask an operator.`, user, csrfToken: token }));
    }
    const now = ctx.now();
    const customerId = parseCustomerId(request.params.id);
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
      const view = await loadCustomerPage(ctx, {
        user, csrfToken: token, customerIdText: request.params.id, customerId, range: defaultRange(now), form: { values: form.values, errors: form.errors },
      });
      return sendHtml(reply.code(400), customerPage(view!));
    }
    const resolved = resolveRegenerateInput(form.input, now);
    const parameters = { from: resolved.from, to: resolved.to, sendEmail: resolved.sendEmail, resend: resolved.resend, dryRun: resolved.dryRun };
    let workflowId: string;
    try {
      workflowId = await ctx.audit.recordStart({ userId: user.id, email: user.email }, 'regenerate-reports', customerId, parameters, async () => {
        const { handle } = await startRegenerateReports(ctx.temporal.client, { customerIds: [customerId!], ...parameters }, {
          taskQueue: ctx.temporal.taskQueue, startedFrom: 'admin', startedBy: user.email, now,
        });
        return handle.workflowId;
      });
    } catch (error) {
      // One manual run per customer and period at a time: show the one that is running.
      if (!(error instanceof RunAlreadyRunningError)) throw error;
      const view = await loadCustomerPage(ctx, {
        user, csrfToken: token, customerIdText: request.params.id, customerId, range: defaultRange(now), watchWorkflowId: error.workflowId,
        form: { values: form.values, errors: { form: [`A run for this customer and period is already running (${error.workflowId}); its progress is shown above. Start again once it has finished.`] } },
      });
      return sendHtml(reply.code(409), customerPage(view!));
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
