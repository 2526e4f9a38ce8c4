import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** A long-running program the cluster started, in a process group of its own. */
export interface ChildProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<string>;
  running(): boolean;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** kill -9 of the whole group: no shutdown at all. */
  crash(): Promise<void>;
}

/** Every group still running, so a process that exits without stopping them (an uncaught error) takes them along. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) signalGroup(child.pid, 'SIGKILL');
  });
  // Ctrl-C reaches only our own process group, not the children's. A program that handles the
  // signal itself (npm run cluster stops its children in order) keeps doing so; in one that
  // does not (test:cluster, bench:cluster), the signal would end it and orphan them: they go first.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      for (const child of live) signalGroup(child.pid, 'SIGTERM');
      process.exit(130);
    });
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts `command` detached, as the leader of a new process group, with its output appended
 * to `logFile`. A group of its own means the terminal's Ctrl-C reaches only us: we stop the
 * children in order (workers before the services they need), and a child's own children
 * (tsx under npm, say) go with it.
 */
export function startChild(name: string, command: string, args: string[], options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string }): ChildProcess {
  installExitHook();
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = fs.openSync(options.logFile, 'a');
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log); // the child has its own copy
  let status: string | null = null;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => {
      status = `failed to start: ${error.message}`;
      resolve(status);
    });
    child.once('exit', (code, signal) => {
      status = signal ?? String(code);
      resolve(status);
    });
  });
  const handle: ChildProcess = {
    name,
    pid: child.pid ?? -1,
    logFile: options.logFile,
    exited,
    running: () => status === null,
    stop: async (graceMs = 15_000) => {
      if (status === null) {
        signalGroup(handle.pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([exited, late]).finally(() => clearTimeout(timer));
        if (status === null) signalGroup(handle.pid, 'SIGKILL');
        await exited;
      }
      signalGroup(handle.pid, 'SIGKILL'); // any grandchild left behind in its group
    },
    crash: async () => {
      signalGroup(handle.pid, 'SIGKILL');
      await exited;
    },
  };
  if (handle.pid > 0) live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}

/** The last lines of a child's log, for an error message. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
