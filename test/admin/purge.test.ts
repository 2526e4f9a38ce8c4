// The purge form on a customer's page: filled and started from this deployment's settings
// (REPORT_RETENTION_DAYS), a dry run unless the box is unticked, and open for inactive
// customers (purging one is a main use), while unknown ids stay refused.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildTestAdmin, createAdminUser, signedIn, startAuditRows, type Session } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
let operator: Session;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool); // customers 1–40; 17 and 34 inactive
  await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
  app = buildTestAdmin(env, {}, { config: loadConfig({ REPORT_RETENTION_DAYS: '1095' }) });
  await app.ready();
  operator = await signedIn(app, 'operator@example.com');
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

/** Posts the purge form and returns the started run's id, its memo input and its audit row. */
async function startPurge(customerId: number, form: Record<string, string | null>) {
  const response = await operator.post(`/customers/${customerId}/runs/purge-old-reports`, form);
  expect(response.statusCode, response.body.slice(0, 2000)).toBe(303);
  const workflowId = new URL(response.headers.location as string, 'http://admin').searchParams.get('run')!;
  const handle = env.client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  await handle.result();
  const audit = (await startAuditRows(env.db.pool, 'purge-old-reports')).find((row) => row.workflow_id === workflowId);
  return { workflowId, input: description.memo?.input as Record<string, unknown>, audit };
}

describe('the purge form follows the settings', () => {
  it('shows REPORT_RETENTION_DAYS (1095), not the contract default, with the dry-run box ticked', async () => {
    const page = await operator.get('/customers/1');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/id="purge-old-reports-retentionDays" name="retentionDays" value="1095"/);
    expect(page.body).toMatch(/name="dryRun" id="purge-old-reports-dryRun" checked/);
  });

  it('the form submitted as shown, retention left empty, starts a dry run with retentionDays 1095', async () => {
    const { workflowId, input, audit } = await startPurge(1, { retentionDays: '', dryRun: 'on' });
    expect(workflowId).toMatch(/^purge-old-reports:customer-1:before-\d{4}-\d{2}-\d{2}:dry-run/);
    expect(input).toMatchObject({ retentionDays: 1095, customerIds: [1], dryRun: true });
    expect(audit).toMatchObject({ outcome: 'started', parameters: { retentionDays: 1095, dryRun: true } });
  });

  it('a retention typed in wins over the setting', async () => {
    const { input } = await startPurge(2, { retentionDays: '500', dryRun: 'on' });
    expect(input).toMatchObject({ retentionDays: 500, customerIds: [2], dryRun: true });
  });
});

describe('inactive customers', () => {
  it('the purge form is shown on an inactive customer\'s page; the report form still says the customer gets no reports', async () => {
    const page = await operator.get('/customers/17');
    expect(page.body).toContain('action="/customers/17/runs/purge-old-reports"');
    expect(page.body).not.toContain('action="/customers/17/runs/regenerate-reports"');
    expect(page.body).toContain('This customer is inactive; inactive customers get no reports.');
    // A window re-import of an inactive customer's orders is legitimate too.
    expect(page.body).toContain('action="/customers/17/runs/import-orders"');
  });

  it('a purge of an inactive customer starts', async () => {
    const { workflowId, input } = await startPurge(17, { retentionDays: '', dryRun: 'on' });
    expect(workflowId).toMatch(/^purge-old-reports:customer-17:/);
    expect(input).toMatchObject({ retentionDays: 1095, customerIds: [17], dryRun: true });
  });

  it('an unknown customer is still refused, next to the customer', async () => {
    const response = await operator.post('/customers/999999/runs/purge-old-reports', { retentionDays: '', dryRun: 'on' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('customer 999999 does not exist');
  });

  it('a regeneration of an inactive customer is still refused', async () => {
    const response = await operator.post('/customers/17/runs/regenerate-reports', { sendEmail: 'on' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('customer 17 is inactive');
  });
});
