// `npm run test:faults`: the full fault-injection suite against the real stack, each
// scenario on a fresh run; prints the invariants table and exits 1 on any violation.
import { pino } from 'pino';
import { SCENARIOS } from '../test/faults/scenarios.js';
import { startOwnFaultStack } from '../test/faults/fault-stack.js';
import { formatTable, runScenario, violations, type ScenarioResult } from '../test/faults/run-scenario.js';
import { ensureWorkflowBundle } from '../src/workflow-bundle.js';
import { positiveInt, strictProgram } from '../src/cli/flags.js';
import { runMain } from '../src/cli/runtime.js';

const flags = strictProgram('test:faults', 'Crash, restart and cut every component mid-run; check that nothing is lost or sent twice.')
  .option('--customers <n>', 'customers in each run', positiveInt('--customers'), 1000)
  .option('--only <names>', `comma-separated scenarios (${SCENARIOS.map((s) => s.name).join(', ')})`)
  .option('--data-dir <dir>', 'where the suite keeps its own PostgreSQL and Temporal data', '.data-faults')
  .option('--postgres-port <n>', 'its own PostgreSQL port', positiveInt('--postgres-port'), 54379)
  .option('--temporal-port <n>', 'its own Temporal dev server port', positiveInt('--temporal-port'), 7293)
  .parse()
  .opts<{ customers: number; only?: string; dataDir: string; postgresPort: number; temporalPort: number }>();

runMain(async () => {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const chosen = flags.only ? SCENARIOS.filter((s) => flags.only!.split(',').includes(s.name)) : SCENARIOS;
  if (chosen.length === 0) throw new Error(`--only matched no scenario; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  await ensureWorkflowBundle();
  const stack = await startOwnFaultStack({ dataDir: flags.dataDir, postgresPort: flags.postgresPort, temporalPort: flags.temporalPort }, logger);
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of chosen) {
      process.stderr.write(`running ${scenario.name} (${flags.customers} customers)...\n`);
      const result = await runScenario(stack, scenario, flags.customers, logger);
      results.push(result);
      const problems = violations(result);
      process.stderr.write(`  ${problems.length ? `VIOLATED: ${problems.join('; ')}` : 'ok'} in ${result.seconds.toFixed(1)}s\n`);
    }
  } finally {
    await stack.close();
  }
  console.log(`\n${formatTable(results)}\n`);
  const failed = results.filter((r) => violations(r).length > 0);
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length > 0) process.exitCode = 1;
});
