import type { AdminUser } from '../../services/admin-users.js';
import type { QuarantinedRecord } from '../../services/order-import.js';
import type { RunStatus } from '../run-history.js';
import { html, queryString, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { runPanel } from './run-views.js';

export interface QuarantinePageView {
  user: AdminUser;
  csrfToken: string;
  source: string;
  /** This page's open records, oldest first, or why they could not be read. */
  records: QuarantinedRecord[] | { error: string };
  pageSize: number;
  /** The id this page starts after (null: the first page). */
  after: number | null;
  /** The id the next page starts after; null on the last page. */
  nextAfter: number | null;
  /** The user's role may start the import job (its form's roles). */
  mayRetry: boolean;
  /** Above the list: a start refused (already running, Temporal unreachable). */
  notice?: string;
  /** The retry run just started, or the one already running: its live panel. */
  watch: RunStatus | null;
}

const when = (instant: string) => instant.replace('T', ' ').slice(0, 19);

export function quarantinePage(view: QuarantinePageView): SafeHtml {
  const { records } = view;
  return layout(
    { title: 'Quarantine', user: view.user, csrfToken: view.csrfToken, section: 'quarantine' },
    html`<h1>Quarantined order records</h1>
${view.notice ? html`<p class="notice bad" role="alert" id="quarantine-notice">${view.notice}</p>` : ''}
${view.watch ? runPanel(view.watch) : ''}
${'error' in records
      ? html`<p class="notice bad" role="alert">Cannot list the quarantine: ${records.error}</p>`
      : records.length === 0 && view.after === null
        ? html`<p class="notice" id="quarantine-empty">The quarantine is empty: every record the shop sent was imported.</p>`
        : html`${retrySection(view)}
<p class="muted">Open records of source ${view.source} the import set aside, oldest first (the order a retry takes them in), ${view.pageSize} a page${view.after !== null ? html`, after record ${view.after}` : ''}.</p>
${records.length === 0 ? html`<p class="notice">No more records.</p>` : recordsTable(records)}
<nav class="pager" aria-label="pages">
  ${view.after !== null ? html`<a href="/quarantine" id="first-quarantined">← Oldest</a>` : ''}
  ${view.nextAfter !== null ? html`<a href="/quarantine${queryString({ after: view.nextAfter })}" rel="next" id="next-quarantined">Next →</a>` : ''}
</nav>`}`,
  );
}

function recordsTable(records: QuarantinedRecord[]): SafeHtml {
  const rows = records.map((record) => html`<tr data-quarantine-id="${record.id}">
  <td class="num">${record.id}</td>
  <td>${record.sourceOrderId ?? html`<span class="muted">none</span>`}</td>
  <td>${record.reason}</td>
  <td>${record.field}</td>
  <td>${record.message}</td>
  <td>${when(record.firstSeenAt)}</td>
  <td class="num" title="last seen ${when(record.lastSeenAt)} UTC">${record.seenCount}</td>
  <td><details><summary>JSON</summary><pre class="payload">${JSON.stringify(record.payload, null, 2)}</pre></details></td>
</tr>`);
  return html`<table id="quarantined"><thead><tr><th class="num">Id</th><th>Order id</th><th>Reason</th><th>Field</th><th>Message</th><th>First seen (UTC)</th><th class="num">Times seen</th><th>Payload as sent</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function retrySection(view: QuarantinePageView): SafeHtml {
  if (!view.mayRetry) {
    return html`<p class="muted">Your role (${view.user.role}) can look at the quarantine but not retry it.</p>`;
  }
  return html`<section class="card" id="retry-quarantined">
<h2>Retry after fixing the cause</h2>
<p>Once the cause is fixed (say, the customer added or its currency corrected), this starts an
incremental import (import-orders) that first validates the open records again, at most 1,000,
oldest first, and imports those now valid; the others stay here with today's reason. Then it
reads on from the committed cursor, as the schedule's runs do.</p>
<form method="post" action="/quarantine/retry"><input type="hidden" name="_csrf" value="${view.csrfToken}">
<button class="primary" type="submit">Retry quarantined records</button></form>
</section>`;
}
