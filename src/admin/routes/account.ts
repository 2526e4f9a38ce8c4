import type { FastifyInstance } from 'fastify';
import { AdminUserError } from '../../services/admin-users.js';
import { csrfToken, formField, sendHtml, type AdminContext } from '../context.js';
import { changePasswordPage } from '../views/sign-in.js';

export function accountRoutes(app: FastifyInstance, ctx: AdminContext): void {
  app.get('/account/password', { config: { duringPasswordChange: true } }, async (request, reply) =>
    sendHtml(reply, changePasswordPage({ user: request.user!, csrfToken: csrfToken(request, reply, ctx.settings) })),
  );

  app.post('/account/password', { config: { duringPasswordChange: true } }, async (request, reply) => {
    const user = request.user!;
    const password = formField(request.body, 'password');
    const again = (error: string) =>
      sendHtml(reply.code(400), changePasswordPage({ user, csrfToken: csrfToken(request, reply, ctx.settings), error }));
    if (password !== formField(request.body, 'confirm')) return again('The two passwords differ.');
    try {
      await ctx.users.changePassword(user.id, password);
    } catch (error) {
      if (error instanceof AdminUserError) return again(error.message);
      throw error;
    }
    await ctx.sessions.endOthers(user.id, request.sessionToken!);
    return reply.redirect('/customers', 303);
  });
}
