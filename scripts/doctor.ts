// `npm run doctor`: is everything this deployment needs up? Checks, never starts: Temporal (the
// namespace, the search attributes, a worker polling the task queue, each declared schedule),
// PostgreSQL (reachable, migrated), SMTP (reachable, login accepted) and the shop API (an
// authenticated request). Prints a table (or --json); exits 0 when ready, 1 when a check
// failed, 2 on bad flags or settings: usable as a readiness probe.
import { configuredServices } from '../src/dev/local-services.js';
import { EXIT_CODES } from '../src/cli/exit-codes.js';
import { positiveInt, strictProgram } from '../src/cli/flags.js';
import { healthTable } from '../src/cli/health-table.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { DEFAULT_CHECK_TIMEOUT_MS, runHealthChecks } from '../src/health/health-checks.js';
import { connectForChecks, healthTargets } from '../src/health/health-targets.js';
import { WORKER_SEEN_WITHIN_MS } from '../src/health/task-queue-health.js';

const program = strictProgram('doctor', 'Check that everything this deployment needs is up; exit 0 when ready, 1 when not (a readiness probe).')
  .option('--json', 'print the checks as JSON for scripts instead of a table')
  .option('--timeout <seconds>', 'how long each check may wait for its service', positiveInt('--timeout'), DEFAULT_CHECK_TIMEOUT_MS / 1000)
  .option('--worker-seen-within <seconds>', 'a worker counts as polling when it polled the task queue within this', positiveInt('--worker-seen-within'), WORKER_SEEN_WITHIN_MS / 1000)
  .action((flags: { json?: boolean; timeout: number; workerSeenWithin: number }) =>
    runMain(async () => {
      const { config } = bootstrap('doctor', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
      const endpoints = configuredServices(config);
      const timeoutMs = flags.timeout * 1000;
      const targets = healthTargets(config, endpoints, connectForChecks(endpoints.temporal, timeoutMs));
      const report = await runHealthChecks(targets, { timeoutMs, workerSeenWithinMs: flags.workerSeenWithin * 1000 });
      if (flags.json) console.log(JSON.stringify(report, null, 2));
      else for (const line of healthTable(report)) console.log(line);
      process.exitCode = report.ok ? EXIT_CODES.ok : EXIT_CODES.failed;
    }),
  );

program.parse();
