import type { FastifyInstance } from 'fastify';
import { LIMITS } from '../../contracts.js';
import { daysBetween, isCalendarDate } from '../../dates.js';
import { refusedCustomers } from '../../jobs/customer-rule.js';
import { RunAlreadyRunningError } from '../../temporal/runs.js';
import { InvalidInputError } from '../../validation.js';
import { roleRefusalMessage, startAuditedFromAdmin } from '../admin-start.js';
import { csrfToken, queryField, sendHtml, type AdminContext } from '../context.js';
import { defaultRange, loadCustomerPage, readRange } from '../customer-page.js';
import {
  allMessages, CUSTOMER_FIELD, hasErrors, mayStart, noErrors, placeProblems, readForm, settingsDefaults, startedParameters, startFormFor, type FormState,
} from '../job-forms.js';
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

  /**
   * Starts a run of the job `kind` from its form on a customer's page: any registered job that
   * declares `doors.form`, by the roles it names. The input is validated here once, by the
   * job's `resolve` (and once more by the workflow); each problem goes next to its field.
   * The settings' defaults (`defaultsFromConfig`, as the CLI's) lie under the fields filled in,
   * so a field left empty runs with what the form showed, not the schema's bare default.
   */
  app.post<{ Params: { id: string; kind: string } }>('/customers/:id/runs/:kind', async (request, reply) => {
    const user = request.user!;
    const actor = { userId: user.id, email: user.email };
    const token = csrfToken(request, reply, ctx.settings);
    const form = startFormFor(request.params.kind);
    if (!form) {
      return sendHtml(reply.code(404), errorPage({ status: 404, message: `No job '${request.params.kind}' can be started from this page.`, user, csrfToken: token }));
    }
    const { job } = form;
    const action = job.kind; // the audit action of a start is its job's kind
    const now = ctx.now();
    const customerId = parseCustomerId(request.params.id);
    // Every start asked for is audited, a refused one too, with what was asked.
    const refused = (reason: string, parameters: Record<string, unknown>) =>
      ctx.audit.record({ actor, email: user.email, action, outcome: `refused: ${reason}`, customerId, parameters });
    if (!mayStart(user, job)) {
      await refused(`role ${user.role} may not start runs`, {});
      return sendHtml(reply.code(403), errorPage({ status: 403, message: roleRefusalMessage(user, job), user, csrfToken: token }));
    }
    // The id is checked here, not trusted from the page it came from: an edited form is just input.
    const posted = readForm(form, request.body);
    const { errors } = posted;
    if (customerId === null) errors.customer.push(`'${request.params.id}' is not a customer id (a positive whole number)`);
    else if (form.forCustomer) {
      // The job's own rule: most jobs run active customers only; a purge takes any that exists.
      for (const unavailable of refusedCustomers(job, await ctx.selection.findUnavailable([customerId]))) {
        errors.customer.push(unavailable.reason === 'unknown'
          ? `customer ${customerId} does not exist`
          : `customer ${customerId} is inactive; inactive customers get no reports`);
      }
    }
    let resolved: unknown;
    try {
      resolved = job.resolve({
        ...settingsDefaults(job, ctx.config), ...posted.input, ...(form.forCustomer && customerId !== null ? { [CUSTOMER_FIELD]: [customerId] } : {}),
      }, now);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      placeProblems(form, error.problems, errors);
    }
    const formPage = async (state: FormState, watchWorkflowId?: string) => customerPage((await loadCustomerPage(ctx, {
      user, csrfToken: token, customerIdText: request.params.id, customerId, range: defaultRange(now), posted: state, ...(watchWorkflowId ? { watchWorkflowId } : {}),
    }))!);
    if (hasErrors(errors)) {
      await refused(allMessages(errors).join('; '), { ...posted.values, ...(customerId === null ? { customer: request.params.id } : {}) });
      return sendHtml(reply.code(400), await formPage({ form, values: posted.values, errors }));
    }
    const workflowInput = job.workflowInput(resolved) as Record<string, unknown>;
    let workflowId: string;
    try {
      workflowId = await startAuditedFromAdmin(ctx, { user, job, resolved, customerId, parameters: startedParameters(form, workflowInput), now });
    } catch (error) {
      const running = error instanceof RunAlreadyRunningError;
      // One manual run per job, scope and period at a time: show the one that is running.
      const message = running
        ? `A run of ${job.kind} for the same scope and period is already running (${error.workflowId}); its progress is shown above. Start again once it has finished.`
        : 'Temporal could not be reached, so nothing was started. Try again in a minute; if it keeps failing, the details are in the server log.';
      if (!running) request.log.error({ err: error, userId: user.id, customerId, kind: job.kind }, 'start from the admin page failed: Temporal call failed');
      const state = { form, values: posted.values, errors: { ...noErrors(), form: [message] } };
      return sendHtml(reply.code(running ? 409 : 503), await formPage(state, running ? error.workflowId : undefined));
    }
    request.log.info({ userId: user.id, customerId, kind: job.kind, workflowId }, 'run started from the admin page');
    const range = viewRangeAround(defaultRange(now), workflowInput);
    return reply.redirect(`/customers/${customerId}?from=${range.from}&to=${range.to}&run=${encodeURIComponent(workflowId)}`, 303);
  });
}

function parseCustomerId(text: string): number | null {
  return /^\d{1,15}$/.test(text) && Number(text) > 0 ? Number(text) : null;
}

/**
 * Shows the period a run covers, when its input has one (`from`..`to` days): the default range
 * widened to include it, or just the period if that gets too long. Other runs: the default range.
 */
function viewRangeAround(view: { from: string; to: string }, input: Record<string, unknown>): { from: string; to: string } {
  const period = { from: input.from, to: input.to };
  if (typeof period.from !== 'string' || typeof period.to !== 'string' || !isCalendarDate(period.from) || !isCalendarDate(period.to)) return view;
  const from = period.from < view.from ? period.from : view.from;
  const to = period.to > view.to ? period.to : view.to;
  return daysBetween(from, to) + 1 > LIMITS.maxRangeDays ? { from: period.from, to: period.to! } : { from, to };
}
