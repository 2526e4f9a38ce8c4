import { execSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, inject, it } from 'vitest';
import { readMailbox } from '../support/mailbox.js';

/**
 * `npm start` as a new user runs it: embedded PostgreSQL (its own data dir and port here),
 * SMTP sink, worker, one regeneration of every demo customer; Ctrl-C stops it cleanly.
 * It reuses the test run's Temporal server, the way it reuses one already listening.
 */
it('npm start seeds, regenerates every demo customer, emails them, and stops on Ctrl-C', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-start-'));
  fs.chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as the `postgres` user, who must reach it
  const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(55000 + Math.floor(Math.random() * 1000)),
      SMTP_SINK_PORT: String(56000 + Math.floor(Math.random() * 1000)),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `reports-start-${process.pid}`,
      LOG_PRETTY: 'false',
      DATABASE_URL: '',
      SMTP_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const deadline = Date.now() + 90_000;
  while (!output.includes('first run completed') && Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(output).toContain('first run completed');
  const summary = JSON.parse(output.split('\n').find((line) => line.includes('first run completed'))!);
  expect(summary.customers).toBe(189); // 200 demo customers, every 17th inactive
  expect(summary.failures).toBe(0);
  expect(summary.emailsSent).toBeGreaterThan(0);
  expect(readMailbox(path.join(dataDir, 'mail'))).toHaveLength(summary.emailsSent);

  child.kill('SIGINT');
  expect([0, 130]).toContain(await exited); // 130: the conventional "stopped by Ctrl-C"
  // Everything it started is gone: no PostgreSQL is left running on its data directory.
  const leftovers = execSync('ps -eo args').toString().split('\n').filter((line) => line.includes(dataDir));
  expect(leftovers).toEqual([]);
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 120_000);
