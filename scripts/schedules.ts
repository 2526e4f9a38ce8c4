// `npm run schedules -- <command>`: the schedules declared in src/schedules.ts, and thin
// calls for operating them. Each command's `temporal schedule …` equivalent is in the README.
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { addDays, daysBetween } from '../src/dates.js';
import { backfillOf, declaredSchedules } from '../src/schedules.js';
import { loadTemporalSettings } from '../src/temporal/connection-settings.js';
import { connectClient } from '../src/temporal/client.js';
import { applySchedules } from '../src/temporal/schedule-sync.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { isoDay, strictProgram, usageError } from '../src/cli/flags.js';

const { config } = bootstrap('schedules', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const program = strictProgram('schedules', 'Apply and operate the schedules declared in src/schedules.ts.');

async function withClient(work: (client: Awaited<ReturnType<typeof connectClient>>['client']) => Promise<void>): Promise<void> {
  const { client, close } = await connectClient(loadTemporalSettings());
  try {
    await work(client);
  } catch (error) {
    // The server words a missing schedule as its internal workflow: say it plainly.
    const missing = error instanceof ScheduleNotFoundError ? error.scheduleId : /temporal-sys-scheduler:(\S+)/.exec((error as Error).message)?.[1];
    if (missing) throw new Error(`schedule '${missing}' does not exist (see: npm run schedules -- list; declared ones: npm run schedules -- apply)`);
    throw error;
  } finally {
    await close();
  }
}

program
  .command('apply')
  .description('create or update every declared schedule; report (and with --prune delete) undeclared ones')
  .option('--prune', 'delete schedules this project created that code no longer declares')
  .action((flags: { prune?: boolean }) =>
    runMain(() =>
      withClient(async (client) => {
        const report = await applySchedules(client, declaredSchedules(config), { taskQueue: config.TEMPORAL_TASK_QUEUE, prune: Boolean(flags.prune) });
        for (const id of report.created) console.log(`created    ${id}`);
        for (const id of report.updated) console.log(`updated    ${id}`);
        for (const id of report.unchanged) console.log(`unchanged  ${id}`);
        for (const { id, managed } of report.undeclared) {
          const action = report.pruned.includes(id) ? 'deleted (--prune)' : managed ? 'kept; --prune deletes it' : 'not created by us; left alone';
          console.log(`undeclared ${id}: ${action}`);
        }
      }),
    ),
  );

program
  .command('list')
  .description('list the schedules in the namespace')
  .action(() =>
    runMain(() =>
      withClient(async (client) => {
        for await (const s of client.schedule.list()) {
          const next = s.info.nextActionTimes[0]?.toISOString() ?? '-';
          console.log(`${s.scheduleId.padEnd(24)} ${s.state.paused ? 'PAUSED ' : 'active '} next ${next}  ${s.state.note ?? ''}`);
        }
      }),
    ),
  );

program
  .command('describe <id>')
  .description('show a schedule: spec, policies, state, recent and next runs')
  .action((id: string) =>
    runMain(() =>
      withClient(async (client) => {
        const d = await client.schedule.getHandle(id).describe();
        console.log(JSON.stringify({
          id: d.scheduleId, spec: d.spec, policies: d.policies, state: d.state,
          recentActions: d.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt, workflowId: a.action.workflow.workflowId })),
          nextActionTimes: d.info.nextActionTimes,
          runningActions: d.info.runningActions.map((a) => a.workflow.workflowId),
        }, null, 2));
      }),
    ),
  );

program
  .command('pause <id>')
  .description('pause a schedule, saying why (shown in the Web UI)')
  .requiredOption('--reason <text>', 'why it is paused')
  .action((id: string, flags: { reason: string }) =>
    runMain(() => withClient(async (client) => {
      await client.schedule.getHandle(id).pause(flags.reason);
      console.log(`paused ${id}: ${flags.reason}`);
    })),
  );

program
  .command('unpause <id>')
  .description('resume a paused schedule')
  .option('--reason <text>', 'note to leave', 'unpaused from the CLI')
  .action((id: string, flags: { reason: string }) =>
    runMain(() => withClient(async (client) => {
      await client.schedule.getHandle(id).unpause(flags.reason);
      console.log(`unpaused ${id}`);
    })),
  );

program
  .command('trigger <id>')
  .description("run the schedule's action now, as if it were due now (daily-reports: the days that ended in the last hour, wherever they ended)")
  .action((id: string) =>
    runMain(() => withClient(async (client) => {
      await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      console.log(`triggered ${id}`);
    })),
  );

program
  .command('backfill <id>')
  .description('run the schedule again for past days: every scheduled time at which one of those days fell due, one after another')
  .requiredOption('--from <YYYY-MM-DD>', 'first day to report', isoDay('--from'))
  .requiredOption('--to <YYYY-MM-DD>', 'last day to report, inclusive', isoDay('--to'))
  .action((id: string, flags: { from: string; to: string }) =>
    runMain(() => {
      // Checked before connecting: a typo in a year (2020 for 2026) would otherwise queue
      // thousands of runs.
      if (flags.from > flags.to) usageError(`--from (${flags.from}) must not be after --to (${flags.to})`);
      const declaration = declaredSchedules(config).find((d) => d.id === id);
      const backfill = declaration && backfillOf(declaration);
      if (!backfill) {
        usageError(`backfill needs a schedule declared in src/schedules.ts with a backfill rule (which scheduled times cover which days); those: ${declaredSchedules(config).filter((d) => backfillOf(d)).map((d) => d.id).join(', ')}`);
      }
      const days = daysBetween(flags.from, flags.to) + 1;
      if (days > backfill.maxDays) {
        usageError(`--from..--to spans ${days} days; ${id} backfills at most ${backfill.maxDays} at a time: backfill a longer period in parts`);
      }
      // A day not yet over everywhere would run hours that have not come: provisional rows and
      // "so far" emails now, and the real run again later.
      const window = backfill.window(flags.from, flags.to);
      const now = new Date();
      if (window.end > now) {
        let latest = addDays(now.toISOString().slice(0, 10), 1);
        while (backfill.window(latest, latest).end > now) latest = addDays(latest, -1);
        usageError(`--to ${flags.to} is not over everywhere yet (its last scheduled time, ${window.end.toISOString()}, is still to come); the latest day a backfill takes now is ${latest}`);
      }
      return withClient(async (client) => {
        await client.schedule.getHandle(id).backfill({ ...window, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
        console.log(`backfilling ${id} for days ${flags.from}..${flags.to} (scheduled times ${window.start.toISOString()} .. ${window.end.toISOString()}, run one after another)`);
      });
    }),
  );

program.parse();
