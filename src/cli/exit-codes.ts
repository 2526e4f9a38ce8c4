/**
 * Exit codes of our CLIs, one meaning each, so a script or a cron wrapper can tell them apart
 * (README, "Exit codes"; `npm run job -- --help`).
 */
export const EXIT_CODES = {
  /** Done; with --wait, the run finished for every customer. */
  ok: 0,
  /** An error, or with --wait a run that failed or was cancelled. */
  failed: 1,
  /** Bad flags, input or settings: refused before anything started. */
  usage: 2,
  /** With --wait: the run finished, but some customers failed (rerun them: npm run job -- rerun-failed ID). */
  someCustomersFailed: 3,
} as const;
