import type { ReportRow } from '../../services/report-rows.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 720;
const HEIGHT = 180;
const PAD = { left: 56, right: 10, top: 12, bottom: 24 };

/** Daily revenue as an inline SVG bar chart: no script, no library, prints and screenshots. */
export function revenueChart(rows: ReportRow[]): SafeHtml {
  if (rows.length === 0) return html``;
  const currency = rows[0]!.currency;
  const max = Math.max(...rows.map((row) => row.revenueCents), 1);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / rows.length;
  const barWidth = Math.max(1, Math.min(40, slot * 0.75));
  const bars = rows.map((row, i) => {
    const h = (row.revenueCents / max) * plotHeight;
    const x = PAD.left + i * slot + (slot - barWidth) / 2;
    const y = PAD.top + plotHeight - h;
    return html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${Math.max(h, 0.5).toFixed(1)}" fill="#2456c6" rx="2">
<title>${row.reportDate}: ${money(row.revenueCents, currency)}, ${row.orderCount} orders</title></rect>`;
  });
  const first = rows[0]!.reportDate;
  const last = rows[rows.length - 1]!.reportDate;
  const baseline = PAD.top + plotHeight;
  return html`<svg role="img" aria-label="Daily revenue ${first} to ${last}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" class="chart">
<line x1="${PAD.left}" y1="${baseline}" x2="${WIDTH - PAD.right}" y2="${baseline}" stroke="#b8bfcc"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${WIDTH - PAD.right}" y2="${PAD.top}" stroke="#eceff4"/>
<text x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${compact(max)}</text>
<text x="${PAD.left - 6}" y="${baseline}" text-anchor="end">0</text>
${bars}
<text x="${PAD.left}" y="${HEIGHT - 6}">${first}</text>
<text x="${WIDTH - PAD.right}" y="${HEIGHT - 6}" text-anchor="end">${last}</text>
<text x="${PAD.left - 6}" y="${PAD.top + plotHeight / 2}" text-anchor="end">${currency}</text>
</svg>`;
}

export function money(cents: number, currency: string): string {
  return `${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

function compact(cents: number): string {
  const units = cents / 100;
  return units >= 1000 ? `${(units / 1000).toFixed(units >= 10_000 ? 0 : 1)}k` : units.toFixed(0);
}
