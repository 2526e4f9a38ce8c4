import { MIN_PASSWORD_LENGTH, type AdminUser } from '../../services/admin-users.js';
import { html, type SafeHtml } from './html.js';
import { fieldError, layout } from './layout.js';

export function signInPage(view: { csrfToken: string; next: string; email?: string; error?: string }): SafeHtml {
  return layout(
    { title: 'Sign in', user: null },
    html`<section class="card narrow">
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

export type PasswordFormErrors = Partial<Record<'current' | 'password' | 'confirm', string>>;

export function changePasswordPage(view: { user: AdminUser; csrfToken: string; errors?: PasswordFormErrors }): SafeHtml {
  const errors = view.errors ?? {};
  const field = (name: keyof PasswordFormErrors, label: string, autocomplete: string, extra: SafeHtml | string = '') => html`<div class="field"><label for="${name}">${label}</label>
      <input type="password" id="${name}" name="${name}" autocomplete="${autocomplete}" required ${extra}
        aria-invalid="${errors[name] ? 'true' : 'false'}" aria-describedby="${name}-error">
      ${fieldError(errors[name] ? [errors[name]] : undefined, `${name}-error`)}</div>`;
  return layout(
    { title: 'Choose a password', user: view.user, csrfToken: view.csrfToken },
    html`<section class="card medium">
  <h1>Choose a password</h1>
  ${view.user.mustChangePassword ? html`<p class="notice">You signed in with a one-time password. Choose your own to continue.</p>` : ''}
  <form method="post" action="/account/password">
    <input type="hidden" name="_csrf" value="${view.csrfToken}">
    ${field('current', view.user.mustChangePassword ? 'Current (one-time) password' : 'Current password', 'current-password')}
    ${field('password', `New password (at least ${MIN_PASSWORD_LENGTH} characters)`, 'new-password', html`minlength="${MIN_PASSWORD_LENGTH}"`)}
    ${field('confirm', 'Repeat it', 'new-password')}
    <button class="primary" type="submit">Save password</button>
  </form>
</section>`,
  );
}
