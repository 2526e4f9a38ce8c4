import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import { pgBossRunsOn } from '../../bench/pg-boss-variant.js';
import { createPool } from '../../src/db/pool.js';
import { IMPORT_DEFAULTS } from '../../src/import-orders-contract.js';
import { reportRows, testLogger, truthRows } from '../support/database.js';

/**
 * `npm run bench` at a tiny size, so it keeps working: every variant runs, is verified by the
 * bench itself (row count and content checksum), and the results file has its exact shape.
 * Nothing here is about time: CI machines are too noisy for that.
 */
const database = `dj_bench_test_${crypto.randomBytes(4).toString('hex')}`;
const importDatabase = `${database}_import`;
/** DBOS's system database, next to the bench's (bench/run-bench.ts names it so). */
const dbosDatabase = `${database}_dbos_sys`;
const adminUrl = inject('postgresAdminUrl');
const benchUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();

afterAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.query(`DROP DATABASE IF EXISTS ${importDatabase} WITH (FORCE)`);
  await admin.query(`DROP DATABASE IF EXISTS ${dbosDatabase} WITH (FORCE)`);
  await admin.end();
});

/** `npm run bench -- <args>` on the test run's PostgreSQL server and Temporal dev server, with the bench's own databases. */
async function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn('node_modules/.bin/tsx', ['scripts/bench.ts', ...args], {
    env: { ...process.env, DATABASE_URL: adminUrl, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

// pg-boss 12 runs on Node >= 22.12 only: on an older Node this run leaves it out, as the bench's own message says to.
const withPgBoss = pgBossRunsOn();

it('npm run bench runs every variant on a tiny data set and writes bench-results.json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-bench-'));
  const out = path.join(dir, 'bench-results.json');
  const { code, output } = await runBench(['--customers', '60', '--orders', '3000', '--days', '3', '--repeat', '1', '--single-runs', '5',
    '--database', database, '--data-dir', dir, '--out', out, ...(withPgBoss ? [] : ['--skip', 'pg_boss'])]);
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
      ...(withPgBoss ? { pg_boss_ms: number } : {}),
      dbos_ms: number,
      durable_jobs_ms: number,
    },
    single_customer_ms: { p50: number, p95: number },
    dbos_single_customer_ms: { p50: number, p95: number },
    temporal_floor_ms: { p50: number, p95: number },
    email: { raw_smtp_per_s: number, durable_jobs_per_s: number, duplicates: 0 },
    worker_peak_rss_mb: number,
  });
  expect(results.worker_peak_rss_mb).toBeGreaterThan(0);

  // The bench checks each variant's rows before its time counts: 57 active customers x 3 days,
  // the same content as the one-statement reference.
  const variants = ['sql_one_statement', 'sql_batched_parallel', 'naive_loop', 'graphile_worker', ...(withPgBoss ? ['pg_boss'] : []), 'dbos', 'durable_jobs'];
  for (const variant of variants) {
    expect(output).toMatch(new RegExp(`verified ${variant} +\\S+ \\S+ +171 rows = 57 x 3, content = reference`));
  }
  if (!withPgBoss) expect(output).not.toMatch(/verified pg_boss/);
  // CPU seconds by process for each variant. The embedded PostgreSQL runs on this machine, so it
  // is found and read (DATABASE_URL's server may not); the dev server is the test run's
  // (TEMPORAL_ADDRESS), not one the bench started, so it is left out.
  const cpuTable = output.slice(output.indexOf('CPU seconds by process while each variant ran'));
  const postgresColumn = process.env.DATABASE_URL ? '(?:postgres \\(cpu-s\\) +\\| )?' : 'postgres \\(cpu-s\\) +\\| ';
  expect(cpuTable).toMatch(new RegExp(`^\\| variant +\\| ${postgresColumn}worker \\(cpu-s\\) +\\| bench process \\(cpu-s\\) +\\| all \\(cpu-s\\) +\\| core-s \\(wall x \\d+\\) +\\|$`, 'm'));
  for (const variant of variants) expect(cpuTable).toMatch(new RegExp(`^\\| ${variant} +\\| \\d+\\.\\d\\d +\\|`, 'm'));
  // The DBOS runs are in DBOS's own system database: one all-customer workflow and five one-customer ones, all finished.
  const dbos = new pg.Client({ connectionString: Object.assign(new URL(adminUrl), { pathname: `/${dbosDatabase}` }).toString() });
  await dbos.connect();
  try {
    const { rows } = await dbos.query<{ name: string; status: string; n: number }>(
      'SELECT name, status, count(*)::int AS n FROM dbos.workflow_status GROUP BY name, status ORDER BY name',
    );
    expect(rows).toEqual([
      { name: 'regenerateAllCustomers', status: 'SUCCESS', n: 1 },
      { name: 'regenerateOneCustomer', status: 'SUCCESS', n: 5 },
    ]);
  } finally {
    await dbos.end();
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

it('npm run bench -- --only import imports every order of a tiny shop three ways and writes bench-import-results.json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dj-bench-import-'));
  const out = path.join(dir, 'bench-import-results.json');
  // --profile adds the two diagnostic loops and the history profile; the naive cap is above the shop's count, so it imports everything too.
  const { code, output } = await runBench(['--only', 'import', '--import-orders', '2000', '--import-customers', '40', '--import-days', '3', '--import-naive-orders', '100000',
    '--profile', '--import-database', importDatabase, '--data-dir', dir, '--import-out', out, '--out', path.join(dir, 'unused.json')]);
  expect(code, output).toBe(0);
  // --only import runs the import bench alone: the report bench writes nothing.
  expect(fs.existsSync(path.join(dir, 'unused.json'))).toBe(false);

  const results = JSON.parse(fs.readFileSync(out, 'utf8'));
  const orders: number = results.orders;
  // The shop's generator comes close to the count asked for, not exactly.
  expect(orders).toBeGreaterThan(1500);
  expect(orders).toBeLessThan(2500);
  const number = expect.any(Number);
  const variant = { orders, ms: number, rows_per_s: number, x_lower_bound: number };
  expect(results).toStrictEqual({
    customers: 40,
    orders,
    page_size: 500,
    pages_per_activity: IMPORT_DEFAULTS.pagesPerActivity,
    regenerate: false,
    variants: { lower_bound: variant, naive_row_by_row: variant, durable_jobs: variant, service_loop: variant, service_loop_prefetch: variant },
    worker_rss_mb: { peak: number, at_early: number, at_end: number, growth: number, early_orders: number },
  });
  expect(results.worker_rss_mb.peak).toBeGreaterThan(0);
  // The bench verified each variant's rows (count and content checksum) before its time counted.
  for (const name of ['lower_bound', 'naive_row_by_row', 'durable_jobs', 'service_loop', 'service_loop_prefetch']) {
    expect(output).toMatch(new RegExp(`verified ${name} +\\S+ \\S+ +${orders} orders in ${Math.ceil(orders / 500)} pages, content = the shop's`));
  }
  // And the orders the last variant left are exactly the shop's, by a query of the test's own.
  const pool = createPool(Object.assign(new URL(adminUrl), { pathname: `/${importDatabase}` }).toString(), testLogger, 1);
  try {
    const { rows } = await pool.query<{ n: number; distinct_ids: number; min: number; max: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids, min(id)::int AS min, max(id)::int AS max FROM orders WHERE status = 'placed'",
    );
    expect(rows[0]).toEqual({ n: orders, distinct_ids: orders, min: 1, max: orders });
  } finally {
    await pool.end();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}, 300_000);

it('npm run bench refuses a --skip it does not know, and on a Node that pg-boss 12 does not run on, says how to run it', async () => {
  const unknown = await runBench(['--skip', 'pg_boss,temporal', '--database', database]);
  expect(unknown.code).toBe(2);
  expect(unknown.output).toContain("--skip takes naive_loop, graphile_worker, pg_boss, dbos (comma-separated), got 'pg_boss,temporal'");
  if (withPgBoss) return;
  const oldNode = await runBench(['--database', database]);
  expect(oldNode.code).toBe(2);
  expect(oldNode.output).toContain(`the pg_boss variant needs Node >= 22.12 (pg-boss 12), this is ${process.version}`);
  expect(oldNode.output).toContain('--skip pg_boss');
}, 60_000);
