import type { FastifyInstance } from 'fastify';
import { clearSessionCookie, safeNextPath, setSessionCookie } from '../auth.js';
import { csrfToken, formField, queryField, sendHtml, type AdminContext } from '../context.js';
import { signInPage } from '../views/sign-in.js';

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
      const next = safeNextPath(formField(request.body, 'next'));
      const user = email ? await ctx.users.authenticate(email, formField(request.body, 'password')) : null;
      if (!user) {
        request.log.info({ email }, 'admin sign-in refused');
        return sendHtml(reply.code(401), signInPage({ csrfToken: csrfToken(request, reply, ctx.settings), next, email, error: 'Wrong email or password.' }));
      }
      // A new token at every sign-in: a session id known before signing in is worth nothing after.
      if (request.sessionToken) await ctx.sessions.end(request.sessionToken);
      const { token, expiresAt } = await ctx.sessions.create(user.id);
      setSessionCookie(request, reply, token, expiresAt, ctx.settings.cookieSecure);
      request.log.info({ userId: user.id }, 'admin signed in');
      return reply.redirect(user.mustChangePassword ? '/account/password' : next, 303);
    },
  );

  app.post('/sign-out', { config: { duringPasswordChange: true } }, async (request, reply) => {
    if (request.sessionToken) await ctx.sessions.end(request.sessionToken);
    clearSessionCookie(request, reply, ctx.settings.cookieSecure);
    return reply.redirect('/sign-in', 303);
  });
}
