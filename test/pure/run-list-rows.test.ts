// The admin runs list, one row at a time: a run whose result its job's summary view cannot read
// shows "summary unavailable" and the rest of the page still renders; the result reads of a
// page run a few at a time. No Temporal: the visibility rows and results are made by hand.
import { describe, expect, it, vi } from 'vitest';
import type { RunTarget } from '../../src/admin/run-history.js';

interface HandInfo {
  type: string;
  workflowId: string;
  result: unknown;
}

// The client's decoder of raw visibility rows: here the "raw" rows are already decoded.
vi.mock('@temporalio/client/lib/helpers.js', () => ({
  executionInfoFromRaw: async (raw: HandInfo) => ({
    type: raw.type,
    workflowId: raw.workflowId,
    runId: `${raw.workflowId}-run`,
    status: { name: 'COMPLETED' },
    startTime: new Date('2026-11-10T00:00:00Z'),
    closeTime: new Date('2026-11-10T00:01:00Z'),
    memo: {},
    typedSearchAttributes: { get: () => undefined },
  }),
}));

const { listRunsPage, ROW_LOOKUPS_AT_ONCE, SUMMARY_UNAVAILABLE, summaryLine } = await import('../../src/admin/run-history.js');
const { purgeOldReportsJob } = await import('../../src/jobs/purge-old-reports.js');
const { runsTable } = await import('../../src/admin/views/run-views.js');

const goodPurge = {
  cutoff: '2025-10-06', retentionDays: 400, dryRun: true, wouldDelete: { reportRows: 12, emailRecords: 3 },
  reportRowsDeleted: 0, emailRecordsDeleted: 0, cancelled: false,
};

function handTarget(rows: HandInfo[]): { target: RunTarget; maxInFlight: () => number } {
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    options: { loadedDataConverter: {} },
    workflowService: { listWorkflowExecutions: async () => ({ executions: rows, nextPageToken: Buffer.alloc(0) }) },
    withDeadline: <T>(_deadline: number, work: () => Promise<T>) => work(),
    workflow: {
      getHandle: (workflowId: string) => ({
        result: async () => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inFlight -= 1;
          return rows.find((row) => row.workflowId === workflowId)!.result;
        },
      }),
    },
  };
  return {
    target: { client: client as never, namespace: 'default', taskQueue: 'reports', temporalUiUrl: 'http://localhost:8233' },
    maxInFlight: () => maxInFlight,
  };
}

describe('the runs list, row by row', () => {
  it('a completed run whose result does not fit its job\'s summary shape shows "summary unavailable"; the other rows and the page render', async () => {
    const { target } = handTarget([
      { type: purgeOldReportsJob.workflowType, workflowId: 'purge-old-reports:odd', result: { dryRun: true, note: 'not a purge summary' } },
      { type: purgeOldReportsJob.workflowType, workflowId: 'purge-old-reports:good', result: goodPurge },
    ]);
    const page = await listRunsPage(target, { limit: 25, withSummaries: true });
    expect(page.runs.map((run) => [run.workflowId, run.summaryText])).toEqual([
      ['purge-old-reports:odd', SUMMARY_UNAVAILABLE],
      ['purge-old-reports:good', purgeOldReportsJob.summary.describe(goodPurge)],
    ]);
    const table = runsTable(page.runs, { showCustomers: true }).value;
    expect(table).toContain(SUMMARY_UNAVAILABLE);
    expect(table).toContain('would delete 12 report rows');
  });

  it('summaryLine never throws, whatever the result', () => {
    for (const odd of [null, undefined, { dryRun: true }, { wouldDelete: null, dryRun: true }]) {
      expect(summaryLine(purgeOldReportsJob, odd)).toBe(SUMMARY_UNAVAILABLE);
    }
  });

  it(`reads the results of a page's completed runs at most ${ROW_LOOKUPS_AT_ONCE} at a time`, async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ type: purgeOldReportsJob.workflowType, workflowId: `purge-old-reports:${i}`, result: goodPurge }));
    const { target, maxInFlight } = handTarget(rows);
    const page = await listRunsPage(target, { limit: 40, withSummaries: true });
    expect(page.runs).toHaveLength(40);
    expect(maxInFlight()).toBeGreaterThan(1);
    expect(maxInFlight()).toBeLessThanOrEqual(ROW_LOOKUPS_AT_ONCE);
  });
});
