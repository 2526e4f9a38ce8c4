// The rules that turn what the services said into doctor rows, on the cases the real stack
// cannot show on demand: a worker that stopped a while ago (the server still remembers it), a
// worker polling only workflow tasks, a schedule on another task queue or changed by hand.
import { describe, expect, it } from 'vitest';
import { healthTable } from '../../src/cli/health-table.js';
import { displayUrl, scrub } from '../../src/health/check-result.js';
import { checkSchedule, type ScheduleState } from '../../src/health/schedule-health.js';
import { checkTaskQueue, WORKER_SEEN_WITHIN_MS } from '../../src/health/task-queue-health.js';

const now = new Date('2026-12-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('task queue row', () => {
  const poller = (identity: string, msAgo: number) => ({ identity, lastPollAt: ago(msAgo) });

  it('counts the workers that polled within the window, and says when the last poll was', () => {
    expect(checkTaskQueue({ taskQueue: 'reports', workflowPollers: [poller('1@a', 65_000), poller('2@b', 3_000)], activityPollers: [poller('1@a', 64_000)] }, now)).toEqual({
      part: 'task queue reports', status: 'ok', detail: '2 workers polling (last poll 3 s ago)',
    });
  });

  it('fails when the server only remembers workers older than the window (a worker that stopped)', () => {
    const stale = WORKER_SEEN_WITHIN_MS + 60_000;
    expect(checkTaskQueue({ taskQueue: 'reports', workflowPollers: [poller('1@a', stale)], activityPollers: [poller('1@a', stale)] }, now)).toEqual({
      part: 'task queue reports', status: 'fail',
      detail: 'no worker has polled its workflow and activity tasks in the last 2 min (last poll 3 min ago); runs wait until one does: start one: npm run worker (or npm start)',
    });
  });

  it('fails when nobody polls activity tasks, though workflows are polled: runs would start and never get their work done', () => {
    expect(checkTaskQueue({ taskQueue: 'reports', workflowPollers: [poller('1@a', 1_000)], activityPollers: [] }, now)).toMatchObject({
      status: 'fail', detail: expect.stringMatching(/^no worker has polled its activity tasks in the last 2 min \(last poll 1 s ago\)/),
    });
  });

  it('takes the window it is given', () => {
    const queue = { taskQueue: 'reports', workflowPollers: [poller('1@a', 20_000)], activityPollers: [poller('1@a', 20_000)] };
    expect(checkTaskQueue(queue, now, 10_000)).toMatchObject({ status: 'fail', detail: expect.stringContaining('in the last 10 s') });
    expect(checkTaskQueue(queue, now, 30_000)).toMatchObject({ status: 'ok' });
  });
});

describe('schedule row', () => {
  const state: ScheduleState = {
    id: 'daily-reports', job: 'daily-reports', exists: true, paused: false, note: null,
    nextRunAt: new Date('2026-12-01T12:02:00Z'), lastRunAt: new Date('2026-12-01T11:02:00Z'), lastRunWorkflowId: 'daily-reports-2026-12-01T11:02:00Z',
    taskQueue: 'reports', upToDate: true,
  };

  it('is ok when active, on our task queue and as declared, with its next and last run', () => {
    expect(checkSchedule(state, 'reports', now)).toEqual({
      part: 'schedule daily-reports', status: 'ok', detail: 'active, next run 2026-12-01T12:02:00.000Z (in 2 min), last run 58 min ago',
    });
  });

  it('fails when its runs go to a task queue our workers do not poll', () => {
    expect(checkSchedule({ ...state, taskQueue: 'old-queue' }, 'reports', now)).toEqual({
      part: 'schedule daily-reports', status: 'fail',
      detail: "starts its runs on task queue 'old-queue', where our workers do not poll (they poll 'reports'); fix it: npm run schedules -- apply",
    });
  });

  it('warns when paused (with the note) or changed since it was applied', () => {
    expect(checkSchedule({ ...state, paused: true, note: 'holiday freeze' }, 'reports', now)).toEqual({
      part: 'schedule daily-reports', status: 'warn', detail: 'paused: holiday freeze, last run 58 min ago (resume it: npm run schedules -- unpause daily-reports)',
    });
    expect(checkSchedule({ ...state, upToDate: false }, 'reports', now)).toMatchObject({
      status: 'warn', detail: expect.stringMatching(/; differs from src\/schedules\.ts \(update it: npm run schedules -- apply\)$/),
    });
  });
});

describe('what a row may show', () => {
  it('shows URLs without their password', () => {
    expect(displayUrl('postgres://app:s3cret@db.internal:5432/jobs?sslmode=require')).toBe('postgres://app@db.internal:5432/jobs');
    expect(displayUrl('smtps://mailer:p%40ss@smtp.example.com:465')).toBe('smtps://mailer@smtp.example.com:465');
  });

  it('scrubs each secret, plain or URL-encoded', () => {
    expect(scrub('login p@ss/word refused (p%40ss%2Fword)', ['p@ss/word'])).toBe('login *** refused (***)');
  });
});

describe('the table', () => {
  it('ends with a verdict naming the failed parts, and counts warnings apart', () => {
    const lines = healthTable({
      ok: false, checkedAt: now.toISOString(), checks: [
        { part: 'Temporal', status: 'ok', detail: '127.0.0.1:7233, namespace default' },
        { part: 'PostgreSQL', status: 'fail', detail: 'cannot connect' },
        { part: 'schedule daily-reports', status: 'warn', detail: 'paused' },
      ],
    });
    expect(lines).toEqual([
      'PART                    STATUS  DETAIL',
      'Temporal                ok      127.0.0.1:7233, namespace default',
      'PostgreSQL              FAIL    cannot connect',
      'schedule daily-reports  warn    paused',
      '',
      'NOT READY: 1 of 3 checks failed (PostgreSQL); 1 warning (schedule daily-reports)',
    ]);
  });
});
