import { execSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePorts } from '../support/free-port.js';

export interface NpmStartProcess {
  child: ChildProcess;
  dataDir: string;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  exited: Promise<number | null>;
}

/**
 * `npm start` (scripts/start.ts under tsx) as a new user runs it, with a fresh data directory
 * and ports of its own (embedded PostgreSQL, SMTP sink, shop API: three distinct ports the OS
 * says are free right now; the admin page on any free port), so it never meets another test
 * run's servers. (A port could still be taken between this choice and npm start's bind, a few
 * seconds later; the OS hands out ports for outgoing connections elsewhere in its range.)
 * The ports used to be random numbers in 55000-57999, inside Linux's ephemeral range
 * (32768-60999): an outgoing connection of anything else on the machine could hold one, and
 * CI once failed on `listen EADDRINUSE` for the SMTP sink. It reuses the test run's Temporal server, the way
 * it reuses one already listening.
 */
export async function spawnNpmStart(env: Record<string, string>): Promise<NpmStartProcess> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-start-'));
  fs.chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as the `postgres` user, who must reach it
  const [postgresPort, smtpPort, shopPort] = await freePorts(3);
  const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(postgresPort),
      SMTP_SINK_PORT: String(smtpPort),
      SHOP_API_PORT: String(shopPort),
      ADMIN_PORT: '0',
      METRICS_PORT: '0', // no metrics endpoint unless a test asks for one (on a port of its own)
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      LOG_PRETTY: 'false',
      DATABASE_URL: '',
      SMTP_URL: '',
      ORDERS_API_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, dataDir, output: () => output, exited };
}

/** Processes still running with the data directory in their command line (an embedded PostgreSQL, say). */
export function processesUsing(dataDir: string): string[] {
  return execSync('ps -eo pid,args').toString().split('\n').filter((line) => line.includes(dataDir));
}
