import type { RunListItem, RunStatus } from '../run-history.js';
import { assetUrl } from '../static-assets.js';
import { html, type SafeHtml } from './html.js';

/** Shared pieces for showing runs: a status badge, progress and summary lines, the runs table. */
export function statusBadge(status: string): SafeHtml {
  return html`<span class="status ${status}">${status.toLowerCase().replace(/_/g, ' ')}</span>`;
}

/** A listed run in one line: its job's progress while it runs, its job's summary once it completed. */
function runLine(run: RunListItem): string {
  const ended = run.closedAt ? `ended ${run.closedAt.replace('T', ' ').slice(0, 19)}` : '';
  if (run.status === 'RUNNING') return run.progressText ?? 'waiting for a worker';
  if (run.status === 'COMPLETED' && run.summaryText) return `${run.summaryText} (${ended})`;
  return ended;
}

export function runsTable(runs: RunListItem[], options: { showCustomers: boolean }): SafeHtml {
  if (runs.length === 0) return html`<p class="notice">No runs yet.</p>`;
  const rows = runs.map((run) => {
    const single = /^\d+$/.test(run.customers);
    return html`<tr data-workflow-id="${run.workflowId}">
  <td>${run.startedAt.replace('T', ' ').slice(0, 19)}</td>
  <td>${run.kind}</td>
  <td>${statusBadge(run.status)}</td>
  ${options.showCustomers ? html`<td>${single ? html`<a href="/customers/${run.customers}">${run.customers}</a>` : run.customers}</td>` : ''}
  <td>${run.period ? samePeriodOnce(run.period) : ''}</td>
  <td>${run.startedFrom ?? ''}</td>
  <td>${run.startedBy ?? ''}</td>
  <td class="muted run-line">${runLine(run)}</td>
  <td><a href="${run.uiUrl}" target="_blank" rel="noopener">${run.workflowId}</a></td>
</tr>`;
  });
  return html`<table><thead><tr><th>Started (UTC)</th><th>Job</th><th>Status</th>${options.showCustomers ? html`<th>Customers</th>` : ''}<th>Period</th><th>From</th><th>By</th><th>Progress or summary</th><th>Run in Temporal Web UI</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/**
 * The live panel for one run. While it runs, /assets/admin.js polls the JSON endpoint named in
 * `data-poll-url` (a static file: the Content-Security-Policy allows no inline script).
 */
export function runPanel(run: RunStatus): SafeHtml {
  const line = run.done ? run.summaryText ?? run.failure ?? '' : run.progressText;
  const fraction = run.bar && run.bar.total > 0 ? run.bar.done / run.bar.total : 0;
  const pollUrl = run.done ? undefined : `/api/runs/${encodeURIComponent(run.workflowId)}`;
  return html`<section class="card" id="run-panel" aria-live="polite"${pollUrl ? html` data-poll-url="${pollUrl}"` : ''}>
  <h2>Run of ${run.kind} <a href="${run.uiUrl}" target="_blank" rel="noopener">${run.workflowId}</a></h2>
  <p><span id="run-status">${statusBadge(run.status)}</span> <span id="run-line">${line}</span></p>
  ${pollUrl ? html`<progress id="run-progress" max="1" value="${fraction.toFixed(3)}"></progress>
<script src="${assetUrl('admin.js')}" defer></script>` : ''}
</section>`;
}

/** `2026-11-26..2026-11-26` reads better as one day. */
function samePeriodOnce(period: string): string {
  const [from, to] = period.split('..');
  return from === to ? from! : period;
}
