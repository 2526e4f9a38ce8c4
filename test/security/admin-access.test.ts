// Who may use which admin route, walking fastify's own route table. test/admin/access.test.ts
// covers anonymous and forged-cookie requests; this file covers the wrong role, a user who
// must still replace a one-time password, expired and orphaned sessions, a role taken away
// mid-session, and methods a route does not have.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startForms } from '../../src/admin/job-forms.js';
import { AdminUsers } from '../../src/services/admin-users.js';
import { buildTestAdmin, createAdminUser, runsOnQueue, Session, signedIn, startedAuditRows } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

type Access = 'public' | 'signed-in' | 'operator';

/**
 * Who may use each route. A route added to the app fails the first test until it is listed
 * here: deciding who may use it is part of adding it.
 */
const ACCESS: Record<string, Access> = {
  'GET /sign-in': 'public',
  'HEAD /sign-in': 'public',
  'POST /sign-in': 'public',
  'GET /assets/admin.css': 'public',
  'HEAD /assets/admin.css': 'public',
  'GET /assets/admin.js': 'public',
  'HEAD /assets/admin.js': 'public',
  'POST /sign-out': 'signed-in',
  'GET /account/password': 'signed-in',
  'HEAD /account/password': 'signed-in',
  'POST /account/password': 'signed-in',
  'GET /': 'signed-in',
  'HEAD /': 'signed-in',
  'GET /customers': 'signed-in',
  'HEAD /customers': 'signed-in',
  'GET /customers/:id': 'signed-in',
  'HEAD /customers/:id': 'signed-in',
  'POST /customers/:id/runs/:kind': 'operator',
  'GET /runs': 'signed-in',
  'HEAD /runs': 'signed-in',
  'GET /api/runs/:workflowId': 'signed-in',
  'HEAD /api/runs/:workflowId': 'signed-in',
  'GET /quarantine': 'signed-in',
  'HEAD /quarantine': 'signed-in',
  'POST /quarantine/retry': 'operator',
  'GET /status': 'signed-in',
  'HEAD /status': 'signed-in',
};
/** Routes a user may reach while a one-time password still has to be replaced. */
const DURING_PASSWORD_CHANGE = ['GET /account/password', 'HEAD /account/password', 'POST /account/password', 'POST /sign-out'];

let env: TemporalTestEnv;
let app: FastifyInstance;
const routes: Array<{ method: string; url: string; public: boolean; duringPasswordChange: boolean }> = [];
const day = '2026-11-09';
const goodForm = { from: day, to: day, sendEmail: 'on' };

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  for (const [email, role] of [['viewer@example.com', 'viewer'], ['demoted@example.com', 'operator'], ['expired@example.com', 'operator'], ['gone@example.com', 'operator']] as const) {
    await createAdminUser(env.db.pool, email, role);
  }
  app = buildTestAdmin(env);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as { public?: boolean; duringPasswordChange?: boolean };
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, public: Boolean(config.public), duringPasswordChange: Boolean(config.duringPasswordChange) });
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

const key = (route: { method: string; url: string }) => `${route.method} ${route.url}`;
const concrete = (url: string) => url.replace(':id', '1').replace(':kind', 'regenerate-reports').replace(':workflowId', encodeURIComponent(`regenerate-reports:customer-1:${day}`));
const routesWith = (access: Access) => routes.filter((route) => ACCESS[key(route)] === access);

async function request(session: Session | null, method: string, url: string, form: Record<string, string> = {}) {
  const body = new URLSearchParams({ _csrf: session?.csrf ?? '', ...form }).toString();
  return app.inject({
    method: method as 'GET',
    url,
    headers: { cookie: session?.cookieHeader ?? '', ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(method === 'POST' ? { payload: body } : {}),
  });
}

/** Nothing started: no run on the queue, no audit row of a start (a refused one is recorded). */
async function expectNothingStarted() {
  expect(await runsOnQueue(env)).toEqual([]);
  expect(await startedAuditRows(env.db.pool)).toEqual([]);
}

/** A private route answered as if nobody were signed in: pages go to the sign-in form, the API says 401. */
function expectTreatedAsAnonymous(response: { statusCode: number; headers: Record<string, unknown> }, what: string) {
  if (what.includes(' /api/')) expect(response.statusCode, what).toBe(401);
  else {
    expect(response.statusCode, what).toBe(303);
    expect(String(response.headers.location), what).toMatch(/^\/sign-in\?next=/);
  }
}

describe('the route table', () => {
  it('lists every route with who may use it, and the app agrees about which are public', () => {
    expect(routes.map(key).sort()).toEqual(Object.keys(ACCESS).sort());
    for (const route of routes) expect(route.public, key(route)).toBe(ACCESS[key(route)] === 'public');
    expect(routes.filter((route) => route.duringPasswordChange).map(key).sort()).toEqual([...DURING_PASSWORD_CHANGE].sort());
  });
});

describe('the wrong role', () => {
  it('a viewer is refused every operator route with 403, even with a valid form and token, and nothing starts', async () => {
    const viewer = await signedIn(app, 'viewer@example.com');
    expect(routesWith('operator').length).toBeGreaterThan(0);
    for (const route of routesWith('operator')) {
      // A route generic over the job kind is tried with every kind that has a start form.
      const kinds = route.url.includes(':kind') ? startForms().map((form) => form.job.kind) : ['regenerate-reports'];
      for (const kind of kinds) {
        const response = await request(viewer, route.method, concrete(route.url).replace('regenerate-reports', kind), goodForm);
        expect(response.statusCode, `${key(route)} ${kind}`).toBe(403);
        expect(response.body).toContain('Your role (viewer) can look at reports but not start runs');
      }
    }
    await expectNothingStarted();
  });

  it('a viewer reaches every signed-in page and the API', async () => {
    const viewer = await signedIn(app, 'viewer@example.com');
    for (const route of routesWith('signed-in').filter((r) => r.method === 'GET' || r.method === 'HEAD')) {
      const response = await request(viewer, route.method, concrete(route.url));
      expect([200, 303, 404], key(route)).toContain(response.statusCode); // 404: the API's made-up run id; 303: / → /customers
      if (response.statusCode === 303) expect(response.headers.location, key(route)).toBe('/customers');
    }
  });

  it('an operator whose role is taken away while signed in is refused at the next start', async () => {
    const session = await signedIn(app, 'demoted@example.com');
    await env.db.pool.query(`UPDATE admin_users SET role = 'viewer' WHERE email = 'demoted@example.com'`);
    const response = await request(session, 'POST', '/customers/1/runs/regenerate-reports', goodForm);
    expect(response.statusCode).toBe(403);
    await expectNothingStarted();
  });
});

describe('sessions that no longer count', () => {
  it('a user who must replace a one-time password reaches only the password form and sign-out; nothing starts', async () => {
    const { oneTimePassword } = await new AdminUsers(env.db.pool).create({ email: 'fresh-operator@example.com', role: 'operator' });
    const fresh = new Session(app);
    expect((await fresh.signIn('fresh-operator@example.com', oneTimePassword)).headers.location).toBe('/account/password');
    await fresh.get('/account/password');
    for (const route of routes.filter((r) => !r.public && !r.duringPasswordChange)) {
      const response = await request(fresh, route.method, concrete(route.url), goodForm);
      if (route.url.startsWith('/api/')) expect(response.statusCode, key(route)).toBe(403);
      else {
        expect(response.statusCode, key(route)).toBe(303);
        expect(response.headers.location, key(route)).toBe('/account/password');
      }
    }
    expect((await request(fresh, 'GET', '/account/password')).statusCode).toBe(200);
    await expectNothingStarted();
  });

  it.each([
    ['an expired session', "UPDATE admin_sessions SET expires_at = now() - interval '1 second' WHERE user_id = (SELECT id FROM admin_users WHERE email = $1)", 'expired@example.com'],
    ["a deleted user's session", 'DELETE FROM admin_users WHERE email = $1', 'gone@example.com'],
  ])('%s is treated as no session on every private route', async (_label, sql, email) => {
    const session = await signedIn(app, email);
    await env.db.pool.query(sql, [email]);
    for (const route of routes.filter((r) => !r.public)) expectTreatedAsAnonymous(await request(session, route.method, concrete(route.url), goodForm), key(route));
    await expectNothingStarted();
  });

  it('a valid CSRF token without a session does not open anything', async () => {
    const anonymous = new Session(app);
    await anonymous.get('/sign-in'); // a real token and its cookie, but nobody signed in
    expect(anonymous.csrf).not.toBe('');
    for (const route of routes.filter((r) => !r.public)) expectTreatedAsAnonymous(await request(anonymous, route.method, concrete(route.url), goodForm), key(route));
    await expectNothingStarted();
  });
});

describe('methods a route does not have', () => {
  it('PUT, DELETE and PATCH on every path answer 404 to an operator, never 2xx', async () => {
    await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
    const operator = await signedIn(app, 'operator@example.com');
    for (const url of new Set(routes.map((route) => concrete(route.url)))) {
      for (const method of ['PUT', 'DELETE', 'PATCH']) {
        const response = await request(operator, method, url, goodForm);
        expect(response.statusCode, `${method} ${url}`).toBe(404);
      }
    }
    await expectNothingStarted();
  });
});
