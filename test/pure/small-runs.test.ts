import { expect, it } from 'vitest';
import { LIMITS, resolveRegenerateInput } from '../../src/contracts.js';
import { CLAIM_LEASE_MS } from '../../src/services/email-claims.js';
import { isSmallRun, LOCAL_EMAIL_ATTEMPT_MS, SMALL_RUN_MAX_CUSTOMERS } from '../../src/workflows/small-runs.js';

const resolve = (customerIds?: number[]) => resolveRegenerateInput({ from: '2026-11-08', ...(customerIds ? { customerIds } : {}) }, new Date('2026-11-10T00:00:00Z'));

it('a run is small when it names at most SMALL_RUN_MAX_CUSTOMERS customers; a run over all active customers never is', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  expect(isSmallRun(resolve(ids(1)))).toBe(true);
  expect(isSmallRun(resolve(ids(SMALL_RUN_MAX_CUSTOMERS)))).toBe(true);
  expect(isSmallRun(resolve(ids(SMALL_RUN_MAX_CUSTOMERS + 1)))).toBe(false);
  expect(isSmallRun(resolve())).toBe(false);
});

it("a local email attempt ends before the claims it took could lapse, and is no shorter than any run's own attempt timeout may be", () => {
  expect(LOCAL_EMAIL_ATTEMPT_MS).toBeLessThan(CLAIM_LEASE_MS);
  expect(LOCAL_EMAIL_ATTEMPT_MS).toBeGreaterThanOrEqual(LIMITS.minEmailAttemptTimeoutSeconds * 1000);
});
