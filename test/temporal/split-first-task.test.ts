import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRegenerateReports } from '../../src/temporal/report-runs.js';
import { ensureWorkflowBundle } from '../../src/workflow-bundle.js';
import { workflowSpanSinks } from '../../src/observability/temporal-tracing.js';
import { seedDemo } from '../support/database.js';
import { eventsOfType, splitTaskAfter, taskOf, type JsonHistory } from '../support/history-surgery.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
});
afterAll(() => env.close());

// Seen in the fault suite (test/fixtures/histories-unreplayable/): a worker completed the first
// task with the planning local activity's marker and ran the code after it in a second task.
// Replay resolves the activity inside the first task; whatever the code decides after it must
// not depend on markers of the second.
it('an all-customer run replays when its first task ends right after the planning local activity', async () => {
  const { handle } = await startRegenerateReports(
    env.client,
    { from: '2026-11-08', to: '2026-11-09', sendEmail: false },
    { taskQueue: env.taskQueue, startedFrom: 'api', startedBy: 'test' },
  );
  await handle.result();
  const recorded = JSON.parse(historyToJSON(await handle.fetchHistory())) as JsonHistory;
  const planned = eventsOfType(recorded, 'MarkerRecorded').find((event) => JSON.stringify(event).includes('core_local_activity'))!;
  const firstActivity = eventsOfType(recorded, 'ActivityTaskScheduled')[0]!;
  expect(taskOf(recorded, Number(planned.eventId))).toBe(taskOf(recorded, Number(firstActivity.eventId)));

  const split = splitTaskAfter(recorded, Number(planned.eventId));
  const movedActivity = eventsOfType(split, 'ActivityTaskScheduled')[0]!;
  expect(taskOf(split, Number(movedActivity.eventId))).toBeGreaterThan(taskOf(split, Number(planned.eventId)));

  const workflowBundle = { codePath: await ensureWorkflowBundle('traced') };
  await expect(Worker.runReplayHistory({ workflowBundle, sinks: workflowSpanSinks() }, recorded, 'as recorded')).resolves.toBeUndefined();
  await expect(Worker.runReplayHistory({ workflowBundle, sinks: workflowSpanSinks() }, split, 'first task split')).resolves.toBeUndefined();
}, 60_000);
