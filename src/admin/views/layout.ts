import type { AdminUser } from '../../services/admin-users.js';
import { assetUrl } from '../static-assets.js';
import { html, type SafeHtml } from './html.js';

export interface PageFrame {
  title: string;
  user: AdminUser | null;
  /** For the sign-out form in the header. */
  csrfToken?: string;
  /** Which nav entry is current. */
  section?: 'customers' | 'runs' | 'quarantine' | 'status';
}

export function layout(frame: PageFrame, body: SafeHtml): SafeHtml {
  const nav = frame.user
    ? html`<a href="/customers" class="${frame.section === 'customers' ? 'current' : ''}">Customers</a>
        <a href="/runs" class="${frame.section === 'runs' ? 'current' : ''}">Runs</a>
        <a href="/quarantine" class="${frame.section === 'quarantine' ? 'current' : ''}">Quarantine</a>
        <a href="/status" class="${frame.section === 'status' ? 'current' : ''}">Status</a>
        <span class="who"><span>${frame.user.email} (${frame.user.role})</span><a href="/account/password">Password</a>
          <form method="post" action="/sign-out"><input type="hidden" name="_csrf" value="${frame.csrfToken ?? ''}"><button type="submit">Sign out</button></form></span>`
    : html``;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · durable-jobs admin</title>
<link rel="stylesheet" href="${assetUrl('admin.css')}">
</head>
<body>
<header><a class="brand" href="/customers">durable-jobs admin</a>${nav}</header>
<main>
${body}
</main>
</body>
</html>`;
}

export function fieldError(messages: string[] | undefined, id: string): SafeHtml {
  if (!messages || messages.length === 0) return html``;
  return html`<p class="error" id="${id}" role="alert">${messages.map((message) => html`${message}<br>`)}</p>`;
}
