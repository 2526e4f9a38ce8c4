import type { AdminUser } from '../../services/admin-users.js';
import type { AuditEntry } from '../../services/audit-log.js';
import type { CustomerSummary } from '../../services/customer-directory.js';
import type { ReportRow } from '../../services/report-rows.js';
import { hasErrors, type FieldErrors, type RegenerateFormValues } from '../regenerate-form.js';
import type { RunListItem, RunStatus } from '../run-history.js';
import { html, type SafeHtml } from './html.js';
import { fieldError, layout } from './layout.js';
import { money, revenueChart } from './revenue-chart.js';
import { runPanel, runsTable } from './run-views.js';

export interface CustomerPageView {
  user: AdminUser;
  csrfToken: string;
  customerId: string;
  /** Null when the id names no customer (only after a tampered form post). */
  customer: CustomerSummary | null;
  range: { from: string; to: string; errors: { from?: string[]; to?: string[] } };
  rows: ReportRow[];
  runs: RunListItem[] | { error: string };
  audit: AuditEntry[];
  form: { values: RegenerateFormValues; errors: FieldErrors };
  canStart: boolean;
  watch: RunStatus | null;
}

export function customerPage(view: CustomerPageView): SafeHtml {
  const { customer } = view;
  const title = customer ? `${customer.name} (#${customer.id})` : `Customer ${view.customerId}`;
  return layout(
    { title, user: view.user, csrfToken: view.csrfToken, section: 'customers' },
    html`<p class="muted"><a href="/customers">Customers</a> / ${title}</p>
<h1>${title}</h1>
${customer
      ? html`<p class="muted">${customer.email} · ${customer.timeZone} · ${customer.currency} · ${customer.active ? 'active' : 'inactive'}</p>`
      : html`<p class="notice bad">There is no customer with id ${view.customerId}.</p>`}
${view.watch ? runPanel(view.watch) : ''}
${customer ? reportSection(view, customer) : ''}
${regenerateSection(view)}
${customer ? html`<h2>Recent runs for this customer</h2>
${'error' in view.runs ? html`<p class="notice bad">Cannot list runs: ${view.runs.error}</p>` : runsTable(view.runs, { showCustomers: false })}
${auditSection(view.audit)}` : ''}`,
  );
}

function reportSection(view: CustomerPageView, customer: CustomerSummary): SafeHtml {
  const { range, rows } = view;
  const orders = rows.reduce((sum, row) => sum + row.orderCount, 0);
  const revenue = rows.reduce((sum, row) => sum + row.revenueCents, 0);
  const tableRows = rows.map(
    (row) => html`<tr${row.final ? '' : html` class="provisional"`}><td>${row.reportDate}${row.final ? '' : html` <span class="tag" title="Made before this day ended in the customer's time zone; the nightly run replaces it with the final report">so far</span>`}</td><td class="num">${row.orderCount}</td><td class="num">${money(row.revenueCents, row.currency)}</td>
<td class="num">${row.averageOrderCents === null ? '–' : money(row.averageOrderCents, row.currency)}</td><td>${row.topSku ?? '–'}</td>
<td class="muted">${row.generatedAt.replace('T', ' ').slice(0, 19)}</td></tr>`,
  );
  return html`<section class="card" id="reports">
<h2>Daily reports</h2>
<form method="get" action="/customers/${customer.id}" class="row">
  ${dateField('range-from', 'from', 'From', range.from, range.errors.from)}
  ${dateField('range-to', 'to', 'To', range.to, range.errors.to)}
  <button class="primary" type="submit">Show</button>
</form>
${rows.length === 0
    ? html`<p class="notice">No report rows for ${range.from} to ${range.to} yet. Regenerate them below.</p>`
    : html`<p>${rows.length} days, ${orders} orders, ${money(revenue, customer.currency)} revenue${rows.some((row) => !row.final) ? html` <span class="muted">(so far: some days had not ended in ${customer.timeZone} when their rows were made)</span>` : ''}</p>
${revenueChart(rows)}
<table id="report-rows"><thead><tr><th>Day</th><th class="num">Orders</th><th class="num">Revenue</th><th class="num">Average order</th><th>Top product</th><th>Generated (UTC)</th></tr></thead>
<tbody>${tableRows}</tbody></table>`}
</section>`;
}

function regenerateSection(view: CustomerPageView): SafeHtml {
  const { customer, form } = view;
  if (!view.canStart) {
    return html`<section class="card"><h2>Regenerate</h2><p class="muted">Your role (${view.user.role}) can look at reports but not start runs.</p></section>`;
  }
  if (customer && !customer.active && !hasErrors(form.errors)) {
    return html`<section class="card"><h2>Regenerate</h2><p class="muted">This customer is inactive; inactive customers get no reports.</p></section>`;
  }
  const { values, errors } = form;
  const check = (name: 'sendEmail' | 'resend' | 'dryRun', label: string, hint: string) => html`<div class="field">
  <label class="check"><input type="checkbox" name="${name}" id="regen-${name}" ${values[name] ? 'checked' : ''}
    aria-invalid="${errors[name] ? 'true' : 'false'}" aria-describedby="regen-${name}-error"> ${label}</label><span class="muted hint">${hint}</span>
  ${fieldError(errors[name], `regen-${name}-error`)}</div>`;
  return html`<section class="card" id="regenerate">
<h2>Regenerate reports</h2>
${errors.form ? html`<p class="notice bad" role="alert">${errors.form.join('; ')}</p>` : ''}
<form method="post" action="/customers/${view.customerId}/regenerate" novalidate>
  <input type="hidden" name="_csrf" value="${view.csrfToken}">
  <div class="field"><label>Customer</label><strong>${customer ? `${customer.name} (#${customer.id})` : view.customerId}</strong>
    ${fieldError(errors.customer, 'regen-customer-error')}</div>
  <div class="row">
    ${dateField('regen-from', 'from', 'From', values.from, errors.from)}
    ${dateField('regen-to', 'to', 'To (inclusive)', values.to, errors.to)}
  </div>
  <div class="row">
    ${check('sendEmail', 'Send email', 'the report for the period, once')}
    ${check('resend', 'Resend', 'even if it was sent before')}
    ${check('dryRun', 'Dry run', 'count changes, write and send nothing')}
  </div>
  <button class="primary" type="submit">Regenerate</button>
</form>
</section>`;
}

function dateField(id: string, name: string, label: string, value: string, errors: string[] | undefined): SafeHtml {
  // type=text with a pattern hint rather than type=date: the server's message is the one
  // that explains the rule, and a browser date picker would hide malformed input.
  return html`<div class="field"><label for="${id}">${label}</label>
  <input type="text" id="${id}" name="${name}" value="${value}" placeholder="YYYY-MM-DD" inputmode="numeric"
    aria-invalid="${errors && errors.length > 0 ? 'true' : 'false'}" aria-describedby="${id}-error">
  ${fieldError(errors, `${id}-error`)}</div>`;
}

function auditSection(audit: AuditEntry[]): SafeHtml {
  if (audit.length === 0) return html``;
  return html`<h2>Starts asked for on this page</h2>
<table><thead><tr><th>When (UTC)</th><th>Who</th><th>Parameters</th><th>Outcome</th><th>Run</th></tr></thead><tbody>
${audit.map((entry) => html`<tr><td>${entry.at.replace('T', ' ').slice(0, 19)}</td><td>${entry.userEmail}</td>
<td><code>${describeParameters(entry.parameters)}</code></td><td>${entry.outcome}</td><td>${entry.workflowId ?? '–'}</td></tr>`)}
</tbody></table>`;
}

// jsonb does not keep key order; a fixed order reads the same on every row.
const PARAMETER_ORDER = ['from', 'to', 'sendEmail', 'resend', 'dryRun'];

function describeParameters(parameters: Record<string, unknown>): string {
  const keys = [...PARAMETER_ORDER.filter((key) => key in parameters), ...Object.keys(parameters).filter((key) => !PARAMETER_ORDER.includes(key))];
  return keys.map((key) => `${key}=${String(parameters[key])}`).join(' ');
}
