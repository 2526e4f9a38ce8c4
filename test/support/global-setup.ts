import path from 'node:path';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.js';
import { ensureDatabase, postgresServer } from '../../src/dev/embedded-postgres.js';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server.js';
import { loadTemporalSettings } from '../../src/temporal/connection-settings.js';
import { ensureWorkflowBundles } from '../../src/workflow-bundle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    templateDatabase: string;
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
  }
}

const TEMPLATE = 'durable_jobs_test_template';

/**
 * Starts what the integration tests need, once per `npm test`: PostgreSQL (DATABASE_URL's
 * server, or the embedded one), a migrated template database each test file clones, the
 * Temporal dev server, and the workflow bundle.
 */
export default async function setup(project: TestProject) {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const dataDir = process.env.DATA_DIR ?? '.data';
  const stops: Array<() => Promise<void>> = [];

  const postgres = await postgresServer(dataDir, Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329), logger);
  stops.push(postgres.stop);
  const adminUrl = postgres.adminUrl;
  await recreateTemplate(adminUrl);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE}`;
  await migrate(templateUrl.toString(), logger);

  const temporal = loadTemporalSettings();
  if (!temporal.remote) {
    // TEST_TEMPORAL_PORT lets two test runs on one machine keep out of each other's way.
    const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7233);
    const server = await startTemporalDevServer({ dataDir: path.resolve(dataDir), port, uiPort: port + 1000 }, logger);
    stops.push(server.stop);
    temporal.address = server.address;
  }

  project.provide('postgresAdminUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalNamespace', temporal.namespace);
  // The bundle a worker that does not trace loads (the tests' workers do not), for tests that make their own worker.
  project.provide('workflowBundlePath', (await ensureWorkflowBundles()).untraced);

  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

async function recreateTemplate(adminUrl: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  await ensureDatabase(adminUrl, TEMPLATE);
}
