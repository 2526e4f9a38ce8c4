import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
// The client's own decoder for a raw visibility row (memo, search attributes): its list() iterator
// hides the nextPageToken that paging needs, so the admin page calls the service directly.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import { REGENERATE_REPORTS_WORKFLOW, type RegenerateReportsSummary } from '../contracts.js';
import { CUSTOMER_IDS, PERIOD, STARTED_FROM } from '../temporal/search-attributes.js';
import { workflowUiUrl, type StartedFrom } from '../temporal/runs.js';
import { describeProgress, type RegenerateProgress } from '../workflows/progress.js';

/**
 * What the admin page reads from Temporal: recent `regenerateReports` runs from visibility,
 * and one run's live status. Every value that goes into a visibility query comes from a
 * fixed list or is an integer, so a query string can never be injected.
 */
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
  /** Only for running runs, and only when asked for (one query each). */
  progress?: RegenerateProgress | null;
}

export interface RunStatus {
  workflowId: string;
  runId: string;
  status: string;
  done: boolean;
  startedAt: string;
  closedAt: string | null;
  progress: RegenerateProgress | null;
  /** The progress as one line, worded like the Web UI's current details. */
  progressText: string;
  summary: RegenerateReportsSummary | null;
  failure: string | null;
  uiUrl: string;
}

export interface RunFilter {
  customerId?: number;
  startedFrom?: StartedFrom;
  status?: StatusFilter;
  limit: number;
  /** Ask each running run for its progress (one query per running run). */
  withProgress?: boolean;
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
  const clauses = [`WorkflowType = '${REGENERATE_REPORTS_WORKFLOW}'`, `TaskQueue = '${quote(target.taskQueue)}'`];
  if (filter.customerId !== undefined) clauses.push(`${CUSTOMER_IDS.name} = '${Math.trunc(filter.customerId)}'`);
  if (filter.startedFrom && STARTED_FROM_VALUES.includes(filter.startedFrom)) clauses.push(`${STARTED_FROM.name} = '${filter.startedFrom}'`);
  clauses.push(filter.status ? `ExecutionStatus = '${STATUS_FILTERS[filter.status]}'` : `ExecutionStatus != 'ContinuedAsNew'`);
  const response = await target.client.workflowService.listWorkflowExecutions({
    namespace: target.namespace, query: clauses.join(' AND '), pageSize: filter.limit, nextPageToken: filter.pageToken ?? Buffer.alloc(0),
  });
  const dataConverter = target.client.options.loadedDataConverter;
  const runs = await Promise.all(
    response.executions.slice(0, filter.limit).map(async (raw) => toListItem(target, await executionInfoFromRaw(raw, dataConverter, raw, target.namespace))),
  );
  if (filter.withProgress) {
    await Promise.all(
      runs.filter((run) => run.status === 'RUNNING').map(async (run) => {
        run.progress = await queryProgress(target, run.workflowId);
      }),
    );
  }
  const next = response.nextPageToken;
  return { runs, nextPageToken: next && next.length > 0 ? Buffer.from(next) : null };
}

/**
 * One run's status for the live progress panel: `describe()` for the status, the workflow's
 * `progress` query while it runs, the summary or failure once it ended. Null when there is
 * no such run or it is not a report run.
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
  if (description.type !== REGENERATE_REPORTS_WORKFLOW || description.taskQueue !== target.taskQueue) return null;
  const status = description.status.name;
  let progress: RegenerateProgress | null = null;
  let summary: RegenerateReportsSummary | null = null;
  let failure: string | null = null;
  if (status === 'RUNNING') {
    progress = await queryProgress(target, workflowId);
  } else if (status === 'COMPLETED') {
    summary = (await handle.result()) as RegenerateReportsSummary;
  } else if (status === 'FAILED') {
    failure = await handle.result().then(
      () => null,
      (error: unknown) => (error instanceof WorkflowFailedError ? (error.cause?.message ?? error.message) : String(error)),
    );
  }
  return {
    workflowId: description.workflowId,
    runId: description.runId,
    status,
    done: status !== 'RUNNING',
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString() ?? null,
    progress,
    progressText: progress ? describeProgress(progress) : status === 'RUNNING' ? 'waiting for a worker' : '',
    summary,
    failure,
    uiUrl: workflowUiUrl(target.temporalUiUrl, target.namespace, description.workflowId),
  };
}

/** The workflow's `progress` query; a query needs a worker, so it gets a short deadline. */
async function queryProgress(target: RunTarget, workflowId: string): Promise<RegenerateProgress | null> {
  const handle = target.client.workflow.getHandle(workflowId);
  return target.client.withDeadline(Date.now() + 3_000, () => handle.query<RegenerateProgress>('progress')).catch(() => null);
}

function toListItem(target: RunTarget, info: WorkflowExecutionInfo): RunListItem {
  const ids = info.typedSearchAttributes.get(CUSTOMER_IDS) ?? [];
  const memo = info.memo ?? {};
  return {
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
