import type { RegenerateReportsSummary } from '../../contracts.js';
import { describeProgress, type RegenerateProgress } from '../../workflows/progress.js';
import type { RunListItem, RunStatus } from '../run-history.js';
import { html, scriptJson, type SafeHtml } from './html.js';

/** Shared pieces for showing runs: a status badge, progress and summary lines, the runs table. */
export function statusBadge(status: string): SafeHtml {
  return html`<span class="status ${status}">${status.toLowerCase().replace(/_/g, ' ')}</span>`;
}

export function progressText(progress: RegenerateProgress | null | undefined): string {
  return progress ? describeProgress(progress) : 'waiting for a worker';
}

export function summaryText(summary: RegenerateReportsSummary): string {
  const rows = summary.dryRun ? `${summary.rowsThatWouldChange} rows would change (dry run)` : `${summary.rowsWritten} rows written`;
  const failures = summary.failures.length + summary.failuresNotListed + summary.failedRanges.length;
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
 * The live panel for one run. While it runs, a few lines of inline script poll the JSON
 * endpoint once a second and write the answer with textContent (never as markup); when the
 * run has ended they reload the page, which then shows the new rows and the final summary.
 */
export function runPanel(run: RunStatus): SafeHtml {
  const line = run.done
    ? run.summary ? summaryText(run.summary) : run.failure ?? ''
    : progressText(run.progress);
  const fraction = run.progress && run.progress.customersTotal > 0 ? run.progress.customersDone / run.progress.customersTotal : 0;
  return html`<section class="card" id="run-panel" aria-live="polite">
  <h2 style="margin-top:0">Run <a href="${run.uiUrl}" target="_blank" rel="noopener">${run.workflowId}</a></h2>
  <p><span id="run-status">${statusBadge(run.status)}</span> <span id="run-line">${line}</span></p>
  ${run.done ? '' : html`<progress id="run-progress" max="1" value="${fraction.toFixed(3)}"></progress>
<script>
(() => {
  const url = ${scriptJson(`/api/runs/${encodeURIComponent(run.workflowId)}`)};
  const status = document.getElementById('run-status');
  const line = document.getElementById('run-line');
  const bar = document.getElementById('run-progress');
  async function tick() {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (response.status === 401) { location.href = '/sign-in'; return; }
      const run = await response.json();
      status.textContent = run.status.toLowerCase();
      line.textContent = run.progressText;
      const p = run.progress;
      if (p && p.customersTotal > 0) bar.value = p.customersDone / p.customersTotal;
      if (run.done) { line.textContent = 'finished, loading the new rows…'; bar.value = 1; location.reload(); return; }
    } catch (error) { line.textContent = 'cannot reach the server, retrying…'; }
    setTimeout(tick, 1000);
  }
  setTimeout(tick, 500);
})();
</script>`}
</section>`;
}

/** `2026-11-26..2026-11-26` reads better as one day. */
function samePeriodOnce(period: string): string {
  const [from, to] = period.split('..');
  return from === to ? from! : period;
}
