// `npm run test:faults`: the full fault-injection suite against the real stack, each
// scenario on a fresh run; prints the invariants table and exits 1 on any violation.
// `npm run test:cluster` (--cluster): the same suite on the multi-process Temporal cluster
// (npm run cluster's), every scenario with at least 3 workers, plus the cluster's own faults.
import { pino, type Logger } from 'pino';
import { SCENARIOS } from '../test/faults/scenarios.js';
import { startOwnFaultStack, type FaultStack } from '../test/faults/fault-stack.js';
import { CLUSTER_SCENARIOS } from '../test/faults/cluster-scenarios.js';
import { startClusterFaultStack } from '../test/faults/cluster-stack.js';
import { formatTable, runScenario, violations, type ScenarioResult } from '../test/faults/run-scenario.js';
import { IMPORT_SCENARIOS } from '../test/faults/import-scenarios.js';
import { formatImportTable, importViolations, runImportScenario, type ImportScenarioResult } from '../test/faults/run-import-scenario.js';
import { ALERT_SCENARIOS, alertViolations, formatAlertTable, runAlertScenario, type AlertScenarioResult } from '../test/faults/alert-scenario.js';
import { ensureWorkflowBundles } from '../src/workflow-bundle.js';
import { positiveInt, strictProgram } from '../src/cli/flags.js';
import { runMain } from '../src/cli/runtime.js';

const flags = strictProgram('test:faults', 'Crash, restart and cut every component mid-run; check that nothing is lost or sent twice.')
  .option('--customers <n>', 'customers in each run (import scenarios: customers in the shop and in PostgreSQL)', positiveInt('--customers'), 1000)
  .option('--only <names>', `comma-separated scenarios (${[...SCENARIOS, ...IMPORT_SCENARIOS, ...ALERT_SCENARIOS, ...CLUSTER_SCENARIOS].map((s) => s.name).join(', ')}; the last ${CLUSTER_SCENARIOS.length} with --cluster only)`)
  .option('--cluster', 'run on the multi-process Temporal cluster (npm run test:cluster) instead of the dev server')
  .option('--data-dir <dir>', 'where the suite keeps its own PostgreSQL and Temporal data (default .data-faults; --cluster: .data-cluster-faults)')
  .option('--postgres-port <n>', 'its own PostgreSQL port (default 54379; --cluster: 54351)', positiveInt('--postgres-port'))
  .option('--temporal-port <n>', 'its own Temporal dev server port', positiveInt('--temporal-port'), 7293)
  .option('--base-port <n>', 'with --cluster: the first of its 13 Temporal ports', positiveInt('--base-port'), 7370)
  .option('--ui-port <n>', 'with --cluster: its Web UI port', positiveInt('--ui-port'), 8370)
  .option('--workers <n>', 'with --cluster: worker processes each scenario runs at least', positiveInt('--workers'), 3)
  .option('--deploy-from <revision>', 'with --cluster: the revision the worker-deploy scenario deploys from (default: the one before the newest change to src/workflows)')
  .parse()
  .opts<{
    customers: number; only?: string; cluster?: boolean; dataDir?: string; postgresPort?: number; temporalPort: number;
    basePort: number; uiPort: number; workers: number; deployFrom?: string;
  }>();

const MAIN_SCENARIOS = flags.cluster ? [...SCENARIOS, ...CLUSTER_SCENARIOS] : SCENARIOS;
const ALL_NAMES = [...MAIN_SCENARIOS, ...IMPORT_SCENARIOS, ...ALERT_SCENARIOS].map((s) => s.name);

async function startStack(logger: Logger): Promise<FaultStack> {
  if (!flags.cluster) {
    return startOwnFaultStack({ dataDir: flags.dataDir ?? '.data-faults', postgresPort: flags.postgresPort ?? 54379, temporalPort: flags.temporalPort }, logger);
  }
  return startClusterFaultStack({
    dataDir: flags.dataDir ?? '.data-cluster-faults', postgresPort: flags.postgresPort ?? 54351, basePort: flags.basePort, uiPort: flags.uiPort,
    workers: flags.workers, ...(flags.deployFrom ? { deployFrom: flags.deployFrom } : {}),
  }, logger);
}

runMain(async () => {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const only = flags.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !ALL_NAMES.includes(name)) ?? [];
  if (unknown.length > 0) throw new Error(`--only names unknown scenario(s) ${unknown.join(', ')}; known: ${ALL_NAMES.join(', ')}`);
  const chosen = only ? MAIN_SCENARIOS.filter((s) => only.includes(s.name)) : MAIN_SCENARIOS;
  const chosenImports = only ? IMPORT_SCENARIOS.filter((s) => only.includes(s.name)) : IMPORT_SCENARIOS;
  const chosenAlerts = only ? ALERT_SCENARIOS.filter((s) => only.includes(s.name)) : [...ALERT_SCENARIOS];
  await ensureWorkflowBundles();
  const stack = await startStack(logger);
  const results: ScenarioResult[] = [];
  const importResults: ImportScenarioResult[] = [];
  const alertResults: AlertScenarioResult[] = [];
  try {
    results.push(...(await runEach(chosen, (scenario) => runScenario(stack, scenario, flags.customers, logger), violations)));
    importResults.push(...(await runEach(chosenImports, (scenario) => runImportScenario(stack, scenario, flags.customers, logger), importViolations)));
    alertResults.push(...(await runEach(chosenAlerts, (scenario) => runAlertScenario(stack, scenario, logger), alertViolations)));
  } finally {
    await stack.close();
  }
  if (results.length > 0) console.log(`\n${formatTable(results)}\n`);
  for (const r of results.filter((r) => r.diagnosis)) console.log(`${r.scenario}, where it stuck:\n${r.diagnosis}\n`);
  if (importResults.length > 0) console.log(`\n${formatImportTable(importResults)}\n`);
  if (alertResults.length > 0) console.log(`\n${formatAlertTable(alertResults)}\n`);
  const failed = [
    ...results.filter((r) => violations(r).length > 0), ...importResults.filter((r) => importViolations(r).length > 0), ...alertResults.filter((r) => alertViolations(r).length > 0),
  ];
  const total = results.length + importResults.length + alertResults.length;
  console.log(`${total - failed.length} passed, ${failed.length} failed`);
  if (failed.length > 0) process.exitCode = 1;
});

/** Runs the scenarios one after another, saying on stderr how each went. */
async function runEach<S extends { name: string }, R extends { seconds: number }>(scenarios: S[], run: (scenario: S) => Promise<R>, problemsOf: (result: R) => string[]): Promise<R[]> {
  const results: R[] = [];
  for (const scenario of scenarios) {
    process.stderr.write(`running ${scenario.name} (${flags.customers} customers)...\n`);
    const result = await run(scenario);
    results.push(result);
    const problems = problemsOf(result);
    process.stderr.write(`  ${problems.length ? `VIOLATED: ${problems.join('; ')}` : 'ok'} in ${result.seconds.toFixed(1)}s\n`);
  }
  return results;
}
