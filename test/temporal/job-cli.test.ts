// `npm run job -- <kind> … --wait` as a user runs it (a child process against the dev server):
// the flags reach the run, the exit code says how the run ended, the help and the output are
// generated from the job registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { JOBS } from '../../src/jobs/index.js';
import { declaredSchedules } from '../../src/schedules.js';
import { applySchedules } from '../../src/temporal/schedule-sync.js';
import { inputFields } from '../../src/cli/job-flags.js';
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
const startedId = (result: ScriptResult) => /^started (\S+)$/m.exec(result.stdout)?.[1] ?? '';
/** Commander wraps help text at the terminal width: compare with every run of whitespace as one space. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

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
      expect(result.stdout).toMatch(/^finished: 2 customers, .*1 customer failed$/m);
      expect(result.stdout, 'readable, not the raw summary').not.toContain('{');
      expect(result.stderr).toContain('finished with failures');
      expect(result.stderr).toContain(`npm run job -- rerun-failed '${workflowId}' --wait`);

      // Still broken: the re-run of customer 2 alone fails again, and says so the same way.
      const again = await job(['rerun-failed', workflowId, '--wait']);
      expect(again.code, shown(again)).toBe(3);
      expect(again.stdout).toContain('started regenerate-reports:customer-2:2026-11-06');

      // --json: stdout is one JSON object per run, with the raw summary; the rest goes to stderr.
      const json = await job(['rerun-failed', workflowId, '--wait', '--json']);
      expect(json.code, shown(json)).toBe(3);
      expect(JSON.parse(json.stdout)).toMatchObject({
        workflowId: expect.stringMatching(/^regenerate-reports:customer-2:2026-11-06(@|$)/), outcome: 'some-failed', summary: { customersProcessed: 0, failures: [{ customerId: 2 }] },
      });
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
    expect(help.stdout).toMatch(/3 +with --wait: the run finished but some of its items \(customers\) failed/);
    expect(help.stdout).toContain('rerun-failed');
  });
});

describe('job: every registered job is a command, its flags and help from its schema', () => {
  it('--help lists every registered job with its description', async () => {
    const help = await job(['--help']);
    expect(help.code, shown(help)).toBe(0);
    for (const entry of JOBS) expect(oneLine(help.stdout)).toContain(`${entry.kind} [options] ${oneLine(entry.description)}`);
  });

  it.each(JOBS.map((entry) => [entry.kind, entry] as const))('%s --help lists its flags with the schema\'s help, and every input field', async (_kind, entry) => {
    const help = await job([entry.kind, '--help']);
    expect(help.code, shown(help)).toBe(0);
    const text = oneLine(help.stdout);
    const fields = inputFields(entry);
    for (const [field, flag] of Object.entries(entry.doors.cli.flags as Record<string, { flag: string; help?: string }>)) {
      expect(text).toContain(`${flag.flag} ${oneLine(flag.help ?? fields[field]!.description!)}`);
    }
    for (const field of Object.keys(fields)) expect(text).toMatch(new RegExp(` ${field} `));
    for (const option of ['--input <json>', '--wait', '--json']) expect(text).toContain(option);
  });

  it('--wait --json prints the summary as JSON, and nothing else, on stdout', async () => {
    const result = await job(['regenerate-reports', '--customer', '1', '--from', '2026-11-04', '--no-email', '--wait', '--json']);
    expect(result.code, shown(result)).toBe(0);
    const printed = JSON.parse(result.stdout) as { workflowId: string; outcome: string; summary: { customersProcessed: number } };
    expect(printed).toMatchObject({ workflowId: expect.stringMatching(/^regenerate-reports:customer-1:2026-11-04(@|$)/), outcome: 'ok', summary: { customersProcessed: 1, emailsSent: 0 } });
    expect(result.stderr).toContain('started regenerate-reports:customer-1:2026-11-04');
  });

  it('--input sets fields the flags do not; a flag wins over it', async () => {
    const result = await job(['regenerate-reports', '--customer', '3', '--input', '{"from":"2026-11-03","dryRun":false,"customerIds":[1]}', '--dry-run', '--no-email', '--wait']);
    expect(result.code, shown(result)).toBe(0);
    expect(startedId(result)).toMatch(/^regenerate-reports:customer-3:2026-11-03:dry-run(@|$)/);
    expect(result.stdout).toMatch(/^finished: 1 customers, \d+ rows would change \(dry run\)/m);
  });

  it('a job without a progress query waits with a line, prints its readable summary, and refuses rerun-failed', async () => {
    // No zone's clock reaches `at` in a one-minute window 7 minutes from now (offsets are whole quarter hours): nothing is due.
    const at = new Date(Date.now() + 7 * 60_000).toISOString().slice(11, 16);
    const result = await job(['daily-reports', '--at', at, '--window-minutes', '1', '--wait']);
    expect(result.code, shown(result)).toBe(0);
    const workflowId = startedId(result);
    expect(workflowId).toMatch(/^daily-reports:cli:/);
    expect(result.stdout).toMatch(/^finished: /m);
    expect(result.stdout).not.toContain('{');
    const rerun = await job(['rerun-failed', workflowId]);
    expect(rerun.code, shown(rerun)).toBe(2);
    expect(rerun.stderr).toContain(`${workflowId} is a daily-reports run; daily-reports records no per-item failures to re-run`);
  });
});

describe('job: each job says which customers it takes', () => {
  it('purge-old-reports takes an inactive customer (17), dry run, with the settings\' retention', async () => {
    const result = await job(['purge-old-reports', '--customer', '17', '--dry-run', '--wait'], { REPORT_RETENTION_DAYS: '1095' });
    expect(result.code, shown(result)).toBe(0);
    const workflowId = startedId(result);
    expect(workflowId).toMatch(/^purge-old-reports:customer-17:before-\d{4}-\d{2}-\d{2}:dry-run/);
    const { memo } = await env.client.workflow.getHandle(workflowId).describe();
    expect(memo?.input).toMatchObject({ customerIds: [17], retentionDays: 1095, dryRun: true });
  });

  it('regenerate-reports still refuses an inactive customer', async () => {
    const result = await job(['regenerate-reports', '--customer', '17', '--from', '2026-11-09', '--no-email']);
    expect(result.code, shown(result)).toBe(2);
    expect(result.stderr).toContain('--customer names customers that cannot be run: 17 (inactive)');
  });
});

describe('schedules: readable by default, JSON with --json', () => {
  const id = `test-${crypto.randomBytes(3).toString('hex')}-daily-reports`;
  const schedules = (args: string[]) => runScript('schedules', args, childEnv(env), { timeoutMs: 30_000 });

  beforeAll(async () => {
    const [daily] = declaredSchedules(loadConfig({ DAILY_REPORTS_AT: '02:05' }));
    await applySchedules(env.client, [{ ...daily!, id, workflowIdPrefix: id }], { taskQueue: env.taskQueue, prune: false, idPrefix: id });
  });
  afterAll(() => env.client.schedule.getHandle(id).delete());

  it('pause says so, and --json gives the same as data', async () => {
    const paused = await schedules(['pause', id, '--reason', 'while the test looks at it', '--json']);
    expect(paused.code, shown(paused)).toBe(0);
    expect(JSON.parse(paused.stdout)).toEqual({ id, paused: true, note: 'while the test looks at it' });
  });

  it('describe reads like a sentence: the job, durations in words, the overlap policy, the pause', async () => {
    const result = await schedules(['describe', id]);
    expect(result.code, shown(result)).toBe(0);
    expect(result.stdout).toContain(`${id}: PAUSED`);
    expect(result.stdout).toMatch(/job +daily-reports: /);
    expect(result.stdout).toContain('every 1 hour at :05');
    expect(result.stdout).toMatch(/catch-up .* less than \d+ days? late/);
    expect(result.stdout).toContain('BUFFER_ALL: every run due while another runs waits for it');
    expect(result.stdout).toContain('note       while the test looks at it');
    expect(result.stdout).not.toMatch(/\d{7,}/); // no raw milliseconds
  });

  it('describe --json parses, durations named in milliseconds', async () => {
    const result = await schedules(['describe', id, '--json']);
    expect(result.code, shown(result)).toBe(0);
    const facts = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(facts).toMatchObject({ id, job: 'daily-reports', workflowType: 'dailyReports', paused: true, overlap: 'BUFFER_ALL', intervals: [{ everyMs: 3_600_000, offsetMs: 300_000 }] });
    expect(facts.catchupWindowMs).toEqual(expect.any(Number));
  });

  it('list shows the job each schedule runs; --json too', async () => {
    const text = await schedules(['list']);
    expect(text.code, shown(text)).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${id} +PAUSED +job daily-reports`, 'm'));
    const json = await schedules(['list', '--json']);
    expect((JSON.parse(json.stdout) as Array<{ id: string; job: string }>).find((s) => s.id === id)).toMatchObject({ job: 'daily-reports', paused: true });
  });

  it('a schedule that does not exist is named, without a stack trace', async () => {
    const result = await schedules(['trigger', `${id}-missing`]);
    expect(result.code, shown(result)).toBe(1);
    expect(result.stderr).toContain(`schedule '${id}-missing' does not exist`);
  });
});
