// `npm run admin`: serve the admin page; `npm run admin -- create-user ...`: add someone who may use it.
import { Option } from 'commander';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { resolveServices } from '../src/dev/local-services.js';
import { ADMIN_ROLES, AdminUserError, AdminUsers, type AdminRole } from '../src/services/admin-users.js';
import { startAdminServer } from '../src/admin/start-admin.js';
import { bootstrap, runMain } from '../src/cli/runtime.js';
import { strictProgram, usageError } from '../src/cli/flags.js';

const program = strictProgram('admin', 'Serve the admin page, or manage who may use it.');

program
  .command('serve', { isDefault: true })
  .description('serve the admin page (default); starts the embedded services that are not configured')
  .action(() => runMain(serve));

program
  .command('create-user')
  .description('create a user; prints a one-time password to change at first sign-in, unless --password-stdin')
  .requiredOption('--email <email>', 'their email address (the sign-in name)')
  .addOption(new Option('--role <role>', 'operator: may start runs; viewer: may only look').choices(ADMIN_ROLES).makeOptionMandatory())
  .option('--password-stdin', 'read the password from standard input instead of generating one')
  .action((flags) => runMain(() => createUser(flags)));

async function serve(): Promise<void> {
  const { config, logger } = bootstrap('admin', { LOG_PRETTY: process.env.LOG_PRETTY ?? 'true' }, { tracing: true });
  const services = await resolveServices(config, logger, { temporal: true, smtp: false });
  const pool = createPool(services.databaseUrl, logger);
  try {
    await migrate(services.databaseUrl, logger);
    const admin = await startAdminServer({
      config, logger, pool, temporal: services.temporal, temporalUiUrl: services.temporalUiUrl, endpoints: services, createFirstAdmin: !config.DATABASE_URL,
    });
    if (!admin.url) return;
    console.log(`\n  Admin page   ${admin.url}\n  Runs start on task queue '${config.TEMPORAL_TASK_QUEUE}': a worker must be running (npm start or npm run worker).\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await admin.close();
  } finally {
    await pool.end();
    await services.stop();
  }
}

async function createUser(flags: { email: string; role: AdminRole; passwordStdin?: boolean }): Promise<void> {
  const { config, logger } = bootstrap('admin', { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const password = flags.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
  const services = await resolveServices(config, logger, { temporal: false, smtp: false });
  const pool = createPool(services.databaseUrl, logger, 2);
  // A refused user (bad email, short password, taken email) exits 2, after the cleanup below.
  let refused: string | null = null;
  try {
    await migrate(services.databaseUrl, logger);
    const { user, oneTimePassword } = await new AdminUsers(pool).create({ email: flags.email, role: flags.role, ...(password !== undefined ? { password } : {}) });
    console.log(`created ${user.role} ${user.email}`);
    if (oneTimePassword) console.log(`one-time password (shown once; to be changed at first sign-in): ${oneTimePassword}`);
  } catch (error) {
    if (!(error instanceof AdminUserError)) throw error;
    refused = error.message;
  } finally {
    await pool.end();
    await services.stop();
  }
  if (refused) usageError(refused);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

program.parse();
