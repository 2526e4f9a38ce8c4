import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/admin/views/html.js';
import { dailyReportsJob } from '../../src/jobs/daily-reports.js';
import { JOBS } from '../../src/jobs/index.js';
import { regenerateReportsJob } from '../../src/jobs/regenerate-reports.js';
import { startJob } from '../../src/temporal/start-job.js';
import { adminSignedInAs, type Session } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

/** The runs list over every registered job: each run with its job, its own summary, and a kind filter. */
let env: TemporalTestEnv;
let app: FastifyInstance;
let viewer: Session;
const runs: Record<string, { workflowId: string; summary: string }> = {};

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  ({ app, session: viewer } = await adminSignedInAs(env, 'viewer@example.com', 'viewer'));
  const options = { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' } as const;
  // One run of each job registered today, each to its end, through the one start path every door uses.
  const report = await startJob(env.client, regenerateReportsJob, { customerIds: [1], from: '2026-11-09', to: '2026-11-09', sendEmail: false }, options);
  const daily = await startJob(env.client, dailyReportsJob, { windowMinutes: 60, reportOptions: { sendEmail: false } }, options);
  for (const [job, { handle }] of [[regenerateReportsJob, report], [dailyReportsJob, daily]] as const) {
    runs[job.kind] = { workflowId: handle.workflowId, summary: job.summary.describe(await handle.result() as never) };
  }
  // Visibility trails the runs by a moment.
  for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
    const body = (await viewer.get('/runs')).body;
    if (Object.values(runs).every((run) => body.includes(escapeHtml(run.summary)))) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 120_000);
afterAll(async () => {
  await app?.close();
  await env?.close();
});

/** The listed rows: workflow id → the row's cells as markup. */
function rowsOf(body: string): Map<string, string> {
  return new Map([...body.matchAll(/<tr data-workflow-id="([^"]+)">([\s\S]*?)<\/tr>/g)].map((match) => [match[1]!, match[2]!]));
}

describe('the runs list covers every registered job', () => {
  it('lists runs of both kinds, each with its job and its own summary', async () => {
    const response = await viewer.get('/runs');
    expect(response.statusCode).toBe(200);
    const rows = rowsOf(response.body);
    for (const [kind, run] of Object.entries(runs)) {
      const row = rows.get(escapeHtml(run.workflowId));
      expect(row, kind).toBeDefined();
      expect(row, kind).toContain(`<td>${kind}</td>`);
      expect(row, kind).toContain(escapeHtml(run.summary));
    }
    // The daily run's summary is the daily job's renderer, not the report job's.
    expect(runs['daily-reports']!.summary).not.toMatch(/rows written/);
    expect(response.body).toContain('Runs of every job');
  });

  it('offers every registered kind in the filter, and the filter narrows the list to that kind', async () => {
    const page = (await viewer.get('/runs')).body;
    for (const job of JOBS) expect(page).toContain(`<option value="${job.kind}" >${job.kind}</option>`);
    for (const kind of Object.keys(runs)) {
      const body = (await viewer.get(`/runs?kind=${kind}`)).body;
      const rows = rowsOf(body);
      expect(rows.size, kind).toBeGreaterThan(0);
      expect([...rows.values()].every((row) => row.includes(`<td>${kind}</td>`)), kind).toBe(true);
      for (const [other, run] of Object.entries(runs)) expect(rows.has(escapeHtml(run.workflowId)), `${kind} lists ${other}`).toBe(other === kind);
      expect(body).toContain(`<option value="${kind}" selected>${kind}</option>`);
    }
  });

  it.each(['no-such-job', "x') OR WorkflowType != ('", 'regenerateReports'])('ignores the kind %j, which the registry does not have: every job is listed', async (kind) => {
    const response = await viewer.get(`/runs?kind=${encodeURIComponent(kind)}`);
    expect(response.statusCode).toBe(200);
    const rows = rowsOf(response.body);
    for (const run of Object.values(runs)) expect(rows.has(escapeHtml(run.workflowId))).toBe(true);
    expect(response.body).toContain('Runs of every job');
  });

  it("a customer's page lists the runs that touched that customer, with their summaries", async () => {
    const rows = rowsOf((await viewer.get('/customers/1')).body);
    expect(rows.get(escapeHtml(runs['regenerate-reports']!.workflowId))).toContain(escapeHtml(runs['regenerate-reports']!.summary));
    expect(rows.has(escapeHtml(runs['daily-reports']!.workflowId))).toBe(false); // it names no customer (DjCustomerIds 'all')
  });

  it('the status endpoint serves any registered job, summary rendered by its own job', async () => {
    for (const [kind, run] of Object.entries(runs)) {
      const status = await viewer.get(`/api/runs/${encodeURIComponent(run.workflowId)}`);
      expect(status.statusCode, kind).toBe(200);
      expect(status.json(), kind).toMatchObject({ kind, workflowId: run.workflowId, status: 'COMPLETED', done: true, summaryText: run.summary });
    }
  });
});
