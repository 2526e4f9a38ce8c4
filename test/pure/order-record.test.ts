import { describe, expect, it } from 'vitest';
import { readOrderRecord, recordReaders, schemaBreakField } from '../../src/order-record.js';

const record = (overrides: Record<string, unknown> = {}) => ({
  id: 1, customer_id: 2, currency: 'USD', amount: '19.99', sku: 'SKU-1',
  created_at: '2026-11-05T12:00:00Z', updated_at: '2026-11-05T12:00:00.123Z', status: 'placed', ...overrides,
});

describe('readOrderRecord', () => {
  it('turns a decimal amount into exact cents, where floating point would be off by one', () => {
    // 4.35 * 100 is 434.99999999999994 and 1.005-style rounding traps never arise: the string is read as digits.
    for (const [amount, cents] of [['4.35', 435], ['0.29', 29], ['1.1', 110], ['19.99', 1999], ['0', 0], ['007.50', 750], ['90071992547409.91', 9007199254740991]] as const) {
      expect(readOrderRecord(record({ amount }))).toMatchObject({ ok: true, order: { amountCents: cents } });
    }
    for (const amount of ['1.234', '1.', '.5', '1e3', ' 1.00', '1,00', '90071992547409.92', '']) {
      expect(readOrderRecord(record({ amount }))).toMatchObject({ ok: false, problem: { field: 'amount', reason: 'malformed' } });
    }
    expect(readOrderRecord(record({ amount: '-0.01' }))).toMatchObject({ ok: false, problem: { field: 'amount', reason: 'negative-amount' } });
  });

  it('reads instants with a zone into UTC with milliseconds, and refuses ones without a zone or not on the calendar', () => {
    expect(readOrderRecord(record({ created_at: '2026-11-06T00:30:00+14:00' }))).toMatchObject({ ok: true, order: { createdAt: '2026-11-05T10:30:00.000Z', updatedAt: '2026-11-05T12:00:00.123Z' } });
    for (const created_at of ['2026-11-05T12:00:00', '2026-02-29T00:00:00Z', '2026-11-05T24:00:00Z', '2026-11-05T12:00:00.1234Z', 1793822400000]) {
      expect(readOrderRecord(record({ created_at }))).toMatchObject({ ok: false, problem: { field: 'created_at', reason: 'malformed' } });
    }
  });

  it('names the first field at fault; a missing field beats a malformed one, extra fields are ignored', () => {
    expect(readOrderRecord(record({ extra: { nested: true } }))).toMatchObject({ ok: true });
    expect(readOrderRecord(record({ currency: 'usd', sku: null }))).toMatchObject({ ok: false, sourceOrderId: '1', problem: { field: 'sku', reason: 'missing' } });
    expect(readOrderRecord(record({ currency: 'usd', status: 'lost' }))).toMatchObject({ ok: false, problem: { field: 'currency', reason: 'malformed' } });
    expect(readOrderRecord(record({ status: 'lost' }))).toMatchObject({ ok: false, problem: { field: 'status', reason: 'unknown-status', message: expect.stringContaining('placed, cancelled') } });
    expect(readOrderRecord([1, 2])).toMatchObject({ ok: false, sourceOrderId: null, problem: { field: 'record', reason: 'not-an-object' } });
  });
});

describe('schemaBreakField', () => {
  it('is the required field every record of a non-empty page lacks', () => {
    const { amount: _amount, ...noAmount } = record();
    const five = <T>(value: T) => [value, value, value, value, value];
    expect(schemaBreakField([...five(noAmount), { ...noAmount, amount: null }])).toBe('amount');
    expect(schemaBreakField([...five(noAmount), record()])).toBeNull();
    expect(schemaBreakField([])).toBeNull();
    expect(schemaBreakField(five('x'))).toBe('id');
    // Fewer records than that are bad records, quarantined one by one.
    expect(schemaBreakField([noAmount, noAmount])).toBeNull();
  });
});

describe('readOrderRecord refuses what would hold the import up', () => {
  const now = new Date('2026-11-20T00:00:00Z');
  it('an updated_at or created_at more than an hour ahead of our clock', () => {
    expect(readOrderRecord(record({ updated_at: '2099-01-01T00:00:00Z' }), now)).toMatchObject({ ok: false, problem: { field: 'updated_at', reason: 'in-the-future' } });
    expect(readOrderRecord(record({ created_at: '2026-11-20T00:59:00Z', updated_at: '2026-11-20T00:59:00Z' }), now)).toMatchObject({ ok: true });
  });
  it('a year PostgreSQL cannot hold, or no report is about', () => {
    expect(readOrderRecord(record({ created_at: '0000-01-01T00:00:00Z' }), now)).toMatchObject({ ok: false, problem: { field: 'created_at' } });
  });
  it('a value nested too deeply to print is described, not thrown', () => {
    const deep = JSON.parse('['.repeat(6000) + ']'.repeat(6000));
    expect(readOrderRecord(record({ amount: deep }), now)).toMatchObject({ ok: false, problem: { field: 'amount' } });
  });
});

describe('the fast reader and the schema agree', () => {
  // Every field's edge values, valid and not, each tried in a record otherwise fine.
  const variants: Record<string, unknown[]> = {
    id: [1, 0, -1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, '1', NaN, Infinity, true],
    customer_id: [2, 0, 2.5, '2', Number.MAX_SAFE_INTEGER + 2, -3],
    currency: ['USD', 'usd', 'US', 'USDD', ' USD', 'ÜSD', 42],
    amount: ['19.99', '0', '0.5', '007.50', '1.234', '-1.00', '1e3', '', ' 1', '9999999999999.99', '99999999999999.99', '90071992547409.91', '90071992547409.92', 19.99],
    sku: ['S', '', 'x'.repeat(200), 'x'.repeat(201), 'a\u0000b', 'a\uD800b', '\uD83D\uDE00', 7],
    created_at: ['2026-11-05T12:00:00Z', '2026-11-05T12:00:00.000Z', '2026-11-05T12:00:00.1Z', '2026-11-06T00:30:00+14:00', '2026-11-05T12:00:00',
      '2026-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z', '1899-12-31T23:00:00Z', '2026-11-05T24:00:00Z', '2026-11-05T12:60:00Z', '2026-11-05T12:00:60Z',
      '2026-11-05T12:00:00.1234Z', '2026-11-05 12:00:00Z', 1793822400000],
    updated_at: ['2026-11-05T12:00:00.123Z', '2026-11-05T12:00:00.123+00:00', '2026-13-05T12:00:00.123Z', '2026-11-05T12:00:00.123z'],
    status: ['placed', 'cancelled', 'Placed', 'lost', 1],
  };
  it('takes only records the schema takes, and reads them alike', () => {
    let taken = 0;
    for (const [field, values] of Object.entries(variants)) {
      for (const value of values) {
        const candidate = record({ [field]: value });
        const fast = recordReaders.readWellFormed(candidate);
        if (!fast) continue;
        taken++;
        expect(recordReaders.readBySchema(candidate), `${field}=${String(value)}`).toEqual(fast);
      }
    }
    expect(taken).toBeGreaterThan(20);
  });
  it('never leaves to the schema a record the schema reads: every well-formed variant goes the fast way', () => {
    for (const [field, values] of Object.entries(variants)) {
      for (const value of values) {
        const candidate = record({ [field]: value });
        if (!('problem' in recordReaders.readBySchema(candidate))) expect(recordReaders.readWellFormed(candidate), `${field}=${String(value)}`).not.toBeNull();
      }
    }
  });
});
