/**
 * What a readiness check reports, for `npm run doctor`, the admin page's status panel and the
 * alerts: one row per part, its status, and one line that names the part and says what to do.
 *
 * Glossary: a *part* is one thing a deployment needs working (Temporal, PostgreSQL, a task
 * queue, a schedule); a *check* looks at one part, within a deadline, and never starts or
 * changes anything. No row carries a password or an API key: URLs show without their password,
 * and every detail is scrubbed of the secrets it was checked with (runHealthChecks).
 */

/** ok: working; warn: working, but worth a look (a paused schedule); fail: not ready; skipped: not checked because the part it goes through failed. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckResult {
  /** What was checked, as people call it: "PostgreSQL", "task queue reports", "schedule daily-reports". */
  part: string;
  status: CheckStatus;
  /** One line: what was seen, and on a failure what to do about it. */
  detail: string;
}

export interface HealthReport {
  /** True when no check failed (warnings allowed): ready. */
  ok: boolean;
  checkedAt: string;
  checks: CheckResult[];
}

export class CheckTimeoutError extends Error {
  override name = 'CheckTimeoutError';
}

/**
 * `work`, or a CheckTimeoutError after `ms`: each client also gets its own deadline, and this
 * is the guarantee that a dead dependency never holds a check (or the page showing it) longer.
 */
export async function withTimeout<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CheckTimeoutError(`${what} did not answer within ${formatSeconds(ms)}`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A URL as it may be shown: scheme, user, host, port and path, never the password. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.search = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(a URL that does not parse)';
  }
}

/** An error as one line: Node's connection errors (an AggregateError of IPv4 and IPv6 attempts) carry their reason in `code` or inside. */
export function errorText(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: unknown[]; details?: string };
  // gRPC appends its channel's internals after a comma ("4 DEADLINE_EXCEEDED: Deadline exceeded after 2.9s,name resolution: …").
  if (e?.message && /^\d+ [A-Z_]+: /.test(e.message)) return e.message.split(/[,\n]/)[0]!;
  if (e?.message) return e.message.split('\n')[0]!;
  if (e?.errors?.length) return errorText(e.errors[0]);
  return e?.code ?? e?.details ?? String(error);
}

/** Replaces every occurrence of each secret (and its URL-encoded form) with `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short secrets would blank out ordinary words; they are not shown anywhere anyway.
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** "3 s ago", "4 min ago", "in 12 min": how far an instant is from now, roughly. */
export function relativeTime(at: Date, now: Date): string {
  const ms = at.getTime() - now.getTime();
  const abs = Math.abs(ms);
  if (abs < 1000) return 'just now';
  const text = abs < 90_000 ? `${Math.round(abs / 1000)} s` : abs < 90 * 60_000 ? `${Math.round(abs / 60_000)} min` : abs < 36 * 3_600_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} days`;
  return ms < 0 ? `${text} ago` : `in ${text}`;
}
