// Attacks on signing in and on the account: open redirects after sign-in, a client rotating
// X-Forwarded-For (or many addresses) to walk around the sign-in limits, and a stolen session
// cookie used to change the password. All through the real routes of the real app.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminSettings } from '../../src/admin/context.js';
import { adminSettings } from '../../src/admin/start-admin.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { AdminUsers } from '../../src/services/admin-users.js';
import { auditRows, buildTestAdmin, createAdminUser, Session, signedIn, TEST_PASSWORD } from '../support/admin.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  env = await startTemporalTestEnv();
  for (const email of ['operator@example.com', 'victim@example.com', 'proxied@example.com', 'listed@example.com', 'other@example.com']) {
    await createAdminUser(env.db.pool, email, 'operator');
  }
  app = buildTestAdmin(env);
  await app.ready();
});
afterAll(async () => {
  for (const other of apps) await other.close();
  await app?.close();
  await env?.close();
});

async function appWith(settings: Partial<AdminSettings>): Promise<FastifyInstance> {
  const built = buildTestAdmin(env, settings);
  apps.push(built);
  await built.ready();
  return built;
}

describe('the page after signing in is always on this site', () => {
  const BASE = 'https://admin.example';
  // Decoded values, as the route sees them; the GET variant sends them percent-encoded.
  const ATTACKS: Array<[string, string]> = [
    ['a tab after the slash (browsers drop it)', '/\t/evil.example/x'],
    ['a newline after the slash', '/\n/evil.example/x'],
    ['a carriage return and newline', '/\r\n/evil.example/x'],
    ['a tab inside the double slash', '/\t\t/evil.example'],
    ['a backslash after the slash (browsers read it as /)', '/\\evil.example'],
    ['two backslashes', '\\\\evil.example'],
    ['slash, backslash, slash', '/\\/evil.example'],
    ['a protocol-relative URL', '//evil.example/x'],
    ['three slashes', '///evil.example'],
    ['a dot segment that parses to //', '/.//evil.example'],
    ['a dot-dot segment that parses to //', '/a/..//evil.example'],
    ['an absolute URL', 'https://evil.example/x'],
    ['an absolute URL without slashes', 'https:evil.example'],
    ['javascript:', 'javascript:alert(document.cookie)'],
    ['JavaScript: with a tab', 'java\tscript:alert(1)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['a leading space', ' //evil.example'],
  ];
  // Encoded forms that must stay paths on this site (never decoded into another host).
  const ENCODED: Array<[string, string, string]> = [
    ['encoded slashes', '/%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ['an encoded tab', '/%09/evil.example', '/%09/evil.example'],
    ['an encoded backslash', '/%5Cevil.example', '/%5Cevil.example'],
    ['an encoded newline', '/%0A/evil.example', '/%0A/evil.example'],
    ['a NUL byte', '/\u0000/evil.example', '/%00/evil.example'],
  ];
  const GOOD: Array<[string, string]> = [
    ['/runs?status=failed#top', '/runs?status=failed#top'],
    ['/customers/3?from=2026-11-01&to=2026-11-09', '/customers/3?from=2026-11-01&to=2026-11-09'],
    ['/customers/ 3', '/customers/%203'],
    ['/sign-in?next=/runs', '/'],
    ['/api/runs/x', '/'],
  ];

  /** Where a browser would go with this Location header. */
  function expectStaysHere(location: string, what: string) {
    expect(location, what).toMatch(/^\/(?![/\\])/);
    expect(location, what).not.toMatch(/[\u0000-\u001f\u007f\\ ]/);
    expect(new URL(location, BASE).origin, what).toBe(BASE);
  }

  let signedInSession: Session;
  beforeAll(async () => {
    signedInSession = await signedIn(app, 'operator@example.com');
  });

  async function viaGet(next: string): Promise<LightMyRequestResponse> {
    return signedInSession.get(`/sign-in?next=${encodeURIComponent(next)}`);
  }

  async function viaPost(next: string): Promise<LightMyRequestResponse> {
    const session = new Session(app);
    await session.get('/sign-in');
    return session.post('/sign-in', { email: 'operator@example.com', password: TEST_PASSWORD, next });
  }

  it.each(ATTACKS)('%s: GET /sign-in when signed in and POST /sign-in both go to /', async (label, next) => {
    for (const [door, response] of [['GET', await viaGet(next)], ['POST', await viaPost(next)]] as const) {
      expect(response.statusCode, `${door} ${label}`).toBe(303);
      const location = String(response.headers.location);
      expectStaysHere(location, `${door} ${label}`);
      expect(location, `${door} ${label}`).toBe('/');
    }
  });

  it.each(ENCODED)('%s stay a path on this site, encoded as given', async (label, next, expected) => {
    for (const [door, response] of [['GET', await viaGet(next)], ['POST', await viaPost(next)]] as const) {
      const location = String(response.headers.location);
      expectStaysHere(location, `${door} ${label}`);
      expect(location, `${door} ${label}`).toBe(expected);
    }
  });

  it('a raw tab, CR or LF in the query string itself (not encoded by the client) is refused too', async () => {
    for (const raw of ['/%09/evil.example/x', '/%0d%0a/evil.example', '%2F%5Cevil.example']) {
      const response = await signedInSession.get(`/sign-in?next=${raw}`);
      expect(response.headers.location, raw).toBe('/');
    }
  });

  it.each(GOOD)('a path on this site is kept, rebuilt from the parsed URL: %s', async (next, expected) => {
    expect((await viaGet(next)).headers.location).toBe(expected);
    expect((await viaPost(next)).headers.location).toBe(expected);
  });
});

describe('ADMIN_TRUST_PROXY', () => {
  it("refuses 'true' (believe every client's X-Forwarded-For), naming the variable and the rule", () => {
    for (const value of ['true', 'yes', '*', '10.0.0.1,not-an-address', '10.0.0.0/33']) {
      expect(() => loadConfig({ ADMIN_TRUST_PROXY: value }), value).toThrow(ConfigError);
      try {
        loadConfig({ ADMIN_TRUST_PROXY: value });
      } catch (error) {
        expect((error as Error).message).toContain(`ADMIN_TRUST_PROXY: got '${value}': must be false, a number of proxy hops`);
        expect((error as Error).message).toContain("'true' (believe every client's X-Forwarded-For) is not allowed");
      }
    }
  });

  it('takes false (the default), a hop count, or a list of addresses and CIDRs', () => {
    expect(loadConfig({}).ADMIN_TRUST_PROXY).toBe(false);
    expect(loadConfig({ ADMIN_TRUST_PROXY: 'false' }).ADMIN_TRUST_PROXY).toBe(false);
    expect(loadConfig({ ADMIN_TRUST_PROXY: '2' }).ADMIN_TRUST_PROXY).toBe(2);
    expect(loadConfig({ ADMIN_TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1' }).ADMIN_TRUST_PROXY).toEqual(['10.0.0.1', '10.1.0.0/16', '::1']);
  });

  /** Sign-in posts, each with its own X-Forwarded-For and socket address; the status codes. */
  async function attempts(target: FastifyInstance, email: string, requests: Array<{ forwardedFor: string; remoteAddress?: string }>): Promise<number[]> {
    const session = new Session(target);
    await session.get('/sign-in');
    const codes: number[] = [];
    for (const { forwardedFor, remoteAddress } of requests) {
      const response = await target.inject({
        method: 'POST', url: '/sign-in', ...(remoteAddress ? { remoteAddress } : {}),
        headers: { cookie: session.cookieHeader, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
        payload: new URLSearchParams({ _csrf: session.csrf, email, password: 'a wrong guess, long enough' }).toString(),
      });
      codes.push(response.statusCode);
    }
    return codes;
  }

  /** The admin settings `npm start` would build from this environment (the per-account limit out of the way). */
  const settingsFrom = (environment: Record<string, string>): Partial<AdminSettings> => ({
    ...adminSettings(loadConfig(environment)), signInAttemptsPerAccount: 1000,
  });

  it('with one hop trusted, a rotating X-Forwarded-For gets no further than the address the one proxy saw', async () => {
    const limited = await appWith(settingsFrom({ ADMIN_TRUST_PROXY: '1', ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE: '3' }));
    // The client makes up the left part; the proxy appends the address it really saw.
    const rotating = Array.from({ length: 6 }, (_, i) => ({ forwardedFor: `10.9.${i}.1, 192.0.2.${i}, 203.0.113.7` }));
    expect(await attempts(limited, 'proxied@example.com', rotating)).toEqual([401, 401, 401, 429, 429, 429]);
    // Another real client behind the same proxy has its own allowance.
    expect(await attempts(limited, 'proxied@example.com', [{ forwardedFor: '10.9.9.9, 203.0.113.8' }])).toEqual([401]);
  });

  it('with a list, only the listed proxy is believed; anyone else is limited by their own address', async () => {
    // app.inject connects from 127.0.0.1 unless told otherwise: that is the listed proxy.
    const limited = await appWith(settingsFrom({ ADMIN_TRUST_PROXY: '127.0.0.1', ADMIN_SIGN_IN_ATTEMPTS_PER_MINUTE: '3' }));
    const viaListedProxy = Array.from({ length: 5 }, (_, i) => ({ forwardedFor: `198.51.100.${i}` }));
    expect(await attempts(limited, 'listed@example.com', viaListedProxy)).toEqual([401, 401, 401, 401, 401]); // five different clients
    const direct = Array.from({ length: 5 }, (_, i) => ({ forwardedFor: `198.51.100.${100 + i}`, remoteAddress: '192.0.2.50' }));
    expect(await attempts(limited, 'listed@example.com', direct)).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('failed sign-ins are limited per account, whatever the client address', () => {
  const rotatingClients = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `203.0.113.${from + i}`);

  async function signInFrom(target: FastifyInstance, address: string, email: string, password: string): Promise<LightMyRequestResponse> {
    const session = new Session(target);
    await target.inject({ method: 'GET', url: '/sign-in', remoteAddress: address }).then((response) => {
      for (const cookie of response.cookies as Array<{ name: string; value: string }>) session.cookies.set(cookie.name, cookie.value);
      session.csrf = /name="_csrf" value="([^"]+)"/.exec(response.body)![1]!;
    });
    return target.inject({
      method: 'POST', url: '/sign-in', remoteAddress: address,
      headers: { cookie: session.cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: session.csrf, email, password }).toString(),
    });
  }

  it('after N failures in 15 minutes the account is refused with 429, even with the right password; other accounts are not', async () => {
    const limited = await appWith({ signInAttemptsPerAccount: 3 });
    const codes: number[] = [];
    for (const [i, address] of rotatingClients(5).entries()) {
      // The same account, typed differently each time: the limit is per lower-cased email.
      const email = i % 2 ? 'VICTIM@example.com' : ' victim@EXAMPLE.com';
      codes.push((await signInFrom(limited, address, email, `guess number ${i}`)).statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    const right = await signInFrom(limited, '203.0.113.99', 'victim@example.com', TEST_PASSWORD);
    expect(right.statusCode).toBe(429);
    expect(right.body).toContain('Too many failed sign-ins for this email address. Wait 15 minutes, then try again.');
    expect(String(right.headers['set-cookie'] ?? '')).not.toContain('dj_admin_session');
    expect((await signInFrom(limited, '203.0.113.100', 'other@example.com', TEST_PASSWORD)).statusCode).toBe(303);
  });

  it('an unknown email is throttled exactly like a known one: the answer does not reveal whether an account exists', async () => {
    const limited = await appWith({ signInAttemptsPerAccount: 2 });
    const bodyOf = (response: LightMyRequestResponse) => response.body.replace(/value="[^"]*"/g, 'value=""');
    const known: LightMyRequestResponse[] = [];
    const unknown: LightMyRequestResponse[] = [];
    for (const address of rotatingClients(4, 20)) {
      known.push(await signInFrom(limited, address, 'operator@example.com', 'wrong password one'));
      unknown.push(await signInFrom(limited, address, 'nobody-here@example.com', 'wrong password one'));
    }
    expect(known.map((r) => r.statusCode)).toEqual([401, 401, 429, 429]);
    expect(unknown.map((r) => r.statusCode)).toEqual([401, 401, 429, 429]);
    expect(known.map(bodyOf)).toEqual(unknown.map(bodyOf));
  });

  it('two admin processes on one database share the count, and the table holds no password', async () => {
    const first = await appWith({ signInAttemptsPerAccount: 4 });
    const second = await appWith({ signInAttemptsPerAccount: 4 });
    const codes: number[] = [];
    for (const [i, address] of rotatingClients(6, 40).entries()) {
      codes.push((await signInFrom(i % 2 ? second : first, address, 'other@example.com', `shared secret guess ${i}`)).statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 401, 429, 429]);
    const { rows } = await env.db.pool.query('SELECT * FROM admin_sign_in_attempts');
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain('shared secret guess');
    expect(JSON.stringify(rows)).not.toContain('other@example.com');
    expect(JSON.stringify(await auditRows(env.db.pool))).not.toContain('shared secret guess');
  });

  it('parallel guesses cannot all slip past the count before any is recorded', async () => {
    await createAdminUser(env.db.pool, 'parallel@example.com', 'viewer');
    const limited = await appWith({ signInAttemptsPerAccount: 3 });
    const responses = await Promise.all(rotatingClients(12, 60).map((address, i) => signInFrom(limited, address, 'parallel@example.com', `parallel guess ${i}`)));
    const wrongPasswordAnswers = responses.filter((response) => response.statusCode === 401).length;
    expect(wrongPasswordAnswers).toBeLessThanOrEqual(3);
    expect(responses.filter((response) => response.statusCode === 429).length).toBeGreaterThanOrEqual(9);
  });
});

describe('changing the password needs the current one', () => {
  /** The error text next to a field of the password form. */
  const errorNextTo = (body: string, field: string) => new RegExp(`<p class="error" id="${field}-error"[^>]*>([\\s\\S]*?)</p>`).exec(body)?.[1] ?? '';

  it('a stolen session (the cookie, not the password) cannot change the password, and the owner stays signed in', async () => {
    const owner = await signedIn(app, 'victim@example.com');
    const thief = new Session(app);
    for (const [name, value] of owner.cookies) thief.cookies.set(name, value);
    await thief.get('/account/password');
    for (const current of [null, '', 'a guess at the password']) {
      const response = await thief.post('/account/password', { ...(current === null ? {} : { current }), password: 'the thief chose this', confirm: 'the thief chose this' });
      expect(response.statusCode, String(current)).toBe(400);
      expect(errorNextTo(response.body, 'current')).toContain('This is not your current password.');
      expect(response.body).toMatch(/<input[^>]*id="current"[^>]*aria-invalid="true"/);
    }
    const users = new AdminUsers(env.db.pool);
    expect(await users.authenticate('victim@example.com', 'the thief chose this')).toBeNull();
    expect(await users.authenticate('victim@example.com', TEST_PASSWORD)).not.toBeNull();
    expect((await owner.get('/customers')).statusCode).toBe(200); // a refused change ends no session
    const refused = (await auditRows(env.db.pool)).filter((row) => row.user_email === 'victim@example.com' && row.action === 'password-change');
    expect(refused.map((row) => row.outcome)).toEqual(['failed: wrong current password', 'failed: wrong current password', 'failed: wrong current password']);
  });

  it('with the current password the change succeeds, ends the other sessions (a thief\'s too) and keeps this one', async () => {
    await createAdminUser(env.db.pool, 'changer@example.com', 'viewer');
    const owner = await signedIn(app, 'changer@example.com');
    const elsewhere = await signedIn(app, 'changer@example.com');
    await owner.get('/account/password');
    const response = await owner.post('/account/password', { current: TEST_PASSWORD, password: 'a new password of mine', confirm: 'a new password of mine' });
    expect(response.statusCode).toBe(303);
    expect((await owner.get('/customers')).statusCode).toBe(200);
    expect((await elsewhere.get('/customers')).headers.location).toMatch(/^\/sign-in/);
    expect(await new AdminUsers(env.db.pool).authenticate('changer@example.com', 'a new password of mine')).not.toBeNull();
  });

  it('the first, forced change after a one-time password needs that one-time password', async () => {
    const { oneTimePassword } = await new AdminUsers(env.db.pool).create({ email: 'first-timer@example.com', role: 'viewer' });
    const session = new Session(app);
    expect((await session.signIn('first-timer@example.com', oneTimePassword)).headers.location).toBe('/account/password');
    const page = await session.get('/account/password');
    expect(page.body).toContain('Current (one-time) password');
    const without = await session.post('/account/password', { password: 'my very own password', confirm: 'my very own password' });
    expect(without.statusCode).toBe(400);
    expect(errorNextTo(without.body, 'current')).toContain('This is not your current password.');
    expect((await session.get('/customers')).headers.location).toBe('/account/password'); // still has to change it
    const withIt = await session.post('/account/password', { current: oneTimePassword!, password: 'my very own password', confirm: 'my very own password' });
    expect(withIt.headers.location).toBe('/customers');
  });

  it('guesses at the current password count against the account like failed sign-ins', async () => {
    await createAdminUser(env.db.pool, 'guessed@example.com', 'viewer');
    const limited = await appWith({ signInAttemptsPerAccount: 2 });
    const thief = await signedIn(limited, 'guessed@example.com');
    await thief.get('/account/password');
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await thief.post('/account/password', { current: `guess ${i} at it`, password: 'the thief chose this', confirm: 'the thief chose this' })).statusCode);
    expect(codes).toEqual([400, 400, 429, 429]);
  });
});
