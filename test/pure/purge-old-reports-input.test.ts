import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { InvalidInputError, purgeWorkflowInput, resolvePurgeInput } from '../../src/purge-old-reports-contract.js';
import { purgeOldReportsJob, purgeOldReportsWorkflowId } from '../../src/jobs/purge-old-reports.js';
import { jobOf, declaredSchedules } from '../../src/schedules.js';

const now = new Date('2026-11-05T02:00:00Z');

function problemsOf(raw: unknown) {
  try {
    resolvePurgeInput(raw, now);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  throw new Error('expected the input to be rejected');
}

describe('resolvePurgeInput', () => {
  it('fills every default but the retention: every customer, deleting in batches of 1000, counting from the UTC day of `now`', () => {
    expect(resolvePurgeInput({ retentionDays: 400 }, now)).toEqual({ retentionDays: 400, asOf: '2026-11-05', cutoff: '2025-10-01', customerIds: null, dryRun: false, batchSize: 1000, activitiesPerRun: 100 });
  });

  it("counts the cutoff from the UTC day, whatever the hour: 23:59 and 00:00 UTC are a day apart", () => {
    expect(resolvePurgeInput({ retentionDays: 30 }, new Date('2026-11-05T23:59:59Z')).cutoff).toBe('2026-10-06');
    expect(resolvePurgeInput({ retentionDays: 30 }, new Date('2026-11-06T00:00:00Z')).cutoff).toBe('2026-10-07');
  });

  it('sorts customer ids and keeps the rest as given', () => {
    expect(resolvePurgeInput({ customerIds: [9, 2], dryRun: true, batchSize: 10, retentionDays: 3650 }, now))
      .toEqual({ retentionDays: 3650, asOf: '2026-11-05', cutoff: '2016-11-07', customerIds: [2, 9], dryRun: true, batchSize: 10, activitiesPerRun: 100 });
  });

  it.each([
    [{}, 'retentionDays', 'retentionDays is required: the days of reports to keep (REPORT_RETENTION_DAYS)'],
    [undefined, 'retentionDays', 'retentionDays is required: the days of reports to keep (REPORT_RETENTION_DAYS)'],
    [{ retentionDays: null }, 'retentionDays', 'retentionDays must be a whole number of days from 30 to 3650'],
    [{ retentionDays: 29 }, 'retentionDays', 'retentionDays must be a whole number of days from 30 to 3650 (a shorter retention would delete recent reports)'],
    [{ retentionDays: 3651 }, 'retentionDays', 'retentionDays must be a whole number of days from 30 to 3650'],
    [{ retentionDays: 45.5 }, 'retentionDays', 'retentionDays must be a whole number of days from 30 to 3650'],
    [{ retentionDays: '90' }, 'retentionDays', 'retentionDays must be a whole number of days from 30 to 3650'],
    [{ customerIds: [] }, 'customerIds', 'customerIds must name at least one customer, or be left out for every customer'],
    [{ customerIds: [3, 3] }, 'customerIds', 'customerIds must not repeat an id'],
    [{ customerIds: Array.from({ length: 101 }, (_, i) => i + 1) }, 'customerIds', 'customerIds may name at most 100 customers; leave it out to purge every customer'],
    [{ customerIds: [0] }, 'customerIds', 'customerIds.0'],
    [{ dryRun: 'yes' }, 'dryRun', 'dryRun must be true or false'],
    [{ batchSize: 10_001 }, 'batchSize', 'batchSize must be a whole number from 1 to 10000'],
    [{ activitiesPerRun: 0 }, 'activitiesPerRun', 'activitiesPerRun must be a whole number from 1 to 1000'],
    [{ before: '2026-01-01' }, 'input', 'input unknown field(s): before'],
    ['everything', 'input', 'input must be a JSON object'],
  ])('refuses %j, naming the field and the rule', (raw, field, message) => {
    // A valid retention unless the case is about it, so each case shows its own problem first.
    const [problem] = problemsOf(raw !== null && typeof raw === 'object' && field !== 'retentionDays' ? { retentionDays: 400, ...raw } : raw);
    expect(problem!.field).toBe(field);
    expect(problem!.message.startsWith(message)).toBe(true);
  });

  it('fixes the day at the door: a run started at 23:59:59 and taken up after midnight deletes what its id says', () => {
    const atDoor = resolvePurgeInput({ retentionDays: 30 }, new Date('2026-11-05T23:59:59Z'));
    const inWorkflow = resolvePurgeInput(purgeWorkflowInput(atDoor), new Date('2026-11-06T00:00:02Z'));
    expect(inWorkflow.cutoff).toBe(atDoor.cutoff);
    expect(purgeOldReportsWorkflowId(inWorkflow)).toBe(purgeOldReportsWorkflowId(atDoor));
  });

  it('refuses an asOf after today (UTC): it would delete recent reports', () => {
    expect(problemsOf({ retentionDays: 400, asOf: '2026-11-07' })).toEqual([{ field: 'asOf', message: 'asOf (2026-11-07) must not be after today (2026-11-05, UTC)' }]);
    expect(resolvePurgeInput({ asOf: '2026-11-01', retentionDays: 30 }, now).cutoff).toBe('2026-10-02');
  });

  it('gives no grace: at 23:30 UTC tomorrow is still refused (it would keep one day less than the minimum)', () => {
    const lateEvening = new Date('2026-11-05T23:30:00Z');
    expect(() => resolvePurgeInput({ retentionDays: 30, asOf: '2026-11-06' }, lateEvening)).toThrow('asOf (2026-11-06) must not be after today (2026-11-05, UTC)');
    expect(resolvePurgeInput({ retentionDays: 30, asOf: '2026-11-05' }, lateEvening).cutoff).toBe('2026-10-06');
  });

  it('round-trips: the workflow input resolves to the same run at the same time', () => {
    const resolved = resolvePurgeInput({ customerIds: [4], retentionDays: 90 }, now);
    expect(resolvePurgeInput(purgeWorkflowInput(resolved), now)).toEqual(resolved);
    expect(purgeWorkflowInput(resolvePurgeInput({ retentionDays: 400 }, now))).toEqual({ retentionDays: 400, asOf: '2026-11-05', dryRun: false, batchSize: 1000 });
  });
});

describe('purge-old-reports ids and doors', () => {
  const resolve = (raw: object) => resolvePurgeInput({ retentionDays: 400, ...raw }, now);

  it('names scope, cutoff, dry run and a non-default queue', () => {
    expect(purgeOldReportsWorkflowId(resolve({}))).toBe('purge-old-reports:all:before-2025-10-01');
    expect(purgeOldReportsWorkflowId(resolve({ customerIds: [7, 3], dryRun: true }), 'reports-eu')).toBe('purge-old-reports:customer-3,7:before-2025-10-01:dry-run@reports-eu');
    expect(purgeOldReportsWorkflowId(resolve({ retentionDays: 30 }))).toBe('purge-old-reports:all:before-2026-10-06');
  });

  it('gives different sets of more than 5 customers different ids, the same set in any order the same', () => {
    const a = purgeOldReportsWorkflowId(resolve({ customerIds: [1, 2, 3, 4, 5, 9] }));
    const b = purgeOldReportsWorkflowId(resolve({ customerIds: [1, 2, 3, 4, 6, 9] }));
    expect(a).toMatch(/^purge-old-reports:customers-6-1\.\.9-[0-9a-f]{16}:before-2025-10-01$/);
    expect(a).not.toBe(b);
    expect(purgeOldReportsWorkflowId(resolve({ customerIds: [9, 5, 4, 3, 2, 1] }))).toBe(a);
  });

  it('takes its retention from REPORT_RETENTION_DAYS, which is checked against the same rule', () => {
    expect(purgeOldReportsJob.defaultsFromConfig!(loadConfig({ REPORT_RETENTION_DAYS: '730' }))).toEqual({ retentionDays: 730 });
    expect(() => loadConfig({ REPORT_RETENTION_DAYS: '7' })).toThrow(/REPORT_RETENTION_DAYS: must be a whole number of days from 30 to 3650/);
  });

  it('is scheduled weekly, Sunday 03:30 UTC, skipping overlaps, with the configured retention', () => {
    const purge = declaredSchedules(loadConfig({ REPORT_RETENTION_DAYS: '90' })).find((d) => d.id === 'purge-old-reports')!;
    expect(purge).toMatchObject({ job: 'purge-old-reports', input: { retentionDays: 90 }, overlap: 'SKIP', catchupWindow: '1 day' });
    expect(jobOf(purge).workflowType).toBe('purgeOldReports');
    // Every 7 days from the epoch (a Thursday) plus 3 days 03:30: Sunday 2026-11-08 03:30 UTC is one of its times.
    const sunday = Date.parse('2026-11-08T03:30:00Z');
    expect((sunday - 4530 * 60_000) % (7 * 86_400_000)).toBe(0);
    expect(jobOf(purge).doors.schedule!.covers(new Date(sunday), purge.input))
      .toBe('report rows and email records of days before 2026-08-10 (90 days before 2026-11-08, UTC)');
    expect(jobOf(purge).doors.schedule!.backfill).toBeUndefined();
  });
});
