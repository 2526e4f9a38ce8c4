// Workflow inputs, results, summaries and failures carry ids and counts, never a customer's
// name or email address: Temporal's history is kept, replicated and shown in the Web UI.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { buildTestAdmin, createAdminUser, Session, signedIn } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { temporalCli } from '../support/temporal-cli.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { capturingLogger, executionsOnQueue, historyJson, textOf } from './support.js';

// Every name and address contains the tag, so "no tag anywhere" means none of them leaked.
const tag = `pd${crypto.randomBytes(4).toString('hex')}`;
// Run ids and the operator get their own tag: only customer data carries `tag`.
const runTag = crypto.randomBytes(4).toString('hex');
const OPERATOR = `operator.${runTag}@staff.example`;
const period = { from: '2026-11-08', to: '2026-11-10' };

let env: TemporalTestEnv;
let app: FastifyInstance;
let adminRun: string;
/** Every line the admin app logged, at trace level. */
const adminLog = capturingLogger();
const histories = new Map<string, unknown[]>();

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  await env.db.pool.query(`UPDATE customers SET name = 'Zoë Quill-' || id || ' ${tag}', email = 'zoe.quill.' || id || '.${tag}@private.example'`);
  // One customer's data fails (its failure reason travels in the result), one send is refused for good.
  await env.db.pool.query(`UPDATE customers SET time_zone = 'Nowhere/Atlantis' WHERE id = 8`);
  await createAdminUser(env.db.pool, OPERATOR, 'operator');
  app = buildTestAdmin(env, {}, { logger: adminLog.logger });
  await app.ready();
  // Sign-ins that fail (a wrong password for a real account, a customer's address typed as an
  // email) and a refused password change: their lines must name no one.
  await new Session(app).signIn(OPERATOR, 'not the password at all');
  await new Session(app).signIn(`zoe.quill.1.${tag}@private.example`, 'not the password at all');

  env.sink.rejectNext(1);
  // Every door: our client (all customers, batches and continue-as-new), the Temporal CLI, the admin page.
  const all = await startRegenerateReports(env.client, { ...period, batchSize: 5, batchesPerRun: 2 }, { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'billing-service' });
  await all.handle.result();
  const cliRun = `personal-data-cli-${runTag}`;
  const cli = await temporalCli(['workflow', 'start', '--task-queue', env.taskQueue, '--type', 'regenerateReports', '--workflow-id', cliRun,
    '--input', JSON.stringify({ customerIds: [1, 2, 3, 4, 5], ...period, resend: true })]);
  expect(cli.code, cli.stderr).toBe(0);
  await env.client.workflow.getHandle(cliRun).result();
  const operator = await signedIn(app, OPERATOR);
  const started = await operator.post('/customers/6/runs/regenerate-reports', { ...period, sendEmail: 'on', resend: 'on' });
  expect(started.statusCode).toBe(303);
  adminRun = new URL(started.headers.location as string, 'http://admin').searchParams.get('run')!;
  await operator.get('/account/password');
  await operator.post('/account/password', { current: 'a wrong current password', password: 'a new password here', confirm: 'a new password here' });
  await operator.post('/sign-out', {});
  await env.client.workflow.getHandle(adminRun).result();

  for (const { workflowId, runId } of await executionsOnQueue(env.client, env.taskQueue)) histories.set(`${workflowId} ${runId}`, await historyJson(workflowId, runId));
}, 180_000);
afterAll(async () => {
  await app?.close();
  await env?.close();
});

/** A deep copy without the memo: the one place the operator's identity belongs. */
function withoutMemo(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMemo);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'memo').map(([key, inner]) => [key, withoutMemo(inner)]));
}

describe('personal data stays out of workflow histories', () => {
  it('the runs really handled names and addresses: the emails went out to them', () => {
    const sentTo = readMailbox(env.sink.dir).map((message) => message.to);
    expect(sentTo.length).toBeGreaterThan(5);
    expect(sentTo.every((to) => to.includes(`${tag}@private.example`) && to.includes('Quill'))).toBe(true);
    // 38 active customers in batches of 5, two batches per execution: four executions of the
    // all-customer run; then the CLI run and the admin run.
    expect(histories.size).toBe(6);
  });

  it('no customer name or email address appears in any history: inputs, memos, summaries, results, failures', () => {
    for (const [run, history] of histories) {
      const text = textOf(history);
      expect(text, run).toContain('customersProcessed'); // the scan sees results (decoded)
      expect(text.includes(tag), `${run} mentions a customer's name or address`).toBe(false);
      expect(text).not.toMatch(/@private\.example|Zoë|Quill/);
    }
    const all = [...histories.values()].map(textOf).join('\n');
    expect(all).toContain('Nowhere/Atlantis'); // a failing customer: reported by id and reason
    expect(all).toContain('SMTP rejected the message (550)');
  });

  it("the operator's email is in the admin run's memo (who started it, as the issue requires) and nowhere else", async () => {
    expect((await env.client.workflow.getHandle(adminRun).describe()).memo).toMatchObject({ startedBy: OPERATOR, startedFrom: 'admin' });
    const [adminHistory] = [...histories].filter(([run]) => run.startsWith(`${adminRun} `)).map(([, history]) => history);
    expect(textOf(adminHistory!)).toContain(OPERATOR);
    expect(textOf(withoutMemo(adminHistory) as unknown[])).not.toContain(OPERATOR);
    for (const [run, history] of histories) if (!run.startsWith(`${adminRun} `)) expect(textOf(history), run).not.toContain(OPERATOR);
  });
});

describe('personal data stays out of the admin log', () => {
  it('sign-ins (failed and successful), a start, a refused password change and a sign-out log user ids, never an email', () => {
    const log = adminLog.text();
    // The scan sees the lines that matter.
    for (const line of ['admin sign-in refused', 'admin signed in', 'run started from the admin page']) expect(log).toContain(line);
    expect(log).not.toContain(OPERATOR);
    expect(log).not.toContain(tag);
    expect(log).not.toMatch(/@private\.example|@staff\.example/);
  });
});
