// OpenTelemetry end to end: a real run started with `npm run job` and executed by our worker
// process, both with the OTEL_* settings a user would give, export to an OTLP receiver this
// test runs; one trace must link the start, the workflow, every activity, its SQL and its
// SMTP sends, and the worker's log lines must name the run and the trace.
import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startSmtpSink, type SmtpSink } from '../../src/dev/smtp-sink.js';
import { ensureWorkflowBundle } from '../../src/workflow-bundle.js';
import { createTestDatabase, seedDemo, testLogger, type TestDatabase } from '../support/database.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { REPO_ROOT, runScript, type ScriptResult } from '../bad-input/support.js';

let db: TestDatabase;
let sink: SmtpSink;
let receiver: OtlpReceiver;
let worker: { child: ChildProcess; stdout: () => string; stop: () => Promise<void> };
let connection: Connection;
let client: Client;
const taskQueue = `tracing-test-${crypto.randomBytes(4).toString('hex')}`;

/** The shell of a user who turned tracing on, pointed at this file's database, queue, SMTP sink and receiver. */
function tracedEnv(): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SMTP_URL: sink.url,
    // No import runs here: a source nobody listens on keeps the worker from starting a shop.
    ORDERS_API_URL: 'http://127.0.0.1:9',
    ORDERS_API_KEY: 'no-shop-in-this-test',
    METRICS_PORT: '0',
    LOG_PRETTY: 'false',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Batches go out every 200 ms instead of 5 s, so the worker's spans arrive while the test polls.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
}

/** `npm run worker` as a process of its own, its JSON log lines kept. */
async function startTracedWorker(): Promise<typeof worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATA_DIR: process.env.DATA_DIR ?? '.data', ...tracedEnv(), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!stdout.includes('worker polling')) {
    if (child.exitCode !== null) throw new Error(`the worker exited at start:\n${stdout}\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`the worker did not start polling within 60 s:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    stdout: () => stdout,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemo(db.pool);
  sink = await startSmtpSink(fs.mkdtempSync(path.join(os.tmpdir(), 'dj-mail-')), 0, testLogger);
  receiver = await startOtlpReceiver();
  worker = await startTracedWorker();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace') });
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await receiver?.stop();
  await sink?.stop();
  await db?.drop();
});

const shown = (result: ScriptResult) => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;

/** Every activity the run executed, regular and local, from its history. */
async function activityTypes(workflowId: string): Promise<string[]> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  const types = new Set<string>();
  for (const event of events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) types.add(scheduled);
    // A local activity leaves a marker whose data names its type.
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (data) types.add((JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type);
  }
  return [...types].sort();
}

/** Polls the receiver until `done` holds for the spans received so far (deadline 30 s). */
async function receivedUntil(done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 30_000;
  while (!done(receiver.spans)) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return receiver.spans;
}

describe('tracing: one run, one trace', () => {
  it('links the CLI start, the workflow, every activity, its SQL and its SMTP sends; logs name the run and the trace', async () => {
    const result = await runScript(
      'job',
      ['regenerate-reports', '--customer', '1', '--customer', '2', '--from', '2026-11-09', '--resend', '--wait'],
      { ...tracedEnv(), LOG_LEVEL: 'warn' },
      { timeoutMs: 60_000 },
    );
    expect(result.code, shown(result)).toBe(0);
    const workflowId = /^started (\S+)$/m.exec(result.stdout)?.[1] ?? '';
    const emailsSent = Number(/(\d+) emails sent/.exec(result.stdout)?.[1] ?? 0);
    expect(emailsSent, 'the run sent emails').toBeGreaterThan(0);
    const activities = await activityTypes(workflowId);
    expect(activities).toEqual(expect.arrayContaining(['regenerateReportBatches', 'sendReportEmails']));

    // The CLI's start span is the trace's root.
    const start = (await receivedUntil((spans) => spans.some((s) => s.name === 'StartWorkflow:regenerateReports' && s.attributes.temporalWorkflowId === workflowId)))
      .find((s) => s.name === 'StartWorkflow:regenerateReports' && s.attributes.temporalWorkflowId === workflowId);
    expect(start, 'the CLI exported its start span').toBeDefined();
    expect(start!.service).toBe('durable-jobs-job');
    expect(start!.parentSpanId).toBe('');
    const traceId = start!.traceId;
    const inTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    const childrenOf = (parent: ReceivedSpan, name: string) => inTrace().filter((s) => s.parentSpanId === parent.spanId && s.name === name);
    const descendantsOf = (parent: ReceivedSpan): ReceivedSpan[] => {
      const children = inTrace().filter((s) => s.parentSpanId === parent.spanId);
      return [...children, ...children.flatMap(descendantsOf)];
    };

    // Wait for the worker's spans: every email sent, every activity, and the workflow's own
    // spans (the run's and each StartActivity), which leave the sandbox through a sink and
    // may arrive after the activities' on a loaded machine.
    const named = (name: string) => inTrace().some((s) => s.name === name);
    await receivedUntil(() => inTrace().filter((s) => s.name === 'smtp send').length >= emailsSent
      && named('RunWorkflow:regenerateReports')
      && activities.every((type) => named(`RunActivity:${type}`) && named(`StartActivity:${type}`)));

    const [run] = childrenOf(start!, 'RunWorkflow:regenerateReports');
    expect(run, `the workflow span is a child of the start span; trace: ${inTrace().map((s) => s.name).join(', ')}`).toBeDefined();
    expect(run!.service).toBe('durable-jobs-worker');
    expect(run!.attributes).toMatchObject({ workflowId, workflowType: 'regenerateReports' });

    for (const type of activities) {
      const [scheduled] = childrenOf(run!, `StartActivity:${type}`);
      expect(scheduled, `StartActivity:${type} under the workflow span`).toBeDefined();
      const executed = childrenOf(scheduled!, `RunActivity:${type}`);
      expect(executed.length, `RunActivity:${type} under its StartActivity span`).toBeGreaterThanOrEqual(1);
      const sql = executed.flatMap(descendantsOf).filter((s) => s.name.startsWith('pg.query'));
      expect(sql.length, `${type} ran its SQL statements inside its span`).toBeGreaterThan(0);
      for (const query of sql) {
        expect(query.attributes['db.system']).toBe('postgresql');
        expect(typeof query.attributes['db.statement']).toBe('string');
        expect(query.attributes, 'no parameter values (customer data) in a span').not.toHaveProperty('db.postgresql.values');
      }
    }

    const [emailActivity] = inTrace().filter((s) => s.name === 'RunActivity:sendReportEmails');
    const sends = descendantsOf(emailActivity!).filter((s) => s.name === 'smtp send');
    expect(sends).toHaveLength(emailsSent);
    const smtpPort = Number(new URL(sink.url).port);
    for (const send of sends) expect(send.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': smtpPort, 'email.recipient.count': 1 });

    // No address, no memo (an admin start names its admin there) in any span of the trace.
    const { rows } = await db.pool.query<{ email: string }>('SELECT email FROM customers WHERE id IN (1, 2)');
    const everything = JSON.stringify(inTrace());
    for (const { email } of rows) expect(everything).not.toContain(email);
    expect(everything).not.toContain('reports@durable-jobs.local');
    expect(everything).not.toContain('startedBy');

    // The worker's activity log lines name the run, the activity and the span they were written in.
    const lines = worker.stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const sentLine = lines.find((line) => line.msg === 'sent report emails' && line.workflowId === workflowId);
    expect(sentLine, worker.stdout()).toBeDefined();
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(sentLine).toMatchObject({ workflowId, runId: description.runId, activityType: 'sendReportEmails', trace_id: traceId, span_id: emailActivity!.spanId });

    // A worker that does not trace loads the untraced bundle (the interceptors over a no-op tracer)
    // (src/workflow-bundle.ts): it must replay this run, made by one that traces.
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: await ensureWorkflowBundle('untraced') } }, history, workflowId)).resolves.toBeUndefined();
  });
});

describe('tracing: bad OTEL_* settings', () => {
  it('stop the command before it starts anything, naming the variable and the rule (exit 2)', async () => {
    const result = await runScript('job', ['regenerate-reports', '--customer', '1', '--from', '2026-11-08', '--wait'], { ...tracedEnv(), OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(result.code, shown(result)).toBe(2);
    expect(result.stderr).toContain("OTEL_EXPORTER_OTLP_PROTOCOL: got 'grpc': must be 'http/protobuf' or 'http/json'");
    const started: string[] = [];
    for await (const info of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND WorkflowId = 'regenerate-reports:customer-1:2026-11-08@${taskQueue}'` })) started.push(info.workflowId);
    expect(started).toEqual([]);
  });
});
