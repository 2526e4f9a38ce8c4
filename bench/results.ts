import { round } from './stats.js';

/** bench-results.json: this exact shape (times in ms, medians over --repeat). */
export interface BenchResults {
  customers: number;
  orders: number;
  regenerate: {
    sql_one_statement_ms: number;
    sql_batched_parallel_ms: number;
    naive_loop_ms: number;
    graphile_worker_ms: number;
    durable_jobs_ms: number;
  };
  single_customer_ms: { p50: number; p95: number };
  email: { raw_smtp_per_s: number; durable_jobs_per_s: number; duplicates: number };
  worker_peak_rss_mb: number;
}

export const REGENERATE_VARIANTS = ['sql_one_statement', 'sql_batched_parallel', 'naive_loop', 'graphile_worker', 'durable_jobs'] as const;
export type RegenerateVariant = (typeof REGENERATE_VARIANTS)[number];

/** The goals, checked against one run's numbers. */
export function goals(results: BenchResults): Array<{ goal: string; met: boolean; measured: string }> {
  const r = results.regenerate;
  const lowerBound = Math.min(r.sql_one_statement_ms, r.sql_batched_parallel_ms);
  const ratio = r.durable_jobs_ms / lowerBound;
  const emailRatio = results.email.durable_jobs_per_s / results.email.raw_smtp_per_s;
  return [
    { goal: 'durable_jobs <= 1.25 x lower bound', met: ratio <= 1.25, measured: `${ratio.toFixed(2)} x` },
    { goal: 'durable_jobs faster than naive_loop', met: r.durable_jobs_ms < r.naive_loop_ms, measured: `${(r.naive_loop_ms / r.durable_jobs_ms).toFixed(2)} x faster` },
    { goal: 'durable_jobs faster than graphile_worker', met: r.durable_jobs_ms < r.graphile_worker_ms, measured: `${(r.graphile_worker_ms / r.durable_jobs_ms).toFixed(2)} x faster` },
    { goal: 'single_customer p50 <= 150 ms', met: results.single_customer_ms.p50 <= 150, measured: `${results.single_customer_ms.p50} ms` },
    { goal: 'single_customer p95 <= 300 ms', met: results.single_customer_ms.p95 <= 300, measured: `${results.single_customer_ms.p95} ms` },
    { goal: 'email durable >= 0.8 x raw', met: emailRatio >= 0.8, measured: `${emailRatio.toFixed(2)} x` },
    { goal: 'email duplicates = 0', met: results.email.duplicates === 0, measured: String(results.email.duplicates) },
    { goal: 'worker peak RSS <= 300 MB', met: results.worker_peak_rss_mb <= 300, measured: `${results.worker_peak_rss_mb} MB` },
  ];
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** The regeneration table: median wall time, each run, ratio to the lower bound, time per customer. */
export function regenerateTable(samples: Record<RegenerateVariant, number[]>, medians: BenchResults['regenerate'], activeCustomers: number): string {
  const lowerBound = Math.min(medians.sql_one_statement_ms, medians.sql_batched_parallel_ms);
  const header = ['variant', 'median', 'runs', 'x lower bound', 'per customer'];
  const rows = REGENERATE_VARIANTS.map((variant) => {
    const median = medians[`${variant}_ms`];
    return [
      variant,
      formatMs(median),
      samples[variant].map((ms) => formatMs(ms)).join(' / '),
      (median / lowerBound).toFixed(2),
      `${round((median / activeCustomers) * 1000, 0)} µs`,
    ];
  });
  return table([header, ...rows]);
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
