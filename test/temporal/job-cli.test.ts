// `npm run job -- regenerate-reports … --wait` as a user runs it (a child process against the
// dev server): the flags reach the run, and the exit code says how the run ended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { childEnv, runScript, type ScriptResult } from '../bad-input/support.js';

let env: TemporalTestEnv;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
});
afterAll(() => env?.close());

const job = (args: string[], extra: Record<string, string> = {}) => runScript('job', args, childEnv(env, extra), { timeoutMs: 60_000 });
const shown = (result: ScriptResult) => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
const startedId = (result: ScriptResult) => /^started (\S+) /m.exec(result.stdout)?.[1] ?? '';

async function regenerateActivities(workflowId: string): Promise<number> {
  const { events } = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return events!.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'regenerateReportBatches').length;
}

// Six customers in three batches of two, one lane: three activities with one batch each, or one with all three.
const sixCustomers = ['1', '2', '3', '4', '5', '6'].flatMap((id) => ['--customer', id]);
const threeBatches = [...sixCustomers, '--no-email', '--batch-size', '2', '--parallelism', '1', '--wait'];

describe('job regenerate-reports: batches per activity', () => {
  it('--batches-per-activity 1 runs one activity per batch', async () => {
    const result = await job(['regenerate-reports', ...threeBatches, '--from', '2026-11-09', '--batches-per-activity', '1']);
    expect(result.code, shown(result)).toBe(0);
    expect(await regenerateActivities(startedId(result))).toBe(3);
  });

  it('REPORT_BATCHES_PER_ACTIVITY is the default for the flag', async () => {
    const result = await job(['regenerate-reports', ...threeBatches, '--from', '2026-11-08'], { REPORT_BATCHES_PER_ACTIVITY: '1' });
    expect(result.code, shown(result)).toBe(0);
    expect(await regenerateActivities(startedId(result))).toBe(3);
  });

  it('without either, the batches share one activity', async () => {
    const result = await job(['regenerate-reports', ...threeBatches, '--from', '2026-11-07']);
    expect(result.code, shown(result)).toBe(0);
    expect(await regenerateActivities(startedId(result))).toBe(1);
  });
});

describe('job regenerate-reports --wait: the exit code says how the run ended', () => {
  it('exits 3 when customers failed, and says how to re-run them; rerun-failed re-runs just them', async () => {
    const { rows } = await env.db.pool.query<{ time_zone: string }>('SELECT time_zone FROM customers WHERE id = 2');
    await env.db.pool.query(`UPDATE customers SET time_zone = 'Nowhere/Atlantis' WHERE id = 2`);
    try {
      const result = await job(['regenerate-reports', '--customer', '1', '--customer', '2', '--customer', '3', '--from', '2026-11-06', '--no-email', '--wait']);
      expect(result.code, shown(result)).toBe(3);
      const workflowId = startedId(result);
      expect(JSON.parse(result.stdout.slice(result.stdout.indexOf('{')))).toMatchObject({ customersProcessed: 2, failures: [{ customerId: 2 }] });
      expect(result.stderr).toContain('finished with failures: 1 customer failed');
      expect(result.stderr).toContain(`npm run job -- rerun-failed '${workflowId}' --wait`);

      // Still broken: the re-run of customer 2 alone fails again, and says so the same way.
      const again = await job(['rerun-failed', workflowId, '--wait']);
      expect(again.code, shown(again)).toBe(3);
      expect(again.stdout).toContain('started regenerate-reports:customer-2:2026-11-06');
    } finally {
      await env.db.pool.query('UPDATE customers SET time_zone = $1 WHERE id = 2', [rows[0]!.time_zone]);
    }
  });

  it('exits 0 when every customer was done', async () => {
    const result = await job(['regenerate-reports', '--customer', '1', '--customer', '2', '--from', '2026-11-05', '--no-email', '--wait']);
    expect(result.code, shown(result)).toBe(0);
    expect(result.stderr).not.toContain('finished with failures');
  });

  it('documents the exit codes in --help', async () => {
    const help = await job(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toMatch(/3 +with --wait: the run finished but some customers failed/);
    expect(help.stdout).toContain('rerun-failed');
  });
});
