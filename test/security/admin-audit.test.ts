// The audit log (admin_audit) records who did what on the admin page, and what was tried:
// sign-ins and their failures, sign-outs, password changes, every start and every refused
// start. A start is recorded before Temporal is asked, with no transaction held open across
// the call: checked from a second connection while the call is held in flight by a relay in
// front of the real dev server.
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { resolveRegenerateInput } from '../../src/contracts.js';
import { regenerateReportsWorkflowId } from '../../src/jobs/regenerate-reports.js';
import { auditRows, buildTestAdmin, createAdminUser, Session, signedIn, TEST_PASSWORD } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { startHoldingProxy, type HoldingProxy } from './support.js';

let env: TemporalTestEnv;
let app: FastifyInstance;
const day = '2026-11-09';
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  await createAdminUser(env.db.pool, 'operator@example.com', 'operator');
  await createAdminUser(env.db.pool, 'viewer@example.com', 'viewer');
  app = buildTestAdmin(env);
  await app.ready();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await app?.close();
  await env?.close();
});

/** The audit rows added by `action`. */
async function auditedBy(action: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const before = (await auditRows(env.db.pool)).length;
  await action();
  return (await auditRows(env.db.pool)).slice(before);
}

/** An admin app whose Temporal client reaches the real dev server through a relay the test controls. */
async function adminBehindRelay(): Promise<{ app: FastifyInstance; relay: HoldingProxy }> {
  const relay = await startHoldingProxy(inject('temporalAddress'));
  // No gRPC retries: an unreachable server is reported at once rather than after the client's backoff.
  const connection = await Connection.connect({ address: relay.address, interceptors: [] });
  const relayed = buildTestAdmin(env, {}, { temporal: new Client({ connection, namespace: inject('temporalNamespace') }) });
  await relayed.ready();
  closers.push(async () => {
    await relayed.close();
    await connection.close();
    await relay.close();
  });
  return { app: relayed, relay };
}

describe('sign-in, sign-out and password changes are audited', () => {
  it('a failed sign-in records the email as typed, lower-cased, and never the password', async () => {
    const rows = await auditedBy(async () => new Session(app).signIn('  Operator@EXAMPLE.com ', 'Hunter2-not-the-password'));
    expect(rows).toEqual([{ user_email: 'operator@example.com', action: 'sign-in', outcome: 'failed: wrong email or password', customer_id: null, parameters: {}, workflow_id: null }]);
    const unknown = await auditedBy(async () => new Session(app).signIn('Nobody@Example.com', 'Hunter2-not-the-password'));
    expect(unknown).toMatchObject([{ user_email: 'nobody@example.com', action: 'sign-in', outcome: 'failed: wrong email or password' }]);
    const { rows: all } = await env.db.pool.query('SELECT * FROM admin_audit');
    expect(JSON.stringify(all)).not.toContain('Hunter2');
  });

  it('a successful sign-in, and a sign-out, are recorded with the user', async () => {
    let session!: Session;
    const signIn = await auditedBy(async () => {
      session = await signedIn(app, 'viewer@example.com');
    });
    expect(signIn).toEqual([{ user_email: 'viewer@example.com', action: 'sign-in', outcome: 'succeeded', customer_id: null, parameters: {}, workflow_id: null }]);
    const signOut = await auditedBy(() => session.post('/sign-out', {}));
    expect(signOut).toMatchObject([{ user_email: 'viewer@example.com', action: 'sign-out', outcome: 'succeeded' }]);
    const { rows } = await env.db.pool.query(`SELECT user_id FROM admin_audit WHERE action = 'sign-out'`);
    expect(rows[0].user_id).toEqual(expect.any(Number));
  });

  it('a refused and a successful password change are recorded, without either password', async () => {
    await createAdminUser(env.db.pool, 'changer@example.com', 'viewer');
    const session = await signedIn(app, 'changer@example.com');
    await session.get('/account/password');
    const refused = await auditedBy(() => session.post('/account/password', { current: 'Wrong-current-pw', password: 'Brand-new-password', confirm: 'Brand-new-password' }));
    expect(refused).toMatchObject([{ user_email: 'changer@example.com', action: 'password-change', outcome: 'failed: wrong current password' }]);
    const differ = await auditedBy(() => session.post('/account/password', { current: TEST_PASSWORD, password: 'Brand-new-password', confirm: 'Brand-new-passwort' }));
    expect(differ).toMatchObject([{ action: 'password-change', outcome: 'failed: the two new passwords differ' }]);
    const changed = await auditedBy(() => session.post('/account/password', { current: TEST_PASSWORD, password: 'Brand-new-password', confirm: 'Brand-new-password' }));
    expect(changed).toMatchObject([{ user_email: 'changer@example.com', action: 'password-change', outcome: 'succeeded' }]);
    const { rows } = await env.db.pool.query('SELECT * FROM admin_audit');
    expect(JSON.stringify(rows)).not.toMatch(/Wrong-current-pw|Brand-new-passw|correct horse/);
  });
});

describe('every start is audited, a refused one too', () => {
  it('a start refused by validation records what was asked and why', async () => {
    const operator = await signedIn(app, 'operator@example.com');
    const rows = await auditedBy(() => operator.post('/customers/1/runs/regenerate-reports', { from: '2026-13-45', to: day, sendEmail: 'on' }));
    expect(rows).toEqual([{
      user_email: 'operator@example.com', action: 'regenerate-reports', outcome: 'refused: from is not a calendar date', customer_id: 1,
      parameters: { from: '2026-13-45', to: day, sendEmail: true, resend: false, dryRun: false }, workflow_id: null,
    }]);
    const tampered = await auditedBy(() => operator.post('/customers/1%20OR%201=1/runs/regenerate-reports', { from: day, to: day, sendEmail: 'on' }));
    expect(tampered).toMatchObject([{ outcome: expect.stringContaining("refused: '1 OR 1=1' is not a customer id"), customer_id: null, parameters: { customer: '1 OR 1=1' } }]);
  });

  it("a viewer's start is refused and recorded", async () => {
    const viewer = await signedIn(app, 'viewer@example.com');
    const rows = await auditedBy(() => viewer.post('/customers/1/runs/regenerate-reports', { from: day, to: day, sendEmail: 'on' }));
    expect(rows).toMatchObject([{ user_email: 'viewer@example.com', action: 'regenerate-reports', outcome: 'refused: role viewer may not start runs', customer_id: 1 }]);
  });

  it('a start refused because the same run is running records the running workflow', async () => {
    const input = resolveRegenerateInput({ customerIds: [4], from: day, to: day }, new Date());
    const running = await env.client.workflow.start('regenerateReports', {
      taskQueue: env.taskQueue, workflowId: regenerateReportsWorkflowId(input, env.taskQueue), args: [{ customerIds: [4], from: day, to: day }], startDelay: '1 hour',
    });
    try {
      const operator = await signedIn(app, 'operator@example.com');
      const rows = await auditedBy(() => operator.post('/customers/4/runs/regenerate-reports', { from: day, to: day, sendEmail: 'on' }));
      expect(rows).toMatchObject([{ action: 'regenerate-reports', outcome: 'refused: already running', customer_id: 4, workflow_id: running.workflowId }]);
    } finally {
      await running.terminate('test cleanup');
    }
  });

  it('a start refused because Temporal is unreachable is recorded, and the page says so (503, not 500)', async () => {
    const { app: relayed, relay } = await adminBehindRelay();
    const operator = await signedIn(relayed, 'operator@example.com');
    await relay.close(); // Temporal is gone
    let response!: Awaited<ReturnType<Session['post']>>;
    const rows = await auditedBy(async () => {
      response = await operator.post('/customers/5/runs/regenerate-reports', { from: day, to: day, sendEmail: 'on' });
    });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('Temporal could not be reached, so nothing was started.');
    expect(rows).toMatchObject([{ action: 'regenerate-reports', customer_id: 5, workflow_id: null, parameters: { from: day, to: day } }]);
    expect(String(rows[0]!.outcome)).toMatch(/^refused: Temporal did not start it/);
  });

  it('no transaction is open while Temporal is being asked, and the start is already on record', async () => {
    const { app: relayed, relay } = await adminBehindRelay();
    const operator = await signedIn(relayed, 'operator@example.com');
    const last = (await env.db.pool.query<{ last: number }>('SELECT coalesce(max(id), 0)::int AS last FROM admin_audit')).rows[0]!.last;
    const startRows = async () => (await env.db.pool.query('SELECT * FROM admin_audit WHERE id > $1 ORDER BY id', [last])).rows;
    relay.hold();
    const posting = operator.post('/customers/6/runs/regenerate-reports', { from: day, to: day, sendEmail: 'on' });
    try {
      const deadline = Date.now() + 10_000;
      while (relay.heldBytes() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(relay.heldBytes(), 'the start call reached the relay').toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200)); // ample time for any statement after the call to start
      // From a second connection: no session of this database sits in a transaction...
      const { rows: sessions } = await env.db.pool.query(
        `SELECT state, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`,
      );
      expect(sessions).toEqual([]);
      // ...and the start is already committed as requested: were the process to die now, the row would say so.
      expect(await startRows()).toMatchObject([{ user_email: 'operator@example.com', customer_id: 6, outcome: 'start-requested', workflow_id: null }]);
    } finally {
      relay.release();
    }
    const response = await posting;
    expect(response.statusCode).toBe(303);
    const workflowId = new URL(response.headers.location as string, 'http://admin').searchParams.get('run');
    expect(await startRows()).toMatchObject([{ customer_id: 6, outcome: 'started', workflow_id: workflowId }]);
    await env.client.workflow.getHandle(workflowId!).result();
  });
});
