import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { HealthTargets } from '../health/health-targets.js';
import { AdminSessions } from '../services/admin-sessions.js';
import { AdminUsers } from '../services/admin-users.js';
import { AuditLog } from '../services/audit-log.js';
import { CustomerDirectory } from '../services/customer-directory.js';
import { CustomerSelection } from '../services/customer-selection.js';
import { OrderImport } from '../services/order-import.js';
import { ReportRows } from '../services/report-rows.js';
import { isApiRequest, registerAuthentication } from './auth.js';
import { sendHtml, type AdminContext, type AdminSettings } from './context.js';
import type { RunTarget } from './run-history.js';
import { accountRoutes } from './routes/account.js';
import { assetRoutes } from './routes/assets.js';
import { customerRoutes } from './routes/customers.js';
import { quarantineRoutes } from './routes/quarantine.js';
import { runRoutes } from './routes/runs.js';
import { signInRoutes } from './routes/sign-in.js';
import { statusRoutes } from './routes/status.js';
import { SignInThrottle } from './sign-in-throttle.js';
import { fastifyTrustProxy } from './trust-proxy.js';
import { errorPage } from './views/error.js';

export interface AdminServerDeps {
  /** The settings: the start forms fill and start runs from each job's `defaultsFromConfig`, as the CLI does. */
  config: Config;
  pool: Pool;
  temporal: RunTarget;
  /** The services, task queue and schedules the status page checks. */
  health: HealthTargets;
  logger: Logger;
  settings: AdminSettings;
  now?: () => Date;
}

// Styles and scripts come only from our own static files (/assets/*): no inline <script>,
// <style>, event handler or style="" runs, so injected markup could do nothing even if it
// got past the escaping. Nothing else may load or frame the page.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "style-src 'self'", "script-src 'self'", "connect-src 'self'",
  "img-src 'self' data:", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

/**
 * Builds the admin web app from injected dependencies; it does not listen. Routes are
 * registered inside a plugin, so hooks added before `ready()` (tests collecting the route
 * list with `onRoute`) see every one of them.
 */
export function buildAdminServer(deps: AdminServerDeps): FastifyInstance {
  const ctx: AdminContext = {
    users: new AdminUsers(deps.pool),
    sessions: new AdminSessions(deps.pool, deps.settings.sessionHours),
    audit: new AuditLog(deps.pool),
    signInThrottle: new SignInThrottle(deps.pool, deps.settings.signInAttemptsPerAccount),
    directory: new CustomerDirectory(deps.pool),
    selection: new CustomerSelection(deps.pool),
    reportRows: new ReportRows(deps.pool),
    orderImport: new OrderImport(deps.pool),
    temporal: deps.temporal,
    health: deps.health,
    config: deps.config,
    settings: deps.settings,
    now: deps.now ?? (() => new Date()),
  };
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app typed as a plain FastifyInstance.
    loggerInstance: deps.logger.child({ component: 'admin' }) as FastifyBaseLogger,
    // One line per request would drown the worker's log in `npm start`; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: fastifyTrustProxy(deps.settings.trustProxy),
    bodyLimit: 64 * 1024,
  });

  app.register(fastifyCookie, { secret: deps.settings.sessionSecret });
  app.register(fastifyFormbody);
  app.register(fastifyCsrf, { cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', signed: true } });
  app.register(fastifyRateLimit, { global: false });
  app.register(async (scope) => {
    registerAuthentication(scope, ctx.sessions);
    // Every POST is a form of ours and carries the token; the body is parsed by now.
    scope.addHook('preHandler', (request, reply, done) => (request.method === 'POST' ? scope.csrfProtection(request, reply, done) : done()));
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('x-frame-options', 'DENY');
    });
    assetRoutes(scope);
    signInRoutes(scope, ctx);
    accountRoutes(scope, ctx);
    customerRoutes(scope, ctx);
    runRoutes(scope, ctx);
    quarantineRoutes(scope, ctx);
    statusRoutes(scope, ctx);

    scope.setNotFoundHandler(async (request, reply) => {
      if (isApiRequest(request)) return reply.code(404).send({ error: 'not found' });
      return sendHtml(reply.code(404), errorPage({ status: 404, message: `Nothing at ${request.url}.`, user: request.user }));
    });
    scope.setErrorHandler(async (error: FastifyError, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error, url: request.url }, 'admin request failed');
      const message =
        error.code?.startsWith('FST_CSRF') ? 'This form expired or did not come from this site. Go back, reload the page and try again.'
        : status === 429 ? 'Too many attempts. Wait a minute, then try again.'
        : status >= 500 ? 'Something went wrong on our side; the details are in the server log.'
        : error.message;
      if (isApiRequest(request)) return reply.code(status).send({ error: message });
      return sendHtml(reply.code(status), errorPage({ status, message, user: request.user }));
    });
  });
  return app;
}
