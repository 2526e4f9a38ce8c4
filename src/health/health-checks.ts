import { checkNamespace, checkSearchAttributes } from './temporal-health.js';
import { errorText, scrub, withTimeout, type CheckResult, type HealthReport } from './check-result.js';
import type { HealthTargets } from './health-targets.js';
import { checkPostgres } from './postgres-health.js';
import { checkSchedule, scheduleStates } from './schedule-health.js';
import { checkShopApi } from './shop-health.js';
import { checkSmtp } from './smtp-health.js';
import { checkTaskQueue, taskQueuePollers, WORKER_SEEN_WITHIN_MS } from './task-queue-health.js';

export interface HealthCheckOptions {
  /** Each check's deadline (each call to a service gets it; a check makes at most a few, in turn). */
  timeoutMs?: number;
  /** A worker counts as polling when it polled within this. */
  workerSeenWithinMs?: number;
  now?: () => Date;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

/**
 * Every check, the services' at once, so the whole takes about as long as the slowest one:
 * Temporal (namespace, search attributes, the task queue's pollers, each declared schedule),
 * PostgreSQL (and its migrations), SMTP, the shop API. Nothing is started or changed.
 */
export async function runHealthChecks(targets: HealthTargets, options: HealthCheckOptions = {}): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());
  const [temporal, postgres, smtp, shop] = await Promise.all([
    temporalChecks(targets, timeoutMs, options.workerSeenWithinMs ?? WORKER_SEEN_WITHIN_MS, now),
    guarded('PostgreSQL', () => checkPostgres(targets.databaseUrl, timeoutMs, targets.fixes.postgres)),
    guarded('SMTP', () => checkSmtp(targets.smtpUrl, timeoutMs, targets.fixes.smtp)),
    guarded('shop API', () => checkShopApi(targets.ordersApi, timeoutMs, targets.fixes.shop)),
  ]);
  const checks = [...temporal.server, postgres, smtp, shop, ...temporal.schedules]
    .map((check) => ({ ...check, detail: scrub(check.detail, targets.secrets) }));
  return { ok: checks.every((check) => check.status !== 'fail'), checkedAt: now().toISOString(), checks };
}

/** A check that throws where it should have answered (a bug, or an error nobody foresaw) is a failure of its part, not of the whole. */
async function guarded(part: string, check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (error) {
    return { part, status: 'fail', detail: `the check failed: ${errorText(error)}` };
  }
}

/** Everything checked through Temporal: after the connection and the namespace, the rest at once; skipped when those fail. */
async function temporalChecks(
  targets: HealthTargets, timeoutMs: number, seenWithinMs: number, now: () => Date,
): Promise<{ server: CheckResult[]; schedules: CheckResult[] }> {
  const { temporal, taskQueue } = targets;
  const queuePart = `task queue ${taskQueue}`;
  const skipped = (server: CheckResult) => {
    const detail = 'not checked: Temporal did not answer';
    return {
      server: [server, { part: 'search attributes', status: 'skipped' as const, detail }, { part: queuePart, status: 'skipped' as const, detail }],
      schedules: targets.schedules.map((declaration) => ({ part: `schedule ${declaration.id}`, status: 'skipped' as const, detail })),
    };
  };
  let connected: Awaited<ReturnType<typeof temporal.connect>>;
  try {
    connected = await withTimeout(timeoutMs + 1_000, `Temporal at ${temporal.address}`, temporal.connect());
  } catch (error) {
    return skipped({ part: 'Temporal', status: 'fail', detail: `cannot connect to ${temporal.address} (${errorText(error)}); ${targets.fixes.temporal}` });
  }
  const { client } = connected;
  try {
    const namespace = await guarded('Temporal', () => checkNamespace(client, temporal, timeoutMs, targets.fixes.temporal));
    if (namespace.status === 'fail') return skipped(namespace);
    const [attributes, queue, schedules] = await Promise.all([
      guarded('search attributes', () => checkSearchAttributes(client, temporal.namespace, timeoutMs)),
      guarded(queuePart, async () => checkTaskQueue(await taskQueuePollers(client, temporal.namespace, taskQueue, timeoutMs), now(), seenWithinMs)),
      scheduleStates(client, targets.schedules, taskQueue, timeoutMs).then(
        (states) => states.map((state) => checkSchedule(state, taskQueue, now())),
        (error: unknown) => targets.schedules.map((declaration) => ({
          part: `schedule ${declaration.id}`, status: 'fail' as const, detail: `cannot describe it (${errorText(error)})`,
        })),
      ),
    ]);
    return { server: [namespace, attributes, queue], schedules };
  } finally {
    await connected.close().catch(() => undefined);
  }
}
