import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { migrate } from '../../src/db/migrate.js';
import { ensureDatabase } from '../../src/dev/embedded-postgres.js';
import type { FaultStack } from './fault-stack.js';

/** A fresh, migrated database of the stack's PostgreSQL, named after the scenario (kept after the run, for a look). */
export async function createScenarioDatabase(stack: FaultStack, scenario: string, logger: Logger): Promise<{ name: string; url: string }> {
  const name = `faults_${scenario.replace(/\W/g, '_')}_${crypto.randomBytes(3).toString('hex')}`;
  await ensureDatabase(stack.postgresAdminUrl, name);
  const url = new URL(stack.postgresAdminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString(), logger);
  return { name, url: url.toString() };
}

/** The scenario's own task queue: its workers serve no one else's runs. */
export const scenarioTaskQueue = (scenario: string) => `faults-${scenario}-${crypto.randomBytes(3).toString('hex')}`;

/** A Markdown table, columns padded to their widest cell (the README quotes it as printed). */
export function markdownTable(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}

/** What a scenario's worker processes (and CLI runs) are started with: its database, SMTP sink, Temporal and task queue. */
export function scenarioWorkerEnv(stack: FaultStack, databaseUrl: string, smtpUrl: string, taskQueue: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    SMTP_URL: smtpUrl,
    TEMPORAL_ADDRESS: stack.temporal.address,
    TEMPORAL_NAMESPACE: stack.temporal.namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
  };
}
