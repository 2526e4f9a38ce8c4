import { ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { loadConfig } from '../../src/config.js';
import { addDays, daysBetween } from '../../src/dates.js';
import { backfillOf, declaredSchedules } from '../../src/schedules.js';
import { applySchedules } from '../../src/temporal/schedule-sync.js';
import type { DailyReportsSummary } from '../../src/daily-reports-contract.js';
import type { Period, Scenario } from './scenarios.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FIRST_DAY = '2026-11-08';
const LAST_DAY = '2026-11-10';
const DAYS: Period[] = Array.from({ length: daysBetween(FIRST_DAY, LAST_DAY) + 1 }, (_, i) => ({ from: addDays(FIRST_DAY, i), to: addDays(FIRST_DAY, i) }));

/**
 * Three days of the real nightly schedule (src/schedules.ts, its overlap policy and all) fire
 * while no worker runs: every scheduled time of those days is fired at once through the
 * schedule's backfill, with the schedule's own overlap policy, and the runs wait in the task
 * queue. Then the workers come back. Every zone's every day must be reported and emailed once:
 * with BUFFER_ONE, the third and later runs were dropped and their days never produced.
 */
export const downtimeThreeDays: Scenario = {
  name: 'downtime-3-days',
  workers: 0,
  sameIdRedeliveriesAreDuplicates: true,
  periods: DAYS,
  async run(context) {
    const [daily] = declaredSchedules(loadConfig({ REPORT_BATCH_SIZE: '25' }));
    const id = `${context.taskQueue}-daily`;
    const schedule = { ...daily!, id, workflowIdPrefix: id };
    await applySchedules(context.client, [schedule], { taskQueue: context.taskQueue, prune: false, idPrefix: id });
    const handle = context.client.schedule.getHandle(id);
    const window = backfillOf(schedule)!.window(FIRST_DAY, LAST_DAY);
    const due = Math.floor((window.end.getTime() - window.start.getTime()) / 3_600_000) + 1;
    await handle.backfill({ ...window, overlap: ScheduleOverlapPolicy[schedule.overlap] });
    // Down for a while: the first run waits in the task queue, the rest wait behind it.
    await sleep(5_000);
    const down = await handle.describe();
    if (down.info.runningActions.length !== 1) throw new Error(`expected one run waiting for a worker, found ${down.info.runningActions.length}`);
    context.workers.push(await context.startWorker(), await context.startWorker());
    const taken = (d: typeof down) => d.info.numActionsTaken >= due && d.info.runningActions.length === 0;
    let described = down;
    while (!taken(described) && Date.now() < context.deadline) {
      await sleep(1_000);
      described = await handle.describe();
    }
    await handle.delete();
    if (!taken(described)) throw new Error(`${described.info.numActionsTaken} of ${due} scheduled runs ran before the deadline`);
    const handles: WorkflowHandle[] = [];
    for await (const run of context.client.workflow.list({ query: `WorkflowType = 'dailyReports' AND WorkflowId STARTS_WITH '${id}'` })) {
      handles.push(context.client.workflow.getHandle(run.workflowId));
    }
    if (handles.length !== due) throw new Error(`${handles.length} scheduled runs were started for ${due} scheduled times: runs were dropped`);
    // Each zone's each day in exactly one run.
    const seen = new Map<string, number>();
    for (const run of handles) {
      const summary = (await run.result()) as DailyReportsSummary;
      for (const day of summary.days) for (const zone of day.timeZones) seen.set(`${zone} ${day.day}`, (seen.get(`${zone} ${day.day}`) ?? 0) + 1);
    }
    const twice = [...seen].filter(([, count]) => count > 1);
    if (twice.length > 0) throw new Error(`reported more than once: ${twice.map(([key]) => key).join(', ')}`);
    return { handles };
  },
};
