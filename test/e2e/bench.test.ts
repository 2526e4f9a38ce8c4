import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { reportRows, testLogger, truthRows } from '../support/database.js';

/**
 * `npm run bench` at a tiny size, so it keeps working: every variant runs, is verified by the
 * bench itself (row count and content checksum), and the results file has its exact shape.
 * Nothing here is about time: CI machines are too noisy for that.
 */
const database = `dj_bench_test_${crypto.randomBytes(4).toString('hex')}`;
const adminUrl = inject('postgresAdminUrl');
const benchUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();

afterAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
});

it('npm run bench runs every variant on a tiny data set and writes bench-results.json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-bench-'));
  const out = path.join(dir, 'bench-results.json');
  const child = spawn(
    'node_modules/.bin/tsx',
    ['scripts/bench.ts', '--customers', '60', '--orders', '3000', '--days', '3', '--repeat', '1', '--single-runs', '5',
      '--database', database, '--data-dir', dir, '--out', out],
    {
      // The test run's PostgreSQL server and Temporal dev server, with the bench's own database.
      env: { ...process.env, DATABASE_URL: adminUrl, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, output).toBe(0);

  const results = JSON.parse(fs.readFileSync(out, 'utf8'));
  const number = expect.any(Number);
  expect(results).toStrictEqual({
    customers: 60,
    orders: 3000,
    regenerate: {
      sql_one_statement_ms: number,
      sql_batched_parallel_ms: number,
      naive_loop_ms: number,
      graphile_worker_ms: number,
      durable_jobs_ms: number,
    },
    single_customer_ms: { p50: number, p95: number },
    email: { raw_smtp_per_s: number, durable_jobs_per_s: number, duplicates: 0 },
    worker_peak_rss_mb: number,
  });
  expect(results.worker_peak_rss_mb).toBeGreaterThan(0);

  // The bench checks each variant's rows before its time counts: 57 active customers x 3 days,
  // the same content as the one-statement reference.
  for (const variant of ['sql_one_statement', 'sql_batched_parallel', 'naive_loop', 'graphile_worker', 'durable_jobs']) {
    expect(output).toMatch(new RegExp(`verified ${variant} +\\S+ \\S+ +171 rows = 57 x 3, content = reference`));
  }
  // And the rows the last variant left are the reports, by the independent truth query.
  const pool = createPool(benchUrl, testLogger, 2);
  try {
    const { rows } = await pool.query<{ id: number }>('SELECT id FROM customers WHERE active ORDER BY id');
    const ids = rows.map((row) => row.id);
    expect(ids).toHaveLength(57);
    const truth = await truthRows(pool, ids, '2026-11-28', '2026-11-30');
    expect(truth).toHaveLength(171);
    expect(await reportRows(pool, ids, '2026-11-28', '2026-11-30')).toEqual(truth);
  } finally {
    await pool.end();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}, 240_000);
