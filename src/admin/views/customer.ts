import type { AdminUser } from '../../services/admin-users.js';
import type { AuditEntry } from '../../services/audit-log.js';
import type { CustomerSummary } from '../../services/customer-directory.js';
import type { ReportRow } from '../../services/report-rows.js';
import { hasErrors, humanize, startFormFor, type FormField, type FormState } from '../job-forms.js';
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
  /** A start form per job that declares one; `allowed`: the user's role may use it. */
  forms: Array<FormState & { allowed: boolean }>;
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
${startSections(view)}
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

function startSections(view: CustomerPageView): SafeHtml {
  const allowed = view.forms.filter((state) => state.allowed);
  if (view.forms.length > 0 && allowed.length === 0) {
    return html`<section class="card"><h2>Start a run</h2><p class="muted">Your role (${view.user.role}) can look at reports but not start runs.</p></section>`;
  }
  return html`${allowed.map((state) => startSection(view, state))}`;
}

/** One job's start form: its fields from the registry, each problem next to its field. */
function startSection(view: CustomerPageView, { form, values, errors }: FormState): SafeHtml {
  const { customer } = view;
  const { kind, description } = form.job;
  const title = humanize(kind);
  // Jobs of active customers only say so here; a job that takes any existing customer (a purge) shows its form.
  if (form.forCustomer && customer && !customer.active && (form.job.customers ?? 'active') === 'active' && !hasErrors(errors)) {
    return html`<section class="card" id="start-${kind}"><h2>${title}</h2><p class="muted">This customer is inactive; inactive customers get no reports.</p></section>`;
  }
  const id = (name: string) => `${kind}-${name}`;
  return html`<section class="card" id="start-${kind}">
<h2>${title}</h2>
<p class="muted">${description}${form.forCustomer ? ', for this customer only' : ''}.</p>
${errors.form.length > 0 ? html`<p class="notice bad" role="alert" id="${id('form-error')}">${errors.form.join('; ')}</p>` : ''}
${form.forCustomer
    ? html`<div class="field"><label>Customer</label><strong>${customer ? `${customer.name} (#${customer.id})` : view.customerId}</strong>
  ${fieldError(errors.customer, `${id('customerIds')}-error`)}</div>`
    : fieldError(errors.customer, `${id('customerIds')}-error`)}
<form method="post" action="/customers/${encodeURIComponent(view.customerId)}/runs/${encodeURIComponent(kind)}" novalidate>
  <input type="hidden" name="_csrf" value="${view.csrfToken}">
  <div class="row">
    ${form.fields.map((field) => formControl(field, id(field.name), values[field.name] ?? '', errors.fields[field.name]))}
  </div>
  <button class="primary" type="submit">${title}</button>
</form>
</section>`;
}

function formControl(field: FormField, id: string, value: string | boolean, errors: string[] | undefined): SafeHtml {
  const invalid = errors && errors.length > 0 ? 'true' : 'false';
  switch (field.control) {
    case 'checkbox':
      return html`<div class="field">
  <label class="check"><input type="checkbox" name="${field.name}" id="${id}" ${value === true ? 'checked' : ''}
    aria-invalid="${invalid}" aria-describedby="${id}-error"> ${field.label}</label><span class="muted hint">${field.help}</span>
  ${fieldError(errors, `${id}-error`)}</div>`;
    case 'date':
      return dateField(id, field.name, field.label, String(value), errors, field.help);
    case 'number':
      return html`<div class="field"><label for="${id}">${field.label}</label>
  <input type="number" id="${id}" name="${field.name}" value="${String(value)}"${field.min !== undefined ? html` min="${field.min}"` : ''}${field.max !== undefined ? html` max="${field.max}"` : ''}
    aria-invalid="${invalid}" aria-describedby="${id}-error"><span class="muted hint">${field.help}</span>
  ${fieldError(errors, `${id}-error`)}</div>`;
    case 'text':
      return html`<div class="field"><label for="${id}">${field.label}</label>
  <input type="text" id="${id}" name="${field.name}" value="${String(value)}" aria-invalid="${invalid}" aria-describedby="${id}-error"><span class="muted hint">${field.help}</span>
  ${fieldError(errors, `${id}-error`)}</div>`;
  }
}

function dateField(id: string, name: string, label: string, value: string, errors: string[] | undefined, help?: string): SafeHtml {
  // type=text with a pattern hint rather than type=date: the server's message is the one
  // that explains the rule, and a browser date picker would hide malformed input.
  return html`<div class="field"><label for="${id}">${label}</label>
  <input type="text" id="${id}" name="${name}" value="${value}" placeholder="YYYY-MM-DD" inputmode="numeric"
    aria-invalid="${errors && errors.length > 0 ? 'true' : 'false'}" aria-describedby="${id}-error">${help ? html`<span class="muted hint">${help}</span>` : ''}
  ${fieldError(errors, `${id}-error`)}</div>`;
}

function auditSection(audit: AuditEntry[]): SafeHtml {
  if (audit.length === 0) return html``;
  return html`<h2>Starts asked for on this page</h2>
<table><thead><tr><th>When (UTC)</th><th>Who</th><th>Parameters</th><th>Outcome</th><th>Run</th></tr></thead><tbody>
${audit.map((entry) => html`<tr><td>${entry.at.replace('T', ' ').slice(0, 19)}</td><td>${entry.userEmail}</td>
<td><code>${describeParameters(entry.action, entry.parameters)}</code></td><td>${entry.outcome}</td><td>${entry.workflowId ?? '–'}</td></tr>`)}
</tbody></table>`;
}

// jsonb does not keep key order; the form's field order reads the same on every row.
function describeParameters(kind: string, parameters: Record<string, unknown>): string {
  const order = startFormFor(kind)?.fields.map((field) => field.name) ?? [];
  const keys = [...order.filter((key) => key in parameters), ...Object.keys(parameters).filter((key) => !order.includes(key))];
  return keys.map((key) => `${key}=${String(parameters[key])}`).join(' ');
}
