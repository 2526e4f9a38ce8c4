import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { CLI_TYPE_NAMES, CUSTOM_SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';
import { isListening, waitUntil } from './ports.js';
import { resolveTemporalCli } from './temporal-cli.js';

export interface DevServerOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  /** The server's process, when this process started it (the bench reads its CPU time). */
  pid?: number;
  /** Stops the server if this process started it; a reused server keeps running. */
  stop(): Promise<void>;
}

// SQLite tuned for a dev server: WAL and relaxed fsync make each history write cheap;
// the file still survives restarts of the server.
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal', 'busy_timeout=5000'];

// Eager activity dispatch: the worker completing a workflow task gets the activity it just
// scheduled in the same response, skipping a round trip through matching (off by default).
// Queue read rates: each history shard reads its transfer (task dispatch), timer and
// visibility queues at most 20 times a second by default. A cluster has hundreds of shards;
// the dev server has one, so back-to-back runs queued behind that limit (~40 ms per task
// dispatch; single-customer runs settled at ~150 ms after a burst of ~8 at ~60 ms).
const DYNAMIC_CONFIG = [
  'system.enableActivityEagerExecution=true',
  'history.transferProcessorMaxPollRPS=1000',
  'history.timerProcessorMaxPollRPS=1000',
  'history.visibilityProcessorMaxPollRPS=1000',
];

/** Starts `temporal server start-dev` on an on-disk SQLite file, or reuses one already listening. */
export async function startTemporalDevServer(options: DevServerOptions, logger: Logger): Promise<DevServer> {
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://localhost:${uiPort}`;
  if (await isListening(port)) {
    logger.info({ address }, 'reusing the Temporal server already listening');
    return { address, uiUrl, stop: async () => undefined };
  }
  const cli = resolveTemporalCli((line) => logger.info(line));
  fs.mkdirSync(options.dataDir, { recursive: true });
  const args = [
    'server', 'start-dev',
    '--db-filename', path.join(options.dataDir, `temporal-${port}.sqlite`),
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--log-level', 'warn',
    ...SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...DYNAMIC_CONFIG.flatMap((value) => ['--dynamic-config-value', value]),
    ...CUSTOM_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`]),
  ];
  const logFile = fs.openSync(path.join(options.dataDir, `temporal-${port}.log`), 'a');
  const child: ChildProcess = spawn(cli, args, { stdio: ['ignore', logFile, logFile] });
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  await waitUntil(async () => {
    if (exited !== null) throw new Error(`temporal dev server exited with ${exited}; see ${options.dataDir}/temporal-${port}.log`);
    return isListening(port);
  }, 'Temporal dev server');
  logger.info({ address, ui: uiUrl }, 'Temporal dev server started');
  return {
    address,
    uiUrl,
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    stop: async () => {
      if (exited !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (exited === null) child.kill('SIGKILL');
    },
  };
}
