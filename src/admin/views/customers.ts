import type { AdminUser } from '../../services/admin-users.js';
import type { CustomerPage } from '../../services/customer-directory.js';
import { html, queryString, type SafeHtml } from './html.js';
import { layout } from './layout.js';

export function customersPage(view: { user: AdminUser; csrfToken: string; query: string; result: CustomerPage }): SafeHtml {
  const { result, query } = view;
  const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
  const link = (page: number) => `/customers${queryString({ q: query, page: page > 1 ? page : undefined })}`;
  const rows = result.customers.map(
    (c) => html`<tr>
      <td class="num"><a href="/customers/${c.id}">${c.id}</a></td>
      <td><a href="/customers/${c.id}">${c.name}</a></td>
      <td>${c.email}</td><td>${c.timeZone}</td><td>${c.currency}</td>
      <td>${c.active ? 'active' : html`<span class="muted">inactive</span>`}</td></tr>`,
  );
  return layout(
    { title: 'Customers', user: view.user, csrfToken: view.csrfToken, section: 'customers' },
    html`<h1>Customers</h1>
<form method="get" action="/customers" class="row" role="search">
  <div class="field"><label for="q">Id, name or email</label>
    <input type="search" id="q" name="q" value="${query}" placeholder="42, Customer 4, @example.com" autofocus></div>
  <button class="primary" type="submit">Search</button>
</form>
<p class="muted">${result.total} customer${result.total === 1 ? '' : 's'}${query ? html` matching “${query}”` : ''}</p>
${result.customers.length === 0
    ? html`<p class="notice">No customers found.</p>`
    : html`<table><thead><tr><th class="num">Id</th><th>Name</th><th>Email</th><th>Time zone</th><th>Currency</th><th>Status</th></tr></thead>
<tbody>${rows}</tbody></table>`}
<nav class="pager" aria-label="pages">
  ${result.page > 1 ? html`<a href="${link(result.page - 1)}" rel="prev">← Previous</a>` : ''}
  <span class="muted">page ${result.page} of ${pages}</span>
  ${result.page < pages ? html`<a href="${link(result.page + 1)}" rel="next">Next →</a>` : ''}
</nav>`,
  );
}
