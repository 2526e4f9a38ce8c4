import { JOBS } from '../../jobs/index.js';
import type { StartedFrom } from '../../temporal/runs.js';
import type { AdminUser } from '../../services/admin-users.js';
import { STARTED_FROM_VALUES, STATUS_FILTERS, type RunListItem, type StatusFilter } from '../run-history.js';
import { html, queryString, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { runsTable } from './run-views.js';

export interface RunsPaging {
  size: number;
  /** Paging tokens from the newest page to this one; empty on the newest page. */
  trail: string[];
  nextPageToken: string | null;
}

export function runsPage(view: {
  user: AdminUser;
  csrfToken: string;
  kind: string | undefined;
  startedFrom: StartedFrom | undefined;
  status: StatusFilter | undefined;
  runs: RunListItem[] | { error: string };
  paging: RunsPaging;
}): SafeHtml {
  const { paging } = view;
  const option = (value: string, selected: boolean, label = value) => html`<option value="${value}" ${selected ? 'selected' : ''}>${label}</option>`;
  const link = (trail: string[]) => `/runs${queryString({
    kind: view.kind, startedFrom: view.startedFrom, status: view.status, size: paging.size === 25 ? undefined : paging.size, page: trail.length > 0 ? trail.join('.') : undefined,
  })}`;
  const newer = paging.trail.length > 0 ? link(paging.trail.slice(0, -1)) : null;
  const older = paging.nextPageToken && !('error' in view.runs) && view.runs.length > 0 ? link([...paging.trail, paging.nextPageToken]) : null;
  return layout(
    { title: 'Runs', user: view.user, csrfToken: view.csrfToken, section: 'runs' },
    html`<h1>Runs</h1>
<form method="get" action="/runs" class="row">
  <div class="field"><label for="kind">Job</label>
    <select id="kind" name="kind">${option('', !view.kind, 'every job')}${JOBS.map((job) => option(job.kind, job.kind === view.kind))}</select></div>
  <div class="field"><label for="startedFrom">Started from</label>
    <select id="startedFrom" name="startedFrom">${option('', !view.startedFrom, 'anywhere')}${STARTED_FROM_VALUES.map((value) => option(value, value === view.startedFrom))}</select></div>
  <div class="field"><label for="status">Status</label>
    <select id="status" name="status">${option('', !view.status, 'any')}${Object.keys(STATUS_FILTERS).map((value) => option(value, value === view.status))}</select></div>
  <button class="primary" type="submit">Filter</button>
</form>
${'error' in view.runs
      ? html`<p class="notice bad" role="alert">Cannot list runs: ${view.runs.error}</p>`
      : html`<p class="muted">Runs of ${view.kind ?? 'every job'}, newest first, ${paging.size} a page${paging.trail.length > 0 ? html` (page ${paging.trail.length + 1})` : ''}.</p>
${view.runs.length === 0 && paging.trail.length > 0 ? html`<p class="notice">No older runs.</p>` : runsTable(view.runs, { showCustomers: true })}`}
<nav class="pager" aria-label="pages">
  ${newer ? html`<a href="${newer}" rel="prev" id="newer-runs">← Newer</a>` : ''}
  ${older ? html`<a href="${older}" rel="next" id="older-runs">Older →</a>` : ''}
</nav>`,
  );
}
