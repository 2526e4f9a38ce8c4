// Door 2 of the bad-input matrix: `temporal workflow start --input …` through the real CLI
// binary. Nothing validates on the way in, so the workflow itself must refuse.
import crypto from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { seedDemo } from '../support/database.js';
import { temporalCli } from '../support/temporal-cli.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';
import { jobByKind } from '../../src/jobs/index.js';
import { temporalCases } from './cases.js';
import { runsOnQueue, snapshotState, type StateSnapshot } from './support.js';

let env: TemporalTestEnv;
let before: StateSnapshot;
let firstRun: string;
const slot = pLimit(4);
const prefix = `bad-input-${crypto.randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
  // One good run first: rows and a sent email for the bad runs to leave alone.
  const { handle } = await startRegenerateReports(env.client, { customerIds: [1, 2, 3], from: '2026-11-08', to: '2026-11-10' }, {
    taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'bad-input-test',
  });
  firstRun = handle.workflowId;
  expect((await handle.result()).emailsSent).toBeGreaterThan(0);
  before = await snapshotState(env.db.pool, env.sink.dir);
});
afterAll(() => env?.close());

/** The activities a run scheduled: a refused run may at most have asked which customers exist. */
async function activitiesOf(workflowId: string): Promise<string[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events!.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

describe.concurrent('bad input through `temporal workflow start --input` fails the run at once, naming the field and the rule', () => {
  it.each(temporalCases.map((testCase, index) => ({ ...testCase, index })))('$job: $label', async (testCase) => {
    const workflowId = `${prefix}-${testCase.index}`;
    const cli = await slot(() =>
      temporalCli([
        'workflow', 'start', '--task-queue', env.taskQueue, '--type', jobByKind(testCase.job)!.workflowType, '--workflow-id', workflowId,
        ...testCase.inputs.flatMap((input) => ['--input', input]),
      ]),
    );
    const handle = env.client.workflow.getHandle(workflowId);
    if (testCase.cliRefuses) {
      expect(cli.code, cli.stderr).not.toBe(0);
      expect(cli.stderr).toMatch(/json|invalid/i);
      await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    } else {
      expect(cli.code, cli.stderr).toBe(0);
      const error = await handle.result().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const failure = (error as WorkflowFailedError).cause;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect((failure as ApplicationFailure).type).toBe('InvalidInput');
      expect((failure as ApplicationFailure).nonRetryable).toBe(true);
      expect(failure!.message).toMatch(/^invalid input: /);
      for (const message of testCase.messages) expect(failure!.message).toContain(message);
      expect((await handle.describe()).status.name).toBe('FAILED');
      expect((await activitiesOf(workflowId)).filter((name) => name !== 'findUnavailableCustomers')).toEqual([]);
    }
    expect(await snapshotState(env.db.pool, env.sink.dir)).toEqual(before);
  });
});

describe('after every bad input', () => {
  it('the queue holds the one good run and failed runs only: nothing running, nothing else completed', async () => {
    const runs = await runsOnQueue(env);
    expect(runs.filter((run) => run.status !== 'FAILED')).toEqual([{ workflowId: firstRun, status: 'COMPLETED' }]);
    expect(runs.filter((run) => run.status === 'FAILED')).toHaveLength(temporalCases.filter((c) => !c.cliRefuses).length);
    expect(await snapshotState(env.db.pool, env.sink.dir)).toEqual(before);
  });
});
