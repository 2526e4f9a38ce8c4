import type { Client } from '@temporalio/client';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { buildAdminServer } from '../../src/admin/server.js';
import { lentClient, serviceFixes, type HealthTargets } from '../../src/health/health-targets.js';
import type { AdminSettings } from '../../src/admin/context.js';
import { JOBS } from '../../src/jobs/index.js';
import { AdminUsers, type AdminRole } from '../../src/services/admin-users.js';
import type { Pool } from '../../src/db/pool.js';
import { testLogger } from './database.js';
import type { TemporalTestEnv } from './temporal.js';

export const TEST_PASSWORD = 'correct horse battery staple';
export const TEST_UI_URL = 'http://localhost:8233';

export const TEST_ADMIN_SETTINGS: AdminSettings = {
  sessionSecret: 'test-secret-test-secret-test-secret-0123',
  sessionHours: 1,
  cookieSecure: 'auto',
  trustProxy: false,
  signInAttemptsPerMinute: 1000,
  signInAttemptsPerAccount: 1000,
};

/**
 * The real admin app on a test file's own database, Temporal client and task queue (not
 * listening). `config`: the deployment's settings (default: every setting at its default).
 */
export function buildTestAdmin(
  env: TemporalTestEnv, settings: Partial<AdminSettings> = {}, options: { logger?: Logger; temporal?: Client; config?: Config; health?: Partial<HealthTargets> } = {},
): FastifyInstance {
  return buildAdminServer({
    config: options.config ?? loadConfig({}),
    pool: env.db.pool,
    logger: options.logger ?? testLogger,
    settings: { ...TEST_ADMIN_SETTINGS, ...settings },
    temporal: { client: options.temporal ?? env.client, namespace: env.client.options.namespace, taskQueue: env.taskQueue, temporalUiUrl: TEST_UI_URL },
    health: { ...testHealthTargets(env, options.temporal ?? env.client), ...options.health },
  });
}

/** The status page's targets: the file's own database, SMTP sink, shop (if any) and task queue; no schedules unless given. */
export function testHealthTargets(env: TemporalTestEnv, client: Client = env.client): HealthTargets {
  return {
    databaseUrl: env.db.url,
    smtpUrl: env.sink.url,
    ordersApi: env.ordersApi,
    temporal: lentClient(client, inject('temporalAddress')),
    taskQueue: env.taskQueue,
    schedules: [],
    fixes: serviceFixes(loadConfig({}), { remote: false }),
    secrets: [],
  };
}

export async function createAdminUser(pool: Pool, email: string, role: AdminRole): Promise<void> {
  await new AdminUsers(pool).create({ email, role, password: TEST_PASSWORD });
}

/** A browser's cookie jar for `app.inject`, plus the latest CSRF token seen in a page. */
export class Session {
  readonly cookies = new Map<string, string>();
  csrf = '';

  constructor(private readonly app: FastifyInstance) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.remember(await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader } }));
  }

  /** Posts a form; the CSRF token is added unless `_csrf` is given (null: leave it out). */
  async post(url: string, fields: Record<string, string | null>): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    if (!('_csrf' in fields)) body.set('_csrf', this.csrf);
    for (const [name, value] of Object.entries(fields)) if (value !== null) body.set(name, value);
    return this.remember(
      await this.app.inject({
        method: 'POST',
        url,
        headers: { cookie: this.cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
        payload: body.toString(),
      }),
    );
  }

  async signIn(email: string, password = TEST_PASSWORD): Promise<LightMyRequestResponse> {
    await this.get('/sign-in');
    return this.post('/sign-in', { email, password });
  }

  private remember(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of response.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      const expired = cookie.maxAge === 0 || (cookie.expires && cookie.expires.getTime() < Date.now());
      if (expired || cookie.value === '') this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1];
    if (token) this.csrf = token;
    return response;
  }
}

export async function signedIn(app: FastifyInstance, email: string): Promise<Session> {
  const session = new Session(app);
  const response = await session.signIn(email);
  if (response.statusCode !== 303) throw new Error(`sign-in as ${email} failed: ${response.statusCode} ${response.body.slice(0, 200)}`);
  await session.get('/customers'); // picks up a CSRF token for the next form
  return session;
}

/** A test file's admin app, ready, with one user of this role created and signed in. */
export async function adminSignedInAs(env: TemporalTestEnv, email: string, role: AdminRole): Promise<{ app: FastifyInstance; session: Session }> {
  await createAdminUser(env.db.pool, email, role);
  const app = buildTestAdmin(env);
  await app.ready();
  return { app, session: await signedIn(app, email) };
}

/** Runs started on this test file's task queue, from Temporal visibility. */
export async function runsOnQueue(env: TemporalTestEnv): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of env.client.workflow.list({ query: `TaskQueue = '${env.taskQueue}'` })) ids.push(info.workflowId);
  return ids;
}

export async function auditRows(pool: Pool): Promise<Array<Record<string, unknown>>> {
  const { rows } = await pool.query('SELECT user_email, action, outcome, customer_id, parameters, workflow_id FROM admin_audit ORDER BY id');
  return rows;
}

/** The audit rows of starts (refused ones too) of one job kind, or of every registered job, oldest first. */
export async function startAuditRows(pool: Pool, kind?: string): Promise<Array<Record<string, unknown>>> {
  const kinds: string[] = kind ? [kind] : JOBS.map((job) => job.kind);
  return (await auditRows(pool)).filter((row) => kinds.includes(String(row.action)));
}

/** Audit rows of starts that reached Temporal: none may exist after a refused request. */
export async function startedAuditRows(pool: Pool): Promise<Array<Record<string, unknown>>> {
  return (await startAuditRows(pool)).filter((row) => !String(row.outcome).startsWith('refused: '));
}
