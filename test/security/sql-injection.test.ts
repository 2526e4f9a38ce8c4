// Text that looks like SQL, or is just unusual, through the customer search box and through
// every place an id is read: it is only ever data. The search returns what a plain substring
// match would (an oracle written here in TypeScript), and nothing in the database changes.
// test/admin/customers.test.ts has the first few classics; this adds ids, unicode, NUL bytes,
// very long text, timing, and the visibility-query filters.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestAdmin, createAdminUser, signedIn, type Session } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { runsOnQueue, snapshotState, type StateSnapshot } from '../bad-input/support.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
let viewer: Session;
let operator: Session;
let before: Awaited<ReturnType<typeof stateWithoutAudit>>;
let customers: Array<{ id: number; name: string; email: string }>;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  // Names a search could trip over: quotes, a LIKE wildcard, a backslash, non-Latin text.
  await env.db.pool.query(`UPDATE customers SET name = 'O''Brien & Sons' WHERE id = 3`);
  await env.db.pool.query(`UPDATE customers SET name = '100% Natural_Foods' WHERE id = 4`);
  await env.db.pool.query(`UPDATE customers SET name = 'Back\\slash Ltd' WHERE id = 5`);
  await env.db.pool.query(`UPDATE customers SET name = 'Ωmega Żółć 東京 🚀' WHERE id = 6`);
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
  app = buildTestAdmin(env);
  await app.ready();
  viewer = await signedIn(app, 'viewer@example.com');
  operator = await signedIn(app, 'operator@example.com');
  customers = (await env.db.pool.query('SELECT id, name, email FROM customers ORDER BY id')).rows;
  before = await stateWithoutAudit();
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

/** Tables, columns and roles: a DROP, ALTER or CREATE ROLE anywhere would change it. */
async function schemaFingerprint(): Promise<string> {
  const { rows } = await env.db.pool.query(`
    SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)) ||
           (SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname NOT LIKE 'dj\\_sec\\_%') AS fingerprint
      FROM information_schema.columns WHERE table_schema = 'public'`);
  return rows[0].fingerprint;
}

/** Every table but admin_audit, which records each refused start by design (checked on its own below). */
async function stateWithoutAudit(): Promise<Omit<StateSnapshot, 'tables'> & { tables: StateSnapshot['tables']; schema: string }> {
  const { tables: { admin_audit: _audit, ...tables }, ...rest } = await snapshotState(env.db.pool, env.sink.dir);
  return { ...rest, tables, schema: await schemaFingerprint() };
}

async function expectNothingChanged() {
  expect(await stateWithoutAudit()).toEqual(before);
  expect(await runsOnQueue(env)).toEqual([]);
  const { rows } = await env.db.pool.query(`SELECT outcome FROM admin_audit WHERE action = 'regenerate-reports'`);
  for (const { outcome } of rows) expect(outcome).toMatch(/^refused: /);
}

const idsOn = (body: string) => [...body.matchAll(/<td class="num"><a href="\/customers\/(\d+)">/g)].map((m) => Number(m[1]));

/** What the search box promises: the id itself, or a case-insensitive piece of the name or email; first page of 25. */
function expectedIds(text: string): number[] {
  const query = text.slice(0, 200).trim().toLowerCase();
  return customers
    .filter((c) => query === '' || String(c.id) === query || c.name.toLowerCase().includes(query) || c.email.toLowerCase().includes(query))
    .map((c) => c.id)
    .slice(0, 25);
}

const SEARCHES: Array<[string, string]> = [
  ['a statement after a quote', "'; DROP TABLE customers; --"],
  ['a tautology', '1 OR 1=1'],
  ['a quoted tautology', "x' OR '1'='1"],
  ['a UNION reading password hashes', "' UNION SELECT id, password_hash, email, 'UTC', 'USD', true, 1 FROM admin_users --"],
  ['a stacked sleep', "'; SELECT pg_sleep(5); --"],
  ['a comment', 'Customer 1/*'],
  ['a dollar-quoted string', '$$; DROP TABLE orders; $$'],
  ['a positional parameter', '$1'],
  ['an apostrophe that is really in a name', "O'Brien"],
  ['a percent sign that is really in a name', '100%'],
  ['an underscore that is really in a name', 'Natural_'],
  ['a backslash that is really in a name', 'Back\\slash'],
  ['non-Latin letters and an emoji', 'Żółć 東京 🚀'],
  ['a right-to-left override', '\u202Egnp.exe'],
  ['a zero-width joiner sequence', '👩\u200D💻'],
  ['a NUL byte', 'Customer\u00001'],
  ['10,000 characters', 'A'.repeat(10_000)],
  ['a digit string past bigint', '99999999999999999999999'],
  ['id 7 with spaces', '  7  '],
];

describe('the customer search box, with bytes a browser may send that are not UTF-8 text', () => {
  it.each([
    ['a lone surrogate, UTF-8 encoded', '%ED%A0%80'],
    ['an invalid byte', '%FF%FE'],
    ['a truncated escape', 'abc%E2%82'],
  ])('%s: answers 200 and changes nothing', async (_label, encoded) => {
    const response = await viewer.get(`/customers?q=${encoded}`);
    expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
    await expectNothingChanged();
  });
});

describe('the customer search box', () => {
  it.each(SEARCHES)('%s: answers like a plain substring search, quickly, and changes nothing', async (_label, text) => {
    const started = Date.now();
    const response = await viewer.get(`/customers?q=${encodeURIComponent(text)}`);
    expect(response.statusCode, response.body.slice(0, 300)).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000); // a pg_sleep that ran would take 5 s
    // A NUL byte cannot be in any name or email (PostgreSQL text cannot hold it): no match.
    expect(idsOn(response.body)).toEqual(text.includes('\u0000') ? [] : expectedIds(text));
    expect(response.body).not.toContain('$argon2');
    await expectNothingChanged();
  });
});

describe('ids in URLs, forms and filters', () => {
  it.each([
    "1'; DROP TABLE customers; --",
    '1 OR 1=1',
    '1;DELETE FROM daily_reports',
    '0x1',
    '1e3',
    '%00',
    '١',
    `${'9'.repeat(5000)}`,
  ])('customer page for id %j: 404, nothing changed', async (id) => {
    const response = await viewer.get(`/customers/${encodeURIComponent(id)}`);
    expect([404, 414]).toContain(response.statusCode); // 414: the router's limit on parameter length
    await expectNothingChanged();
  });

  it.each([
    "1'; DROP TABLE customers; --",
    '1 OR 1=1',
    '2,3',
    '1e3',
  ])('regenerate for id %j: refused next to the customer field, nothing starts', async (id) => {
    const response = await operator.post(`/customers/${encodeURIComponent(id)}/runs/regenerate-reports`, { from: '2026-11-09', to: '2026-11-09', sendEmail: 'on' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(/id="regenerate-reports-customerIds-error"[^>]*>[^<]*is not a customer id/);
    await expectNothingChanged();
  });

  it.each([
    ["startedFrom=admin' OR WorkflowId != '", 'a quote in the origin filter'],
    ['status=running%27%20OR%201%3D1', 'a quote in the status filter'],
    ['startedFrom=__proto__&status=constructor', 'object keys as filter values'],
  ])('runs page with %s (%s): filter ignored, page served, nothing changed', async (query) => {
    const response = await viewer.get(`/runs?${query}`);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('Cannot list runs'); // the visibility query was still well-formed
    await expectNothingChanged();
  });

  it.each([
    "x' OR WorkflowId != '",
    "regenerate-reports:customer-1:2026-11-09' OR '1'='1",
    '../../namespaces',
  ])('run status API for %j: 404 JSON, nothing changed', async (workflowId) => {
    const response = await viewer.get(`/api/runs/${encodeURIComponent(workflowId)}`);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: `no run of a registered job with id ${workflowId}` });
    await expectNothingChanged();
  });

  it('the report range takes dates only: SQL in from/to is a field error, not a query', async () => {
    const response = await viewer.get(`/customers/1?from=${encodeURIComponent("2026-11-01' OR '1'='1")}&to=2026-11-09`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/id="range-from-error"[^>]*>from must be a date written YYYY-MM-DD/);
    await expectNothingChanged();
  });
});
