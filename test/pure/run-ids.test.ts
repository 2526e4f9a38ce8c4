import { describe, expect, it } from 'vitest';
import { fnv1a64, resolveRegenerateInput } from '../../src/contracts.js';
import { regenerateReportsWorkflowId } from '../../src/jobs/regenerate-reports.js';

const now = new Date('2026-11-05T02:00:00Z');
const idOf = (customerIds: number[]) => regenerateReportsWorkflowId(resolveRegenerateInput({ customerIds, from: '2026-11-04' }, now));

describe('run ids of more than five customers', () => {
  it('differ for different sets with the same count and first id (they collided as customers-6-from-1)', () => {
    const a = idOf([1, 2, 3, 4, 5, 6]);
    const b = idOf([1, 2, 3, 4, 5, 7]);
    const c = idOf([1, 3, 4, 5, 6, 7]);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(a).toMatch(/^regenerate-reports:customers-6-1\.\.6-[0-9a-f]{16}:2026-11-04$/);
  });

  it('differ even when count, first and last id agree', () => {
    expect(idOf([1, 2, 3, 4, 5, 9])).not.toBe(idOf([1, 2, 3, 4, 6, 9]));
    // The hash covers the exact list: "1,23" and "12,3" are not the same list.
    expect(idOf([1, 23, 40, 41, 42, 50])).not.toBe(idOf([1, 2, 340, 41, 42, 50].sort((x, y) => x - y)));
  });

  it('are the same for the same set in any order, whether resolved or not', () => {
    const sorted = idOf([3, 9, 27, 81, 243, 729]);
    expect(idOf([729, 3, 243, 9, 81, 27])).toBe(sorted);
    const resolved = resolveRegenerateInput({ customerIds: [3, 9, 27, 81, 243, 729], from: '2026-11-04' }, now);
    expect(regenerateReportsWorkflowId({ ...resolved, customerIds: [729, 243, 81, 27, 9, 3] })).toBe(sorted);
  });

  it('keep up to five customers spelt out', () => {
    expect(idOf([5, 4, 3, 2, 1])).toBe('regenerate-reports:customer-1,2,3,4,5:2026-11-04');
  });
});

describe('fnv1a64', () => {
  it('matches the published FNV-1a 64-bit test vectors', () => {
    expect(fnv1a64('')).toBe('cbf29ce484222325');
    expect(fnv1a64('a')).toBe('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).toBe('85944171f73967e8');
  });
});
