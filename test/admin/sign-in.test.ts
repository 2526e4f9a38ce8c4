import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUsers } from '../../src/services/admin-users.js';
import { buildTestAdmin, createAdminUser, Session, TEST_PASSWORD } from '../support/admin.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
  app = buildTestAdmin(env);
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await env.close();
});

describe('signing in', () => {
  it('refuses a wrong password and an unknown email with the same message', async () => {
    const wrong = await new Session(app).signIn('operator@example.com', 'not the password');
    const unknown = await new Session(app).signIn('nobody@example.com', TEST_PASSWORD);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.body).toContain('Wrong email or password.');
    expect(unknown.body).toContain('Wrong email or password.');
    expect(wrong.headers['set-cookie']?.toString() ?? '').not.toContain('dj_admin_session');
  });

  it('needs the CSRF token on the sign-in form too', async () => {
    const session = new Session(app);
    await session.get('/sign-in');
    expect((await session.post('/sign-in', { _csrf: null, email: 'operator@example.com', password: TEST_PASSWORD })).statusCode).toBe(403);
  });

  it('goes back to the page asked for, but never to another site', async () => {
    const session = new Session(app);
    await session.get('/sign-in?next=%2Fruns');
    expect((await session.post('/sign-in', { email: 'operator@example.com', password: TEST_PASSWORD, next: '/runs' })).headers.location).toBe('/runs');
    const other = new Session(app);
    await other.get('/sign-in');
    expect((await other.post('/sign-in', { email: 'operator@example.com', password: TEST_PASSWORD, next: '//evil.example/x' })).headers.location).toBe('/');
  });

  it('makes a one-time password holder choose a password before anything else', async () => {
    const { oneTimePassword } = await new AdminUsers(env.db.pool).create({ email: 'new@example.com', role: 'viewer' });
    const session = new Session(app);
    expect((await session.signIn('new@example.com', oneTimePassword!)).headers.location).toBe('/account/password');
    expect((await session.get('/customers')).headers.location).toBe('/account/password');
    const short = await session.post('/account/password', { current: oneTimePassword!, password: 'short', confirm: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain('at least 12 characters');
    expect((await session.post('/account/password', { current: oneTimePassword!, password: 'a brand new password', confirm: 'a brand new password' })).headers.location).toBe('/customers');
    expect((await session.get('/customers')).statusCode).toBe(200);
    expect(await new AdminUsers(env.db.pool).authenticate('new@example.com', oneTimePassword!)).toBeNull();
  });

  it('limits sign-in attempts per client: the sixth within a minute gets 429', async () => {
    const limited = buildTestAdmin(env, { signInAttemptsPerMinute: 5 });
    await limited.ready();
    const session = new Session(limited);
    await session.get('/sign-in');
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await session.post('/sign-in', { email: 'operator@example.com', password: `guess ${i}` })).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
    const blocked = await session.post('/sign-in', { email: 'operator@example.com', password: TEST_PASSWORD });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.body).toContain('Too many attempts');
    await limited.close();
  });
});
