import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminSessions } from '../services/admin-sessions.js';
import type { AdminUser } from '../services/admin-users.js';

/**
 * Who is asking. Every route is private unless its config says `public: true` (only the
 * sign-in form): a route added later is protected without anyone remembering to.
 */
declare module 'fastify' {
  interface FastifyRequest {
    user: AdminUser | null;
    sessionToken: string | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in. */
    public?: boolean;
    /** Reachable while the user still has to replace a one-time password. */
    duringPasswordChange?: boolean;
  }
}

export const SESSION_COOKIE = 'dj_admin_session';

export type CookieSecureSetting = 'auto' | 'true' | 'false';

export function isApiRequest(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/');
}

export function registerAuthentication(app: FastifyInstance, sessions: AdminSessions): void {
  app.decorateRequest('user', null);
  app.decorateRequest('sessionToken', null);
  app.addHook('onRequest', async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) {
      request.user = await sessions.userFor(token);
      request.sessionToken = request.user ? token : null;
    }
    const config = request.routeOptions.config;
    if (config.public) return;
    if (!request.user) {
      if (isApiRequest(request)) return reply.code(401).send({ error: 'sign in first' });
      return reply.redirect(`/sign-in?next=${encodeURIComponent(safeNextPath(request.url))}`, 303);
    }
    if (request.user.mustChangePassword && !config.duringPasswordChange) {
      if (isApiRequest(request)) return reply.code(403).send({ error: 'replace your one-time password first' });
      return reply.redirect('/account/password', 303);
    }
  });
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expires: Date, secure: CookieSecureSetting): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure: cookieSecure(request, secure), expires });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, secure: CookieSecureSetting): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: cookieSecure(request, secure) });
}

export function cookieSecure(request: FastifyRequest, setting: CookieSecureSetting): boolean {
  return setting === 'auto' ? request.protocol === 'https' : setting === 'true';
}

const PLACEHOLDER_ORIGIN = 'http://admin.invalid';

/**
 * Only a path on this site may be a post-sign-in target. The value is judged the way a browser
 * reads it, after URL parsing: browsers drop tabs and newlines and read `\` as `/`, so
 * `/<TAB>/evil.example` or `/\evil.example` are other sites although they start with one `/`.
 * What is sent back is rebuilt from the parsed URL (path, query, fragment; percent-encoded),
 * never the text as given; anything that leaves the placeholder origin becomes `/`.
 */
export function safeNextPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) return '/';
  let url: URL;
  try {
    url = new URL(value, PLACEHOLDER_ORIGIN);
  } catch {
    return '/';
  }
  if (url.origin !== PLACEHOLDER_ORIGIN) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // `/.//evil` parses to the path `//evil`, which a browser would read as another host.
  if (!path.startsWith('/') || path.startsWith('//')) return '/';
  if (url.pathname === '/sign-in' || url.pathname.startsWith('/api/') || url.pathname.startsWith('/assets/')) return '/';
  return path;
}
