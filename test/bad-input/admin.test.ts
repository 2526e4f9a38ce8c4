// Door 3 of the bad-input matrix: the admin page's forms and JSON API, through fastify's
// `inject` (the real app, routes, hooks and parsers; no socket).
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUsers } from '../../src/services/admin-users.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { buildTestAdmin, createAdminUser, Session, signedIn } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { adminCases, type AdminCase } from './cases.js';
import { AUDIT_ROWS_OTHER_THAN_REFUSALS, runsOnQueue, snapshotState, type StateSnapshot } from './support.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
let before: StateSnapshot;
let runsBefore: Awaited<ReturnType<typeof runsOnQueue>>;
const sessions: Partial<Record<NonNullable<AdminCase['as']> | 'operator2', Session>> = {};

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  const { oneTimePassword } = await new AdminUsers(env.db.pool).create({ email: 'fresh@example.com', role: 'viewer' });
  app = buildTestAdmin(env);
  await app.ready();
  sessions.operator = await signedIn(app, 'operator@example.com');
  sessions.operator2 = await signedIn(app, 'operator@example.com');
  sessions.viewer = await signedIn(app, 'viewer@example.com');
  sessions.anonymous = new Session(app);
  await sessions.anonymous.get('/sign-in');
  const fresh = new Session(app);
  expect((await fresh.signIn('fresh@example.com', oneTimePassword)).headers.location).toBe('/account/password');
  await fresh.get('/account/password');
  sessions['fresh-user'] = fresh;
  // A real run started from the page, so rows, an email and an audit row exist to be left alone.
  const started = await sessions.operator.post('/customers/2/runs/regenerate-reports', { from: '2026-11-08', to: '2026-11-10', sendEmail: 'on' });
  expect(started.statusCode).toBe(303);
  await env.client.workflow.getHandle(new URL(started.headers.location as string, 'http://admin').searchParams.get('run')!).result();
  await startRegenerateReports(env.client, { customerIds: [1, 3], from: '2026-11-08', to: '2026-11-10' }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' })
    .then(({ handle }) => handle.result());
  before = await snapshotState(env.db.pool, env.sink.dir, AUDIT_ROWS_OTHER_THAN_REFUSALS);
  // The start is audited (sign-ins may be too): a bad input must leave every one of those rows alone.
  expect(before.tables.admin_audit!.rows).toBeGreaterThanOrEqual(1);
  expect(before.mailbox.length).toBeGreaterThan(0);
  runsBefore = await runsOnQueue(env);
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

/** The text of the error element next to a form field (`regenerate-reports-from` → `regenerate-reports-from-error`), unescaped. */
function errorNextTo(body: string, fieldId: string): string {
  const match = new RegExp(`<p class="error" id="${fieldId}-error"[^>]*>([\\s\\S]*?)</p>`).exec(body);
  return unescape(match?.[1]?.replace(/<br>/g, ' ').trim() ?? '');
}

const unescape = (text: string) =>
  text.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

async function send(testCase: AdminCase): Promise<LightMyRequestResponse> {
  const who = testCase.as ?? 'operator';
  // "Another browser's token": this browser's cookies, the token of a second sign-in.
  const session = who === 'operator-with-another-csrf' ? sessions.operator! : sessions[who]!;
  const csrf = who === 'operator-with-another-csrf' ? sessions.operator2!.csrf : session.csrf;
  if (testCase.method === 'GET') return session.get(testCase.url);
  let contentType = 'application/x-www-form-urlencoded';
  let payload: string;
  if (testCase.raw) {
    contentType = testCase.raw.contentType;
    payload = typeof testCase.raw.body === 'function' ? testCase.raw.body(csrf) : testCase.raw.body;
  } else {
    const body = new URLSearchParams();
    const fields = testCase.form ?? {};
    if (!('_csrf' in fields)) body.append('_csrf', csrf);
    for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) if (one !== null) body.append(name, one);
    payload = body.toString();
  }
  return app.inject({ method: 'POST', url: testCase.url, headers: { cookie: session.cookieHeader, 'content-type': contentType }, payload });
}

describe('bad input on the admin page comes back next to its field (or as a 4xx) and starts nothing', () => {
  it.each(adminCases)('$method $url: $label', async (testCase) => {
    const response = await send(testCase);
    const what = `${response.statusCode} ${response.body.slice(0, 400)}`;
    expect(response.statusCode, what).toBe(testCase.status);
    if (testCase.field) {
      const shown = errorNextTo(response.body, testCase.field);
      for (const message of testCase.messages) expect(shown, what).toContain(message);
      // An input field is marked invalid for screen readers too (the customer is text, not an input).
      const input = new RegExp(`<input[^>]*id="${testCase.field}"[^>]*>`).exec(response.body)?.[0];
      if (input) expect(input).toContain('aria-invalid="true"');
    } else if (testCase.status === 303) {
      expect(response.headers.location).toMatch(/^\/sign-in\?next=/);
    } else {
      const text = response.headers['content-type']?.toString().startsWith('application/json') ? String(response.json().error) : unescape(response.body);
      for (const message of testCase.messages) expect(text, what).toContain(message);
    }
    expect(response.body).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
    expect(await snapshotState(env.db.pool, env.sink.dir, AUDIT_ROWS_OTHER_THAN_REFUSALS)).toEqual(before);
    expect(await runsOnQueue(env)).toEqual(runsBefore);
  });
});
