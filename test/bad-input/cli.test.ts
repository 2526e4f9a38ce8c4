// Door 1 of the bad-input matrix: our CLIs as a user runs them, one child process per case.
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { createAdminUser } from '../support/admin.js';
import { seedDemo } from '../support/database.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { cliCases, MISSING_SCHEDULE, EXISTING_ADMIN } from './cases.js';
import { childEnv, runScript, runsOnQueue, snapshotState, type StateSnapshot } from './support.js';

let env: TemporalTestEnv;
let before: StateSnapshot;
let runsBefore: Awaited<ReturnType<typeof runsOnQueue>>;
// Three CLI processes at a time: each is a Node start-up (~1 s of CPU), the machine has two cores.
const slot = pLimit(3);
// `admin create-user` migrates first, and node-pg-migrate refuses a second migrator at the same
// moment ("Another migration is already running", exit 1) even with nothing to apply: one at a time.
const createUserSlot = pLimit(1);

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  await createAdminUser(env.db.pool, EXISTING_ADMIN, 'operator');
  // Real rows, a sent email and a finished run first, so "nothing changed" has something to protect.
  const { handle } = await startRegenerateReports(env.client, { customerIds: [1, 2, 3], from: '2026-11-08', to: '2026-11-10' }, {
    taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'bad-input-test',
  });
  expect((await handle.result()).emailsSent).toBeGreaterThan(0);
  before = await snapshotState(env.db.pool, env.sink.dir);
  expect(before.tables.daily_reports!.rows).toBe(9);
  runsBefore = await runsOnQueue(env);
});
afterAll(() => env?.close());

describe.concurrent('bad flags and input on our CLIs exit non-zero, name the flag and the rule, and change nothing', () => {
  it.each(cliCases)('$script: $label', async (testCase) => {
    const run = () => slot(() => runScript(testCase.script, testCase.args, childEnv(env, testCase.env), { stdin: testCase.stdin }));
    const result = await (testCase.script === 'admin' ? createUserSlot(run) : run());
    const output = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
    expect(result.code, output).toBe(testCase.exitCode);
    for (const message of testCase.messages) expect(result.stderr, output).toContain(message);
    // Refused means nothing was started, created or printed as done.
    expect(result.stdout, output).not.toMatch(/^(started|created|backfilling|paused|triggered) /m);
    expect(result.stderr, output).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // a rule, not a stack trace
    expect(await snapshotState(env.db.pool, env.sink.dir)).toEqual(before);
    expect(await runsOnQueue(env)).toEqual(runsBefore);
  });
});

describe('the schedule cases touched no schedule', () => {
  it(`${MISSING_SCHEDULE} still does not exist`, async () => {
    const ids: string[] = [];
    for await (const schedule of env.client.schedule.list()) ids.push(schedule.scheduleId);
    expect(ids).not.toContain(MISSING_SCHEDULE);
  });
});
