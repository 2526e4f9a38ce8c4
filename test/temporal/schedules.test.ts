import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleDeclaration } from '../../src/schedules.js';
import { applySchedules, backfillWindow } from '../../src/temporal/schedule-sync.js';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { temporalCli } from '../support/temporal-cli.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
const prefix = `test-${crypto.randomBytes(3).toString('hex')}-`;
const declaration = (overrides: Partial<ScheduleDeclaration> = {}): ScheduleDeclaration => ({
  id: `${prefix}daily-reports`,
  note: 'Test schedule. Declared in the test.',
  at: [{ hour: 2, minute: 0 }],
  timeZone: 'UTC',
  workflowType: 'regenerateReports',
  input: { sendEmail: false, batchSize: 10 },
  workflowIdPrefix: `${prefix}regenerate-reports:all:scheduled`,
  overlap: 'BUFFER_ONE',
  catchupWindow: '1 day',
  ...overrides,
});

beforeAll(async () => {
  env = await startTemporalTestEnv();
  await seedDemo(env.db.pool);
});
afterAll(async () => {
  for await (const s of env.client.schedule.list()) {
    if (s.scheduleId.startsWith(prefix)) await env.client.schedule.getHandle(s.scheduleId).delete();
  }
  await env.close();
});

const apply = (declarations: ScheduleDeclaration[], prune = false) =>
  applySchedules(env.client, declarations, { taskQueue: env.taskQueue, prune, idPrefix: prefix });

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

describe('schedules declared in code', () => {
  it('apply is idempotent, applies a changed spec, keeps a pause, and prunes only with --prune', async () => {
    expect(await apply([declaration()])).toMatchObject({ created: [`${prefix}daily-reports`], updated: [], unchanged: [] });
    expect(await apply([declaration()])).toMatchObject({ created: [], updated: [], unchanged: [`${prefix}daily-reports`] });

    const handle = env.client.schedule.getHandle(`${prefix}daily-reports`);
    await handle.pause('maintenance window');
    expect(await apply([declaration({ at: [{ hour: 5, minute: 30 }] })])).toMatchObject({ updated: [`${prefix}daily-reports`] });
    const described = await handle.describe();
    expect(described.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 5, end: 5, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
    expect(described.state).toMatchObject({ paused: true, note: 'maintenance window' });
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ONE);

    // A schedule code no longer declares is reported, and deleted only with prune.
    await apply([declaration({ id: `${prefix}old-job` })]);
    const listed = await eventually(() => apply([declaration({ at: [{ hour: 5, minute: 30 }] })]), (r) => r.undeclared.length > 0);
    expect(listed.undeclared).toEqual([{ id: `${prefix}old-job`, managed: true }]);
    expect(listed.pruned).toEqual([]);
    const pruned = await apply([declaration({ at: [{ hour: 5, minute: 30 }] })], true);
    expect(pruned.pruned).toEqual([`${prefix}old-job`]);
    await expect(env.client.schedule.getHandle(`${prefix}old-job`).describe()).rejects.toThrow(/not found/i);
  });

  it('pause, unpause and trigger work from the temporal CLI too', async () => {
    await apply([declaration({ id: `${prefix}cli-ops` })]);
    const id = `${prefix}cli-ops`;
    expect((await temporalCli(['schedule', 'toggle', '--schedule-id', id, '--pause', '--reason', 'paused from temporal CLI'])).code).toBe(0);
    expect((await env.client.schedule.getHandle(id).describe()).state).toMatchObject({ paused: true, note: 'paused from temporal CLI' });
    expect((await temporalCli(['schedule', 'toggle', '--schedule-id', id, '--unpause', '--reason', 'back'])).code).toBe(0);
    expect((await env.client.schedule.getHandle(id).describe()).state.paused).toBe(false);
    expect((await temporalCli(['schedule', 'trigger', '--schedule-id', id])).code).toBe(0);
    const described = await eventually(() => env.client.schedule.getHandle(id).describe(), (d) => d.info.recentActions.length > 0);
    const workflowId = described.info.recentActions[0]!.action.workflow.workflowId;
    const summary = await env.client.workflow.getHandle(workflowId).result();
    expect(summary.customersProcessed).toBe(38);
  });

  it('a backfill over three report days regenerates exactly those days, each from its scheduled time', async () => {
    const id = `${prefix}backfill`;
    await apply([declaration({ id })]);
    await env.db.pool.query('TRUNCATE daily_reports');
    // Report days 2026-11-04..06 are the runs scheduled for 2026-11-05..07 at 02:00 UTC.
    const window = backfillWindow('2026-11-04', '2026-11-06', 'UTC');
    expect(window.start.toISOString()).toBe('2026-11-05T00:00:00.000Z');
    expect(window.end.toISOString()).toBe('2026-11-07T23:59:59.000Z');
    await env.client.schedule.getHandle(id).backfill({ ...window, overlap: ScheduleOverlapPolicy.BUFFER_ALL });

    const described = await eventually(
      () => env.client.schedule.getHandle(id).describe(),
      (d) => d.info.recentActions.length === 3 && d.info.runningActions.length === 0,
      60_000,
    );
    expect(described.info.recentActions.map((a) => a.scheduledAt.toISOString())).toEqual([
      '2026-11-05T02:00:00.000Z', '2026-11-06T02:00:00.000Z', '2026-11-07T02:00:00.000Z',
    ]);
    for (const action of described.info.recentActions) await env.client.workflow.getHandle(action.action.workflow.workflowId).result();
    const { rows } = await env.db.pool.query('SELECT DISTINCT report_date::text AS d FROM daily_reports ORDER BY 1');
    expect(rows.map((r) => r.d)).toEqual(['2026-11-04', '2026-11-05', '2026-11-06']);
    const active = (await env.db.pool.query('SELECT id FROM customers WHERE active ORDER BY id')).rows.map((r) => Number(r.id));
    expect(await reportRows(env.db.pool, active, '2026-11-04', '2026-11-06')).toEqual(await truthRows(env.db.pool, active, '2026-11-04', '2026-11-06'));
  });

  it('a schedule in another time zone regenerates that zone’s yesterday', () => {
    // 02:00 in Tokyo on 2026-11-05 is 17:00 UTC on 2026-11-04: the window is in local days.
    const window = backfillWindow('2026-11-04', '2026-11-04', 'Asia/Tokyo');
    expect(window.start.toISOString()).toBe('2026-11-04T15:00:00.000Z');
    expect(window.end.toISOString()).toBe('2026-11-05T14:59:59.000Z');
  });
});
