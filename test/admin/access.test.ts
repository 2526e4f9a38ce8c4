import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../support/database.js';
import { buildTestAdmin, createAdminUser, Session, signedIn } from '../support/admin.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
const routes: Array<{ method: string; url: string; public: boolean }> = [];

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  app = buildTestAdmin(env);
  // Collected from fastify itself, so a route added later is covered without editing this test.
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, public: Boolean(route.config && (route.config as { public?: boolean }).public) });
    }
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await env.close();
});

/** A concrete URL for a route pattern: every parameter filled with a plausible value. */
const concrete = (url: string) => url.replace(':id', '1').replace(':kind', 'regenerate-reports').replace(':workflowId', 'regenerate-reports:customer-1:2026-11-10:abcd');

describe('nobody sees or starts anything without signing in', () => {
  it('registers the pages and the JSON API, and only the sign-in form and the static files are public', () => {
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(keys).toEqual(expect.arrayContaining([
      'GET /customers', 'GET /customers/:id', 'POST /customers/:id/runs/:kind', 'GET /runs', 'GET /api/runs/:workflowId', 'POST /sign-out',
    ]));
    expect(routes.filter((r) => r.public).map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /assets/admin.css', 'GET /assets/admin.js', 'GET /sign-in', 'HEAD /assets/admin.css', 'HEAD /assets/admin.js', 'HEAD /sign-in', 'POST /sign-in',
    ]);
  });

  it.each([
    ['no cookie', {}],
    ['a forged session cookie', { cookie: 'dj_admin_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
  ])('with %s, every private route redirects pages to /sign-in and answers the API with 401', async (_label, headers) => {
    const privateRoutes = routes.filter((r) => !r.public);
    expect(privateRoutes.length).toBeGreaterThanOrEqual(10);
    for (const route of privateRoutes) {
      const response = await app.inject({ method: route.method as 'GET', url: concrete(route.url), headers, payload: route.method === 'POST' ? {} : undefined });
      const what = `${route.method} ${route.url}`;
      if (route.url.startsWith('/api/')) {
        expect(response.statusCode, what).toBe(401);
      } else {
        expect(response.statusCode, what).toBe(303);
        expect(response.headers.location, what).toMatch(/^\/sign-in\?next=/);
      }
    }
  });

  it('an unknown URL does not reveal anything either', async () => {
    const response = await app.inject({ method: 'GET', url: '/no/such/page' });
    expect(response.statusCode).toBe(303);
  });

  it('after signing in, the same pages answer, with cookies that scripts cannot read', async () => {
    const session = new Session(app);
    const signIn = await session.signIn('viewer@example.com');
    expect(signIn.statusCode).toBe(303);
    const setCookie = [signIn.headers['set-cookie']].flat().join('\n');
    expect(setCookie).toMatch(/dj_admin_session=[^;]+;.*HttpOnly/i);
    expect(setCookie).toMatch(/dj_admin_session=[^;]+;.*SameSite=Lax/i);
    expect(setCookie).not.toMatch(/dj_admin_session=[^\n]*Secure/i); // plain http here; https gets Secure
    for (const url of ['/customers', '/customers/1', '/runs']) expect((await session.get(url)).statusCode, url).toBe(200);
    expect((await session.get(`/api/runs/${encodeURIComponent(concrete(':workflowId'))}`)).statusCode).toBe(404);
  });

  it('signing out ends the session on the server, not just in the browser', async () => {
    const session = await signedIn(app, 'viewer@example.com');
    const stolen = session.cookieHeader;
    expect((await session.post('/sign-out', {})).headers.location).toBe('/sign-in');
    const replay = await app.inject({ method: 'GET', url: '/customers', headers: { cookie: stolen } });
    expect(replay.statusCode).toBe(303);
  });

  it('sends the session cookie Secure when the request came over https', async () => {
    const secureApp = buildTestAdmin(env, { trustProxy: 1 });
    const session = new Session(secureApp);
    await session.get('/sign-in');
    const response = await secureApp.inject({
      method: 'POST', url: '/sign-in',
      headers: { cookie: session.cookieHeader, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      payload: new URLSearchParams({ _csrf: session.csrf, email: 'viewer@example.com', password: 'correct horse battery staple' }).toString(),
    });
    expect(response.statusCode).toBe(303);
    expect([response.headers['set-cookie']].flat().join('\n')).toMatch(/dj_admin_session=[^;]+;.*Secure/i);
    await secureApp.close();
  });
});
