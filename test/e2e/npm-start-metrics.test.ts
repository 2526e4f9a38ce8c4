import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { RegenerateReportsSummary } from '../../src/contracts.js';
import { declaredSchedules } from '../../src/schedules.js';
import { loadConfig } from '../../src/config.js';
import { JOBS } from '../../src/jobs/index.js';
import { freePort } from '../support/free-port.js';
import { readMailbox } from '../support/mailbox.js';
import { startPrometheus, type PrometheusServer, type Sample } from '../support/prometheus.js';
import { spawnNpmStart } from './npm-start-process.js';

/**
 * `npm start` serves Prometheus metrics, and a real Prometheus server (Debian's, started here)
 * scraping it every second sees, after the first runs, the values of exactly those runs: the
 * import of the shop's orders, the nightly run and every report run they started. The truth is
 * what npm start printed, the mailbox, and the runs' own summaries from Temporal.
 */
let prometheus: PrometheusServer;
let metricsPort: number;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  metricsPort = await freePort();
  prometheus = await startPrometheus([`127.0.0.1:${metricsPort}`]);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
});

afterAll(async () => {
  await prometheus?.stop();
  await connection?.close();
});

/** The value of the one sample whose labels include `labels`; 0 when there is none (a counter never incremented has no series). */
function valueOf(samples: Sample[], labels: Record<string, string> = {}): number {
  const matching = samples.filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matching.length > 1) throw new Error(`more than one series matches ${JSON.stringify(labels)}: ${JSON.stringify(matching)}`);
  return matching[0]?.value ?? 0;
}

async function waitForOutput(start: Awaited<ReturnType<typeof spawnNpmStart>>, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!start.output().includes(text) && Date.now() < deadline && start.child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!start.output().includes(text)) throw new Error(`npm start never printed '${text}':\n${start.output()}`);
}

function loggedLine(output: string, message: string): Record<string, unknown> {
  return JSON.parse(output.split('\n').find((line) => line.includes(message))!);
}

it('after npm start, Prometheus scrapes the runtime series and every job series with the values of the runs that just happened', async () => {
  const taskQueue = `reports-metrics-${process.pid}`;
  const start = await spawnNpmStart({ TEMPORAL_TASK_QUEUE: taskQueue, METRICS_PORT: String(metricsPort) });
  try {
    // The schedules it applies would add runs of their own at the next quarter hour: paused,
    // every run on this queue is one npm start started.
    await waitForOutput(start, 'schedules applied', 90_000);
    for (const schedule of declaredSchedules(loadConfig({}))) {
      await client.schedule.getHandle(schedule.id).pause('npm-start-metrics test: only the runs npm start starts');
    }
    await waitForOutput(start, 'first run completed', 150_000);
    const output = start.output();
    const imported = loggedLine(output, 'orders imported') as { inserted: number; updated: number; quarantined: number; daysRegenerated: number };
    const first = loggedLine(output, 'first run completed') as { days: string[]; customers: number; emailsSent: number; failures: number };

    // Every report run on this queue, from Temporal: the import's days and the nightly run's.
    const reportRuns: RegenerateReportsSummary[] = [];
    for await (const run of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND WorkflowType = 'regenerateReports'` })) {
      reportRuns.push(await client.workflow.getHandle(run.workflowId, run.runId).result());
    }
    expect(reportRuns.length).toBe(imported.daysRegenerated + first.days.length);
    const total = (count: (summary: RegenerateReportsSummary) => number) => reportRuns.reduce((sum, summary) => sum + count(summary), 0);

    // The nightly run ends last: once a scrape shows it finished, it shows everything before it.
    await prometheus.waitFor('durable_jobs_runs_finished_total{job_kind="daily-reports"}', (samples) => valueOf(samples) === 1, 30_000);
    const query = (expression: string) => prometheus.query(expression);

    const started = await query('durable_jobs_runs_started_total');
    expect(started.map((sample) => sample.labels.started_from)).toEqual(started.map(() => 'start')); // no schedule, no other door
    expect(valueOf(started, { job_kind: 'import-orders' })).toBe(1);
    expect(valueOf(started, { job_kind: 'daily-reports' })).toBe(1);
    expect(valueOf(started, { job_kind: 'regenerate-reports' })).toBe(reportRuns.length);

    const finished = await query('durable_jobs_runs_finished_total');
    expect(finished.map(({ labels, value }) => `${labels.job_kind} ${labels.outcome} ${value}`).sort()).toEqual(
      ['daily-reports ok 1', 'import-orders ok 1', `regenerate-reports ok ${reportRuns.length}`],
    );
    const durations = await query('durable_jobs_run_duration_seconds_count');
    expect(valueOf(durations, { job_kind: 'import-orders', outcome: 'ok' })).toBe(1);
    expect(valueOf(durations, { job_kind: 'regenerate-reports', outcome: 'ok' })).toBe(reportRuns.length);
    const importSeconds = valueOf(await query('durable_jobs_run_duration_seconds_sum'), { job_kind: 'import-orders' });
    expect(importSeconds).toBeGreaterThan(0);

    // The import: a fresh database takes every order the shop has, as new rows.
    const written = imported.inserted + imported.updated;
    expect(imported.inserted).toBeGreaterThan(10_000);
    expect(valueOf(await query('durable_jobs_import_rows_fetched_total'))).toBe(written + imported.quarantined);
    const upserted = await query('durable_jobs_import_rows_upserted_total');
    expect(valueOf(upserted, { change: 'inserted' })).toBe(imported.inserted);
    expect(valueOf(upserted, { change: 'updated' })).toBe(imported.updated);
    expect(valueOf(await query('durable_jobs_import_rows_quarantined_total'))).toBe(imported.quarantined);

    const items = await query('durable_jobs_items_processed_total');
    expect(valueOf(items, { job_kind: 'import-orders' })).toBe(written + imported.quarantined);
    expect(valueOf(items, { job_kind: 'daily-reports' })).toBe(first.days.length);
    expect(valueOf(items, { job_kind: 'regenerate-reports' })).toBe(total((summary) => summary.customersProcessed));
    expect(total((summary) => summary.customersProcessed)).toBeGreaterThanOrEqual(first.customers);
    expect(valueOf(await query('sum(durable_jobs_items_failed_total) or vector(0)'))).toBe(total((summary) => summary.failures.length) + imported.quarantined);

    const rows = await query('durable_jobs_rows_written_total');
    expect(valueOf(rows, { job_kind: 'import-orders', table: 'orders' })).toBe(written);
    expect(valueOf(rows, { job_kind: 'regenerate-reports', table: 'daily_reports' })).toBe(total((summary) => summary.rowsWritten));

    // Emails: the nightly run's reports, as the SMTP sink stored them; the import sends none
    // on a fresh start (no report of its days was emailed before).
    const sent = await query('durable_jobs_emails_sent_total');
    expect(first.emailsSent).toBeGreaterThan(0);
    expect(sent.map(({ labels, value }) => `${labels.job_kind} ${labels.email} ${value}`)).toEqual([`regenerate-reports report ${first.emailsSent}`]);
    expect(readMailbox(path.join(start.dataDir, 'mail'))).toHaveLength(first.emailsSent);
    expect(await query('durable_jobs_emails_failed_total')).toEqual([]);
    expect(await query('durable_jobs_emails_redelivered_total')).toEqual([]);

    // The Temporal runtime's own series, from the same endpoint.
    expect(valueOf(await query(`sum(temporal_workflow_completed_total{task_queue="${taskQueue}"})`))).toBe(reportRuns.length + 2);
    expect(valueOf(await query(`sum(temporal_activity_execution_latency_seconds_count{task_queue="${taskQueue}"})`))).toBeGreaterThan(0);
    expect((await query(`temporal_worker_task_slots_available{task_queue="${taskQueue}"}`)).length).toBeGreaterThan(0);

    // No label carries a customer, a workflow id or an address: each of ours takes values from a short, fixed list.
    const allowed: Record<string, string[]> = {
      job_kind: JOBS.map((job) => job.kind), started_from: ['start'], outcome: ['ok'], table: ['orders', 'daily_reports'],
      email: ['report'], change: ['inserted', 'updated'], le: [],
    };
    for (const { labels } of await query('{__name__=~"durable_jobs_.+"}')) {
      const { __name__: name, instance, job, le, ...ours } = labels;
      expect([name, instance, job, le === undefined]).toEqual([name, `127.0.0.1:${metricsPort}`, 'durable-jobs', !name!.endsWith('_bucket')]);
      for (const [key, value] of Object.entries(ours)) expect(allowed[key], `${name}{${key}="${value}"}`).toContain(value);
    }
  } finally {
    start.child.kill('SIGINT');
    await start.exited;
    fs.rmSync(start.dataDir, { recursive: true, force: true });
  }
}, 240_000);

it('a second worker on the same METRICS_PORT stops at once with an error naming the setting', async () => {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as net.AddressInfo;
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
      env: { ...process.env, METRICS_PORT: String(port), LOG_PRETTY: 'false', TEMPORAL_ADDRESS: inject('temporalAddress') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toContain(`METRICS_PORT: 127.0.0.1:${port} is already in use`);
    expect(code).toBe(1);
  } finally {
    holder.close();
  }
});
