// Secrets (database password, SMTP password, Temporal API key, admin session secret) never
// reach a log line, an error message or a workflow history, on good paths and failing ones.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { resolveTemporalCli } from '../../src/dev/temporal-cli.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { runScript, type ScriptResult } from '../bad-input/support.js';
import { executionsOnQueue, historyText, leakedSecrets, startLoginSmtpServer, startScript } from './support.js';

const tag = crypto.randomBytes(4).toString('hex');
const role = `dj_sec_${tag}`;
const SECRETS = {
  databasePassword: `S3cr3t-db-${tag}`,
  smtpPassword: `S3cr3t-smtp-${tag}`,
  temporalApiKey: `S3cr3t-apikey-${tag}`,
  adminSessionSecret: `S3cr3t-session-${tag}-0123456789abcdef`,
};
const WRONG_DATABASE_PASSWORD = `S3cr3t-wrong-db-${tag}`;
const SHORT_SESSION_SECRET = `S3cr3t-short-${tag}`;

let env: TemporalTestEnv;
let smtp: Awaited<ReturnType<typeof startLoginSmtpServer>>;
let mailDir: string;
let queue: string;
let secretEnv: Record<string, string>;
/** Everything captured from the processes and runs below, by where it came from. */
const captured: Record<string, string> = {};

const databaseUrl = (password: string) => {
  const url = new URL(env.db.url);
  url.username = role;
  url.password = password;
  return url.toString();
};

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  queue = `${env.taskQueue}-secrets`;
  mailDir = path.join(env.sink.dir, 'login-smtp');
  smtp = await startLoginSmtpServer(mailDir);
  // A real PostgreSQL role with a real password: the processes below authenticate with it.
  const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${SECRETS.databasePassword}'`);
  } finally {
    await admin.end();
  }
  await env.db.pool.query(`
    GRANT USAGE, CREATE ON SCHEMA public TO ${role};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role};
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${role};`);
  secretEnv = {
    DATABASE_URL: databaseUrl(SECRETS.databasePassword),
    // A server that offers AUTH and takes any login: the password really goes over the wire.
    SMTP_URL: `smtp://reports:${SECRETS.smtpPassword}@127.0.0.1:${smtp.port}`,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: queue,
    // Sent as a bearer token on every call; the dev server ignores it. Without TEMPORAL_TLS=false,
    // envconfig turns TLS on for an API key (tested below: the failure must not show the key).
    TEMPORAL_API_KEY: SECRETS.temporalApiKey,
    TEMPORAL_TLS: 'false',
    ADMIN_SESSION_SECRET: SECRETS.adminSessionSecret,
    // The most talkative level: whatever is logged at all is scanned.
    LOG_LEVEL: 'debug',
    LOG_PRETTY: 'false',
    DATA_DIR: process.env.DATA_DIR ?? '.data',
  };
}, 180_000);

afterAll(async () => {
  await smtp?.stop();
  await env?.close(); // drops the database (and with it the role's grants and sessions)
  const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
});

const withoutTlsSetting = ({ TEMPORAL_TLS: _tls, ...rest }: Record<string, string>) => rest;

const keep = (name: string, result: ScriptResult) => {
  captured[name] = `${result.stdout}\n${result.stderr}`;
  return result;
};

/** The pinned `temporal` binary with an environment of our choosing (the helper passes the test's own). */
async function temporalWithEnv(args: string[], extra: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(resolveTemporalCli(), args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...extra } });
    return { code: 0, output: `${stdout}\n${stderr}` };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}\n${failed.stderr ?? ''}` };
  }
}

// The three run side by side: each is a handful of processes waiting on each other or on a timeout.
describe.concurrent('secrets stay out of logs, errors and histories', () => {
  it('a worker and the job CLI, through a run with email, a failing customer, a retried send and a refused run', async () => {
    const worker = startScript('worker', [], secretEnv);
    try {
      await worker.waitFor(/worker polling/);
      const good = keep('job: a run with email', await runScript('job', [
        'regenerate-reports', '--customer', '1', '--customer', '2', '--customer', '3', '--from', '2026-11-08', '--to', '2026-11-10', '--wait', '--json',
      ], secretEnv));
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout).toContain('"customersProcessed":3');
      expect(fs.readdirSync(mailDir).length, good.stdout).toBeGreaterThan(0);
      expect(smtp.logins[0]).toEqual({ username: 'reports', password: SECRETS.smtpPassword }); // the password was really used

      // A customer whose data fails, and an SMTP server that answers 451 once: an activity retry.
      // Six customers, more than a small run's: its steps are activities, whose failed attempts the history keeps.
      await env.db.pool.query(`UPDATE customers SET time_zone = 'Nowhere/Atlantis' WHERE id = 4`);
      smtp.deferNext(1);
      const failing = keep('job: a run with a failing customer', await runScript('job', [
        'regenerate-reports', '--customer', '4', '--customer', '5', '--customer', '6', '--customer', '7', '--customer', '8', '--customer', '9',
        '--from', '2026-11-08', '--to', '2026-11-10', '--wait', '--json',
      ], secretEnv));
      expect(failing.code, failing.stderr).toBe(3); // finished, some customers failed (EXIT_CODES.someCustomersFailed)
      expect(failing.stdout).toContain('Nowhere/Atlantis');

      // A run refused by the workflow, started through the Temporal CLI with the API key in its environment.
      const refusedId = `secrets-refused-${tag}`;
      const cli = await temporalWithEnv(
        ['workflow', 'start', '--task-queue', queue, '--type', 'regenerateReports', '--workflow-id', refusedId, '--input', '{"customerIds":[999999]}'],
        { TEMPORAL_ADDRESS: secretEnv.TEMPORAL_ADDRESS!, TEMPORAL_NAMESPACE: secretEnv.TEMPORAL_NAMESPACE!, TEMPORAL_API_KEY: SECRETS.temporalApiKey, TEMPORAL_TLS: 'false' },
      );
      captured['temporal CLI: start'] = cli.output;
      expect(cli.code, cli.output).toBe(0);
      await expect(env.client.workflow.getHandle(refusedId).result()).rejects.toThrow();
    } finally {
      expect(await worker.stop()).toBe(0);
      captured.worker = worker.output();
    }
    expect(captured.worker).toContain('worker polling');
    expect(captured.worker).toContain('regenerated batch'); // the activities' log lines were captured

    const executions = await executionsOnQueue(env.client, queue);
    expect(executions.map((e) => e.status).sort()).toEqual(['COMPLETED', 'COMPLETED', 'FAILED']);
    for (const { workflowId, runId } of executions) captured[`history ${workflowId}`] = await historyText(workflowId, runId);
    // The scan reads what matters: the failure reasons in results, and an activity's last failure (the 451).
    const histories = Object.keys(captured).filter((name) => name.startsWith('history')).map((name) => captured[name]).join('\n');
    expect(histories).toContain('Nowhere/Atlantis');
    expect(histories).toContain('try again later');
    for (const file of fs.readdirSync(mailDir)) captured[`mail ${file}`] = fs.readFileSync(path.join(mailDir, file), 'utf8');

    for (const [where, text] of Object.entries(captured)) expect(leakedSecrets(text, SECRETS), where).toEqual([]);
  });

  it('failures that involve a secret name the setting, never its value', async () => {
    const [wrongPassword, tlsToPlainServer, badSettings] = await Promise.all([
      // PostgreSQL refuses the password.
      runScript('job', ['regenerate-reports', '--customer', '1', '--from', '2026-11-09'], { ...secretEnv, DATABASE_URL: databaseUrl(WRONG_DATABASE_PASSWORD) }),
      // The API key switches TLS on (envconfig's rule); the dev server speaks plain gRPC: no connection.
      runScript('job', ['regenerate-reports', '--from', '2026-11-09', '--dry-run'], withoutTlsSetting(secretEnv)),
      // Invalid settings, each carrying a secret: the list names them, and shows no value.
      runScript('job', ['customers'], {
        ...secretEnv, DATABASE_URL: `postgres://${role}:${SECRETS.databasePassword}@127.0.0.1:not-a-port/db`, ADMIN_SESSION_SECRET: SHORT_SESSION_SECRET,
      }),
    ]);
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toContain(`password authentication failed for user "${role}"`);
    expect(tlsToPlainServer.code).toBe(1);
    expect(tlsToPlainServer.stderr).toContain(`cannot reach Temporal at ${secretEnv.TEMPORAL_ADDRESS}`);
    expect(badSettings.code).toBe(2);
    expect(badSettings.stderr).toContain('DATABASE_URL');
    expect(badSettings.stderr).toContain('ADMIN_SESSION_SECRET: must be at least 32 characters');
    const all = { ...SECRETS, wrongDatabasePassword: WRONG_DATABASE_PASSWORD, shortSessionSecret: SHORT_SESSION_SECRET };
    for (const [where, result] of Object.entries({ wrongPassword, tlsToPlainServer, badSettings })) {
      expect(leakedSecrets(`${result.stdout}\n${result.stderr}`, all), where).toEqual([]);
    }
  });

  it('the admin server, through sign-in attempts, refusals and a stop', async () => {
    const server = startScript('admin', ['serve'], { ...secretEnv, ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0' });
    const seen: string[] = [];
    try {
      const base = (await server.waitFor(/Admin page\s+(http:\/\/\S+)/))[1]!;
      const signInPage = await fetch(`${base}/sign-in`);
      const cookie = signInPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const token = /name="_csrf" value="([^"]+)"/.exec(await signInPage.text())?.[1] ?? '';
      const form = (fields: Record<string, string>) => ({
        method: 'POST', redirect: 'manual' as const, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
      });
      const responses = [
        await fetch(`${base}/sign-in`, form({ _csrf: token, email: 'nobody@example.com', password: 'wrong password, long enough' })),
        await fetch(`${base}/sign-in`, form({ email: 'nobody@example.com', password: 'no csrf token at all' })),
        await fetch(`${base}/customers`, { redirect: 'manual' }),
        await fetch(`${base}/api/runs/x`),
        await fetch(`${base}/customers/1/regenerate`, { method: 'POST', redirect: 'manual' }),
      ];
      expect(responses.map((r) => r.status)).toEqual([401, 403, 303, 401, 303]);
      for (const response of [signInPage, ...responses]) seen.push(JSON.stringify([...response.headers]), await response.text().catch(() => ''));
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).toContain('admin page listening');
    expect(leakedSecrets(server.output(), SECRETS), 'admin server output').toEqual([]);
    expect(leakedSecrets(seen.join('\n'), SECRETS), 'admin responses').toEqual([]);
  });
});
