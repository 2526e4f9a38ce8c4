import { describe, expect, it } from 'vitest';
import { InvalidInputError, LIMITS, resolveRegenerateInput } from '../../src/contracts.js';
import { regenerateReportsWorkflowId } from '../../src/jobs/regenerate-reports.js';

const now = new Date('2026-11-05T02:00:00Z');

function problemsOf(raw: unknown): string[] {
  try {
    resolveRegenerateInput(raw, now);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems.map((problem) => problem.message);
    throw error;
  }
  throw new Error('expected the input to be rejected');
}

describe('resolveRegenerateInput', () => {
  it('fills every default: all active customers, yesterday (UTC), email on', () => {
    expect(resolveRegenerateInput(undefined, now)).toEqual({
      customerIds: null, from: '2026-11-04', to: '2026-11-04',
      sendEmail: true, resend: false, dryRun: false, batchSize: 500, parallelism: 2, batchesPerRun: 100, batchesPerActivity: 10,
      emailAttemptTimeoutSeconds: 900,
    });
  });

  it("computes the default period as yesterday in the given time zone (a schedule's zone)", () => {
    // 02:00 on 2026-11-05 in Tokyo is 17:00 UTC on 2026-11-04: Tokyo's yesterday is the 4th.
    const tokyo = new Date('2026-11-04T17:00:00Z');
    expect(resolveRegenerateInput({ timeZone: 'Asia/Tokyo' }, tokyo)).toMatchObject({ from: '2026-11-04', to: '2026-11-04' });
    expect(resolveRegenerateInput({}, tokyo)).toMatchObject({ from: '2026-11-03', to: '2026-11-03' });
    expect(problemsOf({ timeZone: 'Mars/Base' }).join()).toContain('timeZone must be an IANA time zone');
  });

  it('takes a single day from either bound and sorts customer ids', () => {
    const input = resolveRegenerateInput({ customerIds: [7, 3], from: '2026-10-01' }, now);
    expect(input).toMatchObject({ customerIds: [3, 7], from: '2026-10-01', to: '2026-10-01' });
    expect(resolveRegenerateInput({ to: '2026-10-02' }, now)).toMatchObject({ from: '2026-10-02', to: '2026-10-02' });
  });

  it.each([
    [{ from: '2026-13-01' }, 'from is not a calendar date'],
    [{ from: '2026-02-30' }, 'from is not a calendar date'],
    [{ to: '5 Nov' }, 'to must be a date written YYYY-MM-DD'],
    [{ from: '2026-11-05', to: '2026-11-01' }, 'from (2026-11-05) must not be after to (2026-11-01)'],
    [{ from: '2025-01-01', to: '2026-11-01' }, `the maximum is ${LIMITS.maxRangeDays}`],
    [{ customerIds: [] }, 'customerIds must name at least one customer'],
    [{ customerIds: [1, 1] }, 'customerIds must not repeat an id'],
    [{ customerIds: ['1'] }, 'customerIds.0 must be a list of customer ids'],
    [{ customerIds: [0] }, 'customerIds.0'],
    [{ customerIds: 5 }, 'customerIds must be a list of customer ids'],
    [{ customerIds: Array.from({ length: LIMITS.maxCustomerIds + 1 }, (_, i) => i + 1) }, `at most ${LIMITS.maxCustomerIds}`],
    [{ sendEmail: 'yes' }, 'sendEmail must be true or false'],
    [{ resend: true, sendEmail: false }, 'resend needs sendEmail'],
    [{ customerId: 1 }, 'unknown field(s): customerId'],
    ['all', 'must be a JSON object'],
    [{ batchSize: 0 }, 'batchSize'],
    [{ batchesPerActivity: 0 }, `batchesPerActivity must be a whole number from 1 to ${LIMITS.maxBatchesPerActivity}`],
    [{ emailAttemptTimeoutSeconds: 9 }, 'emailAttemptTimeoutSeconds must be a whole number of seconds from 10 to 7200'],
    [{ emailAttemptTimeoutSeconds: 7201 }, 'emailAttemptTimeoutSeconds must be a whole number of seconds from 10 to 7200'],
    [{ emailAttemptTimeoutSeconds: 60.5 }, 'emailAttemptTimeoutSeconds must be a whole number of seconds from 10 to 7200'],
    [{ batchSize: 5000, batchesPerActivity: 5 }, `batchSize × batchesPerActivity is 25000 customers per activity; the maximum is ${LIMITS.maxCustomersPerActivity}`],
  ])('rejects %j naming the field and the rule', (raw, expected) => {
    expect(problemsOf(raw).join('; ')).toContain(expected);
  });
});

describe('batchesPerActivity', () => {
  it('defaults to fewer batches per activity when batches are large, so any valid batch size stays valid', () => {
    expect(resolveRegenerateInput({ batchSize: 500 }, now).batchesPerActivity).toBe(10);
    expect(resolveRegenerateInput({ batchSize: LIMITS.maxBatchSize }, now).batchesPerActivity).toBe(LIMITS.maxCustomersPerActivity / LIMITS.maxBatchSize);
    expect(resolveRegenerateInput({ batchSize: 100, batchesPerActivity: 50 }, now).batchesPerActivity).toBe(50);
  });
});

describe('validation problems are data', () => {
  it('name the field each is about, so a form places it without reading the message', () => {
    try {
      resolveRegenerateInput({ from: '2026-11-05', to: '2026-11-01', customerIds: [1, 1], sendEmail: 'yes' }, now);
      throw new Error('expected a refusal');
    } catch (error) {
      expect((error as InvalidInputError).problems).toEqual([{ field: 'sendEmail', message: 'sendEmail must be true or false' }]);
    }
    try {
      resolveRegenerateInput({ from: '2025-01-01', to: '2026-11-01', customerIds: [1, 1], batchSize: 5000, batchesPerActivity: 5 }, now);
      throw new Error('expected a refusal');
    } catch (error) {
      expect((error as InvalidInputError).problems.map((problem) => problem.field)).toEqual(['to', 'customerIds', 'batchesPerActivity']);
    }
  });
});

describe('regenerateReportsWorkflowId', () => {
  it('says scope and period', () => {
    const all = resolveRegenerateInput({}, now);
    expect(regenerateReportsWorkflowId(all)).toBe('regenerate-reports:all:2026-11-04');
    const some = resolveRegenerateInput({ customerIds: [42], from: '2026-11-01', to: '2026-11-03' }, now);
    expect(regenerateReportsWorkflowId(some)).toBe('regenerate-reports:customer-42:2026-11-01..2026-11-03');
    const many = resolveRegenerateInput({ customerIds: [6, 2, 3, 4, 5, 1], dryRun: true }, now);
    expect(regenerateReportsWorkflowId(many)).toBe('regenerate-reports:customers-6-1..6-3c99d8f077b0d6aa:2026-11-04:dry-run');
    expect(regenerateReportsWorkflowId(some, 'reports-staging')).toBe('regenerate-reports:customer-42:2026-11-01..2026-11-03@reports-staging');
  });

  it('a run limited to time zones names them, so it never blocks a run over every zone (or other zones) for the same day', () => {
    const zones = resolveRegenerateInput({ customerTimeZones: ['Pacific/Honolulu', 'America/Los_Angeles'] }, now);
    expect(zones.customerTimeZones).toEqual(['America/Los_Angeles', 'Pacific/Honolulu']);
    expect(regenerateReportsWorkflowId(zones)).toBe('regenerate-reports:all-in-America/Los_Angeles,Pacific/Honolulu:2026-11-04');
    const many = regenerateReportsWorkflowId(resolveRegenerateInput({ customerTimeZones: ['UTC', 'Asia/Tokyo', 'Europe/Berlin', 'Asia/Kolkata'] }, now));
    expect(many).toMatch(/^regenerate-reports:all-in-4-zones-[0-9a-f]{16}:2026-11-04$/);
    expect(regenerateReportsWorkflowId(resolveRegenerateInput({ customerTimeZones: ['UTC', 'Asia/Tokyo', 'Europe/Berlin', 'Asia/Kathmandu'] }, now))).not.toBe(many);
  });

  it('refuses time zones together with explicit customers, unknown zones and repeats', () => {
    expect(problemsOf({ customerTimeZones: ['UTC'], customerIds: [1] }).join()).toContain('customerTimeZones limits a run over all active customers');
    expect(problemsOf({ customerTimeZones: ['Mars/Base'] }).join()).toContain('customerTimeZones.0 must be an IANA time zone');
    expect(problemsOf({ customerTimeZones: ['UTC', 'UTC'] }).join()).toContain('customerTimeZones must not repeat a zone');
    expect(problemsOf({ customerTimeZones: [] }).join()).toContain('customerTimeZones must name at least one time zone');
  });
});
