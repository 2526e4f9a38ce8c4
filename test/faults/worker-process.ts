import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

export interface WorkerProcess {
  pid: number;
  /** How Temporal knows it (the SDK's default worker identity): what describe() lists as an activity's last worker. */
  identity: string;
  /** kill -9: no shutdown, no draining, in-flight activities simply vanish. */
  crash(): Promise<void>;
  stop(): Promise<void>;
  /** The last lines it logged (warnings and errors, stdout and stderr): what a stuck scenario reports. */
  logTail(): string;
  /** How it ended, if it has: 'exit code 1', 'signal SIGKILL'. */
  ended(): string | undefined;
}

const LOG_TAIL_CHARS = 4_000;

/**
 * Our real worker (`scripts/worker.ts`) as a separate OS process. Started with
 * `node --import tsx` so the pid is the worker itself, not a wrapper. `cwd`: another checkout's
 * worker (the deploy scenario's old revision); default this one.
 */
export async function startWorkerProcess(env: Record<string, string>, cwd?: string): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    ...(cwd ? { cwd } : {}),
    // Several run at once: none serves metrics (each would need a METRICS_PORT of its own).
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_PRETTY: 'false', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  // Only the tail is kept, from a line's start: a worker logging for minutes must not grow the test's memory.
  const keep = (chunk: string) => {
    log += chunk;
    if (log.length <= LOG_TAIL_CHARS) return;
    const lineStart = log.indexOf('\n', log.length - LOG_TAIL_CHARS);
    log = lineStart === -1 ? log.slice(-LOG_TAIL_CHARS) : log.slice(lineStart + 1);
  };
  for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The worker is ready once Temporal sees it polling; give it a moment, and fail fast if it dies.
  await Promise.race([
    new Promise((resolve) => setTimeout(resolve, 2_500)),
    exited.then(() => {
      throw new Error(`worker exited at start: ${log}`);
    }),
  ]);
  return {
    pid: child.pid!,
    identity: `${child.pid}@${os.hostname()}`,
    logTail: () => log,
    ended: () => (child.exitCode !== null ? `exit code ${child.exitCode}` : child.signalCode !== null ? `signal ${child.signalCode}` : undefined),
    crash: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
