/**
 * A schedule as people read it: durations in words ("7 days", "every 1 hour at :05"), what
 * its overlap policy means, which job it runs. `npm run schedules -- describe` prints this;
 * `--json` prints the same facts as data.
 */
import type { ScheduleDescription } from '@temporalio/client';
import { jobByWorkflowType } from '../jobs/index.js';

const UNITS: Array<[number, string]> = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
];

/** 172800000 → "2 days"; 5400000 → "1 hour 30 minutes"; 0 → "0 seconds". */
export function humanDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [size, unit] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count} ${unit}${count === 1 ? '' : 's'}`);
    rest -= count * size;
  }
  return parts.length > 0 ? parts.join(' ') : rest > 0 ? `${rest} ms` : '0 seconds';
}

const two = (n: number) => String(n).padStart(2, '0');

/** An interval spec in words: "every 1 hour at :05", "every 1 day at 02:30 UTC", "every 15 minutes". */
export function describeInterval(everyMs: number, offsetMs = 0): string {
  const offset = new Date(offsetMs);
  if (everyMs === 3_600_000) return `every 1 hour at :${two(offset.getUTCMinutes())}${offset.getUTCSeconds() ? `:${two(offset.getUTCSeconds())}` : ''}`;
  if (everyMs === 86_400_000) return `every 1 day at ${two(offset.getUTCHours())}:${two(offset.getUTCMinutes())} UTC`;
  return `every ${humanDuration(everyMs)}${offsetMs ? `, offset ${humanDuration(offsetMs)}` : ''}`;
}

/** What each overlap policy does with a run that falls due while another still runs. */
export const OVERLAP_MEANING: Record<string, string> = {
  SKIP: 'a run due while another runs is skipped',
  BUFFER_ONE: 'one run due while another runs waits for it; more are skipped',
  BUFFER_ALL: 'every run due while another runs waits for it, in turn; none is dropped',
  CANCEL_OTHER: 'a run due cancels the one still running',
  TERMINATE_OTHER: 'a run due terminates the one still running',
  ALLOW_ALL: 'runs start on time, even alongside one still running',
};

/** The facts of a schedule, as data (`--json`): durations in milliseconds under names that say so. */
export function scheduleFacts(d: ScheduleDescription) {
  const job = jobByWorkflowType(d.action.workflowType);
  return {
    id: d.scheduleId,
    job: job?.kind ?? null,
    workflowType: d.action.workflowType,
    input: (d.action.args?.[0] ?? null) as Record<string, unknown> | null,
    paused: d.state.paused,
    note: d.state.note ?? null,
    intervals: (d.spec.intervals ?? []).map((i) => ({ everyMs: i.every, offsetMs: i.offset ?? 0, text: describeInterval(i.every, i.offset ?? 0) })),
    calendars: d.spec.calendars ?? [],
    overlap: String(d.policies.overlap),
    catchupWindowMs: d.policies.catchupWindow,
    pauseOnFailure: d.policies.pauseOnFailure,
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    recentRuns: d.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
  };
}

/** The same facts for people, one per line. */
export function describeSchedule(d: ScheduleDescription): string[] {
  const facts = scheduleFacts(d);
  const job = jobByWorkflowType(facts.workflowType);
  const covers = job?.doors.schedule?.covers;
  const when = [...facts.intervals.map((i) => i.text), ...facts.calendars.map((c) => `calendar ${JSON.stringify(c)}`)];
  return [
    `${facts.id}: ${facts.paused ? 'PAUSED' : 'active'}`,
    `  job        ${job ? `${job.kind}: ${job.description}` : `${facts.workflowType} (a workflow type no registered job starts)`}`,
    `  note       ${facts.note ?? '-'}`,
    `  when       ${when.length > 0 ? when.join('; ') : '-'}`,
    `  overlap    ${facts.overlap}: ${OVERLAP_MEANING[facts.overlap] ?? ''}`,
    `  catch-up   runs missed while the server was down start afterwards if less than ${humanDuration(facts.catchupWindowMs)} late`,
    `  failures   ${facts.pauseOnFailure ? 'a failed run pauses the schedule' : 'a failed run does not pause the schedule'}`,
    `  input      ${JSON.stringify(facts.input)}`,
    `  running    ${facts.running.length > 0 ? facts.running.join(', ') : 'none'}`,
    `  recent runs${facts.recentRuns.length > 0 ? '' : ' none'}`,
    ...facts.recentRuns.map((r) => `    ${r.scheduledAt}  ${r.workflowId}`),
    `  next runs${facts.nextRuns.length > 0 ? '' : ' none'}`,
    ...d.info.nextActionTimes.map((t) => `    ${t.toISOString()}${covers ? `  ${covers(t, facts.input ?? {})}` : ''}`),
  ];
}
