import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { sharedFaultStack } from './fault-stack.js';
import { IMPORT_SCENARIOS } from './import-scenarios.js';
import { formatImportTable, importViolations, runImportScenario } from './run-import-scenario.js';
import { formatTable, runScenario, violations } from './run-scenario.js';
import { SCENARIOS } from './scenarios.js';

/**
 * The reduced fault suite `npm test` runs so CI guards the invariants: a few hundred
 * customers, the worker killed with -9 mid-run, a 30 s SMTP outage, and the email worker cut
 * off from Temporal for 20 s (through proxies of the test's own, in front of the shared
 * server); and one import, its worker killed with -9 mid-page. The full suite (every
 * scenario, 1,000 customers) is `npm run test:faults`.
 */
describe('faults (reduced suite)', () => {
  const stack = sharedFaultStack(inject('postgresAdminUrl'), inject('temporalAddress'));
  const logger = pino({ level: 'warn' });

  it.each(['worker-kill-9', 'smtp-outage-30s', 'worker-partition-20s'])('%s: nothing lost, nothing sent twice, no torn reads', async (name) => {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    const result = await runScenario(stack, scenario, 300, logger);
    console.log(formatTable([result]));
    if (result.diagnosis) console.log(result.diagnosis);
    expect(violations(result)).toEqual([]);
    expect(result.readerPolls).toBeGreaterThan(10); // the torn-read watcher really watched
  }, 660_000);

  it('import-worker-kill-9: orders equal the shop field by field, the cursor never ahead of its rows, reports true, one correction per changed emailed day and revision, no other email', async () => {
    const scenario = IMPORT_SCENARIOS.find((s) => s.name === 'import-worker-kill-9')!;
    const result = await runImportScenario(stack, scenario, 300, logger);
    console.log(formatImportTable([result]));
    expect(importViolations(result)).toEqual([]);
    expect(result.changes).toBeGreaterThan(0); // the shop changed imported orders mid-import
    expect(result.correctionsSent).toBeGreaterThan(0); // and emailed final days: corrections were due and sent
  }, 400_000);
});
