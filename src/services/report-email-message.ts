import type { ReportLine } from './report-rows.js';

export interface ReportEmailContent {
  subject: string;
  text: string;
  html: string;
}

const money = (cents: number | null, currency: string) =>
  cents === null ? '-' : `${(cents / 100).toFixed(2)} ${currency}`;

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Renders one customer's report for a period; pure, so its wording is tested without SMTP.
 * A report with a day that was still going on where the customer is (a provisional row) says
 * "so far" in its subject, its summary and that day's line.
 */
export function composeReportEmail(customerName: string, from: string, to: string, rows: ReportLine[]): ReportEmailContent {
  const provisional = rows.some((row) => !row.final);
  const period = `${from === to ? from : `${from} to ${to}`}${provisional ? ' (so far)' : ''}`;
  const currency = rows[0]?.currency ?? '';
  const orders = rows.reduce((sum, row) => sum + row.orderCount, 0);
  const revenue = rows.reduce((sum, row) => sum + row.revenueCents, 0);
  const lines = rows.map(
    (row) => `${row.reportDate}  ${String(row.orderCount).padStart(5)} orders  ${money(row.revenueCents, row.currency).padStart(14)}  top: ${row.topSku ?? '-'}${row.final ? '' : '  (so far: the day is not over)'}`,
  );
  const text = [
    `Hello ${customerName},`,
    '',
    `your sales report for ${period}: ${orders} orders, ${money(revenue, currency)} revenue.`,
    ...(provisional ? ['', 'This report was made before the day ended where you are; the final report follows once it has.'] : []),
    '',
    ...lines,
    '',
    'durable-jobs',
  ].join('\n');
  const tableRows = rows
    .map((row) => `<tr><td>${row.reportDate}${row.final ? '' : ' (so far)'}</td><td>${row.orderCount}</td><td>${money(row.revenueCents, row.currency)}</td><td>${escapeHtml(row.topSku ?? '-')}</td></tr>`)
    .join('');
  const html = `<p>Hello ${escapeHtml(customerName)},</p><p>your sales report for ${period}: <b>${orders}</b> orders, <b>${money(revenue, currency)}</b> revenue.</p>${provisional ? '<p>This report was made before the day ended where you are; the final report follows once it has.</p>' : ''}` +
    `<table><thead><tr><th>Day</th><th>Orders</th><th>Revenue</th><th>Top product</th></tr></thead><tbody>${tableRows}</tbody></table>`;
  return { subject: `Your sales report for ${period}`, text, html };
}
