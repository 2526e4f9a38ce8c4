import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readMailbox } from '../support/mailbox.js';
import { processesUsing, spawnNpmStart } from './npm-start-process.js';

/**
 * `npm start` as a new user runs it: embedded PostgreSQL (its own data dir and port here),
 * SMTP sink, worker, one regeneration of every demo customer; Ctrl-C stops it cleanly.
 */
it("npm start creates the demo customers, imports their orders from the shop API, regenerates every customer's last day, emails them, and stops on Ctrl-C", async () => {
  const start = await spawnNpmStart({ TEMPORAL_TASK_QUEUE: `reports-start-${process.pid}` });
  const deadline = Date.now() + 90_000;
  while (!start.output().includes('first run completed') && Date.now() < deadline && start.child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const output = start.output();
  expect(output).toContain('first run completed');
  const imported = JSON.parse(output.split('\n').find((line) => line.includes('orders imported'))!);
  // The shop's demo data set: about 3 orders per customer and day over 30 days, all valid.
  expect(imported.inserted).toBeGreaterThan(10_000);
  expect(imported.quarantined).toBe(0);
  expect(imported.daysRegenerated).toBeGreaterThanOrEqual(30);
  const summary = JSON.parse(output.split('\n').find((line) => line.includes('first run completed'))!);
  expect(summary.customers).toBe(189); // 200 demo customers, every 17th inactive
  expect(summary.failures).toBe(0);
  expect(summary.emailsSent).toBeGreaterThan(0);
  expect(readMailbox(path.join(start.dataDir, 'mail'))).toHaveLength(summary.emailsSent);

  start.child.kill('SIGINT');
  expect([0, 130]).toContain(await start.exited); // 130: the conventional "stopped by Ctrl-C"
  // Everything it started is gone: no PostgreSQL is left running on its data directory.
  expect(processesUsing(start.dataDir)).toEqual([]);
  fs.rmSync(start.dataDir, { recursive: true, force: true });
}, 120_000);
