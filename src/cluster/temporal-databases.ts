import { spawn } from 'node:child_process';
import { TEMPORAL_SQL_TOOL } from './go-binaries.js';

/** Where Temporal's two databases live: the server, the credentials and TLS, as the SQL tool and the server config take them. */
export interface TemporalPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  visibilityDatabase: string;
  /** sslmode=require|verify-ca|verify-full in the URL: TLS on; verify-full also checks the host name. */
  tls: { enabled: boolean; verifyHost: boolean; caFile?: string };
}

export function temporalPostgresFromUrl(url: string, database: string, visibilityDatabase: string): TemporalPostgres {
  const parsed = new URL(url);
  const sslmode = parsed.searchParams.get('sslmode') ?? 'disable';
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
    visibilityDatabase,
    tls: {
      enabled: ['require', 'verify-ca', 'verify-full'].includes(sslmode),
      verifyHost: sslmode === 'verify-full',
      ...(parsed.searchParams.get('sslrootcert') ? { caFile: parsed.searchParams.get('sslrootcert')! } : {}),
    },
  };
}

/**
 * The environment variables the server config (cluster/temporal/config.yaml) reads for its
 * datastores: the official server image's names. The password goes only here, never to a file.
 */
export function datastoreEnv(pg: TemporalPostgres): Record<string, string> {
  return {
    POSTGRES_SEEDS: pg.host,
    DB_PORT: String(pg.port),
    POSTGRES_USER: pg.user,
    POSTGRES_PWD: pg.password,
    DBNAME: pg.database,
    VISIBILITY_DBNAME: pg.visibilityDatabase,
    SQL_TLS_ENABLED: String(pg.tls.enabled),
    SQL_HOST_VERIFICATION: String(pg.tls.verifyHost),
    ...(pg.tls.caFile ? { SQL_CA: pg.tls.caFile } : {}),
  };
}

/** The SQL tool's connection settings, through its environment variables (so the password is not in `ps`). */
function sqlToolEnv(pg: TemporalPostgres, database: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: pg.host,
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password,
    SQL_DATABASE: database,
    ...(pg.tls.enabled ? { SQL_TLS: 'true', SQL_TLS_DISABLE_HOST_VERIFICATION: String(!pg.tls.verifyHost) } : {}),
    ...(pg.tls.caFile ? { SQL_TLS_CA_FILE: pg.tls.caFile } : {}),
  };
}

function sqlTool(pg: TemporalPostgres, database: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(TEMPORAL_SQL_TOOL.path, args, { env: sqlToolEnv(pg, database), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`temporal-sql-tool ${args.join(' ')} on ${database} failed (exit ${code}):\n${output.trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}

/**
 * Creates Temporal's persistence and visibility databases when missing and brings their
 * schemas up to this server version, with the server's own SQL tool and the schemas built
 * into it (the module's schema/postgresql/v12/{temporal,visibility}/versioned). Safe to run
 * on every start: an existing database is kept, applied versions are skipped.
 */
export async function migrateTemporalDatabases(pg: TemporalPostgres, databaseExists: (name: string) => Promise<boolean>, log: (line: string) => void): Promise<void> {
  const schemas: Array<[string, string]> = [
    [pg.database, 'postgresql/v12/temporal'],
    [pg.visibilityDatabase, 'postgresql/v12/visibility'],
  ];
  for (const [database, schemaName] of schemas) {
    if (!(await databaseExists(database))) {
      await sqlTool(pg, database, ['create-database']);
      log(`created Temporal's database ${database} on ${pg.host}:${pg.port}`);
    }
    // Version 0.0 creates the schema_version bookkeeping only (a no-op when present);
    // update-schema then applies every versioned step this server ships that is not applied yet.
    await sqlTool(pg, database, ['setup-schema', '-v', '0.0']);
    await sqlTool(pg, database, ['update-schema', '--schema-name', schemaName]);
  }
}
