// Which report runs are small: those run every step as a local activity, inside the workflow
// task, so a one-customer run costs about what any Temporal run costs (BENCHMARKS.md, "Small runs").
import type { ResolvedRegenerateInput } from '../contracts.js';

/**
 * Runs that name at most this many customers are small. Measured (bench/small-runs.ts), local
 * activities save the same 13-21 ms at every size up to 50, so speed does not choose the
 * threshold; what grows with the size is what a local step gives up (no heartbeats, so no
 * resume; the workflow task held open; a 20 s email attempt). 5 covers the runs someone waits
 * for (the admin page's customer form, --customer on the CLI) and keeps those costs small.
 *
 * Runs decide once, in their first activation, and replay by their history's patch marker (see
 * the workflow): raising this value is safe for runs in flight (a run that was big has no
 * marker and stays big), lowering it is not (a run that was small would replay as big) and
 * needs a new patch id.
 */
export const SMALL_RUN_MAX_CUSTOMERS = 5;

/** The patch marker a small run records in its first activation; runs started before it have none and keep their activities. */
export const SMALL_RUN_PATCH = 'small-runs-as-local-activities';

/**
 * The patch marker of a small run over one batch, which checks its customers inside its one
 * regenerate step (before the step writes anything) instead of in a local activity of its
 * own: ~9 ms of a one-customer run (BENCHMARKS.md, "Small runs"). Runs started before it
 * replay their separate check.
 */
export const CHECK_IN_STEP = 'small-run-checks-customers-in-its-step';

/**
 * The patch marker of a small run whose steps, failing for good, report their customers failed
 * (the run completes; rerun-failed re-runs them), as a big run's activities do. A local
 * activity's failure reaches the workflow as the failure itself, not as an ActivityFailure,
 * and runs started before it let that fail the whole run; they replay as they ran.
 */
export const LOCAL_STEP_FAILURES_RECORDED = 'small-run-step-failures-recorded';

/**
 * How long one local email attempt may run. A local attempt hears nothing from the server (it
 * cannot heartbeat): besides a cancel of the run, only its own timeout stops it, a fifth of
 * this before it runs out (sendUntil). Another worker may start a second attempt once the
 * workflow task times out (10 s); the first renews its claims until it stops and then releases
 * them. Under the claim lease (CLAIM_LEASE_MS, 30 s; test/pure/small-runs.test.ts), as a remote
 * attempt's heartbeat timeout is: the second attempt waits at most one lease for them.
 */
export const LOCAL_EMAIL_ATTEMPT_MS = 20_000;

export function isSmallRun(input: Pick<ResolvedRegenerateInput, 'customerIds'>): boolean {
  return input.customerIds !== null && input.customerIds.length <= SMALL_RUN_MAX_CUSTOMERS;
}
