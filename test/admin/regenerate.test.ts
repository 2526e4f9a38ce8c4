import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveRegenerateInput } from '../../src/contracts.js';
import { regenerateReportsWorkflowId } from '../../src/jobs/regenerate-reports.js';
import { addDays } from '../../src/dates.js';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { startForms } from '../../src/admin/job-forms.js';
import { buildTestAdmin, createAdminUser, runsOnQueue, signedIn, startAuditRows, startedAuditRows, type Session } from '../support/admin.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
let operator: Session;
let viewer: Session;
const day = '2026-11-09';
const yesterday = addDays(new Date().toISOString().slice(0, 10), -1);

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  app = buildTestAdmin(env);
  await app.ready();
  operator = await signedIn(app, 'operator@example.com');
  viewer = await signedIn(app, 'viewer@example.com');
});
afterAll(async () => {
  await app.close();
  await env.close();
});

/** The text of the error element next to a form field (`regenerate-reports-from` → `regenerate-reports-from-error`). */
function errorNextTo(body: string, fieldId: string): string {
  const match = new RegExp(`<p class="error" id="${fieldId}-error"[^>]*>([\\s\\S]*?)</p>`).exec(body);
  const text = match?.[1]?.replace(/<br>/g, ' ').trim() ?? '';
  return text.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

describe('starting a regeneration from the admin page', () => {
  const form = { from: day, to: day, sendEmail: 'on' };
  let startsBefore: string[];
  beforeEach(async () => {
    startsBefore = await runsOnQueue(env);
  });
  /** Nothing reached Temporal; the request itself is audited as a refused start, with the reason. */
  const nothingStarted = async (refusal?: string) => {
    expect(await runsOnQueue(env)).toEqual(startsBefore);
    expect(await startedAuditRows(env.db.pool)).toEqual([]);
    if (refusal) {
      const outcome = String((await startAuditRows(env.db.pool)).at(-1)?.outcome);
      expect(outcome).toMatch(/^refused: /);
      expect(outcome).toContain(refusal);
    }
  };

  it('a viewer sees no form and is refused with 403 when posting anyway, for every job that has a form', async () => {
    const page = await viewer.get('/customers/1');
    expect(page.body).not.toContain('method="post" action="/customers/1/runs/');
    expect(page.body).toContain('can look at reports but not start runs');
    const kinds = startForms().filter((start) => !start.job.doors.form!.roles.includes('viewer')).map((start) => start.job.kind);
    expect(kinds).toContain('regenerate-reports');
    for (const kind of kinds) {
      const before = (await startAuditRows(env.db.pool, kind)).length;
      const response = await viewer.post(`/customers/1/runs/${kind}`, form);
      expect(response.statusCode, kind).toBe(403);
      expect(response.body, kind).toContain('Your role (viewer) can look at reports but not start runs');
      const rows = await startAuditRows(env.db.pool, kind);
      expect(rows.slice(before), kind).toMatchObject([{ user_email: 'viewer@example.com', action: kind, outcome: 'refused: role viewer may not start runs', customer_id: 1 }]);
    }
    await nothingStarted('role viewer may not start runs');
  });

  it('a kind the registry does not know, or a job without a form, is 404 and starts nothing', async () => {
    for (const kind of ['no-such-job', 'daily-reports', '..%2F..%2Fsign-out']) {
      expect((await operator.post(`/customers/1/runs/${kind}`, form)).statusCode, kind).toBe(404);
    }
    await nothingStarted();
  });

  it('a form without its CSRF token, or with a forged one, is refused with 403', async () => {
    expect((await operator.post('/customers/1/runs/regenerate-reports', { ...form, _csrf: null })).statusCode).toBe(403);
    expect((await operator.post('/customers/1/runs/regenerate-reports', { ...form, _csrf: 'forged-token' })).statusCode).toBe(403);
    await nothingStarted();
  });

  it.each([
    ['a date that does not parse', { from: '2026-13-45', to: day }, 'regenerate-reports-from', 'from is not a calendar date'],
    ['a date in another format', { from: '09/11/2026', to: day }, 'regenerate-reports-from', 'from must be a date written YYYY-MM-DD'],
    ['from after to', { from: '2026-11-10', to: '2026-11-01' }, 'regenerate-reports-from', 'from (2026-11-10) must not be after to (2026-11-01)'],
    ['a range longer than the maximum', { from: '2025-01-01', to: '2026-11-01' }, 'regenerate-reports-to', 'the maximum is 366'],
    ['resend without email', { from: day, to: day, sendEmail: null, resend: 'on' }, 'regenerate-reports-resend', 'resend needs sendEmail'],
    ['a checkbox with a made-up value', { from: day, to: day, dryRun: 'maybe' }, 'regenerate-reports-dryRun', 'dryRun must be ticked or not'],
  ])('%s: the form comes back with the error next to the field, and nothing starts', async (_label, fields, fieldId, message) => {
    const response = await operator.post('/customers/1/runs/regenerate-reports', { sendEmail: 'on', ...fields });
    expect(response.statusCode).toBe(400);
    expect(errorNextTo(response.body, fieldId)).toContain(message);
    expect(response.body).toContain(`aria-invalid="true"`);
    // Only that field is marked: the others of the form are not.
    const invalid = [...response.body.matchAll(/<input[^>]*id="(regenerate-reports-\w+)"[^>]*aria-invalid="true"/g)].map((m) => m[1]);
    expect(invalid).toEqual([fieldId]);
    // What the user typed is kept, so they can correct it.
    if ('from' in fields && fields.from) expect(response.body).toContain(`value="${fields.from}"`);
    await nothingStarted(message);
  });

  it('several problems at once: each next to its own field, the customer above the form; nothing started or written', async () => {
    const reportRowsNow = async () => (await env.db.pool.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS h FROM daily_reports t`)).rows[0];
    const rowsBefore = await reportRowsNow();
    const response = await operator.post('/customers/17/runs/regenerate-reports', { from: '2026-13-45', to: '2026-11-01', dryRun: 'maybe', sendEmail: 'on' });
    expect(response.statusCode).toBe(400);
    expect(errorNextTo(response.body, 'regenerate-reports-from')).toBe('from is not a calendar date');
    expect(errorNextTo(response.body, 'regenerate-reports-dryRun')).toBe('dryRun must be ticked or not');
    expect(errorNextTo(response.body, 'regenerate-reports-customerIds')).toBe('customer 17 is inactive; inactive customers get no reports');
    expect(errorNextTo(response.body, 'regenerate-reports-to')).toBe('');
    expect(response.body.indexOf('id="regenerate-reports-customerIds-error"')).toBeLessThan(response.body.indexOf('action="/customers/17/runs/regenerate-reports"'));
    await nothingStarted('customer 17 is inactive');
    expect(await reportRowsNow()).toEqual(rowsBefore);
  });

  it.each([
    ['an unknown customer', '999999', 'customer 999999 does not exist'],
    ['an inactive customer', '17', 'customer 17 is inactive'],
    ['a tampered, non-numeric id', '1%20OR%201=1', "'1 OR 1=1' is not a customer id"],
    ['a tampered, negative id', '-1', "'-1' is not a customer id"],
  ])('%s: the form comes back with the error next to the customer, and nothing starts', async (_label, id, message) => {
    const response = await operator.post(`/customers/${id}/runs/regenerate-reports`, form);
    expect(response.statusCode).toBe(400);
    expect(errorNextTo(response.body, 'regenerate-reports-customerIds')).toContain(message);
    await nothingStarted(message);
  });

  it('an operator regenerates one customer: audited, memo names the operator, rows and email arrive, progress is served', async () => {
    const customerId = 3;
    const response = await operator.post(`/customers/${customerId}/runs/regenerate-reports`, { from: day, to: day, sendEmail: 'on' });
    expect(response.statusCode).toBe(303);
    const location = new URL(response.headers.location as string, 'http://admin');
    expect(location.pathname).toBe(`/customers/${customerId}`);
    const workflowId = location.searchParams.get('run')!;
    expect(workflowId).toBe(`regenerate-reports:customer-${customerId}:${day}@${env.taskQueue}`);

    expect(await startedAuditRows(env.db.pool)).toEqual([{
      user_email: 'operator@example.com', action: 'regenerate-reports', outcome: 'started', customer_id: customerId, workflow_id: workflowId,
      parameters: { from: day, to: day, sendEmail: true, resend: false, dryRun: false },
    }]);
    const handle = env.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.memo).toMatchObject({ startedBy: 'operator@example.com', startedFrom: 'admin' });
    expect(description.typedSearchAttributes.get({ name: 'DjCustomerIds', type: 'KEYWORD_LIST' } as never)).toEqual([String(customerId)]);

    const summary = await handle.result();
    expect(summary).toMatchObject({ customersProcessed: 1, rowsWritten: 1, failures: [] });
    expect(await reportRows(env.db.pool, [customerId], day, day)).toEqual(await truthRows(env.db.pool, [customerId], day, day));
    const [truth] = await truthRows(env.db.pool, [customerId], day, day);
    expect(readMailbox(env.sink.dir).map((m) => m.customerId)).toEqual(truth!.order_count > 0 ? [customerId] : []);

    const status = await operator.get(`/api/runs/${encodeURIComponent(workflowId)}`);
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({ workflowId, status: 'COMPLETED', done: true, summary: { customersProcessed: 1 } });
    expect(status.json().uiUrl).toBe(`http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);

    const page = await operator.get(location.pathname + location.search);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="report-rows"');
    expect(page.body).toContain(`<td>${day}</td>`);
    expect(page.body).toContain('<svg role="img"');
    expect(page.body).toContain(`data-workflow-id="${workflowId}"`); // in the customer's recent runs, from visibility
    expect(page.body).not.toContain('<script'); // the run ended: no more polling

    const runs = await viewer.get('/runs?startedFrom=admin');
    expect(runs.body).toContain(`data-workflow-id="${workflowId}"`);
    expect((await viewer.get('/runs?startedFrom=cli')).body).not.toContain(`data-workflow-id="${workflowId}"`);
    expect((await viewer.get('/runs?status=failed')).body).not.toContain(`data-workflow-id="${workflowId}"`);
    expect((await viewer.get('/runs?status=completed')).body).toContain(`data-workflow-id="${workflowId}"`);
  });

  it('a second start for the same customer and period while one runs is refused, showing the running one', async () => {
    // Held running by a start delay: the worker cannot finish it before the form is posted.
    const input = resolveRegenerateInput({ customerIds: [4], from: day, to: day }, new Date());
    const running = {
      handle: await env.client.workflow.start('regenerateReports', {
        taskQueue: env.taskQueue, workflowId: regenerateReportsWorkflowId(input, env.taskQueue), args: [{ customerIds: [4], from: day, to: day }], startDelay: '1 hour',
      }),
    };
    try {
      const response = await operator.post('/customers/4/runs/regenerate-reports', { from: day, to: day, sendEmail: 'on' });
      expect(response.statusCode).toBe(409);
      expect(response.body).toContain(`already running (${running.handle.workflowId})`);
      expect(await startedAuditRows(env.db.pool)).toHaveLength(1); // still only the earlier successful start
      expect((await startAuditRows(env.db.pool)).at(-1)).toMatchObject({ customer_id: 4, outcome: 'refused: already running', workflow_id: running.handle.workflowId });
    } finally {
      await running.handle.terminate('test cleanup');
    }
  });

  it('the form defaults to yesterday with email', async () => {
    const page = await operator.get('/customers/2');
    expect(page.body).toContain(`id="regenerate-reports-from" name="from" value="${yesterday}"`);
    expect(page.body).toContain(`id="regenerate-reports-to" name="to" value="${yesterday}"`);
    expect(page.body).toMatch(/name="sendEmail" id="regenerate-reports-sendEmail" checked/);
    expect(page.body).toMatch(/name="resend" id="regenerate-reports-resend"\s+aria-invalid/);
    // Labels and help come from the schema.
    expect(page.body).toContain('first local day, YYYY-MM-DD (default: yesterday)');
  });
});

describe('the run status endpoint', () => {
  it('answers only for report runs of this task queue', async () => {
    const other = await env.client.workflow.start('regenerateReports', {
      taskQueue: `${env.taskQueue}-other`, workflowId: `other-queue-${Date.now()}`, args: [{}],
    });
    expect((await operator.get(`/api/runs/${encodeURIComponent(other.workflowId)}`)).statusCode).toBe(404);
    await other.terminate('test cleanup');
  });
});
