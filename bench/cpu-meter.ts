import fs from 'node:fs';
import type { Pool } from '../src/db/pool.js';
import { cpuSecondsOfTree, postmasterPid } from './cpu-time.js';
import { median } from './stats.js';
import { table } from './results.js';

/** Where CPU time is read from: a name and how many CPU seconds it has used so far. */
export type CpuSources = Record<string, () => number>;
export type CpuSpent = Record<string, number>;

/**
 * CPU seconds by process while each variant ran: on a machine the variants saturate, every
 * CPU-second one process spends is taken from the others, so this says what bounds a variant
 * that PostgreSQL alone would not. Readings bracket each run; the table shows medians of rounds.
 */
export class CpuMeter {
  private readonly samples = new Map<string, Array<{ spent: CpuSpent; wallSeconds: number }>>();

  constructor(private readonly sources: CpuSources, private readonly cores: number) {}

  /** Runs `work` and records what each source spent meanwhile, under `label`. */
  async measure<T>(label: string, work: () => Promise<T>): Promise<{ result: T; spent: CpuSpent }> {
    const before = this.read();
    const started = performance.now();
    const result = await work();
    const wallSeconds = (performance.now() - started) / 1000;
    const after = this.read();
    const spent = Object.fromEntries(Object.keys(this.sources).map((name) => [name, after[name]! - before[name]!]));
    this.samples.set(label, [...(this.samples.get(label) ?? []), { spent, wallSeconds }]);
    return { result, spent };
  }

  /** One line for the progress output: each source's CPU seconds. */
  static describe(spent: CpuSpent): string {
    return Object.entries(spent).map(([name, seconds]) => `${name} ${seconds.toFixed(2)}`).join(', ');
  }

  /** Medians of the rounds, per label: each source, all of them, and the core-seconds the wall time held. */
  table(): string {
    const names = Object.keys(this.sources);
    const rows = [...this.samples].map(([label, runs]) => {
      const per = (pick: (run: { spent: CpuSpent; wallSeconds: number }) => number) => median(runs.map(pick)).toFixed(2);
      return [label, ...names.map((name) => per((run) => run.spent[name]!)),
        per((run) => Object.values(run.spent).reduce((sum, s) => sum + s, 0)), per((run) => run.wallSeconds * this.cores)];
    });
    return table([['variant', ...names.map((name) => `${name} (cpu-s)`), 'all (cpu-s)', `core-s (wall x ${this.cores})`], ...rows]);
  }

  private read(): CpuSpent {
    return Object.fromEntries(Object.entries(this.sources).map(([name, read]) => [name, read()]));
  }
}

/** This process's own CPU seconds (the in-process variants: SQL lanes, graphile-worker, pg-boss, DBOS). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * The postmaster serving `pool`, when it runs on this machine: the pid its data directory's
 * `postmaster.pid` names, if that file is readable here, is a `postgres` process, and is the
 * parent of this connection's backend. Otherwise (a server elsewhere, in a container, or a
 * role that may not read `data_directory`) undefined: a pid from another machine's process
 * table could name an unrelated local process.
 */
export async function localPostmasterPid(pool: Pool): Promise<number | undefined> {
  try {
    const { rows } = await pool.query<{ backend: number; dir: string }>(`SELECT pg_backend_pid() AS backend, current_setting('data_directory') AS dir`);
    const { backend, dir } = rows[0]!;
    const postmaster = postmasterPid(dir);
    const parent = Number(/^PPid:\s+(\d+)$/m.exec(readProc(backend, 'status'))?.[1]);
    return postmaster > 1 && parent === postmaster && readProc(postmaster, 'comm').trim() === 'postgres' ? postmaster : undefined;
  } catch {
    return undefined;
  }
}

function readProc(pid: number, file: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** The sources the report bench reads: each present only when its process is on this machine. */
export function reportBenchSources(processes: { postgres?: number; devServer?: number; worker: number }): CpuSources {
  return {
    ...(processes.postgres !== undefined ? { postgres: () => cpuSecondsOfTree(processes.postgres!) } : {}),
    ...(processes.devServer !== undefined ? { 'dev server': () => cpuSecondsOfTree(processes.devServer!) } : {}),
    worker: () => cpuSecondsOfTree(processes.worker),
    'bench process': ownCpuSeconds,
  };
}
