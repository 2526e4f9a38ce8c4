import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { loadConfig } from '../../src/config.js';
import { addDays, dayHasEnded, localDate, localTime } from '../../src/dates.js';
import { backfillOf, declaredSchedules, type ScheduleDeclaration } from '../../src/schedules.js';
import { applySchedules } from '../../src/temporal/schedule-sync.js';
import type { DailyReportsSummary } from '../../src/daily-reports-contract.js';
import { reportRows, seedDemo, truthRows } from '../support/database.js';
import { readMailbox } from '../support/mailbox.js';
import { localDayStart } from '../support/truth.js';
import { temporalCli } from '../support/temporal-cli.js';
import { startTemporalTestEnv, type TemporalTestEnv } from '../support/temporal.js';

let env: TemporalTestEnv;
const prefix = `test-${crypto.randomBytes(3).toString('hex')}-`;

/** The real nightly schedule as src/schedules.ts declares it, under a test id. */
function declaration(overrides: { id?: string; at?: string } = {}): ScheduleDeclaration {
  const [daily] = declaredSchedules(loadConfig({ DAILY_REPORTS_AT: overrides.at ?? '02:00', REPORT_BATCH_SIZE: '10' }));
  const id = overrides.id ?? `${prefix}daily-reports`;
  return { ...daily!, id, workflowIdPrefix: id };
}

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

/** Final rows generated before their day ended in the customer's zone (computed by PostgreSQL, not src/dates.ts): must be none. */
async function finalRowsBeforeTheirDayEnded(): Promise<number> {
  const { rows } = await env.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM daily_reports r JOIN customers c ON c.id = r.customer_id
      WHERE r.final AND r.generated_at < ${localDayStart('(r.report_date + 1)', 'c.time_zone')}`,
  );
  return rows[0]!.n;
}

async function activeCustomers(filter = 'true', values: unknown[] = []): Promise<number[]> {
  const { rows } = await env.db.pool.query(`SELECT id FROM customers WHERE active AND ${filter} ORDER BY id`, values);
  return rows.map((r) => Number(r.id));
}

describe('the nightly schedule, declared in code', () => {
  it('apply is idempotent, applies a changed spec, keeps a pause, and prunes only with --prune', async () => {
    expect(await apply([declaration()])).toMatchObject({ created: [`${prefix}daily-reports`], updated: [], unchanged: [] });
    expect(await apply([declaration()])).toMatchObject({ created: [], updated: [], unchanged: [`${prefix}daily-reports`] });

    const handle = env.client.schedule.getHandle(`${prefix}daily-reports`);
    await handle.pause('maintenance window');
    expect(await apply([declaration({ at: '05:30' })])).toMatchObject({ updated: [`${prefix}daily-reports`] });
    const described = await handle.describe();
    // Every hour at minute 30 (zone-free), each run covering the hour before it; none ever dropped.
    expect(described.spec.intervals).toEqual([{ every: 3_600_000, offset: 1_800_000 }]);
    expect(described.state).toMatchObject({ paused: true, note: 'maintenance window' });
    expect(described.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ALL);
    expect(described.action).toMatchObject({ workflowType: 'dailyReports', args: [{ at: '05:30', windowMinutes: 60, reportOptions: { batchSize: 10 } }] });

    // A schedule code no longer declares is reported, and deleted only with prune.
    await apply([declaration({ id: `${prefix}old-job` })]);
    const listed = await eventually(() => apply([declaration({ at: '05:30' })]), (r) => r.undeclared.length > 0);
    expect(listed.undeclared).toEqual([{ id: `${prefix}old-job`, managed: true }]);
    expect(listed.pruned).toEqual([]);
    const pruned = await apply([declaration({ at: '05:30' })], true);
    expect(pruned.pruned).toEqual([`${prefix}old-job`]);
    await expect(env.client.schedule.getHandle(`${prefix}old-job`).describe()).rejects.toThrow(/not found/i);
  });

  it("triggered at a chosen local time, it reports yesterday for exactly the zone whose clock just passed `at` (final, after the day ended)", async () => {
    // Orders up to today, so yesterday has some in every zone.
    const today = new Date().toISOString().slice(0, 10);
    await seedDemo(env.db.pool, { endDate: today, days: 3 });
    // `at` five minutes ago on a UTC clock: only UTC customers' clocks passed it in the last hour.
    const at = localTime(new Date(Date.now() - 5 * 60_000), 'UTC');
    const id = `${prefix}cli-ops`;
    await apply([declaration({ id, at })]);
    expect((await temporalCli(['schedule', 'toggle', '--schedule-id', id, '--pause', '--reason', 'paused from temporal CLI'])).code).toBe(0);
    expect((await env.client.schedule.getHandle(id).describe()).state).toMatchObject({ paused: true, note: 'paused from temporal CLI' });
    expect((await temporalCli(['schedule', 'toggle', '--schedule-id', id, '--unpause', '--reason', 'back'])).code).toBe(0);
    expect((await env.client.schedule.getHandle(id).describe()).state.paused).toBe(false);
    expect((await temporalCli(['schedule', 'trigger', '--schedule-id', id])).code).toBe(0);
    const described = await eventually(() => env.client.schedule.getHandle(id).describe(), (d) => d.info.recentActions.length > 0);
    const summary: DailyReportsSummary = await env.client.workflow.getHandle(described.info.recentActions[0]!.action.workflow.workflowId).result();

    const yesterday = localDate(new Date(Date.now() - 5 * 60_000 - 86_400_000), 'UTC');
    expect(summary.days.map((d) => [d.day, d.timeZones])).toEqual([[yesterday, ['UTC']]]);
    const utc = await activeCustomers(`time_zone = 'UTC'`);
    expect(summary.days[0]).toMatchObject({ outcome: 'completed', customersProcessed: utc.length, failures: 0 });
    expect(await reportRows(env.db.pool, utc, yesterday, yesterday)).toEqual(await truthRows(env.db.pool, utc, yesterday, yesterday));
    const { rows } = await env.db.pool.query(`SELECT DISTINCT customer_id, final FROM daily_reports WHERE report_date = $1`, [yesterday]);
    expect(rows.map((r) => Number(r.customer_id)).sort((a, b) => a - b)).toEqual(utc);
    expect(rows.every((r) => r.final === true)).toBe(true);
    expect(await finalRowsBeforeTheirDayEnded()).toBe(0);
  });

  it('for every demo zone: triggered just after its clock passed `at`, it reports that zone\'s yesterday as final, and no day that has not ended', async () => {
    const today = new Date().toISOString().slice(0, 10);
    await seedDemo(env.db.pool, { endDate: today, days: 4 });
    const zones = (await env.db.pool.query('SELECT DISTINCT time_zone FROM customers WHERE active ORDER BY 1')).rows.map((r) => r.time_zone as string);
    expect(zones).toEqual(expect.arrayContaining(['Pacific/Honolulu', 'Pacific/Kiritimati', 'Asia/Kathmandu', 'America/Santiago', 'America/Los_Angeles', 'Asia/Tokyo']));
    const id = `${prefix}every-zone`;
    for (const zone of zones) {
      const justBefore = new Date(Date.now() - 3 * 60_000);
      await apply([declaration({ id, at: localTime(justBefore, zone) })]);
      const handle = env.client.schedule.getHandle(id);
      const before = (await handle.describe()).info.recentActions.length;
      await handle.trigger();
      const described = await eventually(() => handle.describe(), (d) => d.info.recentActions.length > before && d.info.runningActions.length === 0);
      const run = described.info.recentActions.at(-1)!.action.workflow.workflowId;
      const summary: DailyReportsSummary = await env.client.workflow.getHandle(run).result();
      const now = new Date();
      const yesterday = addDays(localDate(justBefore, zone), -1);
      const mine = summary.days.find((day) => day.timeZones.includes(zone));
      expect(mine?.day, `${zone}: ${JSON.stringify(summary.days)}`).toBe(yesterday);
      for (const day of summary.days) {
        for (const dueZone of day.timeZones) expect(dayHasEnded(day.day, dueZone, now), `${dueZone} ${day.day}`).toBe(true);
      }
      const customers = await activeCustomers('time_zone = $1', [zone]);
      const { rows } = await env.db.pool.query(`SELECT bool_and(final) AS final, count(*)::int AS n FROM daily_reports WHERE customer_id = ANY($1) AND report_date = $2`, [customers, yesterday]);
      expect(rows[0], zone).toEqual({ final: true, n: customers.length });
      expect(await finalRowsBeforeTheirDayEnded()).toBe(0);
    }
    const mail = readMailbox(env.sink.dir);
    expect(mail.length).toBeGreaterThan(0);
    expect(mail.every((m) => m.final)).toBe(true);
  }, 120_000);

  it('a backfill of two days reports every zone\'s every day exactly once, and emails each once', async () => {
    await seedDemo(env.db.pool);
    const id = `${prefix}backfill`;
    const schedule = declaration({ id });
    await apply([schedule]);
    const window = backfillOf(schedule)!.window('2026-11-08', '2026-11-09');
    await env.client.schedule.getHandle(id).backfill({ ...window, overlap: ScheduleOverlapPolicy.BUFFER_ALL });

    const runs = Math.floor((window.end.getTime() - window.start.getTime()) / 3_600_000) + 1;
    const described = await eventually(
      () => env.client.schedule.getHandle(id).describe(),
      (d) => d.info.numActionsTaken >= runs && d.info.runningActions.length === 0,
      180_000,
    );
    expect(described.info).toMatchObject({ numActionsTaken: runs, runningActions: [] });
    const reported: string[] = [];
    for await (const run of env.client.workflow.list({ query: `WorkflowType = 'dailyReports' AND WorkflowId STARTS_WITH '${id}'` })) {
      const summary: DailyReportsSummary = await env.client.workflow.getHandle(run.workflowId).result();
      for (const day of summary.days) for (const zone of day.timeZones) reported.push(`${zone} ${day.day}`);
    }
    // Each zone's days once; the first and last windows also hold Honolulu's day before and Kiritimati's day after.
    expect(new Set(reported).size).toBe(reported.length);
    const zones = (await env.db.pool.query('SELECT DISTINCT time_zone FROM customers WHERE active')).rows.map((r) => r.time_zone as string);
    const expected = [
      ...zones.flatMap((zone) => ['2026-11-08', '2026-11-09'].map((day) => `${zone} ${day}`)),
      'Pacific/Honolulu 2026-11-07', 'Pacific/Kiritimati 2026-11-10',
    ];
    expect(reported.sort()).toEqual(expected.sort());

    const active = await activeCustomers();
    expect(await reportRows(env.db.pool, active, '2026-11-08', '2026-11-09')).toEqual(await truthRows(env.db.pool, active, '2026-11-08', '2026-11-09'));
    expect(await finalRowsBeforeTheirDayEnded()).toBe(0);
    // One email per customer and day with orders, never two.
    const mail = readMailbox(env.sink.dir).filter((m) => m.period === '2026-11-08..2026-11-08' || m.period === '2026-11-09..2026-11-09');
    const perCustomerDay = new Map<string, number>();
    for (const m of mail) perCustomerDay.set(`${m.customerId} ${m.period}`, (perCustomerDay.get(`${m.customerId} ${m.period}`) ?? 0) + 1);
    expect([...perCustomerDay.values()].every((n) => n === 1)).toBe(true);
    const { rows: withOrders } = await env.db.pool.query(
      `SELECT count(*)::int AS n FROM daily_reports r JOIN customers c ON c.id = r.customer_id AND c.active
        WHERE r.report_date BETWEEN '2026-11-08' AND '2026-11-09' AND r.order_count > 0`,
    );
    expect(perCustomerDay.size).toBe(withOrders[0]!.n);
  }, 240_000);
});
