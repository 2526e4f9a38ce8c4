// Alerts about scheduled runs, for every registered job alike (issue #13): when a run a schedule
// started fails, or completes, the alert activity is told, in the run's own durable flow; it
// decides (with the registry and the thresholds, outside the sandbox) whether that is an
// incident, and sends its alert once. The run's outcome then goes through unchanged.
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import {
  CancellationScope,
  ContinueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
} from '@temporalio/workflow';
import type { AlertActivities } from '../../activities/alert-activities.js';
import type { FinishedRun } from '../../run-alerts.js';
import { SCHEDULED_BY_ID, SCHEDULED_START_TIME } from '../../temporal/search-attributes.js';

/** The patch that added the alert activity: runs started before it replay without one. */
export const RUN_ALERTS_PATCH = 'run-alerts';

// About 4 minutes of retries (SMTP or the webhook down): the run's own end waits for them, so
// not longer; after that the run ends as it would have, and an alert already recorded stays
// pending for the monitor's sweep (every minute) to send.
const { raiseRunAlert } = proxyActivities<AlertActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** A failure's type (its first application failure's, else its class) and its cause chain's messages. */
function describeFailure(error: TemporalFailure): { type: string; message: string } {
  const messages: string[] = [];
  let type: string | undefined;
  for (let e: unknown = error; e instanceof Error && messages.length < 6; e = e.cause) {
    if (e.message && !messages.includes(e.message)) messages.push(e.message);
    if (type === undefined && e instanceof ApplicationFailure && e.type) type = e.type;
  }
  return { type: type ?? error.name, message: messages.join(': ') };
}

/**
 * Only runs a schedule started (TemporalScheduledById) alert: nobody watches them, while a
 * person who starts a run by hand sees how it ends (the CLI's exit code, the admin page), and a
 * child run's failure fails its scheduled parent, which alerts once for both. A run that
 * continues as new alerts at the end of its chain; a cancelled run does not alert (someone
 * cancelled it); a non-Temporal error fails the workflow task, not the run, and is retried.
 */
class RunAlertsInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = workflowInfo();
    const scheduleId = info.typedSearchAttributes.get(SCHEDULED_BY_ID);
    if (scheduleId === undefined) return next(input);
    // Decided in the first activation: a patched() call made right after a local activity
    // (the end of a run whose last steps are local) can be replayed before its marker is seen,
    // and answer false where the run had said true (see GROUPING_DECIDED_FIRST).
    const alerting = patched(RUN_ALERTS_PATCH);
    const run = (ending: Pick<FinishedRun, 'outcome' | 'failure' | 'summary'>): FinishedRun => ({
      workflowType: info.workflowType,
      workflowId: info.workflowId,
      runId: info.runId,
      scheduleId,
      scheduledAt: info.typedSearchAttributes.get(SCHEDULED_START_TIME)?.toISOString() ?? null,
      endedAt: new Date().toISOString(), // workflow time: the start of the task that ends the run
      ...ending,
    });
    let result: unknown;
    try {
      result = await next(input);
    } catch (error) {
      if (error instanceof ContinueAsNew || isCancellation(error) || !(error instanceof TemporalFailure)) throw error;
      const summary = error instanceof ApplicationFailure ? error.details?.[0] : undefined;
      if (alerting) await tell(run({ outcome: 'failed', failure: describeFailure(error), ...(summary !== undefined ? { summary } : {}) }));
      throw error;
    }
    if (alerting) await tell(run({ outcome: 'completed', summary: result }));
    return result;
  }
}

/** Runs the alert activity (never cancelled by the run's own cancellation); its failure never changes the run's outcome. */
async function tell(run: FinishedRun): Promise<void> {
  try {
    await CancellationScope.nonCancellable(() => raiseRunAlert(run));
  } catch (error) {
    log.warn('the alert activity gave up (an alert it recorded is sent by the monitor\'s sweep)', { error: (error as Error).message });
  }
}

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new RunAlertsInterceptor()] });
