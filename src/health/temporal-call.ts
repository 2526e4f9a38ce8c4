import type { Client } from '@temporalio/client';
import { withTimeout } from './check-result.js';

/** How long after the check gives up gRPC's deadline ends a call the cancellation missed. */
const DEADLINE_BACKSTOP_MS = 1_000;

/** Work each client still carries after temporalWithin returned: its connection must not close under it. */
const unsettled = new WeakMap<Client, Set<Promise<void>>>();

/**
 * One piece of Temporal work (a call, or a few in turn or at once), or a CheckTimeoutError
 * after `ms`, and as little of it left running as the SDK allows.
 *
 * gRPC's own deadline is not enough: it fires only when the event loop reaches its timer, so
 * under load a check (and the page showing it) could give up first and return with a call
 * still queued. A connection closed then (the admin app stopping, a test's afterAll) fails
 * that call as UNAVAILABLE, which the SDK's retry interceptor retries from a timer on the
 * closed channel: "Channel has been shut down", an uncaught exception. So every call made
 * inside `work` is cancelled (CANCELLED is never retried) the moment this gives up, and once
 * `work` is done. The deadline, a little later, stays as the backstop for a call the signal
 * cannot reach: one started after the abort, or a retry the SDK already has on a timer (its
 * retries are new calls). Whoever closes the client's connection waits for those first
 * (whenSettled).
 */
export async function temporalWithin<T>(client: Client, ms: number, what: string, work: () => Promise<T>): Promise<T> {
  const cancel = new AbortController();
  const running = client.withAbortSignal(cancel.signal, () => client.withDeadline(Date.now() + ms + DEADLINE_BACKSTOP_MS, work));
  try {
    return await withTimeout(ms, what, running);
  } finally {
    cancel.abort();
    track(client, running);
  }
}

function track(client: Client, running: Promise<unknown>): void {
  const pending = unsettled.get(client) ?? new Set<Promise<void>>();
  unsettled.set(client, pending);
  const settled = running.then(() => undefined, () => undefined);
  pending.add(settled);
  void settled.then(() => pending.delete(settled));
}

/**
 * Resolves when no work temporalWithin gave up on is still going through `client` (a retry
 * past the deadline fails at once, so this takes at most about the deadline and one backoff;
 * never more than `maxMs`). Close the client's connection after this, not before.
 */
export async function whenSettled(client: Client, maxMs = 15_000): Promise<void> {
  const pending = [...(unsettled.get(client) ?? [])];
  if (pending.length === 0) return;
  await withTimeout(maxMs, 'Temporal calls given up on', Promise.all(pending)).catch(() => undefined);
}
