import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
// The client's own decoder for a raw visibility row (memo, search attributes): its list() iterator
// hides the nextPageToken that paging needs, so the admin page calls the service directly.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import pLimit from 'p-limit';
import { JOBS, jobByKind, jobByWorkflowType } from '../jobs/index.js';
import type { AnyJob } from '../jobs/job-definition.js';
import { CUSTOMER_IDS, PERIOD, STARTED_FROM } from '../temporal/search-attributes.js';
import { workflowUiUrl, type StartedFrom } from '../temporal/runs.js';

/**
 * What the admin page reads from Temporal: recent runs of every registered job from
 * visibility, and one run's live status, each shown through its job's own progress and
 * summary views. Every value that goes into a visibility query comes from the registry or a
 * fixed list, or is an integer, so a query string can never be injected.
 */
/**
 * What a listed page may cost Temporal: at most this many progress queries and result reads at
 * a time, each with its own short deadline, all within one budget for the page. A lookup not
 * started within the budget is skipped (the row shows no summary), so a page of 100 completed
 * runs against a slow server answers in seconds, not 100 × 3 s.
 */
export const ROW_LOOKUPS_AT_ONCE = 8;
export const ROW_LOOKUP_MS = 3_000;
export const PAGE_LOOKUP_BUDGET_MS = 6_000;
/** The row's line when the job's summary or progress view cannot read what the run returned. */
export const SUMMARY_UNAVAILABLE = 'summary unavailable';

export const STARTED_FROM_VALUES: readonly StartedFrom[] = ['schedule', 'cli', 'admin', 'start', 'api'];

/** Filter name → visibility ExecutionStatus value. */
export const STATUS_FILTERS = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  canceled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
} as const;
export type StatusFilter = keyof typeof STATUS_FILTERS;

export interface RunTarget {
  client: Client;
  namespace: string;
  taskQueue: string;
  temporalUiUrl: string;
}

export interface RunListItem {
  /** The registered job the run belongs to. */
  kind: string;
  workflowId: string;
  runId: string;
  status: string;
  startedAt: string;
  closedAt: string | null;
  startedFrom: string | null;
  startedBy: string | null;
  customers: string;
  period: string | null;
  uiUrl: string;
  /** Running runs, when asked for (one query each): the job's progress line, or why there is none. */
  progressText?: string;
  /** Completed runs, when asked for (one read of the close event each): the job's summary line. */
  summaryText?: string | null;
}

export interface RunStatus {
  kind: string;
  workflowId: string;
  runId: string;
  status: string;
  done: boolean;
  startedAt: string;
  closedAt: string | null;
  /** The job's progress query's answer, as the workflow sent it. */
  progress: unknown;
  /** The progress as one line, worded like the Web UI's current details. */
  progressText: string;
  /** How much is done of how much, for the progress bar (the job's `progress.bar`). */
  bar: { done: number; total: number; unit: string; detail: string } | null;
  /** The run's result, as the workflow returned it. */
  summary: unknown;
  /** The result as one line, by the job's own summary view. */
  summaryText: string | null;
  failure: string | null;
  uiUrl: string;
}

export interface RunFilter {
  /** One job's runs; a kind the registry does not know is ignored (every job's runs). */
  kind?: string;
  customerId?: number;
  startedFrom?: StartedFrom;
  status?: StatusFilter;
  limit: number;
  /** Ask each running run for its progress (one query per running run). */
  withProgress?: boolean;
  /** Read each completed run's summary (one close-event read per completed run). */
  withSummaries?: boolean;
}

/** A page of runs, and Temporal's opaque token for the next (older) page, if any. */
export interface RunPage {
  runs: RunListItem[];
  /** Null on the last page. */
  nextPageToken: Buffer | null;
}

/** Most recent runs first; a continue-as-new chain shows as its latest execution only. */
export async function listRuns(target: RunTarget, filter: RunFilter): Promise<RunListItem[]> {
  return (await listRunsPage(target, filter)).runs;
}

/**
 * One page of runs, `filter.limit` long, after the page whose token is given (Temporal's own
 * `nextPageToken`, so a page stays right while new runs start). Pass only tokens this list
 * returned: Temporal answers a damaged one with a retryable internal error, not a 400.
 */
export async function listRunsPage(target: RunTarget, filter: RunFilter & { pageToken?: Buffer }): Promise<RunPage> {
  const only = filter.kind === undefined ? undefined : jobByKind(filter.kind);
  const types = (only ? [only] : JOBS).map((one) => `'${quote(one.workflowType)}'`);
  const clauses = [`WorkflowType IN (${types.join(', ')})`, `TaskQueue = '${quote(target.taskQueue)}'`];
  if (filter.customerId !== undefined) clauses.push(`${CUSTOMER_IDS.name} = '${Math.trunc(filter.customerId)}'`);
  if (filter.startedFrom && STARTED_FROM_VALUES.includes(filter.startedFrom)) clauses.push(`${STARTED_FROM.name} = '${filter.startedFrom}'`);
  clauses.push(filter.status ? `ExecutionStatus = '${STATUS_FILTERS[filter.status]}'` : `ExecutionStatus != 'ContinuedAsNew'`);
  const response = await target.client.workflowService.listWorkflowExecutions({
    namespace: target.namespace, query: clauses.join(' AND '), pageSize: filter.limit, nextPageToken: filter.pageToken ?? Buffer.alloc(0),
  });
  const dataConverter = target.client.options.loadedDataConverter;
  const infos = await Promise.all(response.executions.slice(0, filter.limit).map((raw) => executionInfoFromRaw(raw, dataConverter, raw, target.namespace)));
  const lookup = pLimit(ROW_LOOKUPS_AT_ONCE);
  const budgetEnds = Date.now() + PAGE_LOOKUP_BUDGET_MS;
  const deadline = () => Math.min(Date.now() + ROW_LOOKUP_MS, budgetEnds);
  const listed = await Promise.all(infos.map(async (info): Promise<RunListItem | null> => {
    const job = jobByWorkflowType(info.type);
    if (!job) return null; // the query names registered types only; this keeps the lookup honest
    const run = toListItem(target, job, info);
    // Each row on its own: one run whose answer its job's view cannot read shows so, the list still renders.
    if (filter.withProgress && run.status === 'RUNNING') {
      const progress = await lookup(() => (Date.now() < budgetEnds ? queryProgress(target, job, run.workflowId, deadline()) : null));
      run.progressText = progressLine(job, progress);
    }
    if (filter.withSummaries && run.status === 'COMPLETED') {
      const summary = await lookup(() => (Date.now() < budgetEnds ? readResult(target, run.workflowId, run.runId, deadline()).catch(() => null) : null));
      run.summaryText = summary === null ? null : summaryLine(job, summary);
    }
    return run;
  }));
  const runs = listed.filter((run): run is RunListItem => run !== null);
  const next = response.nextPageToken;
  return { runs, nextPageToken: next && next.length > 0 ? Buffer.from(next) : null };
}

/**
 * One run's status for the live progress panel: `describe()` for the status, the job's
 * progress query while it runs, its summary or failure once it ended. Null when there is no
 * such run, or it is not a run of a registered job on this task queue.
 */
export async function runStatus(target: RunTarget, workflowId: string): Promise<RunStatus | null> {
  const handle = target.client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
  const job = jobByWorkflowType(description.type);
  if (!job || description.taskQueue !== target.taskQueue) return null;
  const status = description.status.name;
  let progress: unknown = null;
  let summary: unknown = null;
  let failure: string | null = null;
  if (status === 'RUNNING') {
    progress = await queryProgress(target, job, workflowId);
  } else if (status === 'COMPLETED') {
    summary = await handle.result();
  } else if (status === 'FAILED') {
    failure = await handle.result().then(
      () => null,
      (error: unknown) => (error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : String(error)),
    );
  }
  const known = progress !== null && job.progress ? job.progress : null;
  return {
    kind: job.kind,
    workflowId: description.workflowId,
    runId: description.runId,
    status,
    done: status !== 'RUNNING',
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString() ?? null,
    progress,
    progressText: known ? progressLine(job, progress) : status === 'RUNNING' ? runningText(job) : '',
    bar: known ? known.bar(progress) : null,
    summary,
    summaryText: status === 'COMPLETED' ? summaryLine(job, summary) : null,
    failure,
    uiUrl: workflowUiUrl(target.temporalUiUrl, target.namespace, description.workflowId),
  };
}

/**
 * A completed run's summary line by its job's view, or SUMMARY_UNAVAILABLE when the view
 * cannot read the result (a run of an older release, a hand-started run with another shape).
 */
export function summaryLine(job: AnyJob, summary: unknown): string {
  try {
    const line = job.summary.describe(summary);
    return typeof line === 'string' ? line : SUMMARY_UNAVAILABLE;
  } catch {
    return SUMMARY_UNAVAILABLE;
  }
}

/** A running run's progress line by its job's view; no answer, or one the view cannot read, says why there is none. */
export function progressLine(job: AnyJob, progress: unknown): string {
  if (progress === null || !job.progress) return runningText(job);
  try {
    return job.progress.describe(progress);
  } catch {
    return 'progress unavailable';
  }
}

/** What a running run without an answer to show says: no worker answered, or the job reports no progress. */
export function runningText(job: AnyJob): string {
  return job.progress ? 'waiting for a worker' : 'running';
}

/** The job's progress query (its definition, not the name); a query needs a worker, so it gets a short deadline. */
async function queryProgress(target: RunTarget, job: AnyJob, workflowId: string, deadline = Date.now() + ROW_LOOKUP_MS): Promise<unknown> {
  const query = job.progress?.query;
  if (!query) return null;
  const handle = target.client.workflow.getHandle(workflowId);
  return target.client.withDeadline(deadline, () => handle.query(query)).catch(() => null);
}

/** A completed run's result: Temporal reads only the close event, so one short call per run. */
async function readResult(target: RunTarget, workflowId: string, runId: string, deadline: number): Promise<unknown> {
  const handle = target.client.workflow.getHandle(workflowId, runId, { followRuns: false });
  return target.client.withDeadline(deadline, () => handle.result());
}

function toListItem(target: RunTarget, job: AnyJob, info: WorkflowExecutionInfo): RunListItem {
  const ids = info.typedSearchAttributes.get(CUSTOMER_IDS) ?? [];
  const memo = info.memo ?? {};
  return {
    kind: job.kind,
    workflowId: info.workflowId,
    runId: info.runId,
    status: info.status.name,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString() ?? null,
    startedFrom: info.typedSearchAttributes.get(STARTED_FROM) ?? null,
    startedBy: typeof memo.startedBy === 'string' ? memo.startedBy : null,
    customers: ids.includes('all') ? 'all active' : ids.length > 5 ? `${ids.length} customers` : ids.join(', '),
    period: info.typedSearchAttributes.get(PERIOD) ?? null,
    uiUrl: workflowUiUrl(target.temporalUiUrl, target.namespace, info.workflowId, info.runId),
  };
}

const quote = (value: string) => value.replace(/['\\]/g, '\\$&');
