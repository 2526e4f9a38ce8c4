import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Pool } from '../src/db/pool.js';
import { startSmtpSink, type SmtpSink } from '../src/dev/smtp-sink.js';
import { composeReportEmail } from '../src/services/report-email-message.js';
import { ReportEmail } from '../src/services/report-email.js';
import { createMailTransport } from '../src/mail-transport.js';
import { loadConfig } from '../src/config.js';
import { emailConcurrency } from '../src/worker.js';
import { ReportRows, type ReportLine } from '../src/services/report-rows.js';
import type { BenchPeriod } from './bench-data.js';
import { startProgress } from './progress.js';
import { timed } from './stats.js';
import { groupBatches } from '../src/workflows/batch-groups.js';

/** Exactly the transport src/worker.ts builds (src/mail-transport.ts), with its connection count. */
export function workerTransport(smtpUrl: string): Transporter {
  return createMailTransport(smtpUrl, loadConfig().SMTP_MAX_CONNECTIONS);
}

/**
 * The raw sender's transport: a real pool of `maxConnections`, unlimited messages each. With
 * `noDelay` it is exactly what the worker builds (src/mail-transport.ts: TCP_NODELAY on);
 * without, nodemailer's own sockets, which leave Nagle's algorithm on, so the message
 * terminator waits for the server's delayed ACK (~40 ms a message).
 */
export function pooledTransport(smtpUrl: string, options: { noDelay: boolean; maxConnections: number }): Transporter {
  if (options.noDelay) return createMailTransport(smtpUrl, options.maxConnections);
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    pool: true,
    maxConnections: options.maxConnections,
    maxMessages: Infinity,
  });
}

/** What src/worker.ts gives ReportEmail. */
export const WORKER_EMAIL_CONCURRENCY = emailConcurrency(loadConfig());

export interface SinkCount {
  messages: number;
  distinctMessageIds: number;
  duplicates: number;
}

/** Counts what the receiver got, by Message-ID (the sink names each file after it). */
export function countSink(dir: string): SinkCount {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => file.endsWith('.eml')) : [];
  const ids = new Set(files.map((file) => file.replace(/\.\d+-\d+\.eml$/, '')));
  return { messages: files.length, distinctMessageIds: ids.size, duplicates: files.length - ids.size };
}

/** A fresh SMTP sink (the in-process server of src/dev/smtp-sink.ts) writing into an empty directory. */
export async function freshSink(dir: string, logger: Logger): Promise<SmtpSink> {
  fs.rmSync(dir, { recursive: true, force: true });
  return startSmtpSink(dir, 0, logger);
}

/**
 * The same messages ReportEmail sends (same content, headers and Message-ID), composed up
 * front, so the raw send measures SMTP and nodemailer only.
 */
export async function composeAllMessages(pool: Pool, customerIds: number[], period: BenchPeriod, mailFrom: string): Promise<SendMailOptions[]> {
  const { rows: customers } = await pool.query<{ id: number; name: string; email: string }>(
    'SELECT id, name, email FROM customers WHERE id = ANY($1::bigint[]) ORDER BY id',
    [customerIds],
  );
  const rows = await new ReportRows(pool).linesForCustomers(customerIds, period.from, period.to);
  const byCustomer = new Map<number, ReportLine[]>();
  for (const row of rows) byCustomer.set(row.customerId, [...(byCustomer.get(row.customerId) ?? []), row]);
  const messages: SendMailOptions[] = [];
  for (const customer of customers) {
    const own = byCustomer.get(customer.id) ?? [];
    if (!own.some((row) => row.orderCount > 0)) continue; // ReportEmail sends nothing for a period without orders
    const key = `${customer.id}:${period.from}:${period.to}`;
    messages.push({
      from: mailFrom,
      to: { name: customer.name, address: customer.email },
      messageId: `<report.${key.replace(/[^A-Za-z0-9.-]+/g, '.')}@durable-jobs>`,
      headers: { 'X-Report-Customer': String(customer.id), 'X-Report-Period': `${period.from}..${period.to}` },
      ...composeReportEmail(customer.name, period.from, period.to, own),
    });
  }
  return messages;
}

/** Raw nodemailer: every message handed to the pooled transport at once. */
export async function rawSend(transport: Transporter, messages: SendMailOptions[], label: string): Promise<{ ms: number; sent: number }> {
  const bar = startProgress(label, messages.length);
  let sent = 0;
  try {
    const { ms } = await timed(() =>
      Promise.all(
        messages.map(async (message) => {
          await transport.sendMail(message);
          bar.update(++sent);
        }),
      ),
    );
    return { ms, sent };
  } finally {
    bar.stop();
    transport.close();
  }
}

/**
 * Our email step: the ReportEmail service with the worker's transport and concurrency, called
 * as the workflow's sendReportEmails activities call it: once per group of batches (the
 * workflow's own grouping, src/workflows/batch-groups.ts), `parallelism` groups at a time.
 * Starts from an empty send record, so every report is due.
 */
export async function serviceSend(
  pool: Pool,
  transport: Transporter,
  customerIds: number[],
  period: BenchPeriod,
  options: { batchSize: number; parallelism: number; batchesPerActivity: number; mailFrom: string; label: string },
): Promise<{ ms: number; sent: number; failures: number }> {
  await pool.query('TRUNCATE report_emails');
  const service = new ReportEmail(pool, transport, { from: options.mailFrom, concurrency: WORKER_EMAIL_CONCURRENCY });
  const slices: number[][] = [];
  for (let i = 0; i < customerIds.length; i += options.batchSize) slices.push(customerIds.slice(i, i + options.batchSize));
  const batches = groupBatches(slices, options.parallelism, options.batchesPerActivity).map((group) => group.batches.flat());
  const bar = startProgress(options.label, customerIds.length);
  let sent = 0;
  let failures = 0;
  let handled = 0;
  try {
    let next = 0;
    const { ms } = await timed(() =>
      Promise.all(
        Array.from({ length: Math.min(options.parallelism, batches.length) }, async () => {
          while (next < batches.length) {
            const ids = batches[next++]!;
            let reported = 0;
            const result = await service.sendReports(
              { customerIds: ids, ...period, resend: false, workflowId: 'bench:email', runId: 'bench:email', dryRun: false },
              {
                onProgress: (done) => {
                  handled += done - reported;
                  reported = done;
                  bar.update(handled);
                },
              },
            );
            sent += result.sent;
            failures += result.failures.length;
          }
        }),
      ),
    );
    return { ms, sent, failures };
  } finally {
    bar.stop();
    transport.close();
  }
}

export function mailDir(dataDir: string, phase: string): string {
  return path.join(dataDir, 'mail', phase);
}
