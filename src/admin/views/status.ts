import type { CheckStatus, HealthReport } from '../../health/check-result.js';
import type { AdminUser } from '../../services/admin-users.js';
import type { LastRun } from '../job-status.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { statusBadge } from './run-views.js';

export interface StatusPageView {
  user: AdminUser;
  csrfToken: string;
  report: HealthReport;
  lastRuns: LastRun[];
}

const CHECK_LABELS: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skipped: 'skipped' };
const when = (instant: string) => instant.replace('T', ' ').slice(0, 19);

export function statusPage(view: StatusPageView): SafeHtml {
  const { report } = view;
  const failed = report.checks.filter((check) => check.status === 'fail');
  return layout(
    { title: 'Status', user: view.user, csrfToken: view.csrfToken, section: 'status' },
    html`<h1>Status</h1>
${failed.length === 0
      ? html`<p class="notice" id="status-verdict">Ready: every check passed${report.checks.some((check) => check.status === 'warn') ? ' (with warnings below)' : ''}.</p>`
      : html`<p class="notice bad" role="alert" id="status-verdict">Not ready: ${failed.length} of ${report.checks.length} checks failed (${failed.map((check) => check.part).join(', ')}).</p>`}
<p class="muted">The checks of <code>npm run doctor</code>, run ${when(report.checkedAt)} UTC; reload the page to run them again.</p>
<table id="checks"><thead><tr><th>Part</th><th>Status</th><th>Detail</th></tr></thead>
<tbody>${report.checks.map((check) => html`<tr data-part="${check.part}" data-status="${check.status}">
  <td>${check.part}</td>
  <td><span class="check ${check.status}">${CHECK_LABELS[check.status]}</span></td>
  <td>${check.detail}</td>
</tr>`)}</tbody></table>
<h2>Last run of each job</h2>
<table id="last-runs"><thead><tr><th>Job</th><th>Status</th><th>Started (UTC)</th><th>Ended (UTC)</th><th>Outcome</th><th>Run in Temporal Web UI</th></tr></thead>
<tbody>${view.lastRuns.map(lastRunRow)}</tbody></table>`,
  );
}

function lastRunRow(last: LastRun): SafeHtml {
  const runsLink = html`<a href="/runs?kind=${encodeURIComponent(last.kind)}">${last.kind}</a>`;
  if (last.error) return html`<tr data-kind="${last.kind}"><td>${runsLink}</td><td colspan="5" class="error">cannot read its runs: ${last.error}</td></tr>`;
  const { run } = last;
  if (!run) return html`<tr data-kind="${last.kind}"><td>${runsLink}</td><td colspan="5" class="muted">no run yet</td></tr>`;
  const outcome = run.status === 'RUNNING' ? run.progressText ?? '' : run.summaryText ?? '';
  return html`<tr data-kind="${last.kind}" data-workflow-id="${run.workflowId}">
  <td>${runsLink}</td>
  <td>${statusBadge(run.status)}</td>
  <td>${when(run.startedAt)}</td>
  <td>${run.closedAt ? when(run.closedAt) : ''}</td>
  <td class="muted">${outcome}</td>
  <td><a href="${run.uiUrl}" target="_blank" rel="noopener">${run.workflowId}</a></td>
</tr>`;
}
