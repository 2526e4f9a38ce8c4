import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLUSTER_CACHE_DIR } from './cluster-settings.js';

/**
 * The pinned builds. The go command fetches this toolchain from the module proxy by itself
 * (GOTOOLCHAIN), whatever Go 1.21+ runs it; the server's own go.mod and cluster/ui-server's
 * go.sum pin every dependency.
 */
export const GO_TOOLCHAIN = 'go1.27.3';
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
export const UI_SERVER_VERSION = 'v2.58.1';
/** The Go module (go.mod + go.sum, committed) that builds the UI server with dependency versions the proxy serves. */
export const UI_SERVER_MODULE_DIR = path.resolve('cluster/ui-server');

export interface GoBinary {
  what: string;
  path: string;
  /** `go` arguments that build it into `out`, a temporary directory (with GOBIN=out). */
  goArgs: (out: string) => string[];
  /** The file name the build gives it in `out`. */
  builtAs: string;
  cwd?: string;
  /** What a first build costs, to set expectations. */
  firstBuild: string;
}

const binDir = (name: string) => path.join(CLUSTER_CACHE_DIR, 'bin', name);

export const TEMPORAL_SERVER: GoBinary = {
  what: `the Temporal server ${TEMPORAL_SERVER_VERSION}`,
  path: path.join(binDir(`temporal-server-${TEMPORAL_SERVER_VERSION}`), 'temporal-server'),
  // `go install pkg@version` builds with the server module's own go.mod: every dependency pinned there.
  goArgs: () => ['install', `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`],
  builtAs: 'server',
  firstBuild: 'about 6 minutes on 2 cores, 1.7 GB of module cache',
};

export const TEMPORAL_SQL_TOOL: GoBinary = {
  what: `the Temporal SQL tool ${TEMPORAL_SERVER_VERSION}`,
  path: path.join(binDir(`temporal-sql-tool-${TEMPORAL_SERVER_VERSION}`), 'temporal-sql-tool'),
  goArgs: () => ['install', `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`],
  builtAs: 'sql',
  firstBuild: 'seconds once the server is built',
};

export const UI_SERVER: GoBinary = {
  what: `the Temporal Web UI server ${UI_SERVER_VERSION}`,
  path: path.join(binDir(`ui-server-${UI_SERVER_VERSION}`), 'ui-server'),
  goArgs: (out) => ['build', '-mod=readonly', '-o', path.join(out, 'ui-server'), 'github.com/temporalio/ui-server/v2/cmd/server'],
  builtAs: 'ui-server',
  cwd: UI_SERVER_MODULE_DIR,
  firstBuild: 'under a minute',
};

export const CLUSTER_BINARIES = [TEMPORAL_SERVER, TEMPORAL_SQL_TOOL, UI_SERVER];

export class GoMissingError extends Error {
  override name = 'GoMissingError';
}

/** What to do when the go command is not there (or too old to fetch the pinned toolchain). */
export function goMissingMessage(goCommand: string, found?: string): string {
  const what = found ? `found ${found}, which cannot fetch the pinned toolchain (Go 1.21 or newer can)` : `the go command '${goCommand}' was not found`;
  return [
    `npm run cluster builds the Temporal server, its SQL tool and the Web UI server from the Go module proxy (once; cached in .cluster/bin), and needs Go for that: ${what}.`,
    `  - install Go 1.21 or newer (https://go.dev/doc/install, or: sudo apt-get install golang-go); it fetches the pinned toolchain ${GO_TOOLCHAIN} itself;`,
    `  - or set CLUSTER_GO=/path/to/go;`,
    `  - or use a Temporal server you already run: TEMPORAL_ADDRESS=host:port npm start (see README, Production).`,
  ].join('\n');
}

/** The go command's version (`go1.22.4`), or a GoMissingError that says what to install. */
export function checkGo(goCommand: string): string {
  const result = spawnSync(goCommand, ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } });
  if (result.error || result.status !== 0) throw new GoMissingError(goMissingMessage(goCommand));
  const version = result.stdout.trim();
  const [major, minor] = version.replace(/^go/, '').split('.').map(Number);
  if (!(major! > 1 || (major === 1 && minor! >= 21))) throw new GoMissingError(goMissingMessage(goCommand, version));
  return version;
}

/**
 * Builds the binaries that are not in .cluster/bin yet, one after another (each build uses
 * every core it gets; `nice` keeps the machine responsive). A build goes to a temporary
 * directory and is moved into place only when it succeeded, so an interrupted build is
 * simply done again next time.
 */
export async function ensureGoBinaries(goCommand: string, log: (line: string) => void, binaries: GoBinary[] = CLUSTER_BINARIES): Promise<void> {
  const missing = binaries.filter((binary) => !fs.existsSync(binary.path));
  if (missing.length === 0) return;
  const version = checkGo(goCommand);
  fs.mkdirSync(CLUSTER_CACHE_DIR, { recursive: true }); // a fresh clone has none yet
  for (const binary of missing) {
    const out = fs.mkdtempSync(path.join(CLUSTER_CACHE_DIR, 'build-'));
    const logFile = path.join(CLUSTER_CACHE_DIR, 'logs', `build-${path.basename(binary.path)}.log`);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    log(`building ${binary.what} with ${GO_TOOLCHAIN} (go is ${version}; first build: ${binary.firstBuild}); log: ${path.relative(process.cwd(), logFile)}`);
    const started = Date.now();
    const code = await runGo(goCommand, binary, out, logFile);
    if (code !== 0) {
      fs.rmSync(out, { recursive: true, force: true });
      const tail = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-12).join('\n');
      throw new Error(`building ${binary.what} failed (exit ${code}); the end of ${logFile}:\n${tail}\n` +
        `(it needs the Go module proxy for ${GO_TOOLCHAIN} and the modules; GOPROXY is ${process.env.GOPROXY ?? 'the default'})`);
    }
    fs.mkdirSync(path.dirname(binary.path), { recursive: true });
    fs.renameSync(path.join(out, binary.builtAs), binary.path);
    fs.rmSync(out, { recursive: true, force: true });
    log(`built ${binary.what} in ${Math.round((Date.now() - started) / 1000)} s: ${path.relative(process.cwd(), binary.path)}`);
  }
}

function runGo(goCommand: string, binary: GoBinary, out: string, logFile: string): Promise<number> {
  const log = fs.openSync(logFile, 'w');
  const env = { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: out, GOFLAGS: '-buildvcs=false' };
  return new Promise<number>((resolve) => {
    const child = spawn('nice', ['-n', '10', goCommand, ...binary.goArgs(out)], { cwd: binary.cwd, env, stdio: ['ignore', log, log] });
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code ?? 1));
  }).finally(() => fs.closeSync(log));
}
