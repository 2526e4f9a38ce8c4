import { InvalidInputError, resolveRegenerateInput } from '../contracts.js';
import { addDays } from '../dates.js';
import type { AdminUser } from '../services/admin-users.js';
import type { AdminContext } from './context.js';
import { defaultState, mayStart, startForms, type FormState } from './job-forms.js';
import { listRuns, runStatus, type RunStatus } from './run-history.js';
import type { CustomerPageView } from './views/customer.js';

export const DEFAULT_RANGE_DAYS = 14;

export interface CustomerPageRequest {
  user: AdminUser;
  csrfToken: string;
  customerIdText: string;
  customerId: number | null;
  range: { from: string; to: string };
  watchWorkflowId?: string;
  /** A form posted back with its problems (the other forms show their defaults). */
  posted?: FormState;
}

/** The default range: the last two weeks up to yesterday (UTC). */
export function defaultRange(now: Date): { from: string; to: string } {
  const yesterday = addDays(now.toISOString().slice(0, 10), -1);
  return { from: addDays(yesterday, -(DEFAULT_RANGE_DAYS - 1)), to: yesterday };
}

/** The range to show, checked by the contract's own date rules; a bad one falls back to the default. */
export function readRange(from: string, to: string, now: Date): { from: string; to: string; errors: { from?: string[]; to?: string[] } } {
  if (!from && !to) return { ...defaultRange(now), errors: {} };
  try {
    const resolved = resolveRegenerateInput({ ...(from ? { from } : {}), ...(to ? { to } : {}) }, now);
    return { from: resolved.from, to: resolved.to, errors: {} };
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const errors: { from?: string[]; to?: string[] } = {};
    for (const problem of error.problems) (problem.field === 'to' ? (errors.to ??= []) : (errors.from ??= [])).push(problem.message);
    return { ...defaultRange(now), errors };
  }
}

/** Gathers what the customer page shows; Temporal being unreachable degrades to a notice. */
export async function loadCustomerPage(ctx: AdminContext, request: CustomerPageRequest, rangeErrors: { from?: string[]; to?: string[] } = {}): Promise<CustomerPageView | null> {
  const customer = request.customerId === null ? null : await ctx.directory.find(request.customerId);
  if (!customer && !request.posted) return null;
  const [rows, runs, audit, watch] = customer
    ? await Promise.all([
        ctx.reportRows.forCustomers([customer.id], request.range.from, request.range.to),
        listRuns(ctx.temporal, { customerId: customer.id, limit: 10, withProgress: true, withSummaries: true }).catch((error: Error) => ({ error: error.message })),
        ctx.audit.forCustomer(customer.id, 10),
        watched(ctx, request.watchWorkflowId),
      ])
    : [[], [], [], null];
  return {
    user: request.user,
    csrfToken: request.csrfToken,
    customerId: request.customerIdText,
    customer,
    range: { ...request.range, errors: rangeErrors },
    rows,
    runs,
    audit,
    forms: startForms().map((form) => ({
      ...(request.posted?.form.job === form.job ? request.posted : defaultState(form, ctx.now(), ctx.config)),
      allowed: mayStart(request.user, form.job),
    })),
    watch,
  };
}

async function watched(ctx: AdminContext, workflowId: string | undefined): Promise<RunStatus | null> {
  if (!workflowId) return null;
  return runStatus(ctx.temporal, workflowId).catch(() => null);
}
