// `npm run schedules -- <command>`: the schedules declared in src/schedules.ts, and thin
// calls for operating them, for any job of the registry. Readable by default; `--json` on
// every command for scripts. Each command's `temporal schedule …` equivalent is in the README.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleHandle } from '@temporalio/client';
import { addDays, daysBetween } from '../src/dates.js';
import { jobByWorkflowType } from '../src/jobs/index.js';
import { backfillOf, declaredSchedules } from '../src/schedules.js';
import { loadTemporalSettings } from '../src/temporal/connection-settings.js';
import { connectClient } from '../src/temporal/client.js';
import { applySchedules } from '../src/temporal/schedule-sync.js';
import { describeSchedule, scheduleFacts } from '../src/cli/schedule-text.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { isoDay, strictProgram, usageError } from '../src/cli/flags.js';

const { config } = bootstrap('schedules', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }, { tracing: true });
const program = strictProgram('schedules', 'Apply and operate the schedules declared in src/schedules.ts.');
const JSON_HELP = 'print JSON for scripts instead of text';

interface Output {
  json?: boolean;
}

/** `--json`: the data; otherwise the lines for people. */
function print(flags: Output, data: unknown, lines: () => string[]): void {
  if (flags.json) console.log(JSON.stringify(data, null, 2));
  else for (const line of lines()) console.log(line);
}

async function withClient(work: (client: Client) => Promise<void>): Promise<void> {
  const { client, close } = await connectClient(loadTemporalSettings());
  try {
    await work(client);
  } finally {
    await close();
  }
}

/**
 * The handle of a schedule that exists. Looked up first because the server words a missing
 * schedule, on pause or trigger, as an error about its internal workflow: describing it
 * gives a ScheduleNotFoundError instead, with no message to parse.
 */
async function existing(client: Client, id: string): Promise<ScheduleHandle> {
  const handle = client.schedule.getHandle(id);
  try {
    await handle.describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new Error(`schedule '${id}' does not exist (see: npm run schedules -- list; declared ones: npm run schedules -- apply)`);
    throw error;
  }
  return handle;
}

program
  .command('apply')
  .description('create or update every declared schedule; report (and with --prune delete) undeclared ones')
  .option('--prune', 'delete schedules this project created that code no longer declares')
  .option('--json', JSON_HELP)
  .action((flags: Output & { prune?: boolean }) =>
    runMain(() =>
      withClient(async (client) => {
        const report = await applySchedules(client, declaredSchedules(config), { taskQueue: config.TEMPORAL_TASK_QUEUE, prune: Boolean(flags.prune) });
        print(flags, report, () => [
          ...report.created.map((id) => `created    ${id}`),
          ...report.updated.map((id) => `updated    ${id}`),
          ...report.unchanged.map((id) => `unchanged  ${id}`),
          ...report.undeclared.map(({ id, managed }) =>
            `undeclared ${id}: ${report.pruned.includes(id) ? 'deleted (--prune)' : managed ? 'kept; --prune deletes it' : 'not created by us; left alone'}`),
        ]);
      }),
    ),
  );

program
  .command('list')
  .description('list the schedules in the namespace, with the job each one runs')
  .option('--json', JSON_HELP)
  .action((flags: Output) =>
    runMain(() =>
      withClient(async (client) => {
        const schedules: Array<{ id: string; job: string | null; workflowType: string | null; paused: boolean; note: string | null; nextRun: string | null }> = [];
        for await (const s of client.schedule.list()) {
          const workflowType = s.action?.workflowType ?? null;
          schedules.push({
            id: s.scheduleId,
            job: (workflowType && jobByWorkflowType(workflowType)?.kind) ?? null,
            workflowType,
            paused: s.state.paused,
            note: s.state.note ?? null,
            nextRun: s.info.nextActionTimes[0]?.toISOString() ?? null,
          });
        }
        print(flags, schedules, () =>
          schedules.length === 0
            ? ['no schedules (create the declared ones with: npm run schedules -- apply)']
            : schedules.map((s) => `${s.id.padEnd(24)} ${s.paused ? 'PAUSED' : 'active'}  job ${(s.job ?? `${s.workflowType ?? '-'} (not a registered job)`).padEnd(20)} next ${s.nextRun ?? '-'}  ${s.note ?? ''}`),
        );
      }),
    ),
  );

program
  .command('describe <id>')
  .description('show a schedule: the job it runs, when, policies, state, recent and next runs')
  .option('--json', JSON_HELP)
  .action((id: string, flags: Output) =>
    runMain(() =>
      withClient(async (client) => {
        const description = await (await existing(client, id)).describe();
        print(flags, scheduleFacts(description), () => describeSchedule(description));
      }),
    ),
  );

program
  .command('pause <id>')
  .description('pause a schedule, saying why (shown in the Web UI)')
  .requiredOption('--reason <text>', 'why it is paused')
  .option('--json', JSON_HELP)
  .action((id: string, flags: Output & { reason: string }) =>
    runMain(() => withClient(async (client) => {
      await (await existing(client, id)).pause(flags.reason);
      print(flags, { id, paused: true, note: flags.reason }, () => [`paused ${id}: ${flags.reason}`]);
    })),
  );

program
  .command('unpause <id>')
  .description('resume a paused schedule')
  .option('--reason <text>', 'note to leave', 'unpaused from the CLI')
  .option('--json', JSON_HELP)
  .action((id: string, flags: Output & { reason: string }) =>
    runMain(() => withClient(async (client) => {
      await (await existing(client, id)).unpause(flags.reason);
      print(flags, { id, paused: false, note: flags.reason }, () => [`unpaused ${id}`]);
    })),
  );

program
  .command('trigger <id>')
  .description("run the schedule's action now, as if it were due now (what that run covers: npm run schedules -- describe <id>)")
  .option('--json', JSON_HELP)
  .action((id: string, flags: Output) =>
    runMain(() => withClient(async (client) => {
      const handle = await existing(client, id);
      const now = new Date();
      await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      const facts = scheduleFacts(await handle.describe());
      const covers = facts.job ? jobByWorkflowType(facts.workflowType)?.doors.schedule?.covers(now, facts.input ?? {}) : undefined;
      print(flags, { id, triggeredAt: now.toISOString(), job: facts.job, covers: covers ?? null }, () => [`triggered ${id}${facts.job ? ` (job ${facts.job})` : ''}${covers ? `: ${covers}` : ''}`]);
    })),
  );

program
  .command('backfill <id>')
  .description('run the schedule again for past days: every scheduled time at which one of those days fell due, one after another')
  .requiredOption('--from <YYYY-MM-DD>', 'first day to report', isoDay('--from'))
  .requiredOption('--to <YYYY-MM-DD>', 'last day to report, inclusive', isoDay('--to'))
  .option('--json', JSON_HELP)
  .action((id: string, flags: Output & { from: string; to: string }) => {
    // Checked before connecting (usage errors exit here, nothing is open yet): a typo in a
    // year (2020 for 2026) would otherwise queue thousands of runs.
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
    runMain(() =>
      withClient(async (client) => {
        await (await existing(client, id)).backfill({ ...window, overlap: ScheduleOverlapPolicy.BUFFER_ALL });
        print(flags, { id, from: flags.from, to: flags.to, start: window.start.toISOString(), end: window.end.toISOString() }, () => [
          `backfilling ${id} for days ${flags.from}..${flags.to} (scheduled times ${window.start.toISOString()} .. ${window.end.toISOString()}, run one after another)`,
        ]);
      }),
    );
  });

program.parse();
