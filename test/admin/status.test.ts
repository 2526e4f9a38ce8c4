// The status panel (issue #13): npm run doctor's checks and the last run of each job, for every
// signed-in role, against this file's real database, SMTP sink, shop API, worker and task
// queue; and the same page with every dependency dead (a server that accepts connections and
// never answers): it answers anyway, each part failing with its reason, no secret shown.
import crypto from 'node:crypto';
import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { lentClient } from '../../src/health/health-targets.js';
import { importOrdersJob } from '../../src/jobs/import-orders.js';
import { JOBS } from '../../src/jobs/index.js';
import { declaredSchedules, type ScheduleDeclaration } from '../../src/schedules.js';
import { applySchedules } from '../../src/temporal/schedule-sync.js';
import { startJob } from '../../src/temporal/start-job.js';
import { buildTestAdmin, createAdminUser, Session, signedIn, TEST_UI_URL } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
let viewer: Session;
let importRunId: string;
const prefix = `status-${crypto.randomBytes(3).toString('hex')}-`;

/** The declared schedules under test ids: the nightly one paused, the purge active, the import never applied. */
const schedules: ScheduleDeclaration[] = declaredSchedules(loadConfig({})).map((declaration) => ({
  ...declaration, id: `${prefix}${declaration.id}`, workflowIdPrefix: `${prefix}${declaration.workflowIdPrefix}`,
}));
const [nightly, purge, imports] = ['daily-reports', 'purge-old-reports', 'import-orders'].map((id) => schedules.find((s) => s.id === `${prefix}${id}`)!);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A table row's cells as text, found by its data attribute. */
function cells(body: string, attribute: string, value: string): string[] {
  const row = new RegExp(`<tr ${attribute}="${escapeRegExp(value)}"[^>]*>([\\s\\S]*?)</tr>`).exec(body)?.[1];
  if (!row) throw new Error(`no row with ${attribute}="${value}" in:\n${body}`);
  return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, '').trim());
}

beforeAll(async () => {
  env = await startTemporalTestEnv({ shop: true });
  await seedDemo(env.db.pool);
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  await applySchedules(env.client, [nightly!, purge!], { taskQueue: env.taskQueue, prune: false, idPrefix: prefix });
  await env.client.schedule.getHandle(nightly!.id).pause('paused by the status test');
  // One job has run: the import, to completion.
  const { handle } = await startJob(env.client, importOrdersJob, {}, { taskQueue: env.taskQueue, startedFrom: 'cli', startedBy: 'status-test' });
  await handle.result();
  importRunId = handle.workflowId;
  app = buildTestAdmin(env, {}, { health: { schedules } });
  await app.ready();
  viewer = await signedIn(app, 'viewer@example.com');
});
afterAll(async () => {
  for (const s of [nightly!, purge!]) await env?.client.schedule.getHandle(s.id).delete().catch(() => undefined);
  await app?.close();
  await env?.close();
});

describe('the status page', () => {
  it('is for signed-in people only', async () => {
    const anonymous = await new Session(app).get('/status');
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/sign-in\?next=/);
  });

  it("shows every check, each part's status and reason, and that the missing schedule makes the deployment not ready", async () => {
    const page = await viewer.get('/status');
    expect(page.statusCode).toBe(200);
    const body = page.body;
    expect(body).toContain('<a href="/status" class="current">Status</a>');
    expect(cells(body, 'data-part', 'Temporal')).toEqual(['Temporal', 'ok', `${inject('temporalAddress')}, namespace ${env.client.options.namespace}`]);
    for (const part of ['Temporal', 'search attributes', `task queue ${env.taskQueue}`, 'PostgreSQL', 'SMTP', 'shop API', `schedule ${purge!.id}`]) {
      expect(cells(body, 'data-part', part)[1], part).toBe('ok');
    }
    expect(cells(body, 'data-part', `task queue ${env.taskQueue}`)[2]).toMatch(/^1 worker polling \(last poll /);
    expect(cells(body, 'data-part', 'PostgreSQL')[2]).toMatch(/all \d+ migrations applied$/);
    expect(cells(body, 'data-part', 'shop API')[2]).toBe(`${env.shop!.url} answered an authenticated request`);
    expect(cells(body, 'data-part', `schedule ${purge!.id}`)[2]).toMatch(/^active, next run \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ (days|h|min|s)\), no run yet$/);
    expect(cells(body, 'data-part', `schedule ${nightly!.id}`).slice(1)).toEqual([
      'warn', `paused: paused by the status test, no run yet (resume it: npm run schedules -- unpause ${nightly!.id})`,
    ]);
    expect(cells(body, 'data-part', `schedule ${imports!.id}`).slice(1)).toEqual([
      'FAIL', 'does not exist, so its job (import-orders) never runs on its own; create it: npm run schedules -- apply',
    ]);
    expect(body).toMatch(new RegExp(`id="status-verdict">Not ready: 1 of 9 checks failed \\(schedule ${prefix}import-orders\\)\\.`));
    // The shop's key is the embedded one here; it is never on the page.
    expect(body).not.toContain(env.ordersApi.apiKey);
  });

  it('shows the last run of each registered job, with its outcome and its link', async () => {
    const body = (await viewer.get('/status')).body;
    const [job, status, started, ended, outcome, link] = cells(body, 'data-kind', 'import-orders');
    expect([job, status]).toEqual(['import-orders', 'completed']);
    expect(started).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(ended).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(outcome).toBe(importOrdersJob.summary.describe((await env.client.workflow.getHandle(importRunId).result()) as never));
    expect(link).toBe(importRunId);
    expect(body).toContain(`href="${TEST_UI_URL}/namespaces/${env.client.options.namespace}/workflows/${encodeURIComponent(importRunId)}/`);
    // The import regenerated the days it changed, as a child run of regenerate-reports.
    expect(cells(body, 'data-kind', 'regenerate-reports').slice(0, 2)).toEqual(['regenerate-reports', 'completed']);
    expect(cells(body, 'data-kind', 'regenerate-reports')[5]).toMatch(new RegExp(`^${escapeRegExp(importRunId)}:`));
    for (const kind of JOBS.map((j) => j.kind).filter((kind) => !['import-orders', 'regenerate-reports'].includes(kind))) {
      expect(cells(body, 'data-kind', kind), kind).toEqual([kind, 'no run yet']);
    }
  });
});

describe('with every dependency dead', () => {
  let blackHole: net.Server;
  const held = new Set<net.Socket>();
  let deadApp: FastifyInstance;
  let deadConnection: Connection;

  beforeAll(async () => {
    // Accepts connections and never says a word: what a hung server looks like to a client.
    blackHole = net.createServer((socket) => held.add(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const port = (blackHole.address() as net.AddressInfo).port;
    const hung = `127.0.0.1:${port}`;
    deadConnection = Connection.lazy({ address: hung });
    const deadClient = new Client({ connection: deadConnection, namespace: env.client.options.namespace });
    deadApp = buildTestAdmin(env, {}, {
      temporal: deadClient,
      health: {
        databaseUrl: `postgres://app:db-secret-3141@${hung}/app`,
        smtpUrl: `smtp://mailer:smtp-secret-2718@${hung}`,
        ordersApi: { url: `http://${hung}`, apiKey: 'shop-secret-1618' },
        temporal: lentClient(deadClient, hung),
        schedules,
        secrets: ['db-secret-3141', 'smtp-secret-2718', 'shop-secret-1618'],
      },
    });
    await deadApp.ready();
  });
  afterAll(async () => {
    await deadApp?.close();
    await deadConnection?.close().catch(() => undefined);
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => blackHole?.close(resolve));
  });

  it('still answers: each service fails with its reason, what goes through Temporal is skipped, the runs say why they are missing', async () => {
    const session = await signedIn(deadApp, 'viewer@example.com');
    const page = await session.get('/status');
    expect(page.statusCode).toBe(200);
    const body = page.body;
    const hung = /127\.0\.0\.1:\d+/.exec(cells(body, 'data-part', 'Temporal')[2]!)![0];
    expect(cells(body, 'data-part', 'Temporal').slice(1)).toEqual(['FAIL', expect.stringMatching(new RegExp(`^${hung} did not answer \\(.*\\); the local Temporal dev server is not running`))]);
    expect(cells(body, 'data-part', 'PostgreSQL').slice(1)).toEqual(['FAIL', expect.stringMatching(new RegExp(`^cannot connect to app@${hung}/app \\(`))]);
    expect(cells(body, 'data-part', 'SMTP').slice(1)).toEqual(['FAIL', expect.stringMatching(new RegExp(`^smtp://mailer@${hung} did not answer \\(`))]);
    // The client's own deadline and the check's are the same 3 s: either may say so first.
    expect(cells(body, 'data-part', 'shop API').slice(1)).toEqual(['FAIL', expect.stringMatching(
      new RegExp(`^(the orders API did not answer in full \\(.*timeout\\); http://${hung}|the shop API at http://${hung} did not answer within 3 s); the embedded shop API is not running`),
    )]);
    for (const part of ['search attributes', `task queue ${env.taskQueue}`, ...schedules.map((s) => `schedule ${s.id}`)]) {
      expect(cells(body, 'data-part', part).slice(1), part).toEqual(['skipped', 'not checked: Temporal did not answer']);
    }
    expect(body).toMatch(/id="status-verdict">Not ready: 4 of 9 checks failed \(Temporal, PostgreSQL, SMTP, shop API\)\./);
    for (const job of JOBS) expect(cells(body, 'data-kind', job.kind)[1], job.kind).toMatch(/^cannot read its runs: /);
    for (const secret of ['db-secret-3141', 'smtp-secret-2718', 'shop-secret-1618']) expect(body).not.toContain(secret);
  });
});
