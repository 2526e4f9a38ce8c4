import { round } from './stats.js';

/** Median p50 and p95 of a latency measure over the rounds, in ms. */
export interface Latency {
  p50: number;
  p95: number;
}

/**
 * bench-results.json: this exact shape (times in ms, medians over --repeat). A variant left out
 * with --skip has no entry (and the DBOS one-customer latency goes with `dbos`).
 */
export interface BenchResults {
  customers: number;
  orders: number;
  regenerate: { [V in RegenerateVariant as `${V}_ms`]?: number } & { sql_one_statement_ms: number; sql_batched_parallel_ms: number; durable_jobs_ms: number };
  /** Our one-customer run through Temporal. */
  single_customer_ms: Latency;
  /** DBOS's one-customer workflow (the same steps), when `dbos` ran. */
  dbos_single_customer_ms?: Latency;
  /** An empty workflow with one no-op local activity: the least any Temporal run costs on this server. */
  temporal_floor_ms: Latency;
  email: { raw_smtp_per_s: number; durable_jobs_per_s: number; duplicates: number };
  worker_peak_rss_mb: number;
}

export const REGENERATE_VARIANTS = ['sql_one_statement', 'sql_batched_parallel', 'naive_loop', 'graphile_worker', 'pg_boss', 'dbos', 'durable_jobs'] as const;
export type RegenerateVariant = (typeof REGENERATE_VARIANTS)[number];
/** What --skip may leave out: the lower bounds and ours always run. */
export const SKIPPABLE_VARIANTS = ['naive_loop', 'graphile_worker', 'pg_boss', 'dbos'] as const satisfies readonly RegenerateVariant[];
export type SkippableVariant = (typeof SKIPPABLE_VARIANTS)[number];
/** The job systems durable_jobs is compared with, each as its own ratio column. */
export const PEERS = ['graphile_worker', 'pg_boss', 'dbos'] as const satisfies readonly RegenerateVariant[];

export function lowerBoundMs(r: BenchResults['regenerate']): number {
  return Math.min(r.sql_one_statement_ms, r.sql_batched_parallel_ms);
}

/** Issue #15's goals, checked against one run's numbers (a goal about a skipped peer is not listed). */
export function goals(results: BenchResults): Array<{ goal: string; met: boolean; measured: string }> {
  const r = results.regenerate;
  const ours = r.durable_jobs_ms;
  const ratio = ours / lowerBoundMs(r);
  const emailRatio = results.email.durable_jobs_per_s / results.email.raw_smtp_per_s;
  const single = results.single_customer_ms.p50;
  const x = (value: number) => `${value.toFixed(2)} x`;
  const peerGoals = PEERS.flatMap((peer) => {
    const theirs = r[`${peer}_ms`];
    return theirs === undefined ? [] : [{ goal: `durable_jobs <= 1.0 x ${peer}`, met: ours <= theirs, measured: x(ours / theirs) }];
  });
  const floor = results.temporal_floor_ms.p50;
  const dbosSingle = results.dbos_single_customer_ms?.p50;
  return [
    ...peerGoals,
    { goal: 'durable_jobs <= 1.10 x lower bound', met: ratio <= 1.1, measured: x(ratio) },
    { goal: 'single_customer p50 <= 1.5 x temporal floor p50', met: single <= 1.5 * floor, measured: `${x(single / floor)} (${single} / ${floor} ms)` },
    ...(dbosSingle === undefined ? [] : [{ goal: 'single_customer p50 <= 3 x dbos single_customer p50', met: single <= 3 * dbosSingle, measured: `${x(single / dbosSingle)} (${single} / ${dbosSingle} ms)` }]),
    { goal: 'email durable >= 0.9 x raw', met: emailRatio >= 0.9, measured: x(emailRatio) },
    { goal: 'email duplicates = 0', met: results.email.duplicates === 0, measured: String(results.email.duplicates) },
    { goal: 'worker peak RSS <= 250 MB', met: results.worker_peak_rss_mb <= 250, measured: `${results.worker_peak_rss_mb} MB` },
  ];
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/**
 * The regeneration table: median wall time, each run, ratio to the lower bound and to each peer
 * that ran (this variant's time ÷ the peer's: under 1 is faster), time per customer.
 */
export function regenerateTable(samples: Partial<Record<RegenerateVariant, number[]>>, medians: BenchResults['regenerate'], activeCustomers: number): string {
  const lowerBound = lowerBoundMs(medians);
  const peers = PEERS.filter((peer) => medians[`${peer}_ms`] !== undefined);
  const header = ['variant', 'median', 'runs', 'x lower bound', ...peers.map((peer) => `x ${peer}`), 'per customer'];
  const rows = REGENERATE_VARIANTS.flatMap((variant) => {
    const median = medians[`${variant}_ms`];
    if (median === undefined) return [];
    return [[
      variant,
      formatMs(median),
      (samples[variant] ?? []).map((ms) => formatMs(ms)).join(' / '),
      (median / lowerBound).toFixed(2),
      ...peers.map((peer) => (median / medians[`${peer}_ms`]!).toFixed(2)),
      `${round((median / activeCustomers) * 1000, 0)} µs`,
    ]];
  });
  return table([header, ...rows]);
}

/**
 * durable_jobs against the lower bound and each peer round by round: the variants of one round
 * share that round's machine load, so on a busy machine these ratios say more than the medians'.
 */
export function perRoundTable(samples: Partial<Record<RegenerateVariant, number[]>>): string {
  const ours = samples.durable_jobs ?? [];
  const peers = PEERS.filter((peer) => samples[peer]?.length === ours.length);
  const rows = ours.map((ms, round) => {
    const lowerBound = Math.min(samples.sql_one_statement![round]!, samples.sql_batched_parallel![round]!);
    return [String(round + 1), formatMs(lowerBound), (ms / lowerBound).toFixed(2), ...peers.map((peer) => (ms / samples[peer]![round]!).toFixed(2))];
  });
  return table([['round', 'lower bound', 'durable_jobs ÷ lower bound', ...peers.map((peer) => `÷ ${peer}`)], ...rows]);
}

/** The latency table: each one-run measure, and our single-customer p50/p95 as ratios to it. */
export function latencyTable(results: BenchResults, runs: string): string {
  const ours = results.single_customer_ms;
  const measures: Array<[string, Latency | undefined]> = [
    ['durable_jobs single_customer', ours],
    ['dbos single_customer', results.dbos_single_customer_ms],
    ['temporal floor (empty workflow + local activity)', results.temporal_floor_ms],
  ];
  return table([
    ['measure', 'p50', 'p95', 'ours p50 ÷ this', 'ours p95 ÷ this'],
    ...measures.flatMap(([label, latency]) => latency
      ? [[label, `${latency.p50} ms`, `${latency.p95} ms`, (ours.p50 / latency.p50).toFixed(2), (ours.p95 / latency.p95).toFixed(2)]]
      : []),
  ]) + `\n(${runs})`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
