import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { ALERT_SCENARIOS, alertViolations, formatAlertTable, runAlertScenario } from './alert-scenario.js';
import { sharedFaultStack } from './fault-stack.js';

/**
 * The alert fault scenario in `npm test` (issue #13's "done when"): a scheduled run fails, its
 * worker is killed with SIGKILL while the alert activity holds the alert's claim mid-send, a new
 * worker takes over after the lease: exactly one alert email. About 40 s, mostly waiting for the
 * heartbeat timeout and the dead attempt's lease. Also in `npm run test:faults`.
 */
describe('faults: alerts', () => {
  const stack = sharedFaultStack(inject('postgresAdminUrl'), inject('temporalAddress'));

  it('alert-worker-kill-9: one alert email, one alert record, the run\'s own failure unchanged', async () => {
    const result = await runAlertScenario(stack, ALERT_SCENARIOS[0], pino({ level: 'warn' }));
    console.log(formatAlertTable([result]));
    expect(alertViolations(result)).toEqual([]);
    expect(result).toMatchObject({ alertEmails: 1, distinctMessageIds: 1, alertRecords: 1, killedHoldingClaim: true });
    expect(result.claims).toBeGreaterThanOrEqual(2); // the dead attempt's claim, and the retry's
  }, 300_000);
});
