import type { FastifyInstance } from 'fastify';
import { AdminUserError, checkPasswordRule } from '../../services/admin-users.js';
import { csrfToken, formField, sendHtml, type AdminContext } from '../context.js';
import { changePasswordPage, type PasswordFormErrors } from '../views/sign-in.js';
import { ACCOUNT_THROTTLED_MESSAGE } from './sign-in.js';

export function accountRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/account/password', { config: { duringPasswordChange: true } }, async (request, reply) =>
    sendHtml(reply, changePasswordPage({ user: request.user!, csrfToken: csrfToken(request, reply, ctx.settings) })),
  );

  /**
   * Needs the current password (after a one-time password, that one): a session alone, such
   * as a stolen cookie, cannot change the password and so cannot lock the owner out. Guesses
   * at the current password count against the account like failed sign-ins.
   */
  app.post('/account/password', { config: { duringPasswordChange: true } }, async (request, reply) => {
    const user = request.user!;
    const actor = { userId: user.id, email: user.email };
    const current = formField(request.body, 'current');
    const password = formField(request.body, 'password');
    const refuse = async (status: number, errors: PasswordFormErrors, reason: string) => {
      await ctx.audit.record({ actor, email: user.email, action: 'password-change', outcome: `failed: ${reason}` });
      return sendHtml(reply.code(status), changePasswordPage({ user, csrfToken: csrfToken(request, reply, ctx.settings), errors }));
    };
    if (password !== formField(request.body, 'confirm')) return refuse(400, { confirm: 'The two passwords differ.' }, 'the two new passwords differ');
    try {
      checkPasswordRule(password);
    } catch (error) {
      if (error instanceof AdminUserError) return refuse(400, { password: error.message }, error.message);
      throw error;
    }
    const attempt = await ctx.signInThrottle.begin(user.email);
    if (!attempt.allowed) return refuse(429, { current: ACCOUNT_THROTTLED_MESSAGE }, 'too many wrong current passwords');
    if (!(await ctx.users.changePassword(user.id, current, password))) {
      await attempt.failed();
      return refuse(400, { current: 'This is not your current password.' }, 'wrong current password');
    }
    await attempt.succeeded();
    // Only now, with the password proven: every other session (a stolen cookie too) ends, this one stays.
    await ctx.sessions.endOthers(user.id, request.sessionToken!);
    await ctx.audit.record({ actor, email: user.email, action: 'password-change', outcome: 'succeeded' });
    request.log.info({ userId: user.id }, 'admin password changed');
    return reply.redirect('/customers', 303);
  });
}
