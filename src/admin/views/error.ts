import type { AdminUser } from '../../services/admin-users.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';

export function errorPage(view: { status: number; message: string; user: AdminUser | null; csrfToken?: string }): SafeHtml {
  return layout(
    { title: `Error ${view.status}`, user: view.user, ...(view.csrfToken ? { csrfToken: view.csrfToken } : {}) },
    html`<h1>${view.status === 404 ? 'Not found' : view.status === 403 ? 'Not allowed' : `Error ${view.status}`}</h1>
<p class="notice bad" role="alert">${view.message}</p>
<p><a href="/customers">Back to customers</a></p>`,
  );
}
