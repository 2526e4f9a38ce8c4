import { describe, expect, it } from 'vitest';
import { composeReportEmail } from '../../src/services/report-email-message.js';

const row = (reportDate: string, orderCount: number, revenueCents: number, topSku: string | null, final = true) => ({
  customerId: 1, reportDate, currency: 'EUR', orderCount, revenueCents,
  averageOrderCents: orderCount ? Math.round(revenueCents / orderCount) : null, topSku, final,
  generatedAt: '2026-11-05T02:00:00Z', workflowId: 'w',
});

describe('composeReportEmail', () => {
  it('sums the period and lists every day', () => {
    const email = composeReportEmail('Ada <Shop>', '2026-11-01', '2026-11-02', [row('2026-11-01', 2, 1050, 'SKU-001'), row('2026-11-02', 0, 0, null)]);
    expect(email.subject).toBe('Your sales report for 2026-11-01 to 2026-11-02');
    expect(email.text).toContain('2 orders, 10.50 EUR revenue');
    expect(email.text).toContain('2026-11-02      0 orders');
    expect(email.text).not.toContain('so far');
    expect(email.html).toContain('Ada &lt;Shop&gt;');
    expect(email.html).not.toContain('<Shop>');
  });

  it('says "so far" when a day was not over where the customer is', () => {
    const email = composeReportEmail('Ada', '2026-11-01', '2026-11-02', [row('2026-11-01', 2, 1050, 'SKU-001'), row('2026-11-02', 1, 500, 'SKU-002', false)]);
    expect(email.subject).toBe('Your sales report for 2026-11-01 to 2026-11-02 (so far)');
    expect(email.text).toContain('2026-11-02      1 orders');
    const dayLines = email.text.split('\n').filter((line) => /^2026-11-0\d  /.test(line));
    expect(dayLines).toHaveLength(2);
    expect(dayLines[0]).not.toContain('so far');
    expect(dayLines[1]).toContain('(so far: the day is not over)');
    expect(email.html).toContain('2026-11-02 (so far)');
    expect(email.text).toContain('the final report follows');
  });
});
