import { failureCount, type RegenerateReportsSummary } from '../../contracts.js';
import { describeProgress, type RegenerateProgress } from '../../workflows/progress.js';
import type { RunListItem, RunStatus } from '../run-history.js';
import { assetUrl } from '../static-assets.js';
import { html, type SafeHtml } from './html.js';

/** Shared pieces for showing runs: a status badge, progress and summary lines, the runs table. */
export function statusBadge(status: string): SafeHtml {
  return html`<span class="status ${status}">${status.toLowerCase().replace(/_/g, ' ')}</span>`;
}

export function progressText(progress: RegenerateProgress | null | undefined): string {
  return progress ? describeProgress(progress) : 'waiting for a worker';
}

export function summaryText(summary: RegenerateReportsSummary): string {
  const rows = summary.dryRun ? `${summary.rowsThatWouldChange} rows would change (dry run)` : `${summary.rowsWritten} rows written`;
  const failures = failureCount(summary);
  return `${summary.cancelled ? 'cancelled after ' : ''}${summary.customersProcessed} customers, ${rows}, ${summary.emailsSent} emails sent, ${summary.emailsAlreadySent} already sent, ` +
    `${summary.emailsSkippedNoOrders} skipped (no orders), ${failures} failures`;
}

export function runsTable(runs: RunListItem[], options: { showCustomers: boolean }): SafeHtml {
  if (runs.length === 0) return html`<p class="notice">No runs yet.</p>`;
  const rows = runs.map((run) => {
    const single = /^\d+$/.test(run.customers);
    return html`<tr data-workflow-id="${run.workflowId}">
  <td>${run.startedAt.replace('T', ' ').slice(0, 19)}</td>
  <td>${statusBadge(run.status)}</td>
  ${options.showCustomers ? html`<td>${single ? html`<a href="/customers/${run.customers}">${run.customers}</a>` : run.customers}</td>` : ''}
  <td>${run.period ? samePeriodOnce(run.period) : ''}</td>
  <td>${run.startedFrom ?? ''}</td>
  <td>${run.startedBy ?? ''}</td>
  <td class="muted">${run.status === 'RUNNING' ? progressText(run.progress) : run.closedAt ? `ended ${run.closedAt.replace('T', ' ').slice(0, 19)}` : ''}</td>
  <td><a href="${run.uiUrl}" target="_blank" rel="noopener">${run.workflowId}</a></td>
</tr>`;
  });
  return html`<table><thead><tr><th>Started (UTC)</th><th>Status</th>${options.showCustomers ? html`<th>Customers</th>` : ''}<th>Period</th><th>From</th><th>By</th><th>Progress</th><th>Run in Temporal Web UI</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/**
 * The live panel for one run. While it runs, /assets/admin.js polls the JSON endpoint named in
 * `data-poll-url` (a static file: the Content-Security-Policy allows no inline script).
 */
export function runPanel(run: RunStatus): SafeHtml {
  const line = run.done
    ? run.summary ? summaryText(run.summary) : run.failure ?? ''
    : progressText(run.progress);
  const fraction = run.progress && run.progress.customersTotal > 0 ? run.progress.customersDone / run.progress.customersTotal : 0;
  const pollUrl = run.done ? undefined : `/api/runs/${encodeURIComponent(run.workflowId)}`;
  return html`<section class="card" id="run-panel" aria-live="polite"${pollUrl ? html` data-poll-url="${pollUrl}"` : ''}>
  <h2>Run <a href="${run.uiUrl}" target="_blank" rel="noopener">${run.workflowId}</a></h2>
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
