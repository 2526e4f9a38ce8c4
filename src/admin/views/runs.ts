import type { StartedFrom } from '../../temporal/report-runs.js';
import type { AdminUser } from '../../services/admin-users.js';
import { STARTED_FROM_VALUES, STATUS_FILTERS, type RunListItem, type StatusFilter } from '../run-history.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { runsTable } from './run-views.js';

export function runsPage(view: {
  user: AdminUser;
  csrfToken: string;
  startedFrom: StartedFrom | undefined;
  status: StatusFilter | undefined;
  runs: RunListItem[] | { error: string };
  limit: number;
}): SafeHtml {
  const option = (value: string, selected: boolean, label = value) => html`<option value="${value}" ${selected ? 'selected' : ''}>${label}</option>`;
  return layout(
    { title: 'Runs', user: view.user, csrfToken: view.csrfToken, section: 'runs' },
    html`<h1>Report runs</h1>
<form method="get" action="/runs" class="row">
  <div class="field"><label for="startedFrom">Started from</label>
    <select id="startedFrom" name="startedFrom">${option('', !view.startedFrom, 'anywhere')}${STARTED_FROM_VALUES.map((value) => option(value, value === view.startedFrom))}</select></div>
  <div class="field"><label for="status">Status</label>
    <select id="status" name="status">${option('', !view.status, 'any')}${Object.keys(STATUS_FILTERS).map((value) => option(value, value === view.status))}</select></div>
  <button class="primary" type="submit">Filter</button>
</form>
${'error' in view.runs
      ? html`<p class="notice bad">Cannot list runs: ${view.runs.error}</p>`
      : html`<p class="muted">The ${view.limit} most recent runs of regenerateReports, newest first.</p>${runsTable(view.runs, { showCustomers: true })}`}`,
  );
}
