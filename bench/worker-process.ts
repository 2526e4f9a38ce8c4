import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';

export interface WorkerProcessOptions {
  databaseUrl: string;
  smtpUrl: string;
  temporalAddress: string;
  taskQueue: string;
  logFile: string;
  /** Write a V8 CPU profile of the worker into this directory when it exits. */
  cpuProfileDir?: string;
  /** More settings for the worker (e.g. the import bench's ORDERS_API_URL). */
  env?: Record<string, string>;
  /** Another compiled worker than build/'s (the tracing bench's untraced copy). */
  script?: string;
}

const WORKER_SCRIPT = 'build/scripts/worker.js';
/** What `npm run worker:prod` runs (package.json); see the README's deploy section for why. */
const WORKER_NODE_FLAGS = ['--optimize-for-size'];

/**
 * Our worker as production runs it (`npm run build`, then `npm run worker:prod`): compiled,
 * in a process of its own, configured only by environment variables. (`npm run worker` runs
 * the TypeScript through tsx instead, which costs ~50 MB more: tsx's loader thread and esbuild.)
 */
export class WorkerProcess {
  private exitCode: number | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly logFile: string,
  ) {
    child.once('exit', (code, signal) => (this.exitCode = code ?? (signal ? 128 : -1)));
  }

  /** `npm run build`: compiles src/ and scripts/ into build/ and bundles the workflows there. */
  static async build(): Promise<void> {
    await promisify(execFile)('npm', ['run', 'build'], { maxBuffer: 16 * 1024 * 1024 });
  }

  static async start(options: WorkerProcessOptions): Promise<WorkerProcess> {
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    fs.writeFileSync(options.logFile, '');
    const log = fs.openSync(options.logFile, 'a');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      SMTP_URL: options.smtpUrl,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      // No metrics endpoint unless asked: the default port may be npm start's, beside the bench.
      METRICS_PORT: '0',
      ...options.env,
    };
    // Node refuses --cpu-prof in NODE_OPTIONS: it goes on the command line, with the worker's own flags.
    const profileFlags = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.cpuProfileDir)}`] : [];
    if (options.cpuProfileDir) fs.mkdirSync(options.cpuProfileDir, { recursive: true });
    const script = options.script ?? WORKER_SCRIPT;
    if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
    const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, ...profileFlags, script], { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const worker = new WorkerProcess(child, options.logFile);
    await worker.waitForLog('worker polling', 120_000);
    return worker;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Peak RSS (VmHWM) of the worker process, or of a descendant if one has more (e.g. under a wrapper). */
  peakRssMb(): { pid: number; mb: number } {
    let best = { pid: this.pid, mb: vmHwmMb(this.pid) };
    for (const pid of descendants(this.pid)) {
      const mb = vmHwmMb(pid);
      if (mb > best.mb) best = { pid, mb };
    }
    return best;
  }

  /** Resident set size (VmRSS) of the worker process now, for sampling while it works. */
  rssMb(): number {
    return procStatusMb(this.pid, 'VmRSS');
  }

  /** CPU time (user + system) the worker process has used so far, in ms: unlike wall time, it does not grow with other load on the machine. */
  cpuMs(): number {
    try {
      const stat = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces); utime and stime are fields 14 and 15, in 1/100 s.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return 0;
    }
  }

  logTail(lines = 20): string {
    return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  private async waitForLog(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (fs.readFileSync(this.logFile, 'utf8').includes(text)) return;
      if (this.exitCode !== null) throw new Error(`the worker exited with ${this.exitCode} before it was ready:\n${this.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the worker was not ready within ${timeoutMs / 1000}s:\n${this.logTail()}`);
  }

  /** SIGTERM (the worker drains and exits), then SIGKILL what is left of ours. */
  async stop(): Promise<void> {
    if (this.exitCode !== null) return;
    const family = [...descendants(this.pid)];
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    for (const pid of [this.pid, ...family]) {
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

function vmHwmMb(pid: number): number {
  return procStatusMb(pid, 'VmHWM');
}

/** A memory line of /proc/<pid>/status in MB; 0 when the process is gone. */
function procStatusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** Every process below `pid`, from /proc (Linux). */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    let children: number[] = [];
    try {
      const tasks = fs.readdirSync(`/proc/${parent}/task`);
      children = tasks.flatMap((task) => {
        try {
          return fs.readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
        } catch {
          return [];
        }
      });
    } catch {
      children = [];
    }
    for (const child of children) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
