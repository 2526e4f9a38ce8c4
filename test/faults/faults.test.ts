import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { sharedFaultStack } from './fault-stack.js';
import { formatTable, runScenario, violations } from './run-scenario.js';
import { SCENARIOS } from './scenarios.js';

/**
 * The reduced fault suite `npm test` runs so CI guards the invariants: a few hundred
 * customers, the worker killed with -9 mid-run, a 30 s SMTP outage, and the email worker cut
 * off from Temporal for 20 s (through proxies of the test's own, in front of the shared
 * server). The full suite (every scenario, 1,000 customers) is `npm run test:faults`.
 */
describe('faults (reduced suite)', () => {
  const stack = sharedFaultStack(inject('postgresAdminUrl'), inject('temporalAddress'));
  const logger = pino({ level: 'warn' });

  it.each(['worker-kill-9', 'smtp-outage-30s', 'worker-partition-20s'])('%s: nothing lost, nothing sent twice, no torn reads', async (name) => {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    const result = await runScenario(stack, scenario, 300, logger);
    console.log(formatTable([result]));
    expect(violations(result)).toEqual([]);
    expect(result.readerPolls).toBeGreaterThan(10); // the torn-read watcher really watched
  }, 660_000);
});
