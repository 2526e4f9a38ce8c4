/**
 * When a scheduled run's end is an incident, and what its alert says: read by the alert
 * activity (src/activities/alert-activities.ts) from what the workflow interceptor
 * (src/workflows/interceptors/run-alerts.ts) tells it. Decided here, outside the sandbox, so
 * the registry (each job's summary counts and fix commands) and the thresholds from the
 * settings can be read, and so a changed threshold never changes what a workflow replays.
 */
import type { AlertSettings } from './alert-settings.js';
import { jobByWorkflowType } from './jobs/index.js';
import type { AnyJob } from './jobs/job-definition.js';
import { scrubbedMessage, type AlertFacts } from './services/alert-message.js';
import { workflowUiUrl } from './temporal/runs.js';

/** A scheduled run that has just ended: what the interceptor sends the alert activity. */
export interface FinishedRun {
  workflowType: string;
  workflowId: string;
  runId: string;
  /** TemporalScheduledById: the schedule that started it. */
  scheduleId: string;
  /** TemporalScheduledStartTime (ISO), when known. */
  scheduledAt: string | null;
  /** Workflow time when it ended (ISO). */
  endedAt: string;
  outcome: 'failed' | 'completed';
  /** A failed run's failure: its type and the messages of its cause chain. */
  failure?: { type: string; message: string };
  /** A completed run's result, or the summary a failure carries as its details (daily-reports' ReportDaysFailed). */
  summary?: unknown;
}

/** One alert per run (a continue-as-new chain ends in one run id): however many attempts or workers raise it. */
export function runIncidentKey(run: Pick<FinishedRun, 'workflowId' | 'runId'>, kind: 'run-failed' | 'run-over-threshold'): string {
  return `${kind}:${run.workflowId}:${run.runId}`;
}

/**
 * The job's own repair commands for a summary. A failure's details are not always its job's
 * summary (InvalidInput carries the problems): anything the job cannot read gets the generic advice.
 */
function fixCommandsOf(job: AnyJob | undefined, summary: object | undefined, workflowId: string): string[] {
  if (!job?.summary.fixCommands || !summary) return [];
  try {
    return job.summary.fixCommands(summary, workflowId);
  } catch {
    return [];
  }
}

/** The alert a finished scheduled run raises, or null when it is no incident (completed within the thresholds). */
export function runAlertFacts(run: FinishedRun, settings: AlertSettings): AlertFacts | null {
  const job = jobByWorkflowType(run.workflowType);
  const name = job?.kind ?? run.workflowType;
  const summary = run.summary !== null && typeof run.summary === 'object' ? run.summary : undefined;
  const summaryFixes = fixCommandsOf(job, summary, run.workflowId);
  const links = [
    { label: 'The run in the Temporal Web UI', url: workflowUiUrl(settings.temporalUiUrl, settings.namespace, run.workflowId, run.runId) },
    {
      label: 'Its job on the admin page',
      url: `${settings.adminUrl}/runs?${new URLSearchParams({ ...(job ? { kind: job.kind } : {}), startedFrom: 'schedule', ...(run.outcome === 'failed' ? { status: 'failed' } : {}) })}`,
    },
  ];
  const started = [
    `Run: ${run.workflowId} (run id ${run.runId})`,
    `Schedule: ${run.scheduleId}${run.scheduledAt ? `, scheduled for ${run.scheduledAt}` : ''}`,
  ];
  if (run.outcome === 'failed') {
    const failure = run.failure ?? { type: 'unknown', message: 'no failure message' };
    const again = job?.doors.schedule?.backfill
      ? `Then run the time it missed again: npm run schedules -- backfill '${run.scheduleId}' --from <first day> --to <last day> (the days it was to cover), or start it by hand: npm run job -- ${name} --help`
      : `Then run it again: npm run schedules -- trigger '${run.scheduleId}'`;
    return {
      incidentKey: runIncidentKey(run, 'run-failed'),
      kind: 'run-failed',
      job: job?.kind ?? null,
      title: `${name}: the scheduled run failed`,
      happenedAt: run.endedAt,
      what: [...started, `Failure (${failure.type}): ${scrubbedMessage(failure.message)}`],
      links,
      fix: summaryFixes.length > 0 ? summaryFixes : ["Read the failure above and the run's history (Web UI link) and fix its cause.", again],
    };
  }
  if (!job || !summary) return null;
  const counts = job.summary.counts(summary);
  const over = [
    ...(counts.failedItems > settings.failedItemsThreshold ? [`${counts.failedItems} failed items (alert above ${settings.failedItemsThreshold}, ALERT_FAILED_ITEMS_THRESHOLD)`] : []),
    ...(counts.quarantined > settings.quarantinedThreshold ? [`${counts.quarantined} records quarantined (alert above ${settings.quarantinedThreshold}, ALERT_QUARANTINED_THRESHOLD)`] : []),
  ];
  if (over.length === 0) return null;
  return {
    incidentKey: runIncidentKey(run, 'run-over-threshold'),
    kind: 'run-over-threshold',
    job: job.kind,
    title: `${job.kind}: the scheduled run finished with ${over.map((line) => line.split(' (')[0]).join(' and ')}`,
    happenedAt: run.endedAt,
    what: [...started, ...over.map((line) => `Over the threshold: ${line}`), `Summary: ${scrubbedMessage(job.summary.describe(summary))}`],
    links,
    fix: summaryFixes.length > 0 ? summaryFixes : ["Read the run's result (Web UI link) for what failed."],
  };
}
