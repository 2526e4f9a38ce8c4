import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, reportTuning } from '../../src/config.js';
import { LIMITS, resolveRegenerateInput } from '../../src/contracts.js';

/** The message loadConfig fails with, or a failure if it does not. */
function configErrorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('run-tuning settings are checked at start-up against the workflow input limits', () => {
  it.each([
    [{ REPORT_BATCH_SIZE: '6000' }, `REPORT_BATCH_SIZE: must be a whole number from 1 to ${LIMITS.maxBatchSize}`],
    [{ REPORT_BATCH_SIZE: 'ten' }, `REPORT_BATCH_SIZE: must be a whole number from 1 to ${LIMITS.maxBatchSize}`],
    [{ REPORT_PARALLELISM: '64' }, `REPORT_PARALLELISM: must be a whole number from 1 to ${LIMITS.maxParallelism}`],
    [{ REPORT_PARALLELISM: '0' }, `REPORT_PARALLELISM: must be a whole number from 1 to ${LIMITS.maxParallelism}`],
    [{ REPORT_BATCHES_PER_ACTIVITY: '51' }, `REPORT_BATCHES_PER_ACTIVITY: must be a whole number from 1 to ${LIMITS.maxBatchesPerActivity}`],
    [
      { REPORT_BATCH_SIZE: '5000', REPORT_BATCHES_PER_ACTIVITY: '5' },
      `REPORT_BATCH_SIZE × REPORT_BATCHES_PER_ACTIVITY is 25000 customers per activity; the maximum is ${LIMITS.maxCustomersPerActivity}`,
    ],
  ])('refuses %j, naming the variable and the rule', (env, message) => {
    expect(configErrorOf(env)).toContain(message);
  });

  it('lists every bad setting at once', () => {
    const message = configErrorOf({ REPORT_BATCH_SIZE: '6000', REPORT_PARALLELISM: '64' });
    expect(message).toContain('REPORT_BATCH_SIZE');
    expect(message).toContain('REPORT_PARALLELISM');
  });

  it('accepts the limits themselves, and every accepted setting makes valid run input', () => {
    for (const env of [
      { REPORT_BATCH_SIZE: String(LIMITS.maxBatchSize), REPORT_PARALLELISM: String(LIMITS.maxParallelism) },
      { REPORT_BATCH_SIZE: '400', REPORT_BATCHES_PER_ACTIVITY: String(LIMITS.maxBatchesPerActivity) },
      {},
    ]) {
      const tuning = reportTuning(loadConfig(env));
      expect(() => resolveRegenerateInput(tuning, new Date())).not.toThrow();
    }
  });

  it('passes REPORT_BATCHES_PER_ACTIVITY to runs only when it is set (else the input default, which shrinks for large batches)', () => {
    expect(reportTuning(loadConfig({ REPORT_BATCHES_PER_ACTIVITY: '3' }))).toEqual({ batchSize: 500, parallelism: 2, batchesPerActivity: 3 });
    expect(reportTuning(loadConfig({}))).toEqual({ batchSize: 500, parallelism: 2 });
  });
});

describe('the nightly schedule settings', () => {
  it('refuses DAILY_REPORTS_TIME_ZONE, which no longer means anything, instead of ignoring it', () => {
    expect(configErrorOf({ DAILY_REPORTS_TIME_ZONE: 'Europe/Berlin' })).toContain(
      "DAILY_REPORTS_TIME_ZONE: is no longer used: every customer's report is made at DAILY_REPORTS_AT in the customer's own time zone",
    );
    expect(configErrorOf({ DAILY_REPORTS_AT: '2am' })).toContain('DAILY_REPORTS_AT: must be a time of day written HH:MM');
  });
});

describe('the worker settings', () => {
  it("leaves the workflow task slots to the SDK unless set, and refuses fewer than the SDK needs", () => {
    expect(loadConfig({}).WORKER_MAX_WORKFLOW_TASKS).toBeUndefined();
    expect(loadConfig({ WORKER_MAX_WORKFLOW_TASKS: '4' }).WORKER_MAX_WORKFLOW_TASKS).toBe(4);
    expect(configErrorOf({ WORKER_MAX_WORKFLOW_TASKS: '1' })).toContain('WORKER_MAX_WORKFLOW_TASKS: must be a whole number from 2 to 1000 (the SDK needs 2 for its sticky queue)');
    expect(configErrorOf({ WORKER_MAX_WORKFLOW_TASKS: 'many' })).toContain('WORKER_MAX_WORKFLOW_TASKS: must be a whole number from 2 to 1000');
  });
});
