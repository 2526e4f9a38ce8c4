import { describe, expect, it } from 'vitest';
import { emptySummary, hasFailures, MAX_LISTED_FAILURES, recordFailedRange, recordFailures, type RegenerateReportsSummary } from '../../src/contracts.js';

const fresh = () => emptySummary({ from: '2026-11-04', to: '2026-11-04', dryRun: false });

describe('the summary carried across continue-as-new stays small', () => {
  it('lists failed id ranges up to the cap and counts the rest', () => {
    const summary = fresh();
    for (let i = 0; i < MAX_LISTED_FAILURES + 250; i++) {
      recordFailedRange(summary, { firstId: i * 500 + 1, lastId: (i + 1) * 500, step: 'regenerate', reason: 'database is down' });
    }
    expect(summary.failedRanges).toHaveLength(MAX_LISTED_FAILURES);
    expect(summary.failedRanges.at(-1)).toMatchObject({ firstId: (MAX_LISTED_FAILURES - 1) * 500 + 1 });
    expect(summary.failedRangesNotListed).toBe(250);
    expect(hasFailures(summary)).toBe(true);
  });

  it('counts on from a summary of a run started before the cap (no counter yet)', () => {
    const { failedRangesNotListed: _none, ...old } = fresh();
    const summary: RegenerateReportsSummary = {
      ...old,
      failedRanges: Array.from({ length: MAX_LISTED_FAILURES }, (_, i) => ({ firstId: i + 1, lastId: i + 1, step: 'email' as const, reason: 'x' })),
    };
    recordFailedRange(summary, { firstId: 1000, lastId: 1001, step: 'email', reason: 'x' });
    expect(summary.failedRanges).toHaveLength(MAX_LISTED_FAILURES);
    expect(summary.failedRangesNotListed).toBe(1);
  });

  it('lists failed customers up to the same cap and counts the rest', () => {
    const summary = fresh();
    recordFailures(summary, Array.from({ length: MAX_LISTED_FAILURES + 3 }, (_, i) => ({ customerId: i + 1, step: 'regenerate' as const, reason: 'bad zone' })));
    expect(summary.failures).toHaveLength(MAX_LISTED_FAILURES);
    expect(summary.failuresNotListed).toBe(3);
  });

  it('has no failures when nothing failed', () => {
    expect(hasFailures(fresh())).toBe(false);
  });
});
