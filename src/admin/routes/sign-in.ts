import type { FastifyInstance } from 'fastify';
import { clearSessionCookie, safeNextPath, setSessionCookie } from '../auth.js';
import { csrfToken, formField, queryField, sendHtml, type AdminContext } from '../context.js';
import { ACCOUNT_WINDOW_MINUTES } from '../sign-in-throttle.js';
import { signInPage } from '../views/sign-in.js';

// The same words whether or not the account exists: being throttled reveals nothing about it.
export const ACCOUNT_THROTTLED_MESSAGE =
  `Too many failed sign-ins for this email address. Wait ${ACCOUNT_WINDOW_MINUTES} minutes, then try again.`;

export function signInRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/sign-in', { config: { public: true } }, async (request, reply) => {
    const next = safeNextPath(queryField(request.query, 'next'));
    if (request.user) return reply.redirect(next, 303);
    return sendHtml(reply, signInPage({ csrfToken: csrfToken(request, reply, ctx.settings), next }));
  });

  app.post(
    '/sign-in',
    { config: { public: true, rateLimit: { max: ctx.settings.signInAttemptsPerMinute, timeWindow: 60_000 } } },
    async (request, reply) => {
      const email = formField(request.body, 'email').trim();
      const typed = email.toLowerCase();
      const next = safeNextPath(formField(request.body, 'next'));
      const again = (status: number, error: string) =>
        sendHtml(reply.code(status), signInPage({ csrfToken: csrfToken(request, reply, ctx.settings), next, email, error }));
      // Logs carry no personal data: the typed email goes to the audit table only.
      const attempt = await ctx.signInThrottle.begin(typed);
      if (!attempt.allowed) {
        await ctx.audit.record({ actor: null, email: typed, action: 'sign-in', outcome: 'throttled' });
        request.log.info('admin sign-in refused: too many failed attempts for one account');
        return again(429, ACCOUNT_THROTTLED_MESSAGE);
      }
      const user = email ? await ctx.users.authenticate(email, formField(request.body, 'password')) : null;
      if (!user) {
        await attempt.failed();
        await ctx.audit.record({ actor: null, email: typed, action: 'sign-in', outcome: 'failed: wrong email or password' });
        request.log.info('admin sign-in refused');
        return again(401, 'Wrong email or password.');
      }
      await attempt.succeeded();
      // A new token at every sign-in: a session id known before signing in is worth nothing after.
      if (request.sessionToken) await ctx.sessions.end(request.sessionToken);
      const { token, expiresAt } = await ctx.sessions.create(user.id);
      setSessionCookie(request, reply, token, expiresAt, ctx.settings.cookieSecure);
      await ctx.audit.record({ actor: { userId: user.id, email: user.email }, email: user.email, action: 'sign-in', outcome: 'succeeded' });
      request.log.info({ userId: user.id }, 'admin signed in');
      return reply.redirect(user.mustChangePassword ? '/account/password' : next, 303);
    },
  );

  app.post('/sign-out', { config: { duringPasswordChange: true } }, async (request, reply) => {
    if (request.sessionToken) await ctx.sessions.end(request.sessionToken);
    const user = request.user!;
    await ctx.audit.record({ actor: { userId: user.id, email: user.email }, email: user.email, action: 'sign-out', outcome: 'succeeded' });
    clearSessionCookie(request, reply, ctx.settings.cookieSecure);
    return reply.redirect('/sign-in', 303);
  });
}
