import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/dates.js';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { buildTestAdmin, createAdminUser, runsOnQueue, startedAuditRows, TEST_PASSWORD } from '../support/admin.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

/**
 * The admin page in a real browser: Debian's chromium driven by playwright-core, against the
 * real app listening on a port, with a real worker, PostgreSQL and SMTP sink behind it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOT = path.resolve('test-results/admin-customer.png');

let env: TemporalTestEnv;
let app: FastifyInstance;
let baseUrl: string;
let customerId: number;
const contexts: Array<{ context: BrowserContext; userDataDir: string }> = [];
/** Everything the browser reported against the Content-Security-Policy, on any page of the test. */
const cspViolations: string[] = [];
/** Paths of the requests the page made (to see the polling script and its fetches). */
const requested: string[] = [];
const yesterday = addDays(new Date().toISOString().slice(0, 10), -1);
const earlier = { from: addDays(yesterday, -13), to: addDays(yesterday, -1) };

beforeAll(async () => {
  env = await startTemporalTestEnv();
  // Orders up to yesterday, so the page's default range (the last two weeks) has data.
  await seedDemo(env.db.pool, { endDate: yesterday, days: 14 });
  await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  // A customer with orders yesterday, so the admin's run sends an email.
  const truth = await truthRows(env.db.pool, Array.from({ length: 16 }, (_, i) => i + 1).filter((id) => id % 17 !== 0), yesterday, yesterday);
  customerId = truth.find((row) => row.order_count > 0)!.customer_id;
  // The two weeks before yesterday already have rows (no email), as after daily runs.
  const { handle } = await startRegenerateReports(env.client, { customerIds: [customerId], ...earlier, sendEmail: false }, {
    taskQueue: env.taskQueue, startedFrom: 'schedule', startedBy: 'test',
  });
  await handle.result();
  app = buildTestAdmin(env);
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 120_000);

afterEach(async () => {
  expect(cspViolations.splice(0), 'Content-Security-Policy violations').toEqual([]);
  for (const { context, userDataDir } of contexts.splice(0)) {
    await context.close();
    // Chromium's helpers may still be flushing the profile for a moment after close.
    fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

async function openBrowser(): Promise<Page> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1200, height: 900 },
  });
  contexts.push({ context, userDataDir });
  // The event is reported on every page as it loads (CDP injects this listener, outside the policy),
  // and chromium also logs each refusal to the console.
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI));`);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (/CSP violation|Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  return page;
}

async function signIn(page: Page, email: string): Promise<void> {
  await page.goto(`${baseUrl}/customers`);
  expect(new URL(page.url()).pathname).toBe('/sign-in');
  await page.fill('#email', email);
  await page.fill('#password', TEST_PASSWORD);
  await Promise.all([page.waitForURL(`${baseUrl}/customers`), page.click('button[type=submit]')]);
}

describe('the admin page in chromium', () => {
  it('an operator finds a customer, regenerates yesterday with email, watches it finish, and sees the rows and the run', async () => {
    const page = await openBrowser();
    await signIn(page, 'operator@example.com');

    await page.fill('#q', `customer${customerId}@example.com`);
    await Promise.all([page.waitForURL(/\/customers\?q=/), page.click('form[role=search] button')]);
    await Promise.all([page.waitForURL(`${baseUrl}/customers/${customerId}`), page.click(`td a[href="/customers/${customerId}"] >> nth=0`)]);
    expect(await page.locator('#report-rows tbody tr').count()).toBe(13); // the earlier two weeks, not yet yesterday
    expect(await page.locator('svg[role=img] rect').count()).toBe(13);

    // The form defaults to yesterday with email.
    expect(await page.inputValue('#regenerate-reports-from')).toBe(yesterday);
    expect(await page.isChecked('#regenerate-reports-sendEmail')).toBe(true);
    await Promise.all([page.waitForURL(/run=/), page.click('#start-regenerate-reports button[type=submit]')]);
    const workflowId = new URL(page.url()).searchParams.get('run')!;
    expect(workflowId).toBe(`regenerate-reports:customer-${customerId}:${yesterday}@${env.taskQueue}`);

    // The panel polls until the run ends, then the page reloads with the new row.
    await page.locator('#run-status', { hasText: 'completed' }).waitFor({ timeout: 30_000 });
    // The polling script is a static file now, and it ran under the strict policy: it fetched the status.
    if (requested.includes('/assets/admin.js')) expect(requested).toContain(`/api/runs/${encodeURIComponent(workflowId)}`);
    await page.locator('#report-rows td', { hasText: yesterday }).waitFor();
    expect(await page.locator('#report-rows tbody tr').count()).toBe(14);
    expect(await page.textContent('#run-line')).toContain('1 customers, 1 rows written, 1 emails sent');
    expect(await reportRows(env.db.pool, [customerId], yesterday, yesterday)).toEqual(await truthRows(env.db.pool, [customerId], yesterday, yesterday));
    expect(readMailbox(env.sink.dir).map((message) => message.customerId)).toEqual([customerId]);
    expect(await page.locator(`tr[data-workflow-id="${workflowId}"]`).count()).toBe(1); // recent runs of this customer
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.click('header a[href="/runs"]');
    await page.selectOption('#kind', 'regenerate-reports');
    await page.selectOption('#startedFrom', 'admin');
    await Promise.all([page.waitForURL(/startedFrom=admin/), page.click('main form button')]);
    expect(new URL(page.url()).searchParams.get('kind')).toBe('regenerate-reports');
    const row = page.locator(`tr[data-workflow-id="${workflowId}"]`);
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toContain('operator@example.com');
    expect(await row.textContent()).toContain('regenerate-reports');
    expect(await row.locator('.run-line').textContent()).toContain('1 customers, 1 rows written, 1 emails sent');
    expect(await row.locator('a[target=_blank]').getAttribute('href')).toBe(
      `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${await env.client.workflow.getHandle(workflowId).describe().then((d) => d.runId)}/history`,
    );
  });

  it('under the strict Content-Security-Policy the live panel polls (a static script), the chart draws, and nothing is refused', async () => {
    // A run held by a start delay stays running, so its panel must poll.
    const handle = await env.client.workflow.start('regenerateReports', {
      taskQueue: env.taskQueue, workflowId: `browser-held-run-${Date.now()}`, args: [{ customerIds: [customerId], from: earlier.from, to: earlier.from, sendEmail: false }], startDelay: '1 hour',
    });
    try {
      const page = await openBrowser();
      await signIn(page, 'viewer@example.com');
      const polled = page.waitForRequest((request) => request.url().includes('/api/runs/'), { timeout: 10_000 });
      await page.goto(`${baseUrl}/customers/${customerId}?run=${encodeURIComponent(handle.workflowId)}`);
      expect(await page.locator('#run-panel[data-poll-url]').count()).toBe(1);
      await polled;
      // Styles from the stylesheet apply (a class rule, not an inline style), and the SVG chart has its bars.
      expect(await page.locator('svg.chart rect').count()).toBeGreaterThan(0);
      expect(await page.locator('svg.chart').evaluate((chart) => (chart.ownerDocument.defaultView as unknown as { getComputedStyle(e: unknown): { maxWidth: string } }).getComputedStyle(chart).maxWidth)).toBe('720px');
    } finally {
      await handle.terminate('test cleanup');
    }
  });

  it('a viewer sees the reports but no form, and a forged post is refused', async () => {
    const page = await openBrowser();
    await signIn(page, 'viewer@example.com');
    await page.goto(`${baseUrl}/customers/${customerId}`);
    expect(await page.locator('#report-rows').count()).toBe(1);
    expect(await page.locator('form[action^="/customers/"][method=post]').count()).toBe(0);
    expect(await page.textContent('main')).toContain('can look at reports but not start runs');
    const runsBefore = await runsOnQueue(env);
    const auditBefore = await startedAuditRows(env.db.pool);
    // The viewer posts the form by hand, with the browser's cookies and a valid CSRF token from the sign-out form.
    const csrf = await page.inputValue('input[name=_csrf] >> nth=0');
    const forged = await page.request.post(`${baseUrl}/customers/${customerId}/runs/regenerate-reports`, {
      form: { _csrf: csrf, from: yesterday, to: yesterday, sendEmail: 'on' }, maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    await page.setContent(await forged.text());
    expect(await page.textContent('h1')).toBe('Not allowed');
    expect(await runsOnQueue(env)).toEqual(runsBefore);
    expect(await startedAuditRows(env.db.pool)).toEqual(auditBefore);
  });

  it('an anonymous visitor is sent to the sign-in page, and the JSON API answers 401', async () => {
    const page = await openBrowser();
    for (const url of ['/customers', `/customers/${customerId}`, '/runs', '/']) {
      await page.goto(`${baseUrl}${url}`);
      expect(new URL(page.url()).pathname, url).toBe('/sign-in');
    }
    expect(await page.locator('#password').count()).toBe(1);
    expect(await page.textContent('body')).not.toContain('Customer 1');
    const api = await page.request.get(`${baseUrl}/api/runs/anything`);
    expect(api.status()).toBe(401);
    const post = await page.request.post(`${baseUrl}/customers/${customerId}/runs/regenerate-reports`, { form: { from: yesterday }, maxRedirects: 0 });
    expect(post.status()).toBe(303);
    expect(post.headers().location).toMatch(/^\/sign-in/);
  });
});
