import type { Client } from '@temporalio/client';
import { withTimeout } from './check-result.js';

/** How long after the check gives up gRPC's deadline ends a call the cancellation missed. */
const DEADLINE_BACKSTOP_MS = 1_000;

/**
 * One piece of Temporal work (a call, or a few in turn or at once), or a CheckTimeoutError
 * after `ms`, and nothing of it left running either way.
 *
 * gRPC's own deadline is not enough: it fires only when the event loop reaches its timer, so
 * under load a check (and the page showing it) could give up first and return with a call
 * still queued. A connection closed then (the admin app stopping, a test's afterAll) fails
 * that call as UNAVAILABLE, which the SDK's retry interceptor retries from a timer on the
 * closed channel: "Channel has been shut down", an uncaught exception. So every call made
 * inside `work` is cancelled (CANCELLED is never retried) the moment this gives up, and once
 * `work` is done. The deadline, a little later, stays as the backstop for a call the signal
 * cannot reach: one started after the abort (an aborted signal fires no more listeners).
 */
export async function temporalWithin<T>(client: Client, ms: number, what: string, work: () => Promise<T>): Promise<T> {
  const cancel = new AbortController();
  try {
    return await withTimeout(ms, what, client.withAbortSignal(cancel.signal, () => client.withDeadline(Date.now() + ms + DEADLINE_BACKSTOP_MS, work)));
  } finally {
    cancel.abort();
  }
}
