import type { ReportEmailContent } from './report-email-message.js';

export interface ReportNumbers {
  orderCount: number;
  revenueCents: number;
  topSku: string | null;
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The lines that changed, "orders: 3 → 4"; empty when nothing a customer sees changed. */
export function describeChanges(before: ReportNumbers, after: ReportNumbers, currency: string): string[] {
  const changes: string[] = [];
  if (before.orderCount !== after.orderCount) changes.push(`orders: ${before.orderCount} → ${after.orderCount}`);
  if (before.revenueCents !== after.revenueCents) changes.push(`revenue: ${money(before.revenueCents, currency)} → ${money(after.revenueCents, currency)}`);
  if ((before.topSku ?? null) !== (after.topSku ?? null)) changes.push(`top product: ${before.topSku ?? '-'} → ${after.topSku ?? '-'}`);
  return changes;
}

/**
 * The correction of one day's report a customer was already sent: what it said, what it says
 * now. Pure, so its wording is tested without SMTP.
 */
export function composeCorrectionEmail(customerName: string, day: string, currency: string, before: ReportNumbers, after: ReportNumbers): ReportEmailContent {
  const changes = describeChanges(before, after, currency);
  const text = [
    `Hello ${customerName},`,
    '',
    `your sales report for ${day} has changed since we sent it: orders for that day arrived late, were corrected or were cancelled.`,
    '',
    ...changes.map((change) => `  ${change}`),
    '',
    `The report for ${day} now reads: ${after.orderCount} orders, ${money(after.revenueCents, currency)} revenue.`,
    '',
    'durable-jobs',
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(customerName)},</p><p>your sales report for ${day} has changed since we sent it: orders for that day arrived late, were corrected or were cancelled.</p>` +
    `<ul>${changes.map((change) => `<li>${escapeHtml(change)}</li>`).join('')}</ul>` +
    `<p>The report for ${day} now reads: <b>${after.orderCount}</b> orders, <b>${money(after.revenueCents, currency)}</b> revenue.</p>`;
  return { subject: `Correction: your sales report for ${day}`, text, html };
}
