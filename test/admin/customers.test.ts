import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../support/database.js';
import { buildTestAdmin, createAdminUser, signedIn, type Session } from '../support/admin.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
let viewer: Session;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool); // 40 customers, "Customer N", customerN@example.com
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  app = buildTestAdmin(env);
  await app.ready();
  viewer = await signedIn(app, 'viewer@example.com');
});
afterAll(async () => {
  await app.close();
  await env.close();
});

const idsOn = (body: string) => [...body.matchAll(/<td class="num"><a href="\/customers\/(\d+)">/g)].map((m) => Number(m[1]));

async function databaseFingerprint() {
  const { rows } = await env.db.pool.query(`
    SELECT (SELECT count(*) FROM customers)::int AS customers, (SELECT count(*) FROM orders)::int AS orders,
           (SELECT count(*) FROM admin_users)::int AS users,
           (SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public') AS tables,
           (SELECT md5(string_agg(name || email, ',' ORDER BY id)) FROM customers) AS names`);
  return rows[0];
}

describe('finding customers', () => {
  it('lists customers 25 to a page', async () => {
    const first = await viewer.get('/customers');
    expect(idsOn(first.body)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(first.body).toContain('page 1 of 2');
    expect(idsOn((await viewer.get('/customers?page=2')).body)).toEqual(Array.from({ length: 15 }, (_, i) => i + 26));
    expect(idsOn((await viewer.get('/customers?page=9')).body)).toEqual([]);
    expect((await viewer.get('/customers?page=abc')).statusCode).toBe(200);
  });

  it('searches by id, by name and by email', async () => {
    expect(idsOn((await viewer.get('/customers?q=7')).body)).toEqual([7, 17, 27, 37]); // id 7, and names containing 7
    expect(idsOn((await viewer.get('/customers?q=customer%2012')).body)).toEqual([12]);
    expect(idsOn((await viewer.get('/customers?q=customer33%40example')).body)).toEqual([33]);
  });

  it.each([
    "' OR 1=1 --",
    "1; DROP TABLE customers; --",
    "x' UNION SELECT id, password_hash, email, role, 'USD', true FROM admin_users --",
    '%',
    '_',
    '\\',
  ])('search text %j is only ever text: no match, nothing changed', async (text) => {
    const before = await databaseFingerprint();
    const response = await viewer.get(`/customers?q=${encodeURIComponent(text)}`);
    expect(response.statusCode).toBe(200);
    expect(idsOn(response.body)).toEqual([]);
    expect(response.body).not.toContain('argon2');
    expect(await databaseFingerprint()).toEqual(before);
  });

  it('shows a customer named like markup as text', async () => {
    await env.db.pool.query(`UPDATE customers SET name = '<script>alert(1)</script>' WHERE id = 5`);
    for (const url of ['/customers/5', '/customers?q=script']) {
      const body = (await viewer.get(url)).body;
      expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(body).not.toContain('<script>alert(1)');
    }
  });

  it('answers 404 for a customer that does not exist, and keeps a bad range to the default with an error', async () => {
    expect((await viewer.get('/customers/99999')).statusCode).toBe(404);
    expect((await viewer.get('/customers/abc')).statusCode).toBe(404);
    const page = await viewer.get('/customers/1?from=2026-02-30&to=2026-03-01');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/id="range-from-error"[^>]*>from is not a calendar date/);
  });
});

describe("a customer's report rows", () => {
  it('marks rows made before their day ended as "so far", and final rows not', async () => {
    const { ReportRegeneration } = await import('../../src/services/report-regeneration.js');
    await new ReportRegeneration(env.db.pool).regenerateBatch({ batch: { customerIds: [3] }, from: '2026-11-08', to: '2026-11-09', workflowId: 'admin-test', dryRun: false });
    // As a manual run on 2026-11-09, before the day ended where customer 3 is, would have left it.
    await env.db.pool.query(`UPDATE daily_reports SET final = false WHERE customer_id = 3 AND report_date = '2026-11-09'`);
    const page = (await viewer.get('/customers/3?from=2026-11-08&to=2026-11-09')).body;
    const rows = [...page.matchAll(/<tr( class="provisional")?><td>(2026-11-0\d)/g)].map((m) => [m[2], Boolean(m[1])]);
    expect(rows).toEqual([['2026-11-08', false], ['2026-11-09', true]]);
    expect(page).toMatch(/2026-11-09 <span class="tag"[^>]*>so far<\/span>/);
    expect(page).toContain('(so far: some days had not ended in');
  });
});
