import type { WorkflowHandle } from '@temporalio/client';
import { countMailbox } from '../support/mailbox.js';
import type { ScenarioContext, ScenarioWorker } from './scenarios.js';

/** An attempt of the run's email activity that a worker is running, as the server sees it. */
export interface EmailAttempt {
  activityId: string;
  attempt: number;
  /** The worker that started this attempt (`<pid>@<host>`, the SDK's default identity). */
  workerIdentity: string;
  /** Why the previous attempt ended (e.g. "activity StartToClose timeout"), if there was one. */
  lastFailure?: string;
}

// temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED (@temporalio/proto is not our dependency).
const STARTED = 2;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The run's `sendReportEmails` attempts in flight, from `describe()`'s pending activities. */
export async function emailAttempts(handle: WorkflowHandle): Promise<EmailAttempt[]> {
  const { raw } = await handle.describe();
  return (raw.pendingActivities ?? [])
    .filter((activity) => activity.activityType?.name === 'sendReportEmails' && Number(activity.state) === STARTED)
    .map((activity) => ({
      activityId: activity.activityId ?? '',
      attempt: activity.attempt ?? 1,
      workerIdentity: activity.lastWorkerIdentity ?? '',
      ...(activity.lastFailure?.message ? { lastFailure: activity.lastFailure.message } : {}),
    }));
}

/**
 * Waits until the main run's email step is running and the SMTP sink has stored at least
 * `messages` messages (so sends are under way, not just claims), then returns the attempt
 * and the worker process running it.
 */
export async function emailStepRunning(context: ScenarioContext, messages: number): Promise<{ attempt: EmailAttempt; worker: ScenarioWorker }> {
  const main = context.main();
  if (!main) throw new Error('emailStepRunning needs the main run: start it first (context.startMainRun)');
  while (Date.now() < context.deadline) {
    const [attempt] = await emailAttempts(main).catch(() => []);
    if (attempt && countMailbox(context.sink.dir) >= messages) {
      const worker = context.workers.find((w) => w.identity === attempt.workerIdentity);
      if (!worker) {
        throw new Error(`the email attempt runs on ${attempt.workerIdentity}, none of our workers (${context.workers.map((w) => w.identity).join(', ')})`);
      }
      return { attempt, worker };
    }
    await sleep(100);
  }
  throw new Error(`the email step did not start sending ${messages} messages in time`);
}

/**
 * Waits until an email attempt matching `retried` is in flight: the proof that the scenario's
 * fault made the server start a retry (a scenario whose fault never bites cannot fail).
 * Gives up, returning undefined, at `until` or once the run has closed.
 */
export async function emailRetryStarted(
  context: ScenarioContext,
  retried: (attempt: EmailAttempt) => boolean,
  until: number,
): Promise<EmailAttempt | undefined> {
  const main = context.main()!;
  while (Date.now() < Math.min(until, context.deadline)) {
    const found = (await emailAttempts(main).catch(() => [])).find(retried);
    if (found) return found;
    const { status } = await main.describe().catch(() => ({ status: { name: 'RUNNING' } }));
    if (status.name !== 'RUNNING') return undefined;
    await sleep(200);
  }
  return undefined;
}
