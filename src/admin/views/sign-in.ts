import { MIN_PASSWORD_LENGTH, type AdminUser } from '../../services/admin-users.js';
import { html, type SafeHtml } from './html.js';
import { fieldError, layout } from './layout.js';

export function signInPage(view: { csrfToken: string; next: string; email?: string; error?: string }): SafeHtml {
  return layout(
    { title: 'Sign in', user: null },
    html`<section class="card" style="max-width:420px;margin:40px auto">
  <h1>Sign in</h1>
  ${view.error ? html`<p class="notice bad" role="alert">${view.error}</p>` : ''}
  <form method="post" action="/sign-in">
    <input type="hidden" name="_csrf" value="${view.csrfToken}">
    <input type="hidden" name="next" value="${view.next}">
    <div class="field"><label for="email">Email</label>
      <input type="email" id="email" name="email" value="${view.email ?? ''}" autocomplete="username" required autofocus></div>
    <div class="field"><label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required></div>
    <button class="primary" type="submit">Sign in</button>
  </form>
</section>`,
  );
}

export function changePasswordPage(view: { user: AdminUser; csrfToken: string; error?: string }): SafeHtml {
  return layout(
    { title: 'Choose a password', user: view.user, csrfToken: view.csrfToken },
    html`<section class="card" style="max-width:480px;margin:30px auto">
  <h1>Choose a password</h1>
  ${view.user.mustChangePassword ? html`<p class="notice">You signed in with a one-time password. Choose your own to continue.</p>` : ''}
  <form method="post" action="/account/password">
    <input type="hidden" name="_csrf" value="${view.csrfToken}">
    <div class="field"><label for="password">New password (at least ${MIN_PASSWORD_LENGTH} characters)</label>
      <input type="password" id="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required
        aria-invalid="${view.error ? 'true' : 'false'}" aria-describedby="password-error">
      ${fieldError(view.error ? [view.error] : undefined, 'password-error')}</div>
    <div class="field"><label for="confirm">Repeat it</label>
      <input type="password" id="confirm" name="confirm" autocomplete="new-password" required></div>
    <button class="primary" type="submit">Save password</button>
  </form>
</section>`,
  );
}
