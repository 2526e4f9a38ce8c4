/** What every run of every job shares at the doors: where it was started from, its link, a refusal. */

export type StartedFrom = 'cli' | 'schedule' | 'admin' | 'api' | 'start';

export interface StartRunOptions {
  taskQueue: string;
  startedFrom: StartedFrom;
  /** Who asked: an OS user, an admin's email. Goes to the memo, never into logs. */
  startedBy: string;
  now?: Date;
}

/** A run with the same id (same job, scope and period) is still running: refused, naming it. */
export class RunAlreadyRunningError extends Error {
  override name = 'RunAlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(`a run of the same job for the same scope and period is already running: ${workflowId} (follow it with: npm run temporal -- workflow show --follow -w '${workflowId}')`);
  }
}

export function workflowUiUrl(uiBaseUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const base = `${uiBaseUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/** The id suffix of a run on another task queue than the default: deployments sharing a namespace never block each other. */
export function queueSuffix(taskQueue: string, defaultQueue: string): string {
  return taskQueue === defaultQueue ? '' : `@${taskQueue}`;
}
