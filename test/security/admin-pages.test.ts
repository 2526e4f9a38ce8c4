// What the admin pages send: a Content-Security-Policy that allows no inline script or style
// (and pages that need none), static files served with the right types; and the runs list,
// which pages through Temporal with its own paging tokens and answers a bad token with 400.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRegenerateInput } from '../../src/contracts.js';
import { regenerateReportsWorkflowId } from '../../src/jobs/regenerate-reports.js';
import { addDays } from '../../src/dates.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { adminSignedInAs, Session, TEST_ADMIN_SETTINGS } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
let viewer: Session;
const RUNS = 30;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  ({ app, session: viewer } = await adminSignedInAs(env, 'viewer@example.com', 'viewer'));
  // More runs than one page: one per day, through the real client, each to its end.
  const handles = [];
  for (let i = 0; i < RUNS; i++) {
    const day = addDays('2026-10-01', i);
    handles.push((await startRegenerateReports(env.client, { customerIds: [1], from: day, to: day, sendEmail: false }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' })).handle);
  }
  await Promise.all(handles.map((handle) => handle.result()));
  // Visibility trails the runs by a moment.
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    let closed = 0;
    for await (const info of env.client.workflow.list({ query: `TaskQueue = '${env.taskQueue}' AND ExecutionStatus = 'Completed'` })) closed += info ? 1 : 0;
    if (closed >= RUNS) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 120_000);
afterAll(async () => {
  await app?.close();
  await env?.close();
});

describe('the Content-Security-Policy allows no inline script or style', () => {
  it('every page is sent with a policy that names our own files only, and needs nothing inline', async () => {
    const input = resolveRegenerateInput({ customerIds: [4], from: '2026-11-09', to: '2026-11-09' }, new Date());
    // A run held by a start delay, so the customer page shows its live (polling) panel.
    const running = await env.client.workflow.start('regenerateReports', {
      taskQueue: env.taskQueue, workflowId: regenerateReportsWorkflowId(input, env.taskQueue), args: [{ customerIds: [4], from: '2026-11-09', to: '2026-11-09' }], startDelay: '1 hour',
    });
    try {
      const pages = {
        'sign-in': await new Session(app).get('/sign-in'),
        customers: await viewer.get('/customers'),
        'customer with a live run': await viewer.get(`/customers/4?run=${encodeURIComponent(running.workflowId)}`),
        'customer with a chart': await viewer.get('/customers/1?from=2026-10-01&to=2026-10-10'),
        runs: await viewer.get('/runs'),
        password: await viewer.get('/account/password'),
        'not found': await viewer.get('/no/such/page'),
      };
      expect(pages['customer with a live run'].body).toContain('data-poll-url="/api/runs/');
      expect(pages['customer with a live run'].body).toMatch(/<script src="\/assets\/admin\.js\?v=[0-9a-f]+" defer><\/script>/);
      expect(pages['customer with a chart'].body).toContain('<svg role="img"');
      for (const [name, response] of Object.entries(pages)) {
        const policy = String(response.headers['content-security-policy']);
        expect(policy, name).not.toContain('unsafe-inline');
        expect(policy, name).toContain("script-src 'self'");
        expect(policy, name).toContain("style-src 'self'");
        expect(policy, name).toContain("default-src 'none'");
        const body = response.body;
        expect(body, `${name}: an inline <script>`).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
        expect(body, `${name}: a <style> element`).not.toMatch(/<style[\s>]/i);
        expect(body, `${name}: a style attribute`).not.toMatch(/<[^>]+\sstyle=/i);
        expect(body, `${name}: an event handler attribute`).not.toMatch(/<[^>]+\son[a-z]+=/i);
        expect(body, `${name}: a javascript: URL`).not.toMatch(/javascript:/i);
        expect(body, name).toMatch(/<link rel="stylesheet" href="\/assets\/admin\.css\?v=[0-9a-f]+">/);
      }
    } finally {
      await running.terminate('test cleanup');
    }
  });

  it.each([
    ['admin.css', 'text/css; charset=utf-8', 'section.card'],
    ['admin.js', 'text/javascript; charset=utf-8', 'dataset.pollUrl'],
  ])('/assets/%s is public, typed, cacheable under its versioned URL, and holds no secret', async (name, type, sample) => {
    const anonymous = await app.inject({ method: 'GET', url: `/assets/${name}` });
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.headers['content-type']).toBe(type);
    expect(anonymous.headers['x-content-type-options']).toBe('nosniff');
    expect(anonymous.body).toContain(sample);
    expect(anonymous.body).not.toContain(TEST_ADMIN_SETTINGS.sessionSecret);
    expect(anonymous.body).not.toMatch(/@example\.com|password_hash|DATABASE_URL/);
    // The version the pages link is the file's content hash, and that URL may be kept for a year.
    const version = String(anonymous.headers.etag).replace(/"/g, '');
    const versioned = await app.inject({ method: 'GET', url: `/assets/${name}?v=${version}` });
    expect(versioned.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    if (name === 'admin.css') expect((await new Session(app).get('/sign-in')).body).toContain(`/assets/admin.css?v=${version}`);
    expect(anonymous.headers['cache-control']).toBe('public, max-age=0, must-revalidate');
    const again = await app.inject({ method: 'GET', url: `/assets/${name}`, headers: { 'if-none-match': String(anonymous.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });
});

describe('the runs page pages', () => {
  const idsOn = (body: string) => [...body.matchAll(/<tr data-workflow-id="([^"]+)"/g)].map((match) => match[1]!);
  /** The href of the pager link with this id, unescaped; null when the page has none. */
  const linkBefore = (body: string, id: string) => new RegExp(`<a href="([^"]+)" rel="(?:prev|next)" id="${id}"`).exec(body)?.[1]?.replace(/&amp;/g, '&') ?? null;

  it('25 a page, newest first, with Older and Newer links that walk the whole list and back', async () => {
    const first = await viewer.get('/runs');
    expect(first.statusCode).toBe(200);
    const firstIds = idsOn(first.body);
    expect(firstIds).toHaveLength(25);
    expect(linkBefore(first.body, 'newer-runs')).toBeNull();
    const older = linkBefore(first.body, 'older-runs');
    expect(older).toMatch(/^\/runs\?page=/);
    const second = await viewer.get(older!);
    expect(second.statusCode).toBe(200);
    const secondIds = idsOn(second.body);
    const total = (await env.client.workflow.count(`TaskQueue = '${env.taskQueue}' AND ExecutionStatus != 'ContinuedAsNew'`)).count;
    expect(total).toBeGreaterThanOrEqual(RUNS);
    expect(secondIds).toHaveLength(total - 25);
    expect(new Set([...firstIds, ...secondIds]).size).toBe(total);
    const newer = linkBefore(second.body, 'newer-runs');
    expect(newer).toBe('/runs');
    expect(idsOn((await viewer.get(newer!)).body)).toEqual(firstIds);
  });

  it('takes a page size up to its cap, and keeps it and the filters in the links', async () => {
    const page = await viewer.get('/runs?size=10&startedFrom=api');
    expect(idsOn(page.body)).toHaveLength(10);
    const older = linkBefore(page.body, 'older-runs')!;
    expect(older).toMatch(/startedFrom=api/);
    expect(older).toMatch(/size=10/);
    const next = await viewer.get(older);
    expect(idsOn(next.body)).toHaveLength(10);
    expect(new Set([...idsOn(page.body), ...idsOn(next.body)]).size).toBe(20);
  });

  it.each([
    ['a size over the cap', '/runs?size=101', 'size must be a whole number from 1 to 100'],
    ['a size of zero', '/runs?size=0', 'size must be a whole number from 1 to 100'],
    ['a size that is not a number', '/runs?size=ten', 'size must be a whole number from 1 to 100'],
    ['a token with characters base64url has not', '/runs?page=abc%24%27%20OR%201%3D1', 'This page link is not valid'],
    ['a made-up token', '/runs?page=AAAAAAAA', 'This page link is not valid'],
    ['a made-up token in the signed form', `/runs?page=${Buffer.from('{"CloseTime":"2000-01-01"}').toString('base64url')}~${'A'.repeat(22)}`, 'This page link is not valid'],
    ['an over-long token', `/runs?page=${'A'.repeat(2001)}~${'A'.repeat(22)}`, 'This page link is not valid'],
    ['an empty token in the trail', '/runs?page=..', 'This page link is not valid'],
  ])('%s: 400 with a clear message, not a 500', async (_label, url, message) => {
    const response = await viewer.get(url);
    expect(response.statusCode, response.body.slice(0, 300)).toBe(400);
    expect(response.body).toContain(message);
    expect(response.body).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it('a real token edited, cut short, or used with other filters is refused with 400 too', async () => {
    const older = linkBefore((await viewer.get('/runs')).body, 'older-runs')!;
    const token = new URL(older, 'http://admin').searchParams.get('page')!;
    const [body, mac] = token.split('~') as [string, string];
    const edited = `${body.slice(0, -2)}${body.endsWith('AA') ? 'BB' : 'AA'}~${mac}`;
    for (const url of [`/runs?page=${edited}`, `/runs?page=${body.slice(0, Math.floor(body.length / 2))}~${mac}`, `/runs?page=${body}`, `/runs?status=failed&page=${token}`, `/runs?size=10&page=${token}`, `/runs?kind=regenerate-reports&page=${token}`]) {
      const response = await viewer.get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.body, url).toContain('This page link is not valid');
    }
    expect((await viewer.get(`/runs?page=${token}`)).statusCode).toBe(200);
    // A kind outside the registry is ignored, so the token of the unfiltered list still fits.
    expect((await viewer.get(`/runs?kind=no-such-job&page=${token}`)).statusCode).toBe(200);
  });

  it('the kind filter keeps itself in the paging links, and its tokens are its own', async () => {
    const page = await viewer.get('/runs?kind=regenerate-reports&size=10');
    expect(idsOn(page.body)).toHaveLength(10);
    const older = linkBefore(page.body, 'older-runs')!;
    expect(older).toMatch(/kind=regenerate-reports/);
    expect(idsOn((await viewer.get(older)).body)).toHaveLength(10);
    const token = new URL(older, 'http://admin').searchParams.get('page')!;
    expect((await viewer.get(`/runs?size=10&page=${token}`)).statusCode).toBe(400);
  });
});
