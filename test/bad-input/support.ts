import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import type { Pool } from '../../src/db/pool.js';
import type { TemporalTestEnv } from '../support/temporal.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Everything a bad input must leave alone, as counts and checksums: every table a run, a
 * sign-in or a user command could write, the migrations record, and the SMTP sink's mailbox.
 * Rows are compared by their full text (`t::text`), so a changed `generated_at` or
 * `workflow_id` counts as a change, not only a changed count.
 */
export const WATCHED_TABLES = ['customers', 'orders', 'daily_reports', 'report_emails', 'admin_users', 'admin_sessions', 'admin_audit', 'pgmigrations'] as const;

/**
 * The admin page records each refusal itself in admin_audit (a refused start, a failed
 * sign-in or password change): those rows are the only change a bad input may make there.
 */
export const AUDIT_ROWS_OTHER_THAN_REFUSALS = { admin_audit: "NOT (outcome LIKE 'refused:%' OR outcome LIKE 'failed:%' OR outcome = 'throttled')" };

export interface StateSnapshot {
  tables: Record<string, { rows: number; md5: string }>;
  mailbox: string[];
}

export async function snapshotState(pool: Pool, mailDir: string, only: Partial<Record<(typeof WATCHED_TABLES)[number], string>> = {}): Promise<StateSnapshot> {
  const tables: StateSnapshot['tables'] = {};
  for (const table of WATCHED_TABLES) {
    // `only`: an SQL condition limiting which of a table's rows must stay the same.
    const { rows } = await pool.query<{ rows: number; md5: string }>(
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5 FROM ${table} t WHERE ${only[table] ?? 'true'}`,
    );
    tables[table] = rows[0]!;
  }
  const mailbox = fs.existsSync(mailDir) ? fs.readdirSync(mailDir).sort() : [];
  return { tables, mailbox };
}

/** Workflow ids (with status) of every run on the test file's task queue. */
export async function runsOnQueue(env: TemporalTestEnv): Promise<Array<{ workflowId: string; status: string }>> {
  // Visibility trails the runs by a moment: a run that has closed may still be listed as
  // running, so read again until no run is listed as running (or give up after 10 s).
  const deadline = Date.now() + 10_000;
  for (;;) {
    const runs: Array<{ workflowId: string; status: string }> = [];
    for await (const info of env.client.workflow.list({ query: `TaskQueue = '${env.taskQueue}'` })) runs.push({ workflowId: info.workflowId, status: info.status.name });
    if (!runs.some((run) => run.status === 'RUNNING') || Date.now() > deadline) return runs.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The environment a user's shell would have, pointed at this test file's database, queue and SMTP sink. */
export function childEnv(env: TemporalTestEnv, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: env.db.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: env.taskQueue,
    SMTP_URL: env.sink.url,
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    ...extra,
  };
}

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of our entry points the way `npm run <script> -- …` does (tsx, repository root as
 * working directory) and collects its output. The child inherits nothing from a `.env`-style
 * setting of this process except what `env` says, plus PATH and HOME.
 */
export function runScript(script: string, args: string[], env: Record<string, string>, options: { stdin?: string; timeoutMs?: number } = {}): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', `${script}.ts`), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: process.env.DATA_DIR ?? '.data', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
